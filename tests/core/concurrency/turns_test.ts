import assert from "node:assert/strict";
import { createTurns } from "../../../core/concurrency/turns.ts";

Deno.test("tasks take turns in the order given, and a failure does not stop the next", async () => {
  const inTurn = createTurns();
  const events: string[] = [];
  const task = (name: string, ms: number, fail = false) => async () => {
    events.push(`${name} starts`);
    await new Promise((resolve) => setTimeout(resolve, ms));
    events.push(`${name} ends`);
    if (fail) throw new Error(`${name} failed`);
    return name;
  };
  const results = await Promise.allSettled([
    inTurn(task("a", 20)),
    inTurn(task("b", 5, true)),
    inTurn(task("c", 1)),
  ]);
  assert.deepEqual(events, ["a starts", "a ends", "b starts", "b ends", "c starts", "c ends"]);
  assert.deepEqual(results.map((r) => r.status), ["fulfilled", "rejected", "fulfilled"]);
  assert.equal((results[2] as PromiseFulfilledResult<string>).value, "c");
});
