import assert from "node:assert/strict";
import { createConflictLedger } from "../../../daemon/sync/conflict_ledger.ts";

Deno.test("a conflict is new once per namespace, and again only after it was resolved", () => {
  const ledger = createConflictLedger();
  assert.deepEqual(ledger.met("default", ["b.txt", "a.txt"]), ["b.txt", "a.txt"]);
  assert.deepEqual(ledger.met("default", ["a.txt", "c.txt"]), ["c.txt"]);
  assert.deepEqual(ledger.met("lab", ["a.txt"]), ["a.txt"]);
  assert.deepEqual(ledger.pending("default"), ["a.txt", "b.txt", "c.txt"]);
  ledger.resolved("default", "a.txt");
  assert.deepEqual(ledger.pending("default"), ["b.txt", "c.txt"]);
  assert.deepEqual(ledger.met("default", ["a.txt"]), ["a.txt"]);
  assert.deepEqual(ledger.pending("lab"), ["a.txt"]);
});
