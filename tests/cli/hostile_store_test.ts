/**
 * Whatever anyone holding the bucket keys writes into the store lands with no
 * more power than a file the user creates here: no privilege bits, no allocation
 * beyond what the format allows. Versions are crafted straight into journal segments in a
 * file:// store and pulled through the real CLI.
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { hostileFleet, plant, plantLink, treeSnapshot } from "../support/hostile_fleet.ts";
import type { PullSummary, PushSummary } from "../../core/sync/transfer_summary.ts";
import { MAX_VERSION_BYTES } from "../../core/remote/file_version.ts";
import { packKey, revokedKey } from "../../core/remote/remote_keys.ts";

Deno.test("a crafted version with mode 6777 lands without setuid, setgid or sticky, through umask 022", async () => {
  await using fleet = await hostileFleet();
  await plant(fleet.store, { path: "tool", mode: 0o6777 });
  await plant(fleet.store, { path: "sticky", mode: 0o1666 });
  const dest = join(fleet.b.home, "got");
  await fleet.b.tcfsJson<PullSummary>(["pull", "tcfs/default/", dest]);
  assert.equal((await Deno.stat(join(dest, "tool"))).mode! & 0o7777, 0o755);
  assert.equal((await Deno.stat(join(dest, "sticky"))).mode! & 0o7777, 0o644);
});

Deno.test("a version with a read-only or private mode is written whole and lands with that mode", async () => {
  // The file is created with its mode: one the owner may not write must still be written.
  await using fleet = await hostileFleet();
  await plant(fleet.store, { path: "read-only", mode: 0o444 });
  await plant(fleet.store, { path: "private", mode: 0o600 });
  const dest = join(fleet.b.home, "got");
  const summary = await fleet.b.tcfsJson<PullSummary>(["pull", "tcfs/default/", dest]);
  assert.equal(summary.files, 2);
  assert.equal((await Deno.stat(join(dest, "read-only"))).mode! & 0o7777, 0o444);
  assert.equal((await Deno.stat(join(dest, "private"))).mode! & 0o7777, 0o600);
  assert.equal(await Deno.readTextFile(join(dest, "read-only")), "#!/bin/sh\necho hi\n");
});

Deno.test("a file pushed with chmod 6777 is pulled as 0755 on the other device", async () => {
  await using fleet = await hostileFleet();
  const source = join(fleet.a.home, "suid");
  await Deno.writeTextFile(source, "#!/bin/sh\nid\n");
  await Deno.chmod(source, 0o6777);
  await fleet.a.tcfsJson<PushSummary>(["push", source, "tcfs/default/suid"]);
  const dest = join(fleet.b.home, "suid");
  await fleet.b.tcfsJson<PullSummary>(["pull", "tcfs/default/suid", dest]);
  assert.equal((await Deno.stat(dest)).mode! & 0o7777, 0o755);
});

Deno.test("a chunk ref 2^40 bytes long fails the pull of its path, clearly, and allocates nothing", async () => {
  await using fleet = await hostileFleet();
  await plant(fleet.store, { path: "fine.txt" });
  const chunk = { id: "a".repeat(64), size: 1024, pack: "b".repeat(32), offset: 0 };
  await fleet.store.put(packKey("b".repeat(32)), new Uint8Array(2048));
  await plant(fleet.store, {
    path: "huge.bin",
    size: 1024,
    inline: undefined,
    chunks: [{ ...chunk, length: 2 ** 40 }],
  });
  await plant(fleet.store, {
    path: "negative.bin",
    size: 1024,
    inline: undefined,
    chunks: [{ ...chunk, offset: -1, length: 100 }],
  });
  const dest = join(fleet.b.home, "got");
  const result = await fleet.b.tcfs(["pull", "tcfs/default/", dest, "--json"]);
  assert.equal(result.code, 1, result.stderr);
  const summary = JSON.parse(result.stdout) as PullSummary;
  assert.equal(summary.files, 1);
  assert.equal(summary.failures.length, 2, JSON.stringify(summary.failures));
  for (const failure of summary.failures) {
    assert.match(JSON.stringify(failure), /unreadable: chunks is not a list .*length ≤ \d+/);
  }
  assert.ok((await Deno.stat(join(dest, "fine.txt"))).isFile);
});

Deno.test("a journal segment over the size cap is refused unread", async () => {
  await using fleet = await hostileFleet();
  const key = await plant(fleet.store, { path: "padded.txt" });
  // Sparse: past what a segment of the largest versions may hold, taking no disk.
  const size = 4 * MAX_VERSION_BYTES;
  await Deno.truncate(join(fleet.tmp, "store", key), size);
  const result = await fleet.b.tcfs(["pull", "tcfs/default/padded.txt", join(fleet.b.home, "p")]);
  assert.equal(result.code, 1, result.stderr);
  assert.match(result.stderr, new RegExp(`holds ${size} bytes, more than the`));
});

/** Every entry below `dir` whose mode gives more than a file the user creates would have. */
async function privileged(dir: string): Promise<string[]> {
  const found: string[] = [];
  for (const [path, description] of await treeSnapshot(dir)) {
    const [kind, mode] = description.split(" ");
    if (kind !== "link" && (parseInt(mode, 8) & 0o7022) !== 0) found.push(`${path} ${mode}`);
  }
  return found;
}

