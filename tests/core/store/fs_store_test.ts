import assert from "node:assert/strict";
import { TcfsError } from "../../../core/errors.ts";
import { createFsStore } from "../../../core/store/fs_store.ts";
import type { ObjectStore } from "../../../core/store/object_store.ts";

const bytes = (text: string) => new TextEncoder().encode(text);

async function withTempDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "tcfs-fs-store-" });
  try {
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

/** Every file under `dir`, as paths relative to it. */
async function filesUnder(dir: string, rel = ""): Promise<string[]> {
  const out: string[] = [];
  for await (const entry of Deno.readDir(`${dir}/${rel}`)) {
    const path = rel + entry.name;
    if (entry.isDirectory) out.push(...await filesUnder(dir, `${path}/`));
    else out.push(path);
  }
  return out.sort();
}

Deno.test("fs store keeps each key as the file of the same path", async () => {
  await withTempDir(async (dir) => {
    const store = createFsStore(`${dir}/store`);
    await store.ensureReady();
    await store.put("chunks/ab12", bytes("chunk"));
    await store.put("ns/default/v/h1/dev-1.json", bytes("{}"));
    await store.putConditional("tcfs-meta/devices.json", bytes("[]"), { ifNoneMatch: "*" });
    assert.deepEqual(await filesUnder(`${dir}/store`), [
      "chunks/ab12",
      "ns/default/v/h1/dev-1.json",
      "tcfs-meta/devices.json",
    ]);
    assert.equal(await Deno.readTextFile(`${dir}/store/chunks/ab12`), "chunk");
  });
});

Deno.test("fs store refuses keys that could leave its directory", async () => {
  await withTempDir(async (dir) => {
    const store = createFsStore(`${dir}/store`);
    await store.ensureReady();
    const bad = ["../x", "a/../../x", "/etc/x", "", "a//b", "a/", "a\\b", "a/./b", ".tcfs-tmp-1"];
    for (const key of bad) {
      for (
        const call of [
          () => store.put(key, bytes("x")),
          () => store.get(key),
          () => store.has(key),
          () => store.delete(key),
          () => store.putConditional(key, bytes("x"), { ifNoneMatch: "*" }),
        ]
      ) {
        await assert.rejects(call(), (err: TcfsError) => {
          assert.equal(err.kind, "invalid_key", `${JSON.stringify(key)}: ${err.message}`);
          assert.ok(err.message.includes(JSON.stringify(key)));
          return true;
        });
      }
    }
    await assert.rejects(Array.fromAsync(store.list("../")), TcfsError);
    await assert.rejects(Array.fromAsync(store.list("/")), TcfsError);
    assert.deepEqual(await filesUnder(dir), []);
  });
});

Deno.test("fs store needs an absolute directory", () => {
  for (const root of ["", "store", "./store", "~/store"]) {
    assert.throws(() => createFsStore(root), (err: TcfsError) => err.kind === "config_invalid");
  }
});

Deno.test("fs store works before its directory exists", async () => {
  await withTempDir(async (dir) => {
    const store = createFsStore(`${dir}/not/yet`);
    assert.equal(await store.get("a"), undefined);
    assert.equal(await store.has("a"), false);
    assert.deepEqual(await Array.fromAsync(store.list("")), []);
    await store.delete("a");
  });
});

Deno.test("fs store reports a key that collides with a key prefix", async () => {
  await withTempDir(async (dir) => {
    const store = createFsStore(dir);
    await store.put("a/b", bytes("file"));
    await assert.rejects(store.put("a/b/c", bytes("x")), (err: TcfsError) => {
      assert.equal(err.kind, "store_key_conflict");
      assert.match(err.message, /"a\/b\/c"/);
      return true;
    });
    await store.put("d/e/f", bytes("x"));
    await assert.rejects(store.put("d/e", bytes("x")), (err: TcfsError) => {
      assert.equal(err.kind, "store_key_conflict");
      return true;
    });
    // A bucket has no object at either of these.
    assert.equal(await store.get("a/b/c"), undefined);
    assert.equal(await store.get("d/e"), undefined);
    assert.equal(await store.has("d/e"), false);
  });
});

Deno.test("fs store never lists its temp and lock files, nor leaves them behind", async () => {
  await withTempDir(async (dir) => {
    const store = createFsStore(dir);
    await Promise.all(
      Array.from(
        { length: 10 },
        (_, i) => store.putConditional("k", bytes(String(i)), { ifNoneMatch: "*" }),
      ),
    );
    await store.put("k2", bytes("x"));
    assert.deepEqual(await filesUnder(dir), ["k", "k2"]);
    // What a writer killed mid-put leaves behind is not an object.
    await Deno.writeTextFile(`${dir}/.tcfs-tmp-orphan`, "partial");
    assert.deepEqual((await Array.fromAsync(store.list(""))).map((i) => i.key), ["k", "k2"]);
  });
});

Deno.test("fs store readers see whole objects while a writer replaces them", async () => {
  await withTempDir(async (dir) => {
    const store = createFsStore(dir);
    const size = 256 << 10;
    await store.put("big", new Uint8Array(size).fill(0));
    let writing = true;
    const writer = (async () => {
      for (let round = 1; round <= 20; round++) {
        await store.put("big", new Uint8Array(size).fill(round));
      }
      writing = false;
    })();
    let reads = 0;
    while (writing) {
      const body = (await store.get("big"))!;
      assert.equal(body.length, size);
      assert.ok(body.every((b) => b === body[0]), `read ${reads} mixes two writes`);
      reads++;
    }
    await writer;
    assert.ok(reads > 0);
  });
});

Deno.test("fs store etags change whenever the bytes do", async () => {
  await withTempDir(async (dir) => {
    const store = createFsStore(dir);
    await store.put("k", bytes("one"));
    const first = (await store.getWithEtag("k"))!.etag;
    assert.equal((await store.getWithEtag("k"))!.etag, first);
    await store.put("k", bytes("two"));
    const second = (await store.getWithEtag("k"))!.etag;
    assert.notEqual(second, first);
    assert.equal(await store.putConditional("k", bytes("three"), { ifMatch: first }), false);
    assert.equal(await store.putConditional("k", bytes("three"), { ifMatch: second }), true);
  });
});

Deno.test("fs store conditional writes stay atomic across processes", async () => {
  await withTempDir(async (dir) => {
    const store: ObjectStore = createFsStore(dir);
    await store.put("counter", bytes("0"));
    const contenders = 4;
    const raceKeys = 100;
    const increments = 50;
    const config = new URL("../../../deno.json", import.meta.url).pathname;
    const script = new URL("./fs_store_contender.ts", import.meta.url).pathname;
    const outputs = await Promise.all(
      Array.from({ length: contenders }, (_, i) =>
        new Deno.Command(Deno.execPath(), {
          args: [
            "run",
            "--quiet",
            "-A",
            `--config=${config}`,
            script,
            dir,
            `p${i}`,
            String(raceKeys),
            String(increments),
          ],
          stderr: "inherit",
        }).output()),
    );
    const wins = outputs.map((out, i) => {
      assert.equal(out.code, 0, `contender ${i} failed`);
      return JSON.parse(new TextDecoder().decode(out.stdout)) as number[];
    });
    for (let key = 0; key < raceKeys; key++) {
      const winners = wins.flatMap((won, i) => won.includes(key) ? [`p${i}`] : []);
      assert.equal(winners.length, 1, `race/${key} won by ${winners}`);
      assert.deepEqual(await store.get(`race/${key}`), bytes(winners[0]));
    }
    assert.deepEqual(await store.get("counter"), bytes(String(contenders * increments)));
  });
});
