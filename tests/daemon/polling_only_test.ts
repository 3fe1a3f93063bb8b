import assert from "node:assert/strict";
import { join } from "node:path";
import { makeDaemonDevice, readIfExists, seaweedEnv, waitFor } from "./daemon_device.ts";
import { makeScopedTempDir } from "../support/module_unload.ts";

Deno.test("without NATS, B converges through polling alone: new files, edits and deletes", async () => {
  const tmp = await makeScopedTempDir("tcfs-daemon-poll-");
  const env = { ...seaweedEnv("poll"), TCFS_POLL_INTERVAL_SECS: "1" };
  const a = await makeDaemonDevice(tmp.path, "devA", env);
  const b = await makeDaemonDevice(tmp.path, "devB", env);
  await a.start();
  await b.start();
  const inB = (rel: string) => readIfExists(join(b.root, rel));
  const logs = async () => `A:\n${await a.log()}\nB:\n${await b.log()}`;
  try {
    assert.equal((await a.status()).nats.state, "disabled");
    assert.equal((await b.status()).nats.state, "disabled");
    const bytes = crypto.getRandomValues(new Uint8Array(50_000));
    await Deno.mkdir(join(a.root, "docs"));
    await Deno.writeFile(join(a.root, "docs", "report.bin"), bytes);
    await waitFor(
      async () => (await inB("docs/report.bin"))?.length === bytes.length,
      15_000,
      logs,
    );
    assert.deepEqual(await inB("docs/report.bin"), bytes);

    await Deno.writeTextFile(join(a.root, "docs", "report.bin"), "edited\n");
    await waitFor(async () => (await inB("docs/report.bin"))?.length === 7, 15_000, logs);
    assert.equal(new TextDecoder().decode(await inB("docs/report.bin")), "edited\n");

    await Deno.remove(join(a.root, "docs", "report.bin"));
    await waitFor(async () => (await inB("docs/report.bin")) === undefined, 15_000, logs);
  } finally {
    await a.stop();
    await b.stop();
    await tmp.remove();
  }
});