/** Crafted links, each with a file planted below it. */
const BELOW_LINKS: Record<string, string> = {
  c1: "c1/f.txt",
  c2: "c2/g.txt",
  c3: "c3/h.txt",
  abs: "abs/i.txt",
  up: "up/victim.txt",
};

Deno.test("a store full of crafted versions writes nothing outside the target and no privilege bit", async () => {
  await using fleet = await hostileFleet();
  const around = join(fleet.b.home, "around");
  const dest = join(around, "dest");
  const outside = join(around, "outside");
  await Deno.mkdir(outside, { recursive: true });
  await Deno.writeTextFile(join(around, "victim.txt"), "mine\n");
  const { store } = fleet;
  // Paths that escape, in every spelling; unicode dot lookalikes are plain names.
  for (
    const path of [
      "..",
      "../x.txt",
      `${around}/abs.txt`,
      "/x.txt",
      "a/../../x.txt",
      "a/../../../victim.txt",
      "..\\x.txt",
      "a\\..\\..\\x.txt",
      "a\0/../../x.txt",
      "a//../x.txt",
      "./x.txt",
      "a/./../../x.txt",
      "",
      "\u2024\u2024/lookalike-one-dot-leader.txt",
      "\uff0e\uff0e/lookalike-fullwidth.txt",
      "\u2025/lookalike-two-dot-leader.txt",
    ]
  ) await plant(store, { path });
  // Links chained through links, and files below them.
  await plantLink(store, "c1", "c2");
  await plantLink(store, "c2", "c3");
  await plantLink(store, "c3", "../outside");
  await plantLink(store, "abs", outside);
  await plantLink(store, "up", "..");
  await plantLink(store, "nul", "a\0b");
  await plantLink(store, "empty", "");
  for (const path of Object.values(BELOW_LINKS)) await plant(store, { path });
  // Kinds no device writes.
  for (const kind of ["fifo", "dir", "device", "hardlink", "socket"]) {
    await plant(store, { path: `special-${kind}`, kind: kind as "file" });
  }
  // Mode bits, and a pack that ends early.
  await plant(store, { path: "suid", mode: 0o6777 });
  await plant(store, { path: "sticky-dir/f", mode: 0o1777 });
  await store.put(packKey("c".repeat(32)), new Uint8Array(100));
  await plant(store, {
    path: "short-pack.bin",
    size: 1024,
    inline: undefined,
    chunks: [{ id: "d".repeat(64), size: 1024, pack: "c".repeat(32), offset: 0, length: 1024 }],
  });
  // A version in another device's journal, a segment filed under a number it does not hold,
  // and a version by a revoked device.
  await plant(store, { path: "stolen.txt" }, { journal: crypto.randomUUID() });
  await plant(store, { path: "misfiled.txt" }, { segment: { seq: 2 } });
  await plant(store, { path: "fine.txt" });
  const revoked = crypto.randomUUID();
  const revokedAt = new Date(Date.now() - 3_600_000).toISOString();
  await store.put(
    revokedKey(revoked),
    new TextEncoder().encode(JSON.stringify({ format: 1, id: revoked, revoked_at: revokedAt })),
  );
  await plant(store, { path: "from-revoked.txt", author: revoked, vclock: { [revoked]: 1 } });

  const before = await treeSnapshot(around);
  for (let run = 0; run < 2; run++) {
    const result = await fleet.b.tcfs(["pull", "tcfs/default/", dest, "--json"]);
    assert.equal(result.code, 1, result.stderr);
    const summary = JSON.parse(result.stdout) as PullSummary;
    const errors = JSON.stringify(summary.failures);
    assert.match(errors, /does not match its key/);
    assert.match(errors, /holds a version another device wrote/);
    assert.match(errors, /kind is not file, symlink or deleted/);
    assert.match(errors, /symlink target is missing, empty, holds a NUL/);
    assert.ok(summary.failures.some((f) => f.path === "short-pack.bin"), errors);
    // A link and a file below it: whichever a pull writes second fails.
    for (const [link, file] of Object.entries(BELOW_LINKS)) {
      assert.ok(summary.failures.some((f) => f.path === link || f.path === file), errors);
    }
    // Nothing changed around the target, and nothing inside it has a privilege bit.
    assert.deepEqual(await treeSnapshot(around, [dest]), before);
    assert.deepEqual(await privileged(dest), []);
  }
  const targets: Record<string, string> = { c1: "c2", c2: "c3", c3: "../outside", abs: outside };
  for (const [link, target] of Object.entries(targets)) {
    if ((await Deno.lstat(join(dest, link))).isSymlink) {
      assert.equal(await Deno.readLink(join(dest, link)), target);
    }
  }
  assert.ok((await Deno.stat(join(dest, "fine.txt"))).isFile);
  assert.ok((await Deno.stat(join(dest, "\u2024\u2024", "lookalike-one-dot-leader.txt"))).isFile);
  for (
    const absent of [
      "stolen.txt",
      "misfiled.txt",
      "from-revoked.txt",
      "short-pack.bin",
      "special-fifo",
    ]
  ) {
    await assert.rejects(Deno.lstat(join(dest, absent)), Deno.errors.NotFound, absent);
  }
  assert.equal(await Deno.readTextFile(join(around, "victim.txt")), "mine\n");
});
