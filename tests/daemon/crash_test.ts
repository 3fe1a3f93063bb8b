import assert from "node:assert/strict";
import { join } from "node:path";
import {
  makeDaemonDevice,
  readIfExists,
  seaweedEnv,
  tempLeftovers,
  waitFor,
} from "./daemon_device.ts";
import { makeScopedTempDir } from "../support/module_unload.ts";
import { startNatsServer } from "../support/nats_process.ts";
import { randomBytes } from "../support/random_bytes.ts";

Deno.test("B killed with SIGKILL while A pushes 50 files converges after a restart, with no partial files", async () => {
  const tmp = await makeScopedTempDir("tcfs-daemon-crash-");
  await using nats = await startNatsServer();
  const env = { ...seaweedEnv("crash"), TCFS_NATS_URL: nats.url, TCFS_POLL_INTERVAL_SECS: "3600" };
  const a = await makeDaemonDevice(tmp.path, "devA", env);
  const b = await makeDaemonDevice(tmp.path, "devB", env);
  await a.start();
  await b.start();
  const logs = async () => `A:\n${await a.log()}\nB:\n${await b.log()}`;
  // Chunked files (B restores them through temp files), large enough to catch B mid-write.
  const files = Array.from({ length: 50 }, (_, i) => ({
    rel: `batch/file-${String(i).padStart(2, "0")}.bin`,
    bytes: randomBytes(1_500_000 + i * 1_000, i + 1),
  }));
  try {
    await Deno.mkdir(join(a.root, "batch"));
    let leftBehind: string[] = [];
    const pulled = async () =>
      (await Array.fromAsync(Deno.readDir(join(b.root, "batch"))).catch(() => []))
        .filter((e) => !e.name.includes(".tcfs-tmp-")).length;
    // Kill B mid-batch: the moment it is seen writing a temp file once it holds 5 files, or
    // once it holds 10.
    const killer = (async () => {
      while (true) {
        const held = await pulled();
        if (held >= 10 || held >= 5 && (await tempLeftovers(b.root)).length > 0) break;
        await new Promise((resolve) => setTimeout(resolve, 2));
      }
      const exit = await b.stop("SIGKILL");
      assert.equal(exit.signal, "SIGKILL");
      leftBehind = await tempLeftovers(b.root);
    })();
    for (const file of files) {
      await Deno.writeFile(join(a.root, file.rel), file.bytes);
      await new Promise((resolve) => setTimeout(resolve, 30));
    }
    await killer;
    assert.ok(await pulled() < files.length, "B was killed before it had everything");
    console.log(`B held ${await pulled()} files and ${leftBehind.length} temp files when killed`);
    // What a kill during a restore leaves behind, for certain, whatever the timing above caught:
    // a temp named after a process that is gone.
    const gone = new Deno.Command("true").spawn();
    await gone.status;
    const planted = join(b.root, "batch", `.file-07.bin.tcfs-tmp-${gone.pid}-0123abcd`);
    await Deno.mkdir(join(b.root, "batch"), { recursive: true });
    await Deno.writeFile(planted, new Uint8Array(1000));

    await b.start();
    for (const file of files) {
      await waitFor(
        async () => (await readIfExists(join(b.root, file.rel)))?.length === file.bytes.length,
        60_000,
        async () => `${file.rel} never arrived in B\n${await logs()}`,
      );
    }
    for (const file of files) {
      assert.deepEqual(await readIfExists(join(b.root, file.rel)), file.bytes);
    }
    assert.deepEqual(await tempLeftovers(b.root), []);
    for (const path of [...leftBehind, planted]) {
      assert.ok(
        (await b.log()).includes(`removed ${path}`),
        `B says it removed ${path}\n${await b.log()}`,
      );
    }
    const names = (await Array.fromAsync(Deno.readDir(join(b.root, "batch")))).map((e) => e.name)
      .sort();
    assert.deepEqual(names, files.map((f) => f.rel.slice("batch/".length)));
    assert.deepEqual(await tempLeftovers(a.root), [], "no temp file ever travelled to A");
  } finally {
    await a.stop();
    if (b.running) await b.stop();
    await tmp.remove();
  }
});
