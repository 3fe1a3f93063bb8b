import assert from "node:assert/strict";
import { join } from "node:path";
import { makeDeviceHome } from "../support/device_home.ts";
import { stateRows } from "../support/state_rows.ts";
import { servicesStoreEnv } from "../support/services_env.ts";
import { randomBytes, writeRandomFile } from "../support/random_bytes.ts";
import type { PullSummary, PushSummary } from "../../core/sync/transfer_summary.ts";

const MiB = 1 << 20;

async function device() {
  const tmp = await Deno.makeTempDir({ prefix: "tcfs-dedup-" });
  const a = await makeDeviceHome(tmp, "devA", servicesStoreEnv({ namespacePrefix: "dedup" }));
  return { tmp, a };
}

/** Rewrites `path` with `edit` applied to its bytes, streaming in 8 MiB pieces. */
async function editFile(path: string, edit: (offset: number, piece: Uint8Array) => Uint8Array) {
  const temp = `${path}.edit`;
  {
    using input = await Deno.open(path);
    using output = await Deno.open(temp, { write: true, create: true, truncate: true });
    let offset = 0;
    for await (const piece of input.readable) {
      const out = edit(offset, piece);
      offset += piece.length;
      for (let w = 0; w < out.length;) w += await output.write(out.subarray(w));
    }
  }
  await Deno.rename(temp, path);
}

Deno.test("dedup: a 1 MiB change in the middle of a 200 MB file re-uploads at most 3 MiB", async () => {
  const { tmp, a } = await device();
  const file = join(a.home, "big.bin");
  // Fixed seeds keep the chunk boundaries, and so the re-uploaded bytes, the same on every run.
  const seed = 20261125;
  await writeRandomFile(file, 200_000_000, seed);
  const first = await a.tcfsJson<PushSummary>(["push", file]);
  assert.equal(first.files, 1);
  const middle = 100_000_000;
  const patch = randomBytes(MiB, seed + 1);
  await editFile(file, (offset, piece) => {
    const copy = piece.slice();
    for (let i = 0; i < copy.length; i++) {
      const at = offset + i - middle;
      if (at >= 0 && at < MiB) copy[i] = patch[at];
    }
    return copy;
  });
  const second = await a.tcfsJson<PushSummary>(["push", file]);
  assert.equal(second.files, 1);
  assert.ok(second.bytes_uploaded <= 3 * MiB, `re-uploaded ${second.bytes_uploaded} bytes`);
  assert.ok(second.bytes_uploaded >= MiB, "the changed region must be uploaded");
  await Deno.remove(tmp, { recursive: true });
});

Deno.test("dedup: inserting 10 bytes near the start re-uploads at most 3 MiB", async () => {
  const { tmp, a } = await device();
  const file = join(a.home, "shift.bin");
  const seed = 20261126;
  await writeRandomFile(file, 64_000_000, seed);
  await a.tcfsJson<PushSummary>(["push", file]);
  await editFile(file, (offset, piece) => {
    if (offset !== 0) return piece;
    const out = new Uint8Array(piece.length + 10);
    out.set(piece.subarray(0, 1000));
    out.set(new TextEncoder().encode("0123456789"), 1000);
    out.set(piece.subarray(1000), 1010);
    return out;
  });
  const second = await a.tcfsJson<PushSummary>(["push", file]);
  assert.equal(second.files, 1);
  assert.ok(second.bytes_uploaded <= 3 * MiB, `re-uploaded ${second.bytes_uploaded} bytes`);
  await Deno.remove(tmp, { recursive: true });
});

/** The chunk prints a device recorded for `path`: the version they describe and how many. */
function recordedPrints(home: string, path: string) {
  const [row] = stateRows(
    home,
    "SELECT version_key, chunks FROM chunk_prints WHERE path = ?",
    path,
  );
  return row && {
    versionKey: row.version_key as string,
    chunks: JSON.parse(row.chunks as string).length as number,
  };
}

