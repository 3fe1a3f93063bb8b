import assert from "node:assert/strict";
import { join } from "node:path";
import { type DeviceHome, makeDeviceHome } from "../support/device_home.ts";
import { makeScopedTempDir } from "../support/module_unload.ts";
import { cliStoreBackends } from "../support/cli_store_backends.ts";
import { randomBytes } from "../support/random_bytes.ts";
import { assertSameTree } from "../support/tree_compare.ts";
import type { ObjectStore } from "../../core/store/object_store.ts";
import { decodeChunk } from "../../core/chunking/chunk_codec.ts";
import { readFirstIdentity } from "../../core/device/device_age_key.ts";
import { readKeychain, writeKeychain } from "../../core/crypto/keychain_store.ts";
import { withRecipient } from "../../core/crypto/fleet_keychain.ts";
import { sealedEpoch } from "../../core/crypto/sealed_object.ts";
import { PACKS_PREFIX } from "../../core/remote/remote_keys.ts";
import type { EncryptReport } from "../../core/crypto/namespace_encryption.ts";
import type { RekeyReport } from "../../core/crypto/fleet_rekey.ts";
import type { PathLog } from "../../core/history/history_report.ts";
import type { PullSummary, PushSummary } from "../../core/sync/transfer_summary.ts";

const NEEDLES = ["merger-notes", "plans-folder", "payroll", "KNOWN-CONTENT-51d2"];

/** Random bytes (stored raw, not compressed) around a known marker. */
async function writeKnownFile(path: string, seed: number): Promise<void> {
  const mark = new TextEncoder().encode(`KNOWN-CONTENT-51d2-${seed}`);
  const bytes = new Uint8Array(40_000 + mark.length);
  bytes.set(randomBytes(20_000, seed));
  bytes.set(mark, 20_000);
  bytes.set(randomBytes(20_000, seed + 1000), 20_000 + mark.length);
  await Deno.writeFile(path, bytes);
}

/** Keys under `prefix` whose bytes (or what they decompress to) hold a known name or content. */
async function leaks(store: ObjectStore, prefix: string): Promise<string[]> {
  const found: string[] = [];
  for await (const { key } of store.list(prefix)) {
    const body = (await store.get(key))!;
    const plain = await decodeChunk(body).catch(() => body);
    const text = [body, plain].map((b) => new TextDecoder("latin1").decode(b)).join("");
    if (NEEDLES.some((n) => text.includes(n) || key.includes(n))) found.push(key);
  }
  return found;
}

function ageKeyFile(device: DeviceHome): string {
  return join(device.home, ".config", "sops", "age", "keys.txt");
}

/** What `tcfs device approve` does: the newest keychain wrapped to one more device. */
async function approve(store: ObjectStore, by: DeviceHome, id: string, newcomer: DeviceHome) {
  const own = (await readFirstIdentity(ageKeyFile(by)))!;
  const access = await readKeychain(store, own.identity);
  assert.equal(access.state, "approved");
  if (access.state !== "approved") return;
  const recipient = (await readFirstIdentity(ageKeyFile(newcomer)))!.recipient;
  const next = withRecipient(access.stored.keychain, "by-test", id, recipient);
  assert.ok(await writeKeychain(store, next, access.stored.etag));
}

