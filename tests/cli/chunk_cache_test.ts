/**
 * The chunk cache shared by `tcfs pull` and `tcfs mount` (real SeaweedFS, real FUSE mounts):
 * what one fetched the other does not fetch again, a damaged cached chunk is refetched and
 * never served, and pulls keep the cache within `[mount] cache_size` without evicting pins.
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { type DeviceHome, makeDeviceHome } from "../support/device_home.ts";
import { servicesEnv, servicesStoreEnv } from "../support/services_env.ts";
import { writeRandomFile } from "../support/random_bytes.ts";
import { assertSameTree } from "../support/tree_compare.ts";
import { bytesUnder, filesUnder } from "../support/files_under.ts";
import { startMount } from "../support/tcfs_mount.ts";
import type { PullSummary, PushSummary } from "../../core/sync/transfer_summary.ts";

const MiB = 1024 * 1024;

/** A device with `[mount]` set to `mountKeys`, in a namespace of its own (in `bucket` if given). */
async function cacheDevice(prefix: string, mountKeys = "", bucket?: string) {
  const tmp = await Deno.makeTempDir({ prefix: `tcfs-${prefix}-` });
  const namespace = `${prefix}-${crypto.randomUUID().slice(0, 8)}`;
  const device = await makeDeviceHome(tmp, "devA", {
    ...servicesStoreEnv(bucket ? { bucket } : undefined),
    TCFS_NAMESPACE: namespace,
    TCFS_SOCKET: join(tmp, "devA.sock"),
    TCFS_SEAL_SETTLE_MS: "0",
  });
  const config = join(device.home, ".config/tcfs");
  await Deno.mkdir(config, { recursive: true });
  await Deno.writeTextFile(join(config, "config.toml"), `[mount]\n${mountKeys}\n`);
  const remote = (rel: string) =>
    `${bucket ?? servicesEnv().s3Bucket}/${namespace}${rel ? `/${rel}` : ""}`;
  return { tmp, device, remote, chunks: join(device.home, ".cache/tcfs/chunks") };
}

/** A tree of one 3 MiB file and 40 small ones (past the 16 KiB inline limit, so packed). */
async function writeTree(src: string): Promise<void> {
  await Deno.mkdir(join(src, "small"), { recursive: true });
  await writeRandomFile(join(src, "big.bin"), 3 * MiB, 1);
  for (let i = 0; i < 40; i++) {
    await writeRandomFile(join(src, "small", `f${i}.bin`), 20_000 + i * 700, 100 + i);
  }
}

async function pull(device: DeviceHome, remote: string, dest: string): Promise<PullSummary> {
  return await device.tcfsJson<PullSummary>(["pull", remote, dest]);
}

/** `[mount]` of a device that uses mounts (the daemon would mount `fleet`). */
const USES_MOUNTS = 'mounts = ["/nonexistent/fleet"]';

Deno.test("chunk cache: a device that has no mount and never mounted pulls without writing one", async () => {
  const { tmp, device, remote, chunks } = await cacheDevice("cache-unused");
  const src = join(device.home, "tree");
  await writeTree(src);
  await device.tcfsJson<PushSummary>(["push", src]);
  const pulled = await pull(device, remote("tree"), join(tmp, "pulled"));
  assert.equal(pulled.files, 41);
  await assertSameTree(src, join(tmp, "pulled"));
  await assert.rejects(Deno.stat(chunks), Deno.errors.NotFound);
  await Deno.remove(tmp, { recursive: true });
});

Deno.test("chunk cache: a pulled tree reads through a mount without fetching anything", async () => {
  const { tmp, device, remote, chunks } = await cacheDevice("cache-pull-mount", USES_MOUNTS);
  const src = join(device.home, "tree");
  await writeTree(src);
  await device.tcfsJson<PushSummary>(["push", src]);

  const pulled = await pull(device, remote("tree"), join(tmp, "pulled"));
  assert.equal(pulled.files, 41);
  assert.ok(pulled.bytes_downloaded >= 3 * MiB, `${pulled.bytes_downloaded}`);
  await assertSameTree(src, join(tmp, "pulled"));
  assert.ok(await bytesUnder(chunks) >= 3 * MiB, "the pull left its chunks out of the cache");

  const mount = await startMount(device, tmp);
  let end;
  try {
    await assertSameTree(src, join(mount.mountpoint, "tree"));
  } finally {
    end = await mount.unmount();
  }
  assert.equal(end.bytes_downloaded, 0, "the mount fetched what the pull had fetched");
  assert.equal(end.chunks_downloaded, 0);
  await Deno.remove(tmp, { recursive: true });
});

