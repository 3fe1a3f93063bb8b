/**
 * For glibc_malloc_test.ts, in a process of its own (glibc fixes its arena limit for good once a
 * process has more than eight arenas, as the test runner has): limits the arenas when asked
 * (`limit`), then has six workers allocate, and prints glibc's thread arenas before and after as
 * JSON.
 *
 * @module
 */

import { limitMallocArenas } from "../../platform/glibc_malloc.ts";

/** glibc's thread arenas: anonymous read-write mappings that start on a 64 MiB boundary. */
function threadArenas(): number {
  let count = 0;
  for (const line of Deno.readTextFileSync("/proc/self/maps").split("\n")) {
    const mapping = line.match(/^([0-9a-f]+)-[0-9a-f]+ rw-p 00000000 00:00 0\s*$/);
    if (mapping && parseInt(mapping[1], 16) % 0x4000000 === 0) count++;
  }
  return count;
}

const limited = Deno.args[0] === "limit" && limitMallocArenas();
const before = threadArenas();
const source = `self.onmessage = () => {
  const held = [];
  for (let i = 0; i < 200; i++) held.push(new Uint8Array(65536 + i).fill(1));
  self.postMessage(held.length);
};`;
const url = URL.createObjectURL(new Blob([source], { type: "application/javascript" }));
const workers = Array.from({ length: 6 }, () => new Worker(url, { type: "module" }));
await Promise.all(workers.map((worker) =>
  new Promise((resolve) => {
    worker.onmessage = resolve;
    worker.postMessage(0);
  })
));
for (const worker of workers) worker.terminate();
console.log(JSON.stringify({ limited, before, after: threadArenas() }));
