/**
 * `tcfs mount` through real FUSE mounts of trees pushed to the shared SeaweedFS.
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { type DeviceHome, makeDeviceHome } from "../support/device_home.ts";
import { servicesEnv, servicesStoreEnv } from "../support/services_env.ts";
import { randomBytes, writeRandomFile } from "../support/random_bytes.ts";
import { assertSameTree, snapshotTree } from "../support/tree_compare.ts";
import { startMount } from "../support/tcfs_mount.ts";
import { settledBytesUnder } from "../support/files_under.ts";
import { startTcpForwarder, type TcpForwarder } from "../support/tcp_forwarder.ts";
import type { PushSummary } from "../../core/sync/transfer_summary.ts";
import type { QueuedConflict } from "../../core/conflicts/conflict_queue.ts";
import { readUpTo } from "../../core/io/byte_reader.ts";

const MiB = 1024 * 1024;

async function pushedDevice(prefix: string, storeEnv = servicesStoreEnv()) {
  const tmp = await Deno.makeTempDir({ prefix: `tcfs-${prefix}-` });
  const namespace = `${prefix}-${crypto.randomUUID().slice(0, 8)}`;
  const device = await makeDeviceHome(tmp, "devA", {
    ...storeEnv,
    TCFS_NAMESPACE: namespace,
    TCFS_SOCKET: join(tmp, "devA.sock"),
  });
  return { tmp, namespace, device };
}

/** Writes the device's config.toml with `[mount]` holding `keys`. */
async function writeMountConfig(device: DeviceHome, keys: string): Promise<void> {
  const dir = join(device.home, ".config/tcfs");
  await Deno.mkdir(dir, { recursive: true });
  await Deno.writeTextFile(join(dir, "config.toml"), `[mount]\n${keys}\n`);
}

/** A device that reaches the store through `proxy` (so a test can take the store away). */
async function proxiedDevice(prefix: string, proxy: TcpForwarder, mountKeys: string) {
  const made = await pushedDevice(prefix, {
    ...servicesStoreEnv(),
    TCFS_S3_ENDPOINT: `http://127.0.0.1:${proxy.port}`,
  });
  await writeMountConfig(made.device, mountKeys);
  return made;
}

/** Another device of the same namespace in the shared store. */
function secondDevice(tmp: string, namespace: string): Promise<DeviceHome> {
  return makeDeviceHome(tmp, "devB", {
    ...servicesStoreEnv(),
    TCFS_NAMESPACE: namespace,
    TCFS_SOCKET: join(tmp, "devB.sock"),
  });
}

/** Every path under `root`, stat'ed (an `ls -lR`). */
async function statWalk(root: string): Promise<number> {
  let seen = 0;
  for await (const entry of Deno.readDir(root)) {
    const path = join(root, entry.name);
    await Deno.lstat(path);
    seen++;
    if (entry.isDirectory) seen += await statWalk(path);
  }
  return seen;
}

function mounted(mountpoint: string): boolean {
  return Deno.readTextFileSync("/proc/self/mountinfo").split("\n").some((line) =>
    line.split(" ")[4] === mountpoint
  );
}