Deno.test("dedup: a device that pulled a file pushes its edit from the chunks it recorded", async () => {
  const tmp = await Deno.makeTempDir({ prefix: "tcfs-dedup-" });
  const env = servicesStoreEnv({ namespacePrefix: "dedup" });
  const a = await makeDeviceHome(tmp, "devA", env);
  const b = await makeDeviceHome(tmp, "devB", env);
  const fileA = join(a.home, "disk.img");
  const fileB = join(b.home, "disk.img");
  await writeRandomFile(fileA, 24 * MiB, 20261127);
  const remote = `${env.TCFS_S3_BUCKET}/${env.TCFS_NAMESPACE}/disk.img`;
  const pushed = await a.tcfsJson<PushSummary>(["push", fileA, remote]);
  assert.equal(recordedPrints(a.home, "disk.img")?.chunks, pushed.chunks_total);
  await b.tcfsJson<PullSummary>(["pull", remote, fileB]);
  const pulledPrints = recordedPrints(b.home, "disk.img");
  assert.equal(pulledPrints?.chunks, pushed.chunks_total);

  const patch = randomBytes(MiB, 20261128);
  await editFile(fileB, (offset, piece) => {
    const copy = piece.slice();
    for (let i = 0; i < copy.length; i++) {
      const at = offset + i - 12 * MiB;
      if (at >= 0 && at < MiB) copy[i] = patch[at];
    }
    return copy;
  });
  const edited = await b.tcfsJson<PushSummary>(["push", fileB, remote]);
  assert.equal(edited.files, 1);
  assert.ok(edited.bytes_uploaded <= 3 * MiB, `re-uploaded ${edited.bytes_uploaded} bytes`);
  const pushedPrints = recordedPrints(b.home, "disk.img");
  assert.notEqual(pushedPrints?.versionKey, pulledPrints?.versionKey);
  assert.equal(pushedPrints?.chunks, edited.chunks_total);

  await a.tcfsJson<PullSummary>(["pull", remote, fileA]);
  assert.deepEqual(await Deno.readFile(fileA), await Deno.readFile(fileB));
  await Deno.remove(tmp, { recursive: true });
});

Deno.test("dedup: a copy under another path, on this device or another, uploads no chunk again", async () => {
  const tmp = await Deno.makeTempDir({ prefix: "tcfs-dedup-" });
  const env = servicesStoreEnv({ namespacePrefix: "dedup" });
  const a = await makeDeviceHome(tmp, "devA", env);
  const b = await makeDeviceHome(tmp, "devB", env);
  const remote = (rel: string) => `${env.TCFS_S3_BUCKET}/${env.TCFS_NAMESPACE}/${rel}`;
  const original = join(a.home, "dataset.bin");
  await writeRandomFile(original, 12 * MiB, 20261129);
  const first = await a.tcfsJson<PushSummary>(["push", original, remote("dataset.bin")]);
  assert.ok(first.bytes_uploaded >= 12 * MiB);

  const copyA = join(a.home, "dataset-copy.bin");
  await Deno.copyFile(original, copyA);
  const copied = await a.tcfsJson<PushSummary>(["push", copyA, remote("copy-a.bin")]);
  assert.equal(copied.files, 1);
  assert.equal(copied.chunks_uploaded, 0);

  // B learns where the chunks are by pulling the original, then pushes its own copy.
  await b.tcfsJson<PullSummary>(["pull", remote("dataset.bin"), join(b.home, "dataset.bin")]);
  const copyB = join(b.home, "mine.bin");
  await Deno.copyFile(join(b.home, "dataset.bin"), copyB);
  const fromB = await b.tcfsJson<PushSummary>(["push", copyB, remote("copy-b.bin")]);
  assert.equal(fromB.chunks_uploaded, 0);

  const check = join(tmp, "check.bin");
  await a.tcfsJson<PullSummary>(["pull", remote("copy-b.bin"), check]);
  assert.deepEqual(await Deno.readFile(check), await Deno.readFile(original));
  await Deno.remove(tmp, { recursive: true });
});