Deno.test("chunk cache: in a sealed namespace, what a mount read is not fetched again by a pull", async () => {
  const bucket = `cache-sealed-${crypto.randomUUID().slice(0, 12)}`;
  const { tmp, device, remote } = await cacheDevice("cache-sealed", "", bucket);
  await device.tcfsJson(["device", "enroll", "--name", "devA", "--no-service"]);
  await device.tcfsJson(["store", "encrypt"]);
  const src = join(device.home, "lab");
  await writeTree(src);
  // Larger than the mount's read-ahead (4 MiB as root), so that the pull has a rest to fetch.
  await writeRandomFile(join(src, "half.bin"), 16 * MiB, 7);
  await device.tcfsJson<PushSummary>(["push", src]);

  const mount = await startMount(device, tmp);
  let end;
  try {
    await assertSameTree(join(src, "small"), join(mount.mountpoint, "lab/small"));
    await Deno.readFile(join(mount.mountpoint, "lab/big.bin"));
    // The first MiB of half.bin only (and what the mount reads ahead).
    using file = await Deno.open(join(mount.mountpoint, "lab/half.bin"));
    await file.read(new Uint8Array(MiB));
  } finally {
    end = await mount.unmount();
  }
  assert.ok(end.bytes_downloaded > 3 * MiB, `${end.bytes_downloaded}`);

  const dest = join(tmp, "fresh");
  const pulled = await pull(device, remote("lab"), dest);
  assert.equal(pulled.files, 42);
  await assertSameTree(src, dest);
  // Only half.bin's rest came from the store: no chunk was fetched twice.
  const stored = 3 * MiB + 16 * MiB + 40 * 20_000 + 700 * (39 * 40) / 2;
  assert.ok(
    pulled.bytes_downloaded > 0 && pulled.bytes_downloaded < 16 * MiB,
    `the pull fetched ${pulled.bytes_downloaded}`,
  );
  const both = end.bytes_downloaded + pulled.bytes_downloaded;
  assert.ok(
    both < stored + 64 * 1024,
    `mount ${end.bytes_downloaded} + pull ${pulled.bytes_downloaded}`,
  );
  await Deno.remove(tmp, { recursive: true });
});

/** A device that uses mounts, with one 3 MiB file pushed and pulled: its chunks are cached. */
async function cachedFile(prefix: string, seed: number) {
  const made = await cacheDevice(prefix, USES_MOUNTS);
  const src = join(made.device.home, "data");
  await Deno.mkdir(src);
  await writeRandomFile(join(src, "a.bin"), 3 * MiB, seed);
  await made.device.tcfsJson<PushSummary>(["push", src]);
  await pull(made.device, made.remote("data"), join(made.tmp, "first"));
  return { ...made, src };
}

/**
 * Overwrites the middle of one cached chunk in place, keeping its size and mtime, in a later
 * second than its last change (Deno reports ctime in whole seconds); returns its path.
 */
async function damageChunk(chunks: string): Promise<string> {
  const [path, size] = [...await filesUnder(chunks)].sort()[1];
  const { mtime, ctime } = await Deno.stat(path);
  const wait = ctime!.getTime() + 1000 - Date.now();
  if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait + 10));
  {
    using file = await Deno.open(path, { write: true });
    await file.seek(Math.floor(size / 2), Deno.SeekMode.Start);
    await file.write(new TextEncoder().encode("not what was stored"));
  }
  await Deno.utime(path, mtime!, mtime!);
  return path;
}

Deno.test("chunk cache: a damaged cached chunk is fetched again, and neither written nor served", async () => {
  const { tmp, device, remote, chunks, src } = await cachedFile("cache-damaged", 5);
  const damaged = await damageChunk(chunks);
  const bad = await Deno.readFile(damaged);
  const again = await pull(device, remote("data"), join(tmp, "second"));
  assert.deepEqual(
    await Deno.readFile(join(tmp, "second/a.bin")),
    await Deno.readFile(join(src, "a.bin")),
  );
  assert.ok(
    again.bytes_downloaded > 0 && again.bytes_downloaded < 2 * MiB,
    `${again.bytes_downloaded}`,
  );
  assert.notDeepEqual(await Deno.readFile(damaged), bad, "the damaged chunk stayed in the cache");

  await damageChunk(chunks);
  const mount = await startMount(device, tmp);
  let end;
  try {
    assert.deepEqual(
      await Deno.readFile(join(mount.mountpoint, "data/a.bin")),
      await Deno.readFile(join(src, "a.bin")),
    );
  } finally {
    end = await mount.unmount();
  }
  assert.ok(end.bytes_downloaded > 0 && end.bytes_downloaded < 2 * MiB, `${end.bytes_downloaded}`);
  await Deno.remove(tmp, { recursive: true });
});

/** Compares large contents without deepEqual's diff of millions of elements on failure. */
function assertSameBytes(actual: Uint8Array, expected: Uint8Array): void {
  const first = actual.findIndex((byte, i) => byte !== expected[i]);
  assert.ok(
    actual.length === expected.length && first === -1,
    `${actual.length} bytes, expected ${expected.length}; first difference at ${first}`,
  );
}

