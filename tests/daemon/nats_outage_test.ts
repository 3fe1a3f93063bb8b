import assert from "node:assert/strict";
import { join } from "node:path";
import { makeDaemonDevice, readIfExists, seaweedEnv, waitFor } from "./daemon_device.ts";
import { makeScopedTempDir } from "../support/module_unload.ts";
import { startNatsServer } from "../support/nats_process.ts";
import type { RunningStatusJson } from "../../cli/commands/status_command.ts";

Deno.test("while NATS is down A keeps pushing into its outbox; once NATS is back the outbox drains and B gets each event once", async () => {
  const tmp = await makeScopedTempDir("tcfs-daemon-outage-");
  await using nats = await startNatsServer();
  const env = { ...seaweedEnv("outage"), TCFS_NATS_URL: nats.url, TCFS_POLL_INTERVAL_SECS: "2" };
  const a = await makeDaemonDevice(tmp.path, "devA", env);
  const b = await makeDaemonDevice(tmp.path, "devB", env);
  await a.start();
  await b.start();
  const logs = async () => `A:\n${await a.log()}\nB:\n${await b.log()}`;
  const statusJson = async () => {
    const result = await a.tcfs(["status", "--json"]);
    assert.equal(result.code, 0, result.stderr);
    return JSON.parse(result.stdout) as RunningStatusJson;
  };
  await waitFor(async () => (await statusJson()).nats.state === "connected", 15_000, logs);
  await waitFor(async () => (await b.status()).nats.state === "connected", 15_000, logs);
  const received = await b.recordEvents();
  try {
    await nats.stop();
    await waitFor(async () => (await statusJson()).nats.state === "reconnecting", 15_000, logs);
    const names = ["one.txt", "two.txt", "three.txt", "four.txt", "five.txt"];
    const depths: number[] = [];
    for (const name of names) {
      await Deno.writeTextFile(join(a.root, name), `${name} written during the outage\n`);
      await waitFor(
        async () => (await statusJson()).nats.outbox_depth > (depths.at(-1) ?? 0),
        15_000,
        logs,
      );
      const status = await statusJson();
      assert.equal(status.nats.state, "reconnecting");
      depths.push(status.nats.outbox_depth);
    }
    assert.ok(
      depths.every((depth, i) => i === 0 || depth > depths[i - 1]),
      `outbox grows: ${depths}`,
    );
    // The store is the truth: B polls it and converges before NATS returns.
    for (const name of names) {
      await waitFor(
        async () => (await readIfExists(join(b.root, name))) !== undefined,
        20_000,
        logs,
      );
    }

    await nats.restart();
    await waitFor(async () => (await statusJson()).nats.outbox_depth === 0, 30_000, logs);
    const synced = () =>
      received.lines.flatMap((l) =>
        l.kind === "state_event" && l.direction === "received" && l.event.type === "file_synced" &&
          l.event.device_id !== undefined
          ? [l.event]
          : []
      );
    await waitFor(() => names.every((n) => synced().some((e) => e.path === n)), 30_000, logs);
    // Let any duplicate arrive before counting.
    await new Promise((resolve) => setTimeout(resolve, 3_000));
    const counts = names.map((name) => synced().filter((e) => e.path === name).length);
    assert.deepEqual(counts, names.map(() => 1), "each event exactly once");
    assert.equal(new Set(synced().map((e) => e.id)).size, synced().length);
    for (const name of names) {
      assert.equal(
        await Deno.readTextFile(join(b.root, name)),
        `${name} written during the outage\n`,
      );
    }
  } finally {
    await received.stop();
    await a.stop();
    await b.stop();
    await tmp.remove();
  }
});
