import assert from "node:assert/strict";
import { createFailureLedger } from "../../../daemon/sync/failure_ledger.ts";

const blocked = { path: "d/a.txt", error: "d is a file here" };

Deno.test("a failure is told once per namespace and direction, again when its error changes", () => {
  const ledger = createFailureLedger();
  assert.deepEqual(ledger.met("default", "pull", [""], [blocked]), [blocked]);
  assert.deepEqual(ledger.met("default", "pull", [""], [blocked]), []);
  assert.deepEqual(ledger.met("default", "push", [""], [blocked]), [blocked]);
  assert.deepEqual(ledger.met("other", "pull", [""], [blocked]), [blocked]);
  const changed = { ...blocked, error: "permission denied" };
  assert.deepEqual(ledger.met("default", "pull", [""], [changed]), [changed]);
});

Deno.test("a run forgets only the failures in its scope that it did not meet", () => {
  const ledger = createFailureLedger();
  ledger.met("default", "pull", [""], [blocked]);
  // A run of another folder says nothing of d/a.txt; one of `d` saw it go through.
  ledger.met("default", "pull", ["e", "dd"], []);
  assert.deepEqual(ledger.met("default", "pull", [""], [blocked]), []);
  ledger.met("default", "pull", ["d"], []);
  assert.deepEqual(ledger.met("default", "pull", [""], [blocked]), [blocked]);
});
