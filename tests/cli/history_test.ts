import assert from "node:assert/strict";
import { join } from "node:path";
import { type DeviceHome, makeDeviceHome } from "../support/device_home.ts";
import { makeScopedTempDir } from "../support/module_unload.ts";
import { cliStoreBackends, type CliStoreTarget } from "../support/cli_store_backends.ts";
import type { PullSummary, PushSummary } from "../../core/sync/transfer_summary.ts";
import type { RemoteEntry } from "../../core/sync/remote_listing.ts";
import type { PathLog, RestoreReport } from "../../core/history/history_report.ts";

/** Lets `written_at` (milliseconds) tell apart versions written by quick successive pushes. */
const tick = () => new Promise((resolve) => setTimeout(resolve, 5));

/** Two devices with a sync root each, on the backend's store; `remote(rel)` names a path. */
async function twoDevices(tmp: string, target: CliStoreTarget) {
  const device = async (name: string) => {
    const home = join(tmp, name);
    const d = await makeDeviceHome(tmp, name, {
      ...target.env,
      TCFS_SYNC_ROOT: join(home, "Sync"),
      TCFS_SOCKET: join(tmp, `${name}.sock`),
    });
    await Deno.mkdir(join(home, "Sync"), { recursive: true });
    await Deno.writeTextFile(join(home, "Sync", ".tcfs-root"), "");
    return d;
  };
  const a = await device("devA");
  const b = await device("devB");
  const root = (d: DeviceHome) => join(d.home, "Sync");
  const remote = (rel: string) => `${target.bucket}/${target.namespace}/${rel}`;
  const push = (d: DeviceHome) => d.tcfsJson<PushSummary>(["push", root(d)]);
  const pull = (d: DeviceHome) => d.tcfsJson<PullSummary>(["pull", remote("")]);
  return { a, b, root, remote, push, pull };
}

