import assert from "node:assert/strict";
import {
  assertNoMassDelete,
  DEFAULT_MASS_DELETE_LIMITS,
  isMassDelete,
} from "../../../core/sync/deletion_guard.ts";
import { TcfsError } from "../../../core/errors.ts";

Deno.test("a mass deletion is more than the share of the tracked files, and at least the minimum", () => {
  const limits = DEFAULT_MASS_DELETE_LIMITS;
  assert.equal(isMassDelete(100, 100, limits), true, "everything, at the minimum count");
  assert.equal(isMassDelete(101, 200, limits), true, "just over half");
  assert.equal(isMassDelete(100, 200, limits), false, "exactly half is not more than half");
  assert.equal(isMassDelete(99, 99, limits), false, "below the minimum count");
  assert.equal(isMassDelete(0, 0, limits), false);
  assert.equal(isMassDelete(5, 10, { ratio: 0, minFiles: 1 }), true, "ratio 0: any deletion");
  assert.equal(isMassDelete(10, 10, { ratio: 1, minFiles: 1 }), false, "ratio 1: never");
});

Deno.test("the guard's error names the folder, the counts and the flag; allowing it lets it pass", () => {
  const counts = { deletions: 150, tracked: 200 };
  assert.throws(
    () => assertNoMassDelete("/home/me/Sync", counts, DEFAULT_MASS_DELETE_LIMITS),
    (err: unknown) => {
      assert.ok(err instanceof TcfsError);
      assert.equal(err.kind, "mass_delete");
      assert.equal(err.exitCode, 1);
      assert.match(err.message, /\/home\/me\/Sync would delete 150 of the 200 files/);
      assert.match(err.hint!, /tcfs push --allow-mass-delete \/home\/me\/Sync/);
      return true;
    },
  );
  assertNoMassDelete("/home/me/Sync", counts, DEFAULT_MASS_DELETE_LIMITS, true);
});
