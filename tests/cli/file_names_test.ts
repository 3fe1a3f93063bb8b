import assert from "node:assert/strict";
import { dirname, join } from "node:path";
import { type DeviceHome, makeFileStoreDevices } from "../support/device_home.ts";
import type { PullSummary, PushSummary } from "../../core/sync/transfer_summary.ts";
import { parseConflictCopy } from "../../core/conflicts/conflict_copy_name.ts";
import type { PathStatus } from "../../core/sync/sync_status.ts";

/** Names at the 255-byte limit of ext4 and APFS: one of ASCII, one of two-byte characters. */
const NAMES = ["n".repeat(251) + ".txt", "ü".repeat(126) + ".md"];

/** Two devices on a `file://` store, each with a folder `docs` at home (A's made). */
async function withTwoDevices(
  body: (devices: { a: DeviceHome; b: DeviceHome; rootA: string; rootB: string }) => Promise<void>,
) {
  const tmp = await Deno.makeTempDir({ prefix: "tcfs-file-names-" });
  try {
    const [a, b] = await makeFileStoreDevices(tmp, "devA", "devB");
    const rootA = join(a.home, "docs");
    await Deno.mkdir(rootA);
    await body({ a, b, rootA, rootB: join(b.home, "docs") });
  } finally {
    await Deno.remove(tmp, { recursive: true });
  }
}

Deno.test("files named up to the 255-byte limit are pulled, and a conflict on one keeps both sides", async () => {
  await withTwoDevices(async ({ a, b, rootA, rootB }) => {
    for (const name of NAMES) await Deno.writeTextFile(join(rootA, name), `base of ${name}\n`);
    await a.tcfsJson<PushSummary>(["push", rootA]);

    // The restore's temp name beside each file was longer than the file system takes.
    const pulled = await b.tcfsJson<PullSummary>(["pull", "tcfs/default/docs", rootB]);
    assert.deepEqual(pulled.failures, []);
    for (const name of NAMES) {
      assert.equal(await Deno.readTextFile(join(rootB, name)), `base of ${name}\n`);
    }

    // Both edit one: B keeps both, and its own edit lands in a conflict copy that fits too.
    const [name] = NAMES;
    await Deno.writeTextFile(join(rootA, name), "edit from A\n");
    await Deno.writeTextFile(join(rootB, name), "edit from B\n");
    await a.tcfsJson<PushSummary>(["push", rootA]);
    await b.tcfsJson<PushSummary>(["push", rootB], { allowCodes: [3] });
    const resolved = await b.tcfs(["resolve-conflict", join(rootB, name), "--keep-both"]);
    assert.equal(resolved.code, 0, resolved.stderr);
    await b.tcfsJson<PullSummary>(["pull", "tcfs/default/docs", rootB]);
    await a.tcfsJson<PullSummary>(["pull", "tcfs/default/docs", rootA]);
    for (const root of [rootA, rootB]) {
      const names = (await Array.fromAsync(Deno.readDir(root))).map((e) => e.name);
      const copies = names.filter((n) => parseConflictCopy(n) !== undefined);
      assert.equal(copies.length, 1, names.join("\n"));
      assert.equal(await Deno.readTextFile(join(root, copies[0])), "edit from B\n");
      assert.equal(await Deno.readTextFile(join(root, name)), "edit from A\n");
    }
  });
});

Deno.test("a name the other devices would refuse fails alone at push, and the rest of the push reaches them", async () => {
  await withTwoDevices(async ({ a, b, rootA, rootB }) => {
    // Legal on Linux and macOS; refused in any path that comes from the remote.
    await Deno.writeTextFile(join(rootA, "C:\\notes\\todo.txt"), "windows-ish\n");
    await Deno.writeTextFile(join(rootA, "plain.txt"), "plain\n");
    const pushed = await a.tcfsJson<PushSummary>(["push", rootA], { allowCodes: [1] });
    assert.deepEqual(pushed.failures.map((f) => f.path), ["docs/C:\\notes\\todo.txt"]);
    assert.match(pushed.failures[0].error, /backslash/);
    assert.equal(pushed.files, 1);

    // One refused path in a journal object made the whole object unreadable: B got nothing.
    const pulled = await b.tcfsJson<PullSummary>(["pull", "tcfs/default/docs", rootB]);
    assert.deepEqual(pulled.failures, []);
    assert.deepEqual((await Array.fromAsync(Deno.readDir(rootB))).map((e) => e.name), [
      "plain.txt",
    ]);
    assert.equal(await Deno.readTextFile(join(rootB, "plain.txt")), "plain\n");
  });
});

