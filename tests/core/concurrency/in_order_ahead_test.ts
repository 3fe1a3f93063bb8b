import assert from "node:assert/strict";
import { inOrderAhead } from "../../../core/concurrency/in_order_ahead.ts";

/** Work whose items finish only when the test says, recording which were started. */
function controlledWork() {
  const started: number[] = [];
  const finish = new Map<number, { resolve: (v: string) => void; reject: (e: Error) => void }>();
  const work = (item: number) => {
    started.push(item);
    return new Promise<string>((resolve, reject) => finish.set(item, { resolve, reject }));
  };
  return { started, finish, work };
}

const tick = () => new Promise((resolve) => setTimeout(resolve, 0));

Deno.test("inOrderAhead starts the next items while the caller holds one, and yields in order", async () => {
  const { started, finish, work } = controlledWork();
  const results = inOrderAhead([1, 2, 3, 4, 5, 6], 2, work);
  const first = results.next();
  await tick();
  assert.deepEqual(started, [1, 2, 3]);
  // The third finishes first: it waits for the first two.
  finish.get(3)!.resolve("three");
  finish.get(1)!.resolve("one");
  assert.deepEqual(await first, { value: "one", done: false });
  assert.deepEqual(started, [1, 2, 3, 4]);
  finish.get(2)!.resolve("two");
  assert.deepEqual(await results.next(), { value: "two", done: false });
  assert.deepEqual(await results.next(), { value: "three", done: false });
  assert.deepEqual(started, [1, 2, 3, 4, 5, 6]);
  for (const item of [4, 5, 6]) finish.get(item)!.resolve(`#${item}`);
  const rest: string[] = [];
  for await (const value of results) rest.push(value);
  assert.deepEqual(rest, ["#4", "#5", "#6"]);
});

Deno.test("inOrderAhead throws a failure in its item's place, and a later one started ahead is not heard", async () => {
  const { started, finish, work } = controlledWork();
  const seen: string[] = [];
  const consumed = (async () => {
    for await (const value of inOrderAhead([1, 2, 3, 4], 1, work)) seen.push(value);
  })();
  await tick();
  finish.get(1)!.resolve("one");
  await tick();
  assert.deepEqual(started, [1, 2, 3]);
  // The item ahead fails first; with no handler this would be an unhandled rejection.
  finish.get(3)!.reject(new Error("three failed"));
  finish.get(2)!.reject(new Error("two failed"));
  await assert.rejects(consumed, /two failed/);
  assert.deepEqual(seen, ["one"]);
  assert.deepEqual(started, [1, 2, 3]);
});