for (const backend of cliStoreBackends("history")) {
  Deno.test(`${backend.name}: tcfs log lists every version, ls --deleted the deleted paths, and restore brings a deleted file back on every device`, async () => {
    const tmp = await makeScopedTempDir("tcfs-history-cli-");
    try {
      const { a, b, root, remote, push, pull } = await twoDevices(
        tmp.path,
        backend.setup(tmp.path),
      );
      const notes = join(root(a), "notes.txt");
      for (const text of ["one\n", "two\n", "three\n"]) {
        await Deno.writeTextFile(notes, text);
        await push(a);
        await tick();
      }
      await Deno.writeTextFile(join(root(a), "kept.txt"), "still here\n");
      await push(a);
      await pull(b);
      await Deno.remove(join(root(b), "notes.txt"));
      assert.equal((await push(b)).deleted, 1);
      await pull(a);
      await assert.rejects(Deno.stat(notes), Deno.errors.NotFound);

      // A deleted file's log, by its remote path and by its (missing) local path alike.
      const log = await a.tcfsJson<PathLog>(["log", remote("notes.txt")]);
      assert.equal(log.remote, remote("notes.txt"));
      assert.deepEqual(
        log.entries.map((e) => [e.kind, e.size, e.author_name, e.head, e.conflict]),
        [
          ["deleted", 0, "devB", true, false],
          ["file", 6, "devA", false, false],
          ["file", 4, "devA", false, false],
          ["file", 4, "devA", false, false],
        ],
      );
      assert.notEqual(log.entries[2].blake3, log.entries[3].blake3);
      assert.ok(log.entries.every((e) => "chunks" in e === false), "no chunk lists");
      assert.deepEqual(await a.tcfsJson<PathLog>(["log", notes]), log);
      const text = await a.tcfs(["log", notes]);
      assert.equal(text.code, 0, text.stderr);
      const lines = text.stdout.trimEnd().split("\n");
      assert.equal(lines[0], `${remote("notes.txt")}: 4 versions, newest first`);
      assert.match(lines[1], /^VERSION +WRITTEN \(UTC\) +DEVICE +SIZE +DIGEST$/);
      assert.match(
        lines[2],
        new RegExp(
          `^${
            log.entries[0].id
          } +\\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d:\\d\\d +devB +- +- +deleted, current$`,
        ),
      );
      assert.match(
        lines[3],
        new RegExp(
          `^${log.entries[1].id} +[\\d: -]+ +devA +6 B +${log.entries[1].blake3.slice(0, 12)}$`,
        ),
      );

      // ls: hidden by default, shown with --all, alone with --deleted, with its last content.
      const listed = (args: string[]) => a.tcfsJson<RemoteEntry[]>(["ls", ...args]);
      assert.deepEqual((await listed([])).map((r) => r.path), ["kept.txt"]);
      assert.deepEqual((await listed(["--all"])).map((r) => r.path), ["kept.txt", "notes.txt"]);
      const deleted = await listed(["--deleted"]);
      assert.deepEqual(deleted.map((r) => [r.path, r.kind, r.author_name]), [
        ["notes.txt", "deleted", "devB"],
      ]);
      assert.equal(deleted[0].written_at, log.entries[0].written_at);
      assert.deepEqual(deleted[0].last_content, {
        id: log.entries[1].id,
        size: 6,
        author_name: "devA",
        written_at: log.entries[1].written_at,
      });
      const deletedText = await a.tcfs(["ls", "--deleted", remote("")]);
      assert.match(deletedText.stdout, /^LAST SIZE +DELETED +BY +PATH$/m);
      assert.match(
        deletedText.stdout,
        new RegExp(`^6 B +[\\d: -]+ +devB +${remote("notes.txt")}$`, "m"),
      );

      // A dry run says what would come back and writes nothing.
      const dry = await a.tcfsJson<RestoreReport>(["restore", notes, "--dry-run"]);
      assert.equal(dry.dry_run, true);
      assert.deepEqual(dry.restored.map((r) => [r.path, r.action, r.from.id]), [
        ["notes.txt", "restore", log.entries[1].id],
      ]);
      assert.equal(dry.pulled, undefined);
      assert.equal((await a.tcfsJson<PathLog>(["log", notes])).entries.length, 4);

      // Restored by its local path: a new version on top, pulled back into the sync root.
      const restored = await a.tcfs(["restore", notes]);
      assert.equal(restored.code, 0, restored.stderr);
      assert.match(
        restored.stdout,
        new RegExp(
          `^restored ${remote("notes.txt")} from version ${
            log.entries[1].id
          } \\(.* UTC, devA, 6 B\\) as new version \\S+$`,
          "m",
        ),
      );
      assert.match(restored.stdout, /^pulled 1 files/m);
      assert.equal(await Deno.readTextFile(notes), "three\n");
      const after = await a.tcfsJson<PathLog>(["log", remote("notes.txt")]);
      assert.equal(after.entries.length, 5);
      assert.deepEqual(
        [after.entries[0].head, after.entries[0].author_name, after.entries[0].blake3],
        [true, "devA", log.entries[1].blake3],
      );
      assert.deepEqual(await a.tcfsJson<RemoteEntry[]>(["ls", "--deleted"]), []);
      assert.equal((await a.tcfs(["ls", "--deleted"])).stdout, "(nothing deleted)\n");
      // Nothing is left to push, and the other device gets it back with a pull.
      assert.equal((await push(a)).files, 0);
      assert.equal((await pull(b)).files, 1);
      assert.equal(await Deno.readTextFile(join(root(b), "notes.txt")), "three\n");
    } finally {
      await tmp.remove();
    }
  });

  Deno.test(`${backend.name}: tcfs restore --at an age or a time, or --version: a file and a folder, back in the sync root or --to a local file; and its usage errors`, async () => {
    const tmp = await makeScopedTempDir("tcfs-history-at-");
    try {
      const { a, b, root, remote, push, pull } = await twoDevices(
        tmp.path,
        backend.setup(tmp.path),
      );
      const notes = join(root(a), "notes.txt");
      await Deno.writeTextFile(notes, "old\n");
      await push(a);
      // An age of 4 s lands between the two versions: the old one is 8 s old by then, and the
      // new one younger than 4 s unless its push and the restore's start take that long.
      await new Promise((resolve) => setTimeout(resolve, 8_000));
      await Deno.writeTextFile(notes, "new\n");
      await push(a);
      const copy = join(tmp.path, "then.txt");
      const toCopy = await a.tcfsJson<RestoreReport>([
        "restore",
        remote("notes.txt"),
        "--at",
        "4s",
        "--to",
        copy,
      ]);
      assert.equal(await Deno.readTextFile(copy), "old\n");
      assert.deepEqual(toCopy.restored.map((r) => [r.action, r.local, r.new_version]), [
        ["restore", copy, undefined],
      ]);
      assert.equal(toCopy.pulled, undefined);
      assert.equal(await Deno.readTextFile(notes), "new\n", "--to leaves the file alone");
      const log = await a.tcfsJson<PathLog>(["log", remote("notes.txt")]);
      assert.equal(log.entries.length, 2, "--to writes no version");

      // Before the file existed: the age is counted back from now.
      const started = Date.now();
      const early = await a.tcfs(["restore", remote("notes.txt"), "--at", "1h", "--json"]);
      assert.equal(early.code, 1);
      const { error } = JSON.parse(early.stdout);
      assert.equal(error.kind, "not_found");
      const then = Date.parse(error.message.match(/did not exist yet at (\S+)$/)[1]);
      assert.ok(Math.abs(then - (started - 3_600_000)) < 60_000, error.message);

      // --version on top: the old content comes back in the sync root, and on B after a pull.
      const text = await a.tcfs(["restore", remote("notes.txt"), "--version", log.entries[1].id]);
      assert.equal(text.code, 0, text.stderr);
      assert.match(text.stdout, new RegExp(`from version ${log.entries[1].id} `));
      assert.equal(await Deno.readTextFile(notes), "old\n");
      await pull(b);
      assert.equal(await Deno.readTextFile(join(root(b), "notes.txt")), "old\n");
      const again = await a.tcfsJson<RestoreReport>([
        "restore",
        notes,
        "--version",
        log.entries[1].id,
      ]);
      assert.deepEqual(again.restored.map((r) => r.action), ["unchanged"]);

      // A folder at a time: each file as it was then, pulled back into the sync root.
      const docs = join(root(a), "docs");
      await Deno.mkdir(docs);
      await Deno.writeTextFile(join(docs, "x.txt"), "x1\n");
      await Deno.writeTextFile(join(docs, "y.txt"), "y1\n");
      await push(a);
      const written = await Promise.all(
        ["x.txt", "y.txt"].map(async (name) =>
          (await a.tcfsJson<PathLog>(["log", join(docs, name)])).entries[0].written_at
        ),
      );
      await tick();
      await Deno.writeTextFile(join(docs, "x.txt"), "x2\n");
      await Deno.remove(join(docs, "y.txt"));
      await push(a);
      const folder = await a.tcfsJson<RestoreReport>([
        "restore",
        remote("docs"),
        "--at",
        written.sort().at(-1)!,
      ]);
      assert.deepEqual(folder.restored.map((r) => [r.path, r.action]).sort(), [
        ["docs/x.txt", "restore"],
        ["docs/y.txt", "restore"],
      ]);
      assert.equal(folder.pulled_to, docs);
      assert.equal(await Deno.readTextFile(join(docs, "x.txt")), "x1\n");
      assert.equal(await Deno.readTextFile(join(docs, "y.txt")), "y1\n");

      // Usage errors: exit code 2 and a message saying what is wrong.
      const both = await a.tcfs(["restore", notes, "--version", "x", "--at", "2h"]);
      assert.equal(both.code, 2);
      assert.match(both.stderr, /'--version <id>' cannot be used with option '--at <time>'/);
      const badAt = await a.tcfs(["restore", notes, "--at", "yesterday", "--json"]);
      assert.equal(badAt.code, 2);
      assert.equal(JSON.parse(badAt.stdout).error.kind, "usage");
      assert.match(
        JSON.parse(badAt.stdout).error.message,
        /--at "yesterday" is neither a time nor an age/,
      );
      assert.equal((await a.tcfs(["log"])).code, 2);
      assert.equal((await a.tcfs(["ls", "--all", "--deleted"])).code, 2);
      // Not errors of usage: nothing to show or restore.
      const none = await a.tcfs(["log", remote("never.txt")]);
      assert.equal(none.code, 1);
      assert.match(none.stderr, new RegExp(`history holds no version of ${remote("never.txt")}`));
      const live = await a.tcfs(["restore", notes]);
      assert.equal(live.code, 1);
      assert.match(live.stderr, /notes\.txt is not deleted/);
      const unknown = await a.tcfs(["restore", notes, "--version", "nope-1"]);
      assert.equal(unknown.code, 1);
      assert.match(unknown.stderr, /has no version nope-1/);
    } finally {
      await tmp.remove();
    }
  });
}
