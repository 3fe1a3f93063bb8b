import assert from "node:assert/strict";
import { join } from "node:path";
import { makeDaemonDevice, readIfExists, waitFor } from "./daemon_device.ts";
import { makeScopedTempDir } from "../support/module_unload.ts";
import { startNatsServer } from "../support/nats_process.ts";
import { createControlClient } from "../../daemon/api/control_client.ts";
import type { ActivityLine } from "../../daemon/api/api_types.ts";
import type { PathLog, RestoreReport } from "../../core/history/history_report.ts";
import { TcfsError } from "../../core/errors.ts";

const text = async (path: string) => new TextDecoder().decode(await readIfExists(path));

function publishedSyncs(lines: ActivityLine[]): string[] {
  return lines.flatMap((l) =>
    l.kind === "state_event" && l.direction === "published" && l.event.type === "file_synced"
      ? [l.event.path!]
      : []
  );
}

Deno.test("with daemons running, tcfs log and tcfs restore go through /v1/log and /v1/restore: the file is back on disk at once and on the other device through the event", async () => {
  const tmp = await makeScopedTempDir("tcfs-daemon-history-");
  await using nats = await startNatsServer();
  // Polling an hour away: only events move files between the devices.
  const env = {
    TCFS_S3_ENDPOINT: `file://${tmp.path}/store`,
    TCFS_NATS_URL: nats.url,
    TCFS_POLL_INTERVAL_SECS: "3600",
  };
  const a = await makeDaemonDevice(tmp.path, "devA", env);
  const b = await makeDaemonDevice(tmp.path, "devB", env);
  const logs = async () => `A:\n${await a.log()}\nB:\n${await b.log()}`;
  await a.start();
  await b.start();
  const events = await a.recordEvents();
  try {
    for (const content of ["first\n", "second\n"]) {
      await Deno.writeTextFile(join(a.root, "notes.txt"), content);
      await waitFor(async () => await text(join(b.root, "notes.txt")) === content, 20_000, logs);
    }
    await Deno.remove(join(b.root, "notes.txt"));
    await waitFor(async () => !await readIfExists(join(a.root, "notes.txt")), 20_000, logs);

    using client = createControlClient(a.socket);
    const log = await client.log({ remote: "tcfs/default/notes.txt" });
    assert.deepEqual(log.entries.map((e) => [e.kind, e.author_name, e.head]), [
      ["deleted", "devB", true],
      ["file", "devA", false],
      ["file", "devA", false],
    ]);
    const cliLog = await a.tcfs(["log", "--json", join(a.root, "notes.txt")]);
    assert.equal(cliLog.code, 0, cliLog.stderr);
    assert.deepEqual(JSON.parse(cliLog.stdout) as PathLog, log);

    // The daemon holds the device's state, so only the daemon can have done this restore.
    const before = events.lines.length;
    const restored = await a.tcfs(["restore", "--json", join(a.root, "notes.txt")]);
    assert.equal(restored.code, 0, restored.stderr);
    const report = JSON.parse(restored.stdout) as RestoreReport;
    assert.deepEqual(report.restored.map((r) => [r.path, r.action, r.from.id]), [
      ["notes.txt", "restore", log.entries[1].id],
    ]);
    assert.equal(report.pulled?.files, 1);
    assert.equal(report.pulled_to, join(a.root, "notes.txt"));
    assert.equal(await text(join(a.root, "notes.txt")), "second\n", "back when restore returns");
    await waitFor(
      async () => await text(join(b.root, "notes.txt")) === "second\n",
      20_000,
      logs,
    );
    assert.deepEqual(publishedSyncs(events.lines.slice(before)), ["notes.txt"]);

    // An older version on top of a live file, through the client: announced once all the same.
    const again = events.lines.length;
    const older = await client.restore({
      remote: "tcfs/default/notes.txt",
      version: log.entries[2].id,
    });
    assert.deepEqual(older.restored.map((r) => r.from.id), [log.entries[2].id]);
    assert.equal(await text(join(a.root, "notes.txt")), "first\n");
    await waitFor(async () => await text(join(b.root, "notes.txt")) === "first\n", 20_000, logs);
    assert.deepEqual(publishedSyncs(events.lines.slice(again)), ["notes.txt"]);

    // --to through the daemon writes only there; an age of 0s is now.
    const copy = join(tmp.path, "copy.txt");
    const toCopy = await a.tcfs([
      "restore",
      "--json",
      "tcfs/default/notes.txt",
      "--at",
      "0s",
      "--to",
      copy,
    ]);
    assert.equal(toCopy.code, 0, toCopy.stderr);
    assert.equal(await text(copy), "first\n");
    assert.equal((await client.log({ remote: "tcfs/default/notes.txt" })).entries.length, 5);

    // A path of another namespace has no place here: nothing is pulled, and the new version is
    // announced all the same, so the device syncing that namespace brings it back at once.
    const c = await makeDaemonDevice(tmp.path, "devC", { ...env, TCFS_NAMESPACE: "other" });
    await c.start();
    try {
      await Deno.writeTextFile(join(c.root, "theirs.txt"), "in the other namespace\n");
      await waitFor(
        async () => {
          const listed = await a.tcfs(["ls", "--json", "tcfs/other/"]);
          return listed.stdout.includes("theirs.txt");
        },
        20_000,
        logs,
      );
      await Deno.remove(join(c.root, "theirs.txt"));
      await waitFor(
        async () => {
          const listed = await a.tcfs(["ls", "--deleted", "--json", "tcfs/other/"]);
          return listed.stdout.includes("theirs.txt");
        },
        20_000,
        logs,
      );
      const elsewhere = events.lines.length;
      const theirs = await client.restore({ remote: "tcfs/other/theirs.txt" });
      assert.equal(theirs.pulled, undefined);
      assert.equal(await readIfExists(join(a.root, "theirs.txt")), undefined);
      await waitFor(
        async () => await text(join(c.root, "theirs.txt")) === "in the other namespace\n",
        20_000,
        async () => `${await logs()}\nC:\n${await c.log()}`,
      );
      assert.deepEqual(publishedSyncs(events.lines.slice(elsewhere)), ["theirs.txt"]);
    } finally {
      await c.stop();
    }

    // Requests the route refuses, and errors it passes on with their kind.
    const refused = async (run: () => Promise<unknown>, kind: string, message: RegExp) => {
      await assert.rejects(run, (err: unknown) => {
        assert.ok(err instanceof TcfsError);
        assert.equal(err.kind, kind);
        assert.match(err.message, message);
        return true;
      });
    };
    await refused(
      () => client.restore({ remote: "tcfs/default/notes.txt", version: "x", at: "2h" }),
      "bad_request",
      /give "version" or "at", not both/,
    );
    await refused(
      () => client.restore({ remote: "tcfs/default/notes.txt", at: "soon" }),
      "usage",
      /"at" "soon" is neither a time nor an age/,
    );
    await refused(
      () => client.log({ remote: "tcfs/default/never.txt" }),
      "not_found",
      /history holds no version of tcfs\/default\/never\.txt/,
    );
    await refused(
      () => client.restore({ remote: "tcfs/default/notes.txt" }),
      "invalid_argument",
      /notes\.txt is not deleted/,
    );
  } finally {
    await events.stop();
    await a.stop();
    await b.stop();
    await tmp.remove();
  }
});
