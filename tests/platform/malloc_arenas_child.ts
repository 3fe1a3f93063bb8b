/**
 * For glibc_malloc_test.ts, in a process of its own (glibc fixes its arena limit for good once a
 * process has more than eight arenas, as the test runner has): limits the arenas when asked
 * (`limit`), then has six workers allocate, and prints glibc's thread arenas before and after as
 * JSON.
 *
 * @module
 */

import { limitMallocArenas } from "../../platform/glibc_malloc.ts";

const libc = Deno.dlopen(
  "libc.so.6",
  {
    fopen: { parameters: ["buffer", "buffer"], result: "pointer" },
    fclose: { parameters: ["pointer"], result: "i32" },
    malloc_info: { parameters: ["i32", "pointer"], result: "i32" },
  } as const,
);

/** A C string for libc. */
const cString = (text: string) => new TextEncoder().encode(`${text}\0`);

/**
 * glibc's thread arenas, as malloc_info(3) lists them: one `<heap>` per arena, the main
 * thread's first. Counting 64 MiB-aligned mappings instead also counted a second heap of one
 * arena, and V8's pages that happened to land on such a boundary.
 */
function threadArenas(): number {
  const report = Deno.makeTempFileSync();
  try {
    const stream = libc.symbols.fopen(cString(report), cString("w"));
    if (stream === null) throw new Error(`cannot open ${report}`);
    libc.symbols.malloc_info(0, stream);
    libc.symbols.fclose(stream);
    return (Deno.readTextFileSync(report).match(/<heap nr=/g) ?? []).length - 1;
  } finally {
    Deno.removeSync(report);
  }
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
