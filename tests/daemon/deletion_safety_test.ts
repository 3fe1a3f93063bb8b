import assert from "node:assert/strict";
import { join } from "node:path";
import { makeDaemonDevice, readIfExists, seaweedEnv, waitFor } from "./daemon_device.ts";
import { makeScopedTempDir } from "../support/module_unload.ts";
import type { PushSummary } from "../../core/sync/transfer_summary.ts";

Deno.test("daemons: an empty new root just works; an emptied root is refused, then its mass deletion is held until --allow-mass-delete", async () => {
  const tmp = await makeScopedTempDir("tcfs-daemon-deletion-safety-");
  const env = {
    ...seaweedEnv("delsafe"),
    TCFS_POLL_INTERVAL_SECS: "1",
    TCFS_MASS_DELETE_MIN_FILES: "2",
  };
  const a = await makeDaemonDevice(tmp.path, "devA", env);
  const b = await makeDaemonDevice(tmp.path, "devB", env);
  const logs = async () => `A:\n${await a.log()}\nB:\n${await b.log()}`;
  const rootError = async () => (await a.status()).sync.roots[0].last_error ?? "";
  const names = ["one.txt", "two.txt", "three.txt"];
  const allInB = async () =>
    (await Promise.all(names.map((n) => readIfExists(join(b.root, n))))).every((x) => x);
  try {
    // A new, empty root (as after `tcfs device enroll`): each daemon marks it and syncs.
    await a.start();
    await b.start();
    await Deno.stat(join(a.root, ".tcfs-root"));
    for (const name of names) await Deno.writeTextFile(join(a.root, name), `${name}\n`);
    await waitFor(allInB, 20_000, logs);
    assert.equal((await a.status()).sync.roots[0].last_error, undefined);

    // The drive is not mounted: an empty folder, no marker.
    await a.stop();
    await Deno.remove(a.root, { recursive: true });
    await Deno.mkdir(a.root);
    await a.start();
    await waitFor(async () => /is the drive mounted/.test(await rootError()), 15_000, logs);
    assert.match(
      await rootError(),
      /none of the 3 files synced from it is there.*touch .*\.tcfs-root/,
    );
    assert.match(await a.log(), /has no \.tcfs-root marker and none of the/);
    await new Promise((resolve) => setTimeout(resolve, 3_000));
    assert.ok(await allInB(), `nothing was deleted\n${await logs()}`);

    // Marked as meant to be empty: now the mass-delete guard holds the deletions back.
    await Deno.writeTextFile(join(a.root, ".tcfs-root"), "");
    await waitFor(async () => /would delete 3 of the 3/.test(await rootError()), 20_000, logs);
    assert.match(await a.log(), /deletions in .* held back/);
    await Deno.writeTextFile(join(b.root, "from-b.txt"), "from B\n");
    await waitFor(
      async () => (await readIfExists(join(a.root, "from-b.txt"))) !== undefined,
      20_000,
      logs,
    );
    assert.ok(await allInB(), `still nothing deleted\n${await logs()}`);

    // The user looks first (a dry run through the daemon writes nothing), then means it: the
    // push goes through the daemon, and the hold ends.
    const dry = await a.tcfs(["push", "--json", "--dry-run", "--allow-mass-delete", a.root]);
    assert.equal(dry.code, 0, dry.stdout + dry.stderr);
    const planned = (JSON.parse(dry.stdout) as PushSummary).planned ?? [];
    assert.deepEqual(
      planned.filter((p) => p.action === "delete").map((p) => p.path.split("/").at(-1)).sort(),
      ["one.txt", "three.txt", "two.txt"],
    );
    assert.ok(await allInB(), `a dry run deletes nothing\n${await logs()}`);
    const allowed = await a.tcfs(["push", "--json", "--allow-mass-delete", a.root]);
    assert.equal(allowed.code, 0, allowed.stdout + allowed.stderr);
    assert.equal((JSON.parse(allowed.stdout) as PushSummary).deleted, 3);
    await waitFor(async () => (await rootError()) === "", 20_000, logs);
    await waitFor(
      async () => (await readIfExists(join(b.root, "one.txt"))) === undefined,
      20_000,
      logs,
    );
  } finally {
    await a.stop();
    await b.stop();
    await tmp.remove();
  }
});