Deno.test("mount: a 1,000-file tree lists without fetching content, then reads back byte for byte", async () => {
  const { tmp, device } = await pushedDevice("mount-tree");
  const src = join(device.home, "tree");
  for (let i = 0; i < 1000; i++) {
    const dir = join(src, `d${i % 10}`, `e${i % 7}`);
    await Deno.mkdir(dir, { recursive: true });
    // Every tenth file is past the inline limit, so it has chunks in packs.
    const size = i % 10 === 0 ? 20_000 + i * 150 : 1 + (i * 37) % 9000;
    await Deno.writeFile(join(dir, `f${i}.bin`), randomBytes(size, i));
  }
  await Deno.chmod(join(src, "d1/e1/f1.bin"), 0o600);
  await Deno.symlink("d0/e0/f0.bin", join(src, "link"));
  const pushed = await device.tcfsJson<PushSummary>(["push", src]);
  assert.equal(pushed.files, 1001);

  const listing = await startMount(device, tmp);
  let end;
  try {
    assert.equal(await statWalk(join(listing.mountpoint, "tree")), 1000 + 1 + 10 + 70);
  } finally {
    end = await listing.unmount();
  }
  assert.equal(end.bytes_downloaded, 0, "a stat walk fetched content");
  assert.equal(end.chunks_downloaded, 0);
  assert.ok(!mounted(listing.mountpoint));

  const reading = await startMount(device, tmp, { args: ["--read-only"] });
  try {
    await assertSameTree(src, join(reading.mountpoint, "tree"));
    for (
      const change of [
        () => Deno.writeTextFile(join(reading.mountpoint, "tree/new.txt"), "x"),
        () => Deno.writeTextFile(join(reading.mountpoint, "tree/d0/e0/f0.bin"), "x"),
        () => Deno.remove(join(reading.mountpoint, "tree/link")),
        () => Deno.mkdir(join(reading.mountpoint, "tree/folder")),
        () => Deno.chmod(join(reading.mountpoint, "tree/d0/e0/f0.bin"), 0o777),
      ]
    ) await assert.rejects(change(), (err: Error) => /read-only/i.test(err.message));
  } finally {
    end = await reading.unmount();
  }
  assert.ok(end.chunks_downloaded > 0);
  assert.ok(end.cache_bytes > 0);
  await Deno.remove(tmp, { recursive: true });
});

Deno.test("mount: 1 MiB read at a random offset of a large file fetches at most 2 MiB", async () => {
  const { tmp, device } = await pushedDevice("mount-range");
  const src = join(device.home, "big");
  await Deno.mkdir(src);
  const size = 48 * MiB;
  await writeRandomFile(join(src, "large.bin"), size, 7);
  await device.tcfsJson<PushSummary>(["push", src]);
  const expected = await Deno.readFile(join(src, "large.bin"));

  const mount = await startMount(device, tmp);
  let end;
  try {
    const offset = 17 * MiB + 123_457;
    using file = await Deno.open(join(mount.mountpoint, "big/large.bin"));
    await file.seek(offset, Deno.SeekMode.Start);
    const got = await readUpTo(file, new Uint8Array(MiB));
    assert.equal(got.length, MiB);
    assert.deepEqual(got, expected.subarray(offset, offset + MiB));
  } finally {
    end = await mount.unmount();
  }
  assert.ok(end.bytes_downloaded > 0);
  assert.ok(end.bytes_downloaded <= 2 * MiB, `fetched ${end.bytes_downloaded} bytes`);
  await Deno.remove(tmp, { recursive: true });
});

Deno.test("mount: with the store down, cached files read and uncached ones fail with EIO quickly", async () => {
  using proxy = startTcpForwarder(new URL(servicesEnv().s3Endpoint).host);
  const { tmp, device } = await proxiedDevice("mount-offline", proxy, "read_timeout_secs = 3");
  const src = join(device.home, "docs");
  await Deno.mkdir(src);
  await writeRandomFile(join(src, "read-before.bin"), 3 * MiB, 1);
  await writeRandomFile(join(src, "never-read.bin"), 3 * MiB, 2);
  await device.tcfsJson<PushSummary>(["push", src]);

  const mount = await startMount(device, tmp);
  try {
    const cached = join(mount.mountpoint, "docs/read-before.bin");
    const expected = await Deno.readFile(join(src, "read-before.bin"));
    assert.deepEqual(await Deno.readFile(cached), expected);
    proxy.stop();
    // Only the chunk cache on disk can answer now, not the kernel's page cache.
    await Deno.writeTextFile("/proc/sys/vm/drop_caches", "1");
    assert.deepEqual(await Deno.readFile(cached), expected);

    const uncached = join(mount.mountpoint, "docs/never-read.bin");
    const isEio = (err: Error) => /input\/output error/i.test(err.message);
    let started = performance.now();
    await assert.rejects(Deno.readFile(uncached), isEio);
    assert.ok(performance.now() - started < 3000, "a refused connection should fail at once");
    await mount.stderrMatching(/read of docs\/never-read\.bin at 0 failed: cannot reach S3/);

    // A store that accepts connections and never answers: the read timeout ends the wait.
    proxy.start();
    proxy.stall();
    started = performance.now();
    await assert.rejects(Deno.readFile(uncached), isEio);
    const seconds = (performance.now() - started) / 1000;
    assert.ok(seconds >= 2.9 && seconds < 8, `the stalled read took ${seconds.toFixed(1)} s`);
    await mount.stderrMatching(/never-read\.bin.*did not answer within 3 s/);
    assert.deepEqual(await Deno.readFile(cached), expected);
  } finally {
    await mount.unmount();
  }
  await Deno.remove(tmp, { recursive: true });
});