for (const backend of cliStoreBackends("encrypt", { ownBucket: true })) {
  Deno.test(`${backend.name}: tcfs store encrypt seals a plaintext namespace with its history, --rewrite its packs, and rekey a new epoch`, async () => {
    const tmp = await makeScopedTempDir("tcfs-store-encrypt-");
    try {
      const target = backend.setup(tmp.path);
      const device = (name: string) =>
        makeDeviceHome(tmp.path, name, {
          ...target.env,
          TCFS_SEAL_SETTLE_MS: "0",
          TCFS_SOCKET: join(tmp.path, `${name}.sock`),
        });
      const a = await device("devA");
      const b = await device("devB");
      const src = join(a.home, "lab");
      const remote = `${target.bucket}/${target.namespace}/lab`;
      await Deno.mkdir(join(src, "plans-folder"), { recursive: true });
      await writeKnownFile(join(src, "plans-folder", "merger-notes.txt"), 1);
      await writeKnownFile(join(src, "payroll.bin"), 2);
      await a.tcfsJson<PushSummary>(["push", src]);
      await writeKnownFile(join(src, "plans-folder", "merger-notes.txt"), 3);
      await a.tcfsJson<PushSummary>(["push", src]);
      using store = target.store();
      const ns = `ns/${target.namespace}/`;
      assert.notDeepEqual(await leaks(store, ns), [], "the plaintext journal names the files");

      await a.tcfsJson(["device", "enroll", "--name", "devA", "--no-service"]);
      const { id: idB } = await b.tcfsJson<{ id: string }>([
        "device",
        "enroll",
        "--name",
        "devB",
        "--no-service",
      ]);
      const sealed = await a.tcfsJson<EncryptReport>(["store", "encrypt"]);
      assert.equal(sealed.already_sealed, false);
      assert.equal(sealed.reseal!.versions, 3);
      assert.ok(sealed.reseal!.packs.left > 0);
      assert.deepEqual(await leaks(store, ns), []);
      const log = await a.tcfsJson<PathLog>(["log", `${remote}/plans-folder/merger-notes.txt`]);
      assert.equal(log.entries.length, 2);
      const text = await a.tcfs(["store", "encrypt"]);
      assert.equal(text.code, 0, text.stderr);
      assert.match(text.stdout, /already end-to-end encrypted: nothing to do/);

      // devB holds no key: told what to run; approved, it pulls every byte.
      const refused = await b.tcfs(["pull", remote, join(b.home, "lab")]);
      assert.notEqual(refused.code, 0);
      assert.match(refused.stderr, /tcfs device approve devB/);
      await approve(store, a, idB, b);
      const pulled = await b.tcfsJson<PullSummary>(["pull", remote, join(b.home, "lab")]);
      assert.deepEqual(pulled.failures, []);
      await assertSameTree(src, join(b.home, "lab"));

      // New pushes are sealed.
      await writeKnownFile(join(b.home, "lab", "payroll.bin"), 4);
      const packsBefore = new Set<string>();
      for await (const { key } of store.list(PACKS_PREFIX)) packsBefore.add(key);
      await b.tcfsJson<PushSummary>(["push", join(b.home, "lab"), remote]);
      for await (const { key } of store.list(PACKS_PREFIX)) {
        if (!packsBefore.has(key)) assert.equal(sealedEpoch((await store.get(key))!), 1, key);
      }
      assert.deepEqual(await leaks(store, ns), []);

      // --rewrite: no object in the bucket holds a known name or content any more.
      const rewritten = await a.tcfsJson<EncryptReport>([
        "store",
        "encrypt",
        "--rewrite",
        "--min-age",
        "0",
      ]);
      assert.ok(rewritten.reseal!.packs.rewritten > 0);
      assert.equal(rewritten.reseal!.packs.left, 0);
      assert.deepEqual(await leaks(store, ""), []);

      // rekey: everything sealed with epoch 2, which the old keychain does not hold.
      const rekeyed = await a.tcfsJson<RekeyReport>(["store", "rekey", "--min-age", "0"]);
      assert.equal(rekeyed.epoch, 2);
      for await (const { key } of store.list("")) {
        if (
          key.startsWith(PACKS_PREFIX) || key.startsWith(`${ns}j/`) || key.startsWith(`${ns}cp/`)
        ) {
          assert.equal(sealedEpoch((await store.get(key))!), 2, key);
        }
      }
      const again = await b.tcfsJson<PullSummary>(["pull", remote, join(b.home, "again")]);
      assert.deepEqual(again.failures, []);
      await assertSameTree(join(b.home, "lab"), join(b.home, "again"));
      const after = await b.tcfsJson<PathLog>(["log", `${remote}/payroll.bin`]);
      assert.equal(after.entries.length, 2);
    } finally {
      await tmp.remove();
    }
  });
}
