import assert from "node:assert/strict";
import { join } from "node:path";
import { makeDeviceHome } from "../support/device_home.ts";
import { servicesStoreEnv } from "../support/services_env.ts";
import { servicesStore } from "../support/services_store.ts";
import { randomBytes } from "../support/random_bytes.ts";
import type { PullSummary, PushSummary } from "../../core/sync/transfer_summary.ts";
import type { FileVersion } from "../../core/remote/file_version.ts";
import { packKey, segmentKey } from "../../core/remote/remote_keys.ts";
import { plantSegment, storeHeads } from "../support/journal_store.ts";

async function setup() {
  const tmp = await Deno.makeTempDir({ prefix: "tcfs-bad-" });
  const env = servicesStoreEnv({ namespacePrefix: "bad" });
  const namespace = env.TCFS_NAMESPACE;
  const a = await makeDeviceHome(tmp, "devA", env);
  const b = await makeDeviceHome(tmp, "devB", env);
  return {
    tmp,
    a,
    b,
    namespace,
    remote: (rel: string) => `${env.TCFS_S3_BUCKET}/${namespace}/${rel}`,
  };
}

async function latestVersion(namespace: string, rel: string): Promise<FileVersion> {
  using store = servicesStore();
  const { heads } = (await storeHeads(store, namespace)).path(rel);
  assert.equal(heads.length, 1, "expected exactly one head");
  return heads[0].version;
}

Deno.test("a flipped byte in a stored chunk fails the pull clearly and leaves the local file as it was", async () => {
  const { tmp, a, b, namespace, remote } = await setup();
  const seed = Math.floor(Math.random() * 1e6);
  const fileA = join(a.home, "data.bin");
  const fileB = join(b.home, "data.bin");
  await Deno.writeFile(fileA, randomBytes(2 << 20, seed));
  await a.tcfsJson<PushSummary>(["push", fileA, remote("data.bin")]);
  await b.tcfsJson<PullSummary>(["pull", remote("data.bin"), fileB]);
  const before = await Deno.readFile(fileB);

  await Deno.writeFile(fileA, randomBytes(2 << 20, seed + 1));
  await a.tcfsJson<PushSummary>(["push", fileA, remote("data.bin")]);
  const version = await latestVersion(namespace, "data.bin");
  {
    using store = servicesStore();
    const chunk = version.chunks[1];
    const key = packKey(chunk.pack!);
    const pack = (await store.get(key))!;
    pack[chunk.offset! + (chunk.length! >> 1)] ^= 0x01;
    await store.put(key, pack);
  }
  const result = await b.tcfs(["pull", remote("data.bin"), fileB]);
  assert.equal(result.code, 1, result.stderr);
  assert.match(result.stderr, /corrupt|BLAKE3/);
  assert.match(result.stderr, /left untouched/);
  assert.deepEqual(await Deno.readFile(fileB), before);
  const leftovers = [...Deno.readDirSync(b.home)].filter((e) => e.name.includes("tcfs-tmp"));
  assert.deepEqual(leftovers, []);
  await Deno.remove(tmp, { recursive: true });
});

Deno.test("versions with hostile paths are refused and nothing is written outside the target", async () => {
  const { tmp, b, namespace, remote } = await setup();
  const outside = join(tmp, "outside");
  await Deno.mkdir(outside);
  const dest = join(b.home, "dest");
  await Deno.mkdir(dest);
  await Deno.symlink(outside, join(dest, "link"));
  const content = new TextEncoder().encode("pwned");
  const hash = (await import("../../core/hashing/blake3.ts")).blake3Hex;
  const hostile = async (path: string, extra: Partial<FileVersion> = {}) => {
    const author = crypto.randomUUID();
    const version: FileVersion = {
      format: 1,
      path,
      kind: "file",
      size: content.length,
      mode: 0o644,
      mtime_ms: Date.now(),
      blake3: await hash(content),
      chunks: [],
      inline: btoa("pwned"),
      vclock: { [author]: 1 },
      author,
      author_name: "mallory",
      written_at: new Date().toISOString(),
      ...extra,
    };
    using store = servicesStore();
    await plantSegment(store, author, [version], { namespace });
  };
  await hostile("../../escape.txt");
  await hostile("/tmp/absolute.txt");
  await hostile("link/through-symlink.txt");
  await hostile("evil-link", {
    kind: "symlink",
    size: 0,
    blake3: "",
    inline: undefined,
    target: "../../..",
  });
  await hostile("fine.txt");

  const result = await b.tcfs(["pull", remote(""), dest, "--json"]);
  assert.equal(result.code, 1, result.stderr);
  const summary = JSON.parse(result.stdout) as PullSummary;
  // A link is data: recreated as it was, wherever it points; nothing is written through it.
  assert.equal(summary.files, 2);
  assert.equal(summary.failures.length, 3, JSON.stringify(summary.failures));
  assert.equal(await Deno.readTextFile(join(dest, "fine.txt")), "pwned");
  assert.deepEqual([...Deno.readDirSync(outside)], []);
  await assert.rejects(() => Deno.lstat(join(tmp, "escape.txt")), Deno.errors.NotFound);
  assert.equal(await Deno.readLink(join(dest, "evil-link")), "../../..");
  await Deno.remove(tmp, { recursive: true });
});

Deno.test("a truncated or garbage version gives an error, not a crash", async () => {
  const { tmp, a, b, namespace, remote } = await setup();
  const file = join(a.home, "ok.txt");
  await Deno.writeTextFile(file, "fine");
  await a.tcfsJson<PushSummary>(["push", file, remote("ok.txt")]);
  {
    using store = servicesStore();
    const { author } = await latestVersion(namespace, "ok.txt");
    const good = (await store.get(segmentKey(namespace, author, 1)))!;
    // Each in a journal of its own: a device's journal stops at its first unreadable segment.
    const plantBytes = (bytes: Uint8Array) =>
      plantSegment(store, crypto.randomUUID(), [], { namespace, bytes });
    await plantBytes(good.subarray(0, 40));
    await plantBytes(randomBytes(500, 3));
  }
  const one = await b.tcfs(["pull", remote("trunc.txt"), join(b.home, "t.txt")]);
  assert.equal(one.code, 1);
  assert.match(one.stderr, /unreadable/);
  assert.doesNotMatch(one.stderr, /at .*\.ts:\d+/); // no stack trace

  const all = await b.tcfs(["pull", remote(""), join(b.home, "all"), "--json"]);
  assert.equal(all.code, 1);
  const summary = JSON.parse(all.stdout) as PullSummary;
  assert.equal(summary.files, 1);
  assert.equal(summary.failures.length, 2);
  assert.equal(await Deno.readTextFile(join(b.home, "all/ok.txt")), "fine");
  await Deno.remove(tmp, { recursive: true });
});
