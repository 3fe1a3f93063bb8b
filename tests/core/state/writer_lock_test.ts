import assert from "node:assert/strict";
import { join } from "node:path";
import {
  acquireWriterLock,
  lockTimeoutMs,
  tryWriterLock,
  type WriterLockHolder,
} from "../../../core/state/writer_lock.ts";
import { TcfsError } from "../../../core/errors.ts";

Deno.test("the writer lock has one holder, names it to others, and passes on when released", async () => {
  const dir = await Deno.makeTempDir({ prefix: "tcfs-writer-lock-" });
  const path = join(dir, "state", "state.db.lock");
  try {
    const first = await tryWriterLock(path, "daemon");
    assert.ok("lock" in first);
    const second = await tryWriterLock(path, "tcfs push");
    assert.ok("holder" in second);
    assert.equal(second.holder?.pid, Deno.pid);
    assert.equal(second.holder?.role, "daemon");

    let noted: WriterLockHolder | undefined;
    const waited = acquireWriterLock(path, {
      role: "tcfs push",
      timeoutMs: 5_000,
      onWait: (holder) => noted = holder,
    });
    setTimeout(() => first.lock.release(), 300);
    using lock = await waited;
    assert.equal(noted?.role, "daemon", "the waiter was told whom it waits for");
    assert.ok(lock.path === path);

    await assert.rejects(
      acquireWriterLock(path, { role: "tcfs pull", timeoutMs: 300 }),
      (err: TcfsError) =>
        err.kind === "state_locked" && /in use by tcfs push \(pid \d+\)/.test(err.message),
    );
    const gaveWay = await acquireWriterLock(path, {
      role: "tcfs pull",
      timeoutMs: 5_000,
      giveWay: () => Promise.resolve(true),
    });
    assert.equal(gaveWay, undefined);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("TCFS_LOCK_TIMEOUT_SECS sets the wait; anything but seconds is refused", () => {
  assert.equal(lockTimeoutMs({}), 60_000);
  assert.equal(lockTimeoutMs({ TCFS_LOCK_TIMEOUT_SECS: "2.5" }), 2_500);
  assert.throws(() => lockTimeoutMs({ TCFS_LOCK_TIMEOUT_SECS: "soon" }), /not a number/);
});
