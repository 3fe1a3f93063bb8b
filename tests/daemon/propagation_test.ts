import assert from "node:assert/strict";
import { join } from "node:path";
import {
  type DaemonDevice,
  makeDaemonDevice,
  readIfExists,
  seaweedEnv,
  waitFor,
} from "./daemon_device.ts";
import { makeScopedTempDir } from "../support/module_unload.ts";
import { type NatsServer, startNatsServer } from "../support/nats_process.ts";
import { randomBytes } from "../support/random_bytes.ts";
import type { ActivityLine } from "../../daemon/api/api_types.ts";
import type { StateEvent } from "../../core/events/state_event.ts";

/** Two devices on one store and one NATS; polling is slowed to an hour so events must do it. */
async function fleet(nats: NatsServer, tmp: string): Promise<[DaemonDevice, DaemonDevice]> {
  const env = { ...seaweedEnv("prop"), TCFS_NATS_URL: nats.url, TCFS_POLL_INTERVAL_SECS: "3600" };
  return [await makeDaemonDevice(tmp, "devA", env), await makeDaemonDevice(tmp, "devB", env)];
}

function published(lines: ActivityLine[]): StateEvent[] {
  return lines.flatMap((l) =>
    l.kind === "state_event" && l.direction === "published" ? [l.event] : []
  );
}

Deno.test("with NATS, files, edits, renames and deletes in A's root reach B's root byte-perfect", async () => {
  const tmp = await makeScopedTempDir("tcfs-daemon-prop-");
  await using nats = await startNatsServer();
  const [a, b] = await fleet(nats, tmp.path);
  await a.start();
  await b.start();
  await waitFor(
    async () => (await a.status()).nats.state === "connected",
    15_000,
    () => "A never connected",
  );
  await waitFor(
    async () => (await b.status()).nats.state === "connected",
    15_000,
    () => "B never connected",
  );
  const activity = await a.recordEvents();
  const bActivity = await b.recordEvents();
  const inB = (rel: string) => readIfExists(join(b.root, rel));
  const logs = async () => `A:\n${await a.log()}\nB:\n${await b.log()}`;
  try {
    const big = randomBytes(3 << 20, 7);
    const small = new TextEncoder().encode("hello from A\n");
    await Deno.mkdir(join(a.root, "docs", "deep"), { recursive: true });
    await Deno.writeFile(join(a.root, "docs", "deep", "big.bin"), big);
    await Deno.writeFile(join(a.root, "notes.txt"), small);
    await waitFor(
      async () => (await inB("docs/deep/big.bin"))?.length === big.length,
      20_000,
      logs,
    );
    await waitFor(async () => (await inB("notes.txt"))?.length === small.length, 20_000, logs);
    assert.deepEqual(await inB("docs/deep/big.bin"), big);
    assert.deepEqual(await inB("notes.txt"), small);

    // A rename is one file_renamed event, and B ends with the new name only.
    await Deno.rename(join(a.root, "notes.txt"), join(a.root, "renamed.txt"));
    await waitFor(
      async () =>
        (await inB("renamed.txt")) !== undefined && (await inB("notes.txt")) === undefined,
      20_000,
      logs,
    );
    assert.deepEqual(await inB("renamed.txt"), small);
    const renames = published(activity.lines).filter((e) => e.type === "file_renamed");
    assert.deepEqual(renames.map((e) => [e.old_path, e.path]), [["notes.txt", "renamed.txt"]]);

    // An editor's save: write a temp file, rename it over the original: one change of the file.
    const before = published(activity.lines).length;
    await Deno.writeTextFile(join(a.root, ".renamed.txt.swp"), "saved by an editor\n");
    await Deno.rename(join(a.root, ".renamed.txt.swp"), join(a.root, "renamed.txt"));
    await waitFor(
      async () => new TextDecoder().decode(await inB("renamed.txt")) === "saved by an editor\n",
      20_000,
      logs,
    );
    const saves = published(activity.lines).slice(before);
    assert.deepEqual(saves.map((e) => [e.type, e.path]), [["file_synced", "renamed.txt"]]);
    // Each file event names the author's journal segment that holds it, later ones later.
    const seqs = published(activity.lines).filter((e) => e.type.startsWith("file_"))
      .map((e) => e.journal_seq);
    assert.ok(seqs.every((seq) => Number.isInteger(seq) && seq! >= 1), JSON.stringify(seqs));
    assert.ok(seqs.at(-1)! > seqs[0]!, JSON.stringify(seqs));

    await Deno.remove(join(a.root, "docs"), { recursive: true });
    await waitFor(async () => (await inB("docs/deep/big.bin")) === undefined, 20_000, logs);
    assert.ok(
      published(activity.lines).some((e) =>
        e.type === "file_deleted" && e.path === "docs/deep/big.bin"
      ),
    );

    // Nothing B pulled was pushed back: B announced no file events at all.
    assert.deepEqual(published(bActivity.lines), []);
    assert.ok(bActivity.lines.some((l) => l.kind === "state_event" && l.direction === "received"));
  } finally {
    await bActivity.stop();
    await activity.stop();
    await a.stop();
    await b.stop();
    await tmp.remove();
  }
});

