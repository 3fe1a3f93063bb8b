import assert from "node:assert/strict";
import { join } from "node:path";
import { makeDeviceHome } from "../support/device_home.ts";
import { servicesEnv, servicesStoreEnv } from "../support/services_env.ts";
import { randomBytes, writeRandomFile } from "../support/random_bytes.ts";
import { assertSameTree } from "../support/tree_compare.ts";
import type { PullSummary, PushSummary } from "../../core/sync/transfer_summary.ts";

/** The two stores every round trip runs against. */
const BACKENDS: Record<string, (tmp: string, namespace: string) => Record<string, string>[]> = {
  // The embedded default: no endpoint at all; both devices share one data home.
  embedded: (tmp, namespace) => {
    const shared = { XDG_DATA_HOME: join(tmp, "shared-data"), TCFS_NAMESPACE: namespace };
    return [shared, shared];
  },
  seaweedfs: (_tmp, namespace) => {
    const env = { ...servicesStoreEnv(), TCFS_NAMESPACE: namespace };
    return [env, env];
  },
};

async function twoDevices(backend: string) {
  const tmp = await Deno.makeTempDir({ prefix: "tcfs-rt-" });
  const namespace = `rt-${crypto.randomUUID().slice(0, 8)}`;
  const [envA, envB] = BACKENDS[backend](tmp, namespace);
  const a = await makeDeviceHome(tmp, "devA", envA);
  const b = await makeDeviceHome(tmp, "devB", envB);
  return {
    tmp,
    namespace,
    a,
    b,
    bucket: backend === "seaweedfs" ? servicesEnv().s3Bucket : "tcfs",
  };
}

for (const backend of Object.keys(BACKENDS)) {
  Deno.test(`${backend}: edge-case files round trip with bytes, modes, mtimes and links`, async () => {
    const { tmp, a, b, namespace, bucket } = await twoDevices(backend);
    const src = join(a.home, "sample");
    await Deno.mkdir(join(src, "nested/deeper"), { recursive: true });
    await Deno.writeFile(join(src, "empty.txt"), new Uint8Array());
    await Deno.writeFile(join(src, "one-byte"), new Uint8Array([0x2a]));
    await Deno.writeFile(
      join(src, "nested/all-bytes.bin"),
      Uint8Array.from({ length: 256 }, (_, i) => i),
    );
    await Deno.writeFile(join(src, "nested/deeper/medium.bin"), randomBytes(3 << 20, 5));
    await Deno.writeTextFile(join(src, "run.sh"), "#!/bin/sh\necho hi\n");
    await Deno.chmod(join(src, "run.sh"), 0o755);
    await Deno.symlink("nested/all-bytes.bin", join(src, "link-to-bytes"));
    await Deno.utime(
      join(src, "one-byte"),
      new Date(1_600_000_000_000),
      new Date(1_600_000_000_123),
    );
    await Deno.writeTextFile(join(src, "editor.swp"), "excluded by default");

    const pushed = await a.tcfsJson<PushSummary>(["push", src]);
    assert.equal(pushed.files, 6);
    assert.deepEqual(pushed.conflicts, []);

    const dest = join(b.home, "restored");
    const pulled = await b.tcfsJson<PullSummary>(["pull", `${bucket}/${namespace}/sample`, dest]);
    assert.equal(pulled.files, 6);
    await Deno.remove(join(src, "editor.swp"));
    await assertSameTree(src, dest);
    await Deno.remove(tmp, { recursive: true });
  });

  Deno.test(`${backend}: a tree of 1,000 small files in nested folders round-trips`, async () => {
    const { tmp, a, b, namespace, bucket } = await twoDevices(backend);
    const src = join(a.home, "many");
    for (let i = 0; i < 1000; i++) {
      const dir = join(src, `d${i % 10}`, `e${i % 7}`);
      await Deno.mkdir(dir, { recursive: true });
      await Deno.writeFile(join(dir, `f${i}.txt`), randomBytes(1 + (i * 37) % 9000, i));
    }
    const pushed = await a.tcfsJson<PushSummary>(["push", src]);
    assert.equal(pushed.files, 1000);
    const dest = join(b.home, "many");
    const pulled = await b.tcfsJson<PullSummary>(["pull", `${bucket}/${namespace}/many`, dest]);
    assert.equal(pulled.files, 1000);
    await assertSameTree(src, dest);

    const again = await a.tcfsJson<PushSummary>(["push", src]);
    assert.equal(again.files, 0);
    assert.equal(again.chunks_uploaded, 0);
    assert.equal(again.unchanged, 1000);
    await Deno.remove(tmp, { recursive: true });
  });

  Deno.test(`${backend}: a 100 MB random file round-trips byte for byte`, async () => {
    const { tmp, a, b, namespace, bucket } = await twoDevices(backend);
    const src = join(a.home, "big.bin");
    await writeRandomFile(src, 100_000_000, Math.floor(Math.random() * 1e9));
    const pushed = await a.tcfsJson<PushSummary>(["push", src]);
    assert.equal(pushed.files, 1);
    assert.ok(pushed.chunks_uploaded > 50, `expected many chunks, got ${pushed.chunks_uploaded}`);
    const dest = join(b.home, "big.bin");
    await b.tcfsJson<PullSummary>(["pull", `${bucket}/${namespace}/big.bin`, dest]);
    const [x, y] = await Promise.all([sha256(src), sha256(dest)]);
    assert.equal(y, x);
    await Deno.remove(tmp, { recursive: true });
  });
}

async function sha256(path: string): Promise<string> {
  const out = await new Deno.Command("sha256sum", { args: [path] }).output();
  return new TextDecoder().decode(out.stdout).split(" ")[0];
}
