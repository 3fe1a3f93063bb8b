import assert from "node:assert/strict";
import { join } from "node:path";
import { makeDeviceHome } from "../support/device_home.ts";
import { makeScopedTempDir } from "../support/module_unload.ts";
import { cliStoreBackends } from "../support/cli_store_backends.ts";
import { writeRandomFile } from "../support/random_bytes.ts";
import type { ObjectStore } from "../../core/store/object_store.ts";
import { packKey } from "../../core/remote/remote_keys.ts";
import type { PullSummary, PushSummary } from "../../core/sync/transfer_summary.ts";
import type { CheckReport } from "../../cli/commands/check_command.ts";
import { storeHeads } from "../support/journal_store.ts";

/** The current version of `path` in `namespace` (the test never has two heads). */
async function headOf(store: ObjectStore, namespace: string, path: string) {
  const { heads } = (await storeHeads(store, namespace)).path(path);
  assert.equal(heads.length, 1);
  return heads[0].version;
}

const backends = cliStoreBackends("check");

for (const backend of backends) {
  Deno.test(`${backend.name}: tcfs check finds missing packs and damaged bytes, and --repair rewrites them from a device that has the files`, async () => {
    const tmp = await makeScopedTempDir("tcfs-check-");
    try {
      const target = backend.setup(tmp.path);
      const a = await makeDeviceHome(tmp.path, "devA", target.env);
      const b = await makeDeviceHome(tmp.path, "devB", target.env);
      const src = join(a.home, "lab");
      await Deno.mkdir(src);
      await writeRandomFile(join(src, "data.bin"), 300_000, 11);
      await writeRandomFile(join(src, "other.bin"), 200_000, 12);
      await Deno.writeTextFile(join(src, "notes.txt"), "small, one chunk");
      await a.tcfsJson<PushSummary>(["push", src]);
      const check = (device: typeof a, ...args: string[]) =>
        device.tcfsJson<CheckReport>(["check", ...args], { allowCodes: [1] });

      const healthy = await check(b, "--read-data");
      assert.equal(healthy.versions_checked, 3);
      assert.deepEqual(healthy.problems, []);
      assert.ok(healthy.bytes_read >= 500_000);
      assert.equal((await b.tcfs(["check"])).code, 0);

      // One flipped byte inside data.bin's first chunk: the pack is still there.
      using store = target.store();
      const data = await headOf(store, target.namespace, "lab/data.bin");
      const first = data.chunks[0];
      const packBytes = (await store.get(packKey(first.pack!)))!;
      packBytes[first.offset! + Math.floor(first.length! / 2)] ^= 0x55;
      await store.put(packKey(first.pack!), packBytes);
      assert.deepEqual((await check(b)).problems, [], "only --read-data reads the bytes");
      const corrupt = await check(b, "--read-data");
      assert.equal(corrupt.still_broken, 1);
      assert.deepEqual(
        corrupt.problems.map((p) => [p.remote, p.object, p.chunk]),
        [[`${target.bucket}/${target.namespace}/lab/data.bin`, packKey(first.pack!), first.id]],
      );
      assert.match(corrupt.problems[0].why, /corrupt/);
      const text = await b.tcfs(["check", "--read-data"]);
      assert.equal(text.code, 1);
      assert.match(text.stdout, /BROKEN +.*lab\/data\.bin: chunk is corrupt/);

      // B has no copy: it says so, and the file stays broken.
      const fromB = await check(b, "--read-data", "--repair");
      assert.equal(fromB.still_broken, 1);
      assert.match(fromB.repairs[0].why!, /no copy/);

      const fromA = await check(a, "--read-data", "--repair");
      assert.equal(fromA.still_broken, 0, JSON.stringify(fromA.repairs));
      assert.equal(fromA.repairs[0].repaired, true);
      assert.deepEqual((await check(b, "--read-data")).problems, []);

      // The store loses the old pack: other.bin and notes.txt (a chunk of it too) go with it.
      await store.delete(packKey(first.pack!));
      const lost = await check(b);
      assert.deepEqual(lost.problems.map((p) => [p.path, p.why]), [
        ["lab/notes.txt", "missing from the store"],
        ["lab/other.bin", "missing from the store"],
      ]);
      const repaired = await check(a, "--repair", `${target.bucket}/${target.namespace}/lab`);
      assert.equal(repaired.still_broken, 0, JSON.stringify(repaired.repairs));
      assert.deepEqual((await check(b, "--read-data")).problems, []);

      const dest = join(b.home, "lab");
      const pulled = await b.tcfsJson<PullSummary>([
        "pull",
        `${target.bucket}/${target.namespace}/lab`,
        dest,
      ]);
      assert.equal(pulled.files, 3);
      for (const name of ["data.bin", "other.bin", "notes.txt"]) {
        assert.deepEqual(
          await Deno.readFile(join(dest, name)),
          await Deno.readFile(join(src, name)),
        );
      }
      // A's next push has nothing to do: the repair left it in step.
      const quiet = await a.tcfsJson<PushSummary>(["push", src]);
      assert.equal(quiet.files, 0);
    } finally {
      await tmp.remove();
    }
  });
}