Deno.test("an edit made while B's daemon is stopped reaches B when it starts, and B's offline edit reaches A", async () => {
  const tmp = await makeScopedTempDir("tcfs-daemon-offline-");
  await using nats = await startNatsServer();
  const [a, b] = await fleet(nats, tmp.path);
  await a.start();
  await b.start();
  const logs = async () => `A:\n${await a.log()}\nB:\n${await b.log()}`;
  try {
    await Deno.writeTextFile(join(a.root, "shared.txt"), "v1\n");
    await Deno.writeTextFile(join(a.root, "mine.txt"), "from A\n");
    await waitFor(
      async () => (await readIfExists(join(b.root, "mine.txt"))) !== undefined,
      20_000,
      logs,
    );
    await waitFor(
      async () => (await readIfExists(join(b.root, "shared.txt"))) !== undefined,
      20_000,
      logs,
    );
    const stopped = await b.stop();
    assert.equal(stopped.code, 0);

    await Deno.writeTextFile(join(a.root, "shared.txt"), "v2, written while B was down\n");
    await Deno.writeTextFile(
      join(b.root, "offline.txt"),
      "written in B's root while its daemon was down\n",
    );
    // Give A time to push before B comes back.
    await waitFor(async () => (await a.status()).sync.roots[0].pending_changes === 0, 10_000, logs);
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    await b.start();
    await waitFor(
      async () =>
        new TextDecoder().decode(await readIfExists(join(b.root, "shared.txt"))) ===
          "v2, written while B was down\n",
      20_000,
      logs,
    );
    await waitFor(
      async () => (await readIfExists(join(a.root, "offline.txt"))) !== undefined,
      20_000,
      logs,
    );
    assert.equal(
      await Deno.readTextFile(join(a.root, "offline.txt")),
      "written in B's root while its daemon was down\n",
    );
  } finally {
    await a.stop();
    await b.stop();
    await tmp.remove();
  }
});

Deno.test("a burst of files written at once (a checkout, a build) all reach B by events, none a conflict on A", async () => {
  const tmp = await makeScopedTempDir("tcfs-daemon-burst-");
  await using nats = await startNatsServer();
  const [a, b] = await fleet(nats, tmp.path);
  await a.start();
  await b.start();
  for (const device of [a, b]) {
    await waitFor(
      async () => (await device.status()).nats.state === "connected",
      15_000,
      () => `${device.name} never connected`,
    );
  }
  const activity = await a.recordEvents();
  const names = Array.from({ length: 24 }, (_, i) => `built-${String(i).padStart(2, "0")}.txt`);
  const missing = async () => {
    const absent = [];
    for (const name of names) if (!(await readIfExists(join(b.root, name)))) absent.push(name);
    return absent;
  };
  try {
    // One push step takes them all, its single-path pushes running side by side.
    await Promise.all(names.map((name) => Deno.writeTextFile(join(a.root, name), `${name}\n`)));
    await waitFor(
      async () => (await missing()).length === 0,
      30_000,
      async () =>
        `never reached B: ${(await missing()).join(" ")}; A announced: ${
          JSON.stringify(published(activity.lines).map((e) => [e.type, e.path]))
        }\nA:\n${await a.log()}\nB:\n${await b.log()}`,
    );
    for (const name of names) {
      assert.equal(await Deno.readTextFile(join(b.root, name)), `${name}\n`);
    }
    const announced = published(activity.lines);
    assert.deepEqual(announced.filter((e) => e.type === "conflict_detected"), []);
    assert.deepEqual(
      announced.filter((e) => e.type === "file_synced").map((e) => e.path).sort(),
      names,
    );
  } finally {
    await activity.stop();
    await a.stop();
    await b.stop();
    await tmp.remove();
  }
});