/** Drops a mounted file's pages from the kernel's page cache (GNU dd's `nocache`). */
async function dropPages(path: string): Promise<void> {
  const dd = new Deno.Command("dd", {
    args: [`if=${path}`, "iflag=nocache", "count=0"],
    stderr: "null",
  });
  assert.ok((await dd.output()).success, `dd nocache of ${path}`);
}

Deno.test("chunk cache: a mount reads checked chunks again without hashing, and checks replaced ones", async () => {
  const { tmp, device, remote, chunks } = await cacheDevice("cache-trusted", USES_MOUNTS);
  const src = join(device.home, "data");
  await Deno.mkdir(src);
  // Past the 16 MiB of chunks the mount keeps in memory, so most are read from their files.
  const size = 40 * MiB;
  await writeRandomFile(join(src, "a.bin"), size, 6);
  await device.tcfsJson<PushSummary>(["push", src]);
  await pull(device, remote("data"), join(tmp, "first"));
  const want = await Deno.readFile(join(src, "a.bin"));

  const mount = await startMount(device, tmp);
  const mounted = join(mount.mountpoint, "data/a.bin");
  let end;
  try {
    // Checked on the first read; the second, its pages dropped, reads the trusted files.
    assertSameBytes(await Deno.readFile(mounted), want);
    await dropPages(mounted);
    assertSameBytes(await Deno.readFile(mounted), want);
    // Every chunk file replaced under its name (a rename: a new inode): each is checked again,
    // so none of it is served; the ones still in memory are served from there.
    for (const [path, bytes] of await filesUnder(chunks)) {
      await Deno.writeFile(`${path}.new`, new Uint8Array(bytes).fill(7));
      await Deno.rename(`${path}.new`, path);
    }
    await dropPages(mounted);
    assertSameBytes(await Deno.readFile(mounted), want);
  } finally {
    end = await mount.unmount();
  }
  assert.ok(
    end.bytes_downloaded >= size - 16 * MiB && end.bytes_downloaded < size + MiB,
    `${end.bytes_downloaded}`,
  );
  await Deno.remove(tmp, { recursive: true });
});

Deno.test("chunk cache: a new mount reads chunks checked before without fetching, and a chunk written in place since is fetched again", async () => {
  // The pull put the chunks, which the cache recorded as checked (0600, beside the chunks).
  const { tmp, device, chunks, src } = await cachedFile("cache-record", 8);
  const record = join(chunks, "../verified-chunks");
  assert.equal((await Deno.stat(record)).mode! & 0o777, 0o600);
  const want = await Deno.readFile(join(src, "a.bin"));
  const readMounted = async () => {
    const mount = await startMount(device, tmp);
    let end;
    try {
      assertSameBytes(await Deno.readFile(join(mount.mountpoint, "data/a.bin")), want);
    } finally {
      end = await mount.unmount();
    }
    return end;
  };
  assert.equal((await readMounted()).bytes_downloaded, 0);

  await damageChunk(chunks);
  const end = await readMounted();
  assert.ok(end.bytes_downloaded > 0 && end.bytes_downloaded < 2 * MiB, `${end.bytes_downloaded}`);
  await Deno.remove(tmp, { recursive: true });
});

Deno.test("chunk cache: pulling 3 × cache_size keeps it within its bound, pinned chunks kept", async () => {
  const { tmp, device, remote, chunks } = await cacheDevice("cache-bound", 'cache_size = "4MiB"');
  const src = join(device.home, "data");
  await Deno.mkdir(join(src, "bulk"), { recursive: true });
  await writeRandomFile(join(src, "pinned.bin"), MiB, 9);
  for (const seed of [1, 2, 3]) {
    await writeRandomFile(join(src, "bulk", `f${seed}.bin`), 4 * MiB, seed);
  }
  await device.tcfsJson<PushSummary>(["push", src]);
  await device.tcfsJson(["pin", remote("data/pinned.bin")]);
  const pinnedChunks = await filesUnder(chunks);
  assert.ok(pinnedChunks.size > 0);

  const pulled = await pull(device, remote("data/bulk"), join(tmp, "bulk"));
  assert.equal(pulled.files, 3);
  await assertSameTree(join(src, "bulk"), join(tmp, "bulk"));
  const held = await bytesUnder(chunks);
  assert.ok(held <= 4 * MiB && held > 2 * MiB, `the cache holds ${held} bytes`);
  for (const path of pinnedChunks.keys()) {
    assert.ok((await filesUnder(chunks)).has(path), `pinned chunk ${path} was evicted`);
  }
  await Deno.remove(tmp, { recursive: true });
});