Deno.test("a file or folder whose name is not UTF-8 fails alone at push, named, and the rest is pushed", async () => {
  await withTwoDevices(async ({ a, b, rootA, rootB }) => {
    // Latin-1 names, as unzip leaves a Windows zip's: Deno's strings cannot name them.
    const made = await new Deno.Command("bash", {
      args: [
        "-c",
        "printf old > $'caf\\xe9.txt' && mkdir $'r\\xe9sum\\xe9' && printf in > $'r\\xe9sum\\xe9/cv.txt'",
      ],
      cwd: rootA,
    }).output();
    assert.equal(made.code, 0, new TextDecoder().decode(made.stderr));
    await Deno.writeTextFile(join(rootA, "plain.txt"), "plain\n");
    // The folder's listing failed the whole push with NotFound; the file was skipped unsaid.
    const pushed = await a.tcfsJson<PushSummary>(["push", rootA], { allowCodes: [1] });
    assert.deepEqual(pushed.failures.map((f) => f.path), [
      "docs/caf\uFFFD.txt",
      "docs/r\uFFFDsum\uFFFD",
    ]);
    assert.match(pushed.failures[0].error, /not valid UTF-8/);
    assert.equal(pushed.files, 1);
    await b.tcfsJson<PullSummary>(["pull", "tcfs/default/docs", rootB]);
    assert.equal(await Deno.readTextFile(join(rootB, "plain.txt")), "plain\n");
  });
});

Deno.test("a folder this user may not read fails alone at push, and none of its synced files is deleted", async () => {
  await withTwoDevices(async ({ a, b, rootA, rootB }) => {
    await Deno.mkdir(join(rootA, "locked"));
    await Deno.writeTextFile(join(rootA, "locked", "kept.txt"), "kept\n");
    await Deno.writeTextFile(join(rootA, "top.txt"), "first\n");
    const asUser = async (args: string[]) => {
      // Root reads any folder: A runs as an ordinary user (nobody) when the tests run as root.
      const asRoot = Deno.uid() === 0;
      if (asRoot) {
        // It owns its home and the store beside it.
        const store = join(dirname(a.home), "store");
        await Deno.chmod(dirname(a.home), 0o755);
        await Deno.mkdir(store, { recursive: true });
        await new Deno.Command("chown", { args: ["-R", "65534:65534", a.home, store] }).output();
      }
      const cli = join(new URL("../../", import.meta.url).pathname, "scripts/tcfs");
      const drop = ["--reuid=65534", "--regid=65534", "--clear-groups", cli];
      const output = await new Deno.Command(asRoot ? "setpriv" : cli, {
        args: [...(asRoot ? drop : []), ...args, "--json"],
        env: a.env,
        clearEnv: true,
        cwd: "/",
      }).output();
      console.error(
        new TextDecoder().decode(output.stderr),
        new TextDecoder().decode(output.stdout),
      );
      return { code: output.code, summary: JSON.parse(new TextDecoder().decode(output.stdout)) };
    };
    const pushAsUser = () => asUser(["push", rootA]);
    assert.equal((await pushAsUser()).code, 0);
    await b.tcfsJson<PullSummary>(["pull", "tcfs/default/docs", rootB]);

    await Deno.chmod(join(rootA, "locked"), 0o000);
    await Deno.writeTextFile(join(rootA, "top.txt"), "second\n");
    // Its readdir failed the whole push with PermissionDenied.
    const pushed = await pushAsUser();
    assert.equal(pushed.code, 1);
    const summary = pushed.summary as PushSummary;
    assert.deepEqual(summary.failures.map((f) => f.path), ["docs/locked"]);
    assert.match(summary.failures[0].error, /may not read/);
    assert.equal(summary.deleted, 0);
    assert.equal(summary.files, 1);
    // sync-status names what it cannot look at; it stopped at the folder, as push did.
    const status = await asUser(["sync-status", rootA]);
    assert.equal(status.code, 0);
    assert.deepEqual(
      (status.summary as PathStatus[]).map(({ path, state }) => ({ path, state })),
      [
        { path: "docs/locked", state: "unreadable" },
        { path: "docs/locked/kept.txt", state: "unreadable" },
        { path: "docs/top.txt", state: "synced" },
      ],
    );
    await b.tcfsJson<PullSummary>(["pull", "tcfs/default/docs", rootB]);
    assert.equal(await Deno.readTextFile(join(rootB, "top.txt")), "second\n");
    assert.equal(await Deno.readTextFile(join(rootB, "locked", "kept.txt")), "kept\n");
    await Deno.chmod(join(rootA, "locked"), 0o755);
  });
});

Deno.test("a file dated before 1970 is pushed with the rest, and the rest reaches the other device", async () => {
  await withTwoDevices(async ({ a, b, rootA, rootB }) => {
    await Deno.writeTextFile(join(rootA, "old.txt"), "from an old archive\n");
    await Deno.utime(join(rootA, "old.txt"), new Date("1960-01-01"), new Date("1960-01-01"));
    await Deno.writeTextFile(join(rootA, "plain.txt"), "plain\n");
    await a.tcfsJson<PushSummary>(["push", rootA]);
    // Its negative mtime made the journal object unreadable: B pulled nothing at all.
    const pulled = await b.tcfsJson<PullSummary>(["pull", "tcfs/default/docs", rootB]);
    assert.deepEqual(pulled.failures, []);
    assert.equal(await Deno.readTextFile(join(rootB, "plain.txt")), "plain\n");
    assert.equal(await Deno.readTextFile(join(rootB, "old.txt")), "from an old archive\n");
    assert.equal((await Deno.stat(join(rootB, "old.txt"))).mtime?.getTime(), 0);
    const again = await a.tcfsJson<PushSummary>(["push", rootA]);
    assert.equal(again.files, 0);
  });
});