Deno.test("mount: started with the store down, a sealed namespace shows its last tree and cached files, then catches up", async () => {
  using proxy = startTcpForwarder(new URL(servicesEnv().s3Endpoint).host);
  const bucket = `mount-offline-start-${crypto.randomUUID().slice(0, 12)}`;
  const { tmp, device } = await pushedDevice("mount-offline-start", {
    ...servicesStoreEnv({ bucket }),
    TCFS_S3_ENDPOINT: `http://127.0.0.1:${proxy.port}`,
    TCFS_POLL_INTERVAL_SECS: "1",
    TCFS_SEAL_SETTLE_MS: "0",
  });
  await writeMountConfig(device, "read_timeout_secs = 3");
  await device.tcfsJson(["device", "enroll", "--name", "devA", "--no-service"]);
  const src = join(device.home, "docs");
  await Deno.mkdir(src);
  await writeRandomFile(join(src, "read-before.bin"), 2 * MiB, 11);
  await writeRandomFile(join(src, "never-read.bin"), 2 * MiB, 12);
  await device.tcfsJson<PushSummary>(["push", src]);
  await device.tcfsJson(["store", "encrypt"]);

  const first = await startMount(device, tmp);
  const at = (rel: string) => join(first.mountpoint, "docs", rel);
  const readBefore = await Deno.readFile(join(src, "read-before.bin"));
  assert.deepEqual(await Deno.readFile(at("read-before.bin")), readBefore);
  await first.unmount();

  proxy.stop();
  let down = true;
  const offline = await startMount(device, tmp, { mountpoint: first.mountpoint });
  try {
    assert.match(offline.stderr(), /cannot reach S3.*showing the tree as last read/s);
    assert.deepEqual(
      [...Deno.readDirSync(join(first.mountpoint, "docs"))].map((e) => e.name).sort(),
      ["never-read.bin", "read-before.bin"],
    );
    await Deno.writeTextFile("/proc/sys/vm/drop_caches", "1");
    assert.deepEqual(await Deno.readFile(at("read-before.bin")), readBefore);
    await assert.rejects(
      Deno.readFile(at("never-read.bin")),
      (err: Error) => /input\/output error/i.test(err.message),
    );

    // The store answers again: the rest reads (the kept keys open it), and changes show.
    proxy.start();
    down = false;
    assert.deepEqual(
      await Deno.readFile(at("never-read.bin")),
      await Deno.readFile(join(src, "never-read.bin")),
    );
    await Deno.writeTextFile(join(src, "later.txt"), "written while the mount ran\n");
    await device.tcfsJson<PushSummary>(["push", src]);
    const deadline = Date.now() + 15_000;
    while (Date.now() < deadline && !await Deno.stat(at("later.txt")).catch(() => undefined)) {
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    assert.equal(await Deno.readTextFile(at("later.txt")), "written while the mount ran\n");
  } finally {
    if (down) proxy.start();
    await offline.unmount();
  }
  await Deno.remove(tmp, { recursive: true });
});

Deno.test("mount: kill -9 of the mount leaves a dead mount that tcfs unmount clears", async () => {
  const { tmp, device } = await pushedDevice("mount-kill");
  const src = join(device.home, "docs");
  await Deno.mkdir(src);
  await Deno.writeTextFile(join(src, "a.txt"), "hello");
  await device.tcfsJson<PushSummary>(["push", src]);
  const mount = await startMount(device, tmp);
  try {
    assert.equal(await Deno.readTextFile(join(mount.mountpoint, "docs/a.txt")), "hello");
    // The mount's Deno process is the child of scripts/tcfs's exec: the same pid.
    mount.process.kill("SIGKILL");
    await mount.process.status;
    assert.ok(mounted(mount.mountpoint), "the dead mount should still be in the table");
    await assert.rejects(Deno.readDir(mount.mountpoint)[Symbol.asyncIterator]().next());
  } finally {
    const result = await device.tcfs(["unmount", mount.mountpoint, "--json"]);
    assert.equal(result.code, 0, result.stderr);
  }
  assert.ok(!mounted(mount.mountpoint));
  const again = await device.tcfs(["unmount", mount.mountpoint]);
  assert.equal(again.code, 1);
  assert.match(again.stderr, /is not mounted/);
  await Deno.remove(tmp, { recursive: true });
});

Deno.test("mount: a sealed (end-to-end encrypted) namespace reads back byte for byte", async () => {
  const bucket = `mount-sealed-${crypto.randomUUID().slice(0, 12)}`;
  const { tmp, device } = await pushedDevice("mount-sealed", {
    ...servicesStoreEnv({ bucket }),
    TCFS_SEAL_SETTLE_MS: "0",
  });
  await device.tcfsJson(["device", "enroll", "--name", "devA", "--no-service"]);
  const src = join(device.home, "lab");
  await Deno.mkdir(join(src, "notes"), { recursive: true });
  await writeRandomFile(join(src, "payroll.bin"), 5 * MiB, 3);
  await Deno.writeTextFile(join(src, "notes/plan.txt"), "merger on friday\n");
  await device.tcfsJson<PushSummary>(["push", src]);
  await device.tcfsJson(["store", "encrypt"]);
  await writeRandomFile(join(src, "notes/after-sealing.bin"), 300_000, 4);
  await device.tcfsJson<PushSummary>(["push", src]);

  const mount = await startMount(device, tmp);
  try {
    await assertSameTree(src, join(mount.mountpoint, "lab"));
  } finally {
    await mount.unmount();
  }
  await Deno.remove(tmp, { recursive: true });
});

Deno.test("mount: another device's changes show without a remount, old content dropped", async () => {
  const { tmp, namespace, device } = await pushedDevice("mount-changes", {
    ...servicesStoreEnv(),
    TCFS_POLL_INTERVAL_SECS: "1",
  });
  const other = await secondDevice(tmp, namespace);
  const src = join(other.home, "docs");
  await Deno.mkdir(src);
  await Deno.writeTextFile(join(src, "a.txt"), "first version\n");
  await writeRandomFile(join(src, "big.bin"), 2 * MiB, 5);
  await other.tcfsJson<PushSummary>(["push", src]);

  const mount = await startMount(device, tmp);
  try {
    const at = (rel: string) => join(mount.mountpoint, "docs", rel);
    assert.equal(await Deno.readTextFile(at("a.txt")), "first version\n");
    assert.deepEqual(await Deno.readFile(at("big.bin")), await Deno.readFile(join(src, "big.bin")));

    await Deno.writeTextFile(join(src, "a.txt"), "second, longer version\n");
    await writeRandomFile(join(src, "big.bin"), 2 * MiB, 6);
    await Deno.writeTextFile(join(src, "new.txt"), "new\n");
    await other.tcfsJson<PushSummary>(["push", src]);

    const deadline = Date.now() + 15_000;
    while (Date.now() < deadline) {
      const text = await Deno.readTextFile(at("a.txt")).catch(() => "");
      if (text === "second, longer version\n") break;
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    assert.equal(await Deno.readTextFile(at("a.txt")), "second, longer version\n");
    assert.equal(await Deno.readTextFile(at("new.txt")), "new\n");
    // The kernel had big.bin's old pages cached: they were dropped.
    assert.deepEqual(await Deno.readFile(at("big.bin")), await Deno.readFile(join(src, "big.bin")));
  } finally {
    await mount.unmount();
  }
  await Deno.remove(tmp, { recursive: true });
});

Deno.test("mount: reading 3 × cache_size keeps the chunk cache within its bound", async () => {
  const { tmp, device } = await pushedDevice("mount-bound");
  await writeMountConfig(device, 'cache_size = "4MiB"');
  const src = join(device.home, "data");
  await Deno.mkdir(src);
  for (const seed of [1, 2, 3]) await writeRandomFile(join(src, `f${seed}.bin`), 4 * MiB, seed);
  await device.tcfsJson<PushSummary>(["push", src]);

  const chunks = join(device.home, ".cache/tcfs/chunks");
  const mount = await startMount(device, tmp);
  let end;
  try {
    for (const [i, seed] of [1, 2, 3, 1].entries()) {
      const name = `f${seed}.bin`;
      // The last read must reach the mount, not the kernel's page cache.
      if (i === 3) await Deno.writeTextFile("/proc/sys/vm/drop_caches", "1");
      assert.deepEqual(
        await Deno.readFile(join(mount.mountpoint, "data", name)),
        await Deno.readFile(join(src, name)),
      );
      const held = await settledBytesUnder(chunks);
      assert.ok(held <= 4 * MiB, `after ${name} the cache holds ${held} bytes`);
    }
  } finally {
    end = await mount.unmount();
  }
  assert.ok(end.cache_bytes <= 4 * MiB && end.cache_bytes > 2 * MiB, `${end.cache_bytes}`);
  // f1's second read took the chunks the mount still held in memory: nothing was fetched twice.
  assert.ok(
    end.bytes_downloaded >= 12 * MiB && end.bytes_downloaded < 13 * MiB,
    `${end.bytes_downloaded}`,
  );
  await Deno.remove(tmp, { recursive: true });
});

/** Same paths, kinds, modes, bytes and link targets; files written at different times differ in mtime. */
async function assertSameContent(a: string, b: string): Promise<void> {
  const strip = async (root: string) =>
    new Map([...await snapshotTree(root)].map(([path, { mtimeMs: _, ...rest }]) => [path, rest]));
  assert.deepEqual(await strip(b), await strip(a));
}

Deno.test("mount: changes made through the mount reach another device as new versions", async () => {
  const { tmp, namespace, device } = await pushedDevice("mount-writes");
  const other = await secondDevice(tmp, namespace);
  // `expected` gets every change the mount gets, by plain file system calls.
  const expected = join(device.home, "docs");
  await Deno.mkdir(join(expected, "old-folder"), { recursive: true });
  await Deno.writeTextFile(join(expected, "keep.txt"), "keep\n");
  await Deno.writeTextFile(join(expected, "edit.txt"), "first line\n");
  await writeRandomFile(join(expected, "big.bin"), 3 * MiB, 9);
  await Deno.writeTextFile(join(expected, "old-folder/old.txt"), "old\n");
  await Deno.writeTextFile(join(expected, "gone.txt"), "gone\n");
  await Deno.symlink("keep.txt", join(expected, "link"));
  await device.tcfsJson<PushSummary>(["push", expected]);

  const mount = await startMount(device, tmp);
  try {
    for (const root of [join(mount.mountpoint, "docs"), expected]) {
      const at = (rel: string) => join(root, rel);
      await Deno.writeTextFile(at("new.txt"), "made in the mount\n");
      await Deno.writeTextFile(at("edit.txt"), "second line\n", { append: true });
      {
        using big = await Deno.open(at("big.bin"), { write: true });
        await big.seek(MiB + 17, Deno.SeekMode.Start);
        await big.write(randomBytes(100_000, 10));
      }
      await Deno.chmod(at("keep.txt"), 0o755);
      await Deno.utime(at("keep.txt"), new Date(1_600_000_000_000), new Date(1_600_000_000_000));
      await Deno.truncate(at("gone.txt"), 2);
      await Deno.remove(at("gone.txt"));
      await Deno.mkdir(at("new-folder"));
      await Deno.rename(at("old-folder/old.txt"), at("new-folder/moved.txt"));
      await Deno.remove(at("old-folder"));
      await Deno.remove(at("link"));
      await Deno.symlink("new.txt", at("new-link"));
    }
    await assertSameContent(expected, join(mount.mountpoint, "docs"));
  } finally {
    await mount.unmount();
  }
  assert.doesNotMatch(mount.stderr(), /not pushed/);
  const pulled = join(other.home, "docs");
  await other.tcfsJson(["pull", `${servicesEnv().s3Bucket}/${namespace}/docs`, pulled]);
  await assertSameContent(expected, pulled);
  assert.equal((await Deno.stat(join(pulled, "keep.txt"))).mtime?.getTime(), 1_600_000_000_000);
  await Deno.remove(tmp, { recursive: true });
});

Deno.test("mount: a write over a version it has not seen is kept as a conflict copy, queued, and resolved in the store", async () => {
  const { tmp, namespace, device } = await pushedDevice("mount-conflict");
  const other = await secondDevice(tmp, namespace);
  const src = join(other.home, "docs");
  await Deno.mkdir(src);
  await Deno.writeTextFile(join(src, "plan.txt"), "v1\n");
  await Deno.writeTextFile(join(src, "todo.txt"), "t1\n");
  await other.tcfsJson<PushSummary>(["push", src]);

  // The default poll interval (30 s) keeps B's next versions out of the mount's view.
  const mount = await startMount(device, tmp);
  let copies: QueuedConflict[];
  try {
    const at = (name: string) => join(mount.mountpoint, "docs", name);
    assert.equal(await Deno.readTextFile(at("plan.txt")), "v1\n");
    assert.equal(await Deno.readTextFile(at("todo.txt")), "t1\n");
    await Deno.writeTextFile(join(src, "plan.txt"), "v2 from B\n");
    await Deno.writeTextFile(join(src, "todo.txt"), "t2 from B\n");
    await other.tcfsJson<PushSummary>(["push", src]);

    // Both opened on the versions shown; the first conflict reads B's versions in, and the
    // second file's edit, made on t1, must still meet B's t2 as a conflict.
    const plan = await Deno.open(at("plan.txt"), { write: true, truncate: true });
    const todo = await Deno.open(at("todo.txt"), { write: true, truncate: true });
    await plan.write(new TextEncoder().encode("v2 from the mount\n"));
    await todo.write(new TextEncoder().encode("t2 from the mount\n"));
    await plan.sync(); // accepted: nothing is overwritten, the edit goes beside
    await todo.sync();
    plan.close();
    todo.close();
    await mount.stderrMatching(/docs\/plan\.txt: another device wrote a version meanwhile/);
    copies = (await device.tcfsJson<QueuedConflict[]>(["conflicts"]))
      .sort((a, b) => (a.path < b.path ? -1 : 1));
    assert.deepEqual(copies.map((c) => c.detected_by), ["mount", "mount"]);
    assert.match(copies[0].path, /^docs\/plan\.conflict-devA-\d{8}-\d{6}\.txt$/);
    assert.equal(copies[0].local_path, join(mount.mountpoint, copies[0].path));
    assert.deepEqual(copies[0].remote_authors, ["devB"]);
    // The mount shows both sides: the other device's at the path, the edit beside it.
    assert.equal(await Deno.readTextFile(at("plan.txt")), "v2 from B\n");
    assert.equal(await Deno.readTextFile(copies[0].local_path), "v2 from the mount\n");
  } finally {
    await mount.unmount();
  }
  // Settled in the store, with the mount gone: plan keeps the edit, todo the other's version.
  await device.tcfsJson(["resolve-conflict", copies[0].local_path, "--keep-local"]);
  const bucket = servicesEnv().s3Bucket;
  await device.tcfsJson([
    "resolve-conflict",
    `${bucket}/${namespace}/${copies[1].path}`,
    "--keep-remote",
  ]);
  assert.deepEqual(await device.tcfsJson(["conflicts"]), []);
  const pulled = join(other.home, "check");
  await other.tcfsJson(["pull", `${bucket}/${namespace}/docs`, pulled]);
  assert.equal(await Deno.readTextFile(join(pulled, "plan.txt")), "v2 from the mount\n");
  assert.equal(await Deno.readTextFile(join(pulled, "todo.txt")), "t2 from B\n");
  assert.deepEqual((await Array.fromAsync(Deno.readDir(pulled), (e) => e.name)).sort(), [
    "plan.txt",
    "todo.txt",
  ]);
  await Deno.remove(tmp, { recursive: true });
});

Deno.test("mount: with conflict_mode = auto, a write over a version it has not seen is resolved at once, both kept", async () => {
  const { tmp, namespace, device } = await pushedDevice("mount-auto");
  const other = await secondDevice(tmp, namespace);
  const src = join(other.home, "docs");
  await Deno.mkdir(src);
  await Deno.writeTextFile(join(src, "plan.txt"), "v1\n");
  await other.tcfsJson<PushSummary>(["push", src]);

  const mount = await startMount(
    { ...device, env: { ...device.env, TCFS_CONFLICT_MODE: "auto" } },
    tmp,
  );
  try {
    const plan = join(mount.mountpoint, "docs/plan.txt");
    assert.equal(await Deno.readTextFile(plan), "v1\n");
    await Deno.writeTextFile(join(src, "plan.txt"), "v2 from B\n");
    await other.tcfsJson<PushSummary>(["push", src]);
    await Deno.writeTextFile(plan, "v2 from the mount\n"); // close succeeds: resolved
    // Both show at once, the copy from the store (no poll for 30 s).
    const shown = await Array.fromAsync(
      Deno.readDir(join(mount.mountpoint, "docs")),
      (e) => e.name,
    );
    assert.equal(shown.length, 2, shown.join(", "));
  } finally {
    await mount.unmount();
  }
  assert.doesNotMatch(mount.stderr(), /not pushed/);
  assert.deepEqual(await device.tcfsJson(["conflicts"]), []);
  // The copy the resolution placed beside the staged file is gone from the staging folder.
  const staging = join(device.home, ".cache/tcfs/staging");
  for await (const mountDir of Deno.readDir(staging)) {
    assert.deepEqual(await Array.fromAsync(Deno.readDir(join(staging, mountDir.name))), []);
  }
  const pulled = join(other.home, "check");
  await other.tcfsJson(["pull", `${servicesEnv().s3Bucket}/${namespace}/docs`, pulled]);
  const names = (await Array.fromAsync(Deno.readDir(pulled), (e) => e.name)).sort();
  assert.equal(names.length, 2, names.join(", "));
  // devA < devB: the mount's version wins the path, B's is kept as a copy.
  assert.equal(await Deno.readTextFile(join(pulled, "plan.txt")), "v2 from the mount\n");
  const copy = names.find((n) => n !== "plan.txt")!;
  assert.match(copy, /^plan\.conflict-devB-\d{8}-\d{6}\.txt$/);
  assert.equal(await Deno.readTextFile(join(pulled, copy)), "v2 from B\n");
  await Deno.remove(tmp, { recursive: true });
});

Deno.test("pin: a pinned folder is cached whole, past the cache bound, and reads through a mount with the store down", async () => {
  const s3 = servicesEnv();
  using proxy = startTcpForwarder(new URL(s3.s3Endpoint).host);
  const { tmp, device } = await proxiedDevice(
    "mount-pin",
    proxy,
    'cache_size = "1MiB"\nread_timeout_secs = 3',
  );
  const src = join(device.home, "docs");
  await Deno.mkdir(join(src, "pinned"), { recursive: true });
  await writeRandomFile(join(src, "pinned/a.bin"), 2 * MiB, 1);
  await Deno.writeTextFile(join(src, "pinned/b.txt"), "small\n");
  await writeRandomFile(join(src, "other.bin"), MiB, 2);
  await device.tcfsJson<PushSummary>(["push", src]);
  const remote = `${s3.s3Bucket}/${device.env.TCFS_NAMESPACE}/docs/pinned`;

  const pinned = await device.tcfsJson<{ files: number; bytes: number; bytes_downloaded: number }>(
    ["pin", remote],
  );
  assert.equal(pinned.files, 2);
  assert.equal(pinned.bytes, 2 * MiB + 6);
  assert.ok(pinned.bytes_downloaded >= 2 * MiB);

  const mount = await startMount(device, tmp);
  try {
    proxy.stop();
    const at = (rel: string) => join(mount.mountpoint, "docs", rel);
    assert.deepEqual(
      await Deno.readFile(at("pinned/a.bin")),
      await Deno.readFile(join(src, "pinned/a.bin")),
    );
    assert.equal(await Deno.readTextFile(at("pinned/b.txt")), "small\n");
    await assert.rejects(
      Deno.readFile(at("other.bin")),
      (err: Error) => /input\/output error/i.test(err.message),
    );
  } finally {
    proxy.start();
    await mount.unmount();
  }
  const unpinned = await device.tcfs(["unpin", remote]);
  assert.equal(unpinned.code, 0, unpinned.stderr);
  const again = await device.tcfs(["unpin", remote]);
  assert.equal(again.code, 1);
  assert.match(again.stderr, /is not pinned/);
  await Deno.remove(tmp, { recursive: true });
});

Deno.test("mount: eight concurrent readers of one file share its fetches", async () => {
  const { tmp, device } = await pushedDevice("mount-shared");
  const src = join(device.home, "data");
  await Deno.mkdir(src);
  await writeRandomFile(join(src, "shared.bin"), 6 * MiB, 4);
  await device.tcfsJson<PushSummary>(["push", src]);
  const expected = await Deno.readFile(join(src, "shared.bin"));
  const mount = await startMount(device, tmp);
  let end;
  try {
    const path = join(mount.mountpoint, "data/shared.bin");
    // Each reader opens it on its own, and reads from its own place first.
    const readers = Array.from({ length: 8 }, async (_, i) => {
      using file = await Deno.open(path);
      const start = (i % 4) * 1.5 * MiB;
      await file.seek(start, Deno.SeekMode.Start);
      const head = await readUpTo(file, new Uint8Array(1.5 * MiB));
      assert.deepEqual(head, expected.subarray(start, start + 1.5 * MiB));
    });
    await Promise.all(readers);
  } finally {
    end = await mount.unmount();
  }
  assert.ok(end.bytes_downloaded >= 6 * MiB, `${end.bytes_downloaded}`);
  assert.ok(end.bytes_downloaded < 6.5 * MiB, `fetched ${end.bytes_downloaded} bytes for 6 MiB`);
  await Deno.remove(tmp, { recursive: true });
});

Deno.test("mount: a file kept open is pushed once writes stop for write_quiet_secs", async () => {
  const { tmp, namespace, device } = await pushedDevice("mount-quiet");
  await writeMountConfig(device, "write_quiet_secs = 1");
  const other = await secondDevice(tmp, namespace);
  const src = join(device.home, "logs");
  await Deno.mkdir(src);
  await Deno.writeTextFile(join(src, "run.log"), "start\n");
  await device.tcfsJson<PushSummary>(["push", src]);
  const remote = `${servicesEnv().s3Bucket}/${namespace}/logs/run.log`;
  const remoteSize = async () =>
    (await other.tcfsJson<{ size: number }[]>(["ls", remote]))[0]?.size ?? -1;

  const mount = await startMount(device, tmp);
  try {
    using log = await Deno.open(join(mount.mountpoint, "logs/run.log"), { append: true });
    await log.write(new TextEncoder().encode("step one\n"));
    const deadline = Date.now() + 20_000;
    while (await remoteSize() !== 15 && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 300));
    }
    assert.equal(await remoteSize(), 15, "the open file was not pushed after the quiet period");
  } finally {
    await mount.unmount();
  }
  assert.doesNotMatch(mount.stderr(), /not pushed/);
  await Deno.remove(tmp, { recursive: true });
});
