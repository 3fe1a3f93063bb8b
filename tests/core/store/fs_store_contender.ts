/**
 * One process contending for a shared fs store, for fs_store_test.ts:
 * `deno run fs_store_contender.ts <store dir> <name> <keys> <increments>`.
 * It races to create `race/<i>` for every i < keys, then adds 1 to the counter
 * in `counter` `increments` times by compare-and-swap, and prints the races it
 * won as JSON.
 *
 * @module
 */

import { createFsStore } from "../../../core/store/fs_store.ts";

const [dir, name, keys, increments] = Deno.args;
const store = createFsStore(dir);
const won: number[] = [];
for (let i = 0; i < Number(keys); i++) {
  const body = new TextEncoder().encode(name);
  if (await store.putConditional(`race/${i}`, body, { ifNoneMatch: "*" })) won.push(i);
}
for (let done = 0; done < Number(increments);) {
  const current = await store.getWithEtag("counter");
  const value = Number(new TextDecoder().decode(current!.body));
  const next = new TextEncoder().encode(String(value + 1));
  if (await store.putConditional("counter", next, { ifMatch: current!.etag })) done++;
}
console.log(JSON.stringify(won));
