import assert from "node:assert/strict";
import { join } from "node:path";
import { createMemoryStore } from "../../support/memory_store.ts";
import { withFaults } from "../../support/faulty_store.ts";
import { openSyncDevice } from "../../support/sync_device.ts";
import { makeScopedTempDir } from "../../support/module_unload.ts";
import { catchUp } from "../../../core/journal/journal_catch_up.ts";
import { parseSegmentKey } from "../../../core/remote/remote_keys.ts";
import { SEGMENT_MAX_VERSIONS } from "../../../core/journal/journal_codec.ts";

/** Writes `files/<i>.txt` for each i in [from, to) under `root`, holding `text(i)`. */
async function writeFiles(root: string, from: number, to: number, text: (i: number) => string) {
  await Deno.mkdir(join(root, "files"), { recursive: true });
  for (let i = from; i < to; i++) await Deno.writeTextFile(join(root, `files/${i}.txt`), text(i));
}

Deno.test("a device back after 10,000 changes catches up in one read per segment, then pulls them all", async () => {
  const tmp = await makeScopedTempDir("tcfs-long-absence-");
  const memory = createMemoryStore();
  const store = withFaults(memory);
  using a = await openSyncDevice(tmp.path, "alpha", store);
  using b = await openSyncDevice(tmp.path, "beta", store);
  try {
    await Deno.writeTextFile(join(a.root, "before.txt"), "before the absence\n");
    await a.pushAll();
    await b.pullAll();

    // B is away while A writes 8,000 files and edits 2,000 of them, in four pushes.
    const segmentsBefore = [...memory.objects.keys()].filter(parseSegmentKey).length;
    const edited = (i: number) => i < 2000;
    await writeFiles(a.root, 0, 3000, (i) => `file ${i}\n`);
    assert.equal((await a.pushAll()).files, 3000);
    await writeFiles(a.root, 3000, 6000, (i) => `file ${i}\n`);
    assert.equal((await a.pushAll()).files, 3000);
    await writeFiles(a.root, 0, 2000, (i) => `file ${i}, edited\n`);
    await writeFiles(a.root, 6000, 8000, (i) => `file ${i}\n`);
    assert.equal((await a.pushAll()).files, 4000);
    const written = [...memory.objects.keys()].filter(parseSegmentKey).length - segmentsBefore;
    assert.equal(written, 10_000 / SEGMENT_MAX_VERSIONS);

    const from = store.requests.length;
    assert.deepEqual(await catchUp(b.ctx), []);
    const reads = store.requests.slice(from);
    const segmentGets = reads.filter((r) => r.op === "get" && parseSegmentKey(r.key));
    assert.equal(segmentGets.length, written);
    assert.deepEqual(reads.filter((r) => r.key.includes("/v/") && r.op !== "list"), []);
    // Segments, plus a listing per device's journal, plus the listings of the journal folders
    // and the old layout.
    const devices = 2;
    assert.ok(reads.length <= written + devices + 3, JSON.stringify(reads, null, 1));

    const pulled = await b.pullAll();
    assert.deepEqual(pulled.failures, []);
    assert.equal(pulled.files, 8000);
    for (let i = 0; i < 8000; i += 1) {
      const got = await Deno.readTextFile(join(b.root, `files/${i}.txt`));
      assert.equal(got, edited(i) ? `file ${i}, edited\n` : `file ${i}\n`);
    }
    assert.equal(await Deno.readTextFile(join(b.root, "before.txt")), "before the absence\n");
  } finally {
    await tmp.remove();
  }
});
