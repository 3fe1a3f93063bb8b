import assert from "node:assert/strict";
import { join } from "node:path";
import { makeDaemonDevice, readIfExists, seaweedEnv, waitFor } from "./daemon_device.ts";
import { makeScopedTempDir } from "../support/module_unload.ts";

Deno.test("a sync root that is a symlink to a folder elsewhere syncs both ways", async () => {
  const tmp = await makeScopedTempDir("tcfs-daemon-linked-root-");
  const env = { ...seaweedEnv("linkroot"), TCFS_POLL_INTERVAL_SECS: "1" };
  const a = await makeDaemonDevice(tmp.path, "devA", env);
  const b = await makeDaemonDevice(tmp.path, "devB", env);
  // B's ~/Sync lives on another disk. Its root push was refused as a file ("cannot push the
  // file … to a namespace root"), and retried forever: nothing synced in either direction.
  const disk = join(b.home, "disk", "Sync");
  await Deno.mkdir(disk, { recursive: true });
  await Deno.remove(b.root);
  await Deno.symlink(disk, b.root);
  await a.start();
  await b.start();
  const logs = async () => `A:\n${await a.log()}\nB:\n${await b.log()}`;
  const text = async (path: string) => new TextDecoder().decode(await readIfExists(path));
  try {
    await Deno.writeTextFile(join(a.root, "from-a.txt"), "a\n");
    await waitFor(async () => await text(join(disk, "from-a.txt")) === "a\n", 20_000, logs);
    await Deno.writeTextFile(join(b.root, "from-b.txt"), "b\n");
    await waitFor(async () => await text(join(a.root, "from-b.txt")) === "b\n", 20_000, logs);
    await Deno.remove(join(b.root, "from-a.txt"));
    await waitFor(
      async () => await readIfExists(join(a.root, "from-a.txt")) === undefined,
      20_000,
      logs,
    );
    assert.ok((await Deno.lstat(b.root)).isSymlink);
  } finally {
    await a.stop();
    await b.stop();
    await tmp.remove();
  }
});
