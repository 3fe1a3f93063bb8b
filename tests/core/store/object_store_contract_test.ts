/**
 * One contract, every backend: the fs store in a temp dir, the S3 store on
 * the services SeaweedFS and the tests' memory store (bare and behind the fault
 * decorator) must behave the same, down to listing order.
 */

import assert from "node:assert/strict";
import { createLimiter } from "../../../core/concurrency/limiter.ts";
import { createFsStore } from "../../../core/store/fs_store.ts";
import type { ListOptions, ObjectStore } from "../../../core/store/object_store.ts";
import { createS3Store } from "../../../core/store/s3_store.ts";
import { servicesEnv } from "../../support/services_env.ts";
import { createMemoryStore } from "../../support/memory_store.ts";
import { withFaults } from "../../support/faulty_store.ts";

interface Backend {
  name: string;
  /** A ready store, and how to remove what a test left in it. */
  open(): Promise<{ store: ObjectStore; cleanup(prefix: string): Promise<void> }>;
}

const backends: Backend[] = [
  {
    name: "memory",
    open: () => Promise.resolve({ store: createMemoryStore(), cleanup: () => Promise.resolve() }),
  },
  {
    // The fault decorator with no fault armed must be invisible.
    name: "fault-wrapped memory",
    open: () =>
      Promise.resolve({ store: withFaults(createMemoryStore()), cleanup: () => Promise.resolve() }),
  },
  {
    name: "fs",
    async open() {
      const dir = await Deno.makeTempDir({ prefix: "tcfs-contract-" });
      const store = createFsStore(dir);
      await store.ensureReady();
      return { store, cleanup: () => Deno.remove(dir, { recursive: true }) };
    },
  },
  {
    name: "s3",
    async open() {
      const env = servicesEnv();
      const store = createS3Store({
        endpoint: env.s3Endpoint,
        bucket: env.s3Bucket,
        region: "us-east-1",
        credentials: { accessKeyId: env.s3Access, secretAccessKey: env.s3Secret },
      });
      await store.ensureReady();
      return {
        store,
        async cleanup(prefix: string) {
          const limit = createLimiter(32);
          const keys = await Array.fromAsync(store.list(prefix), (info) => info.key);
          await Promise.all(keys.map((key) => limit.run(() => store.delete(key))));
          store.close();
        },
      };
    },
  },
];

const bytes = (text: string) => new TextEncoder().encode(text);
const text = (body: Uint8Array | undefined) => body && new TextDecoder().decode(body);

/** Each test works under its own prefix, so tests sharing one bucket never collide. */
function contractTest(name: string, fn: (store: ObjectStore, prefix: string) => Promise<void>) {
  for (const backend of backends) {
    Deno.test({
      name: `${backend.name} store: ${name}`,
      async fn() {
        const { store, cleanup } = await backend.open();
        const prefix = `contract-${crypto.randomUUID()}/`;
        try {
          await fn(store, prefix);
        } finally {
          await cleanup(prefix);
        }
      },
    });
  }
}

contractTest("getRange returns the bytes at an offset, fewer past the end", async (store, p) => {
  assert.equal(await store.getRange(`${p}missing`, 0, 4), undefined);
  await store.put(`${p}pack`, bytes("0123456789"));
  assert.equal(text(await store.getRange(`${p}pack`, 0, 4)), "0123");
  assert.equal(text(await store.getRange(`${p}pack`, 3, 5)), "34567");
  assert.equal(text(await store.getRange(`${p}pack`, 8, 5)), "89");
  assert.equal(text(await store.getRange(`${p}pack`, 12, 3)), "");
  assert.equal(text(await store.getRange(`${p}pack`, 4, 0)), "");
});

contractTest("a range far past the object allocates nothing beyond it", async (store, p) => {
  await store.put(`${p}pack`, bytes("0123456789"));
  assert.equal(text(await store.getRange(`${p}pack`, 6, 2 ** 40)), "6789");
  assert.equal(text(await store.getRange(`${p}pack`, 2 ** 40, 2 ** 40)), "");
});

contractTest("get refuses an object bigger than maxBytes without reading it", async (store, p) => {
  await store.put(`${p}big`, new Uint8Array(1000));
  assert.equal((await store.get(`${p}big`, { maxBytes: 1000 }))?.length, 1000);
  await assert.rejects(
    store.get(`${p}big`, { maxBytes: 999 }),
    (err: Error & { kind?: string }) =>
      err.kind === "oversized_object" && /holds 1000 bytes, more than the 999/.test(err.message),
  );
  assert.equal(await store.get(`${p}missing`, { maxBytes: 1 }), undefined);
  await assert.rejects(
    store.getWithEtag(`${p}big`, { maxBytes: 999 }),
    (err: Error & { kind?: string }) => err.kind === "oversized_object",
  );
  assert.equal((await store.getWithEtag(`${p}big`, { maxBytes: 1000 }))?.body.length, 1000);
});

contractTest("put, get, has, overwrite and delete", async (store, p) => {
  assert.equal(await store.get(`${p}missing`), undefined);
  assert.equal(await store.getWithEtag(`${p}missing`), undefined);
  assert.equal(await store.has(`${p}missing`), false);

  await store.put(`${p}a/b`, bytes("first"));
  assert.equal(text(await store.get(`${p}a/b`)), "first");
  assert.equal(await store.has(`${p}a/b`), true);

  await store.put(`${p}a/b`, bytes("second, longer"));
  assert.equal(text(await store.get(`${p}a/b`)), "second, longer");

  await store.put(`${p}empty`, new Uint8Array());
  assert.deepEqual(await store.get(`${p}empty`), new Uint8Array());

  const everyByte = Uint8Array.from({ length: 256 }, (_, i) => i);
  await store.put(`${p}bytes`, everyByte);
  assert.deepEqual(await store.get(`${p}bytes`), everyByte);

  await store.delete(`${p}a/b`);
  assert.equal(await store.get(`${p}a/b`), undefined);
  assert.equal(await store.has(`${p}a/b`), false);
  await store.delete(`${p}a/b`);
});

contractTest("list returns keys under a prefix in byte order, with sizes", async (store, p) => {
  const keys = [
    "x/2",
    "x/1",
    "x.y",
    "x-z",
    "xa/1",
    "y",
    "u/\u{10000}",
    "u/\uFFFD",
    "u/é",
    "u/z",
  ];
  for (const key of keys) await store.put(`${p}${key}`, bytes(`size of ${key}`));
  const listed = async (prefix: string) =>
    (await Array.fromAsync(store.list(`${p}${prefix}`))).map((
      i,
    ) => [i.key.slice(p.length), i.size]);
  const size = (key: string) => bytes(`size of ${key}`).length;

  assert.deepEqual(await listed("x/"), [["x/1", size("x/1")], ["x/2", size("x/2")]]);
  assert.deepEqual(
    (await listed("x")).map(([key]) => key),
    ["x-z", "x.y", "x/1", "x/2", "xa/1"],
  );
  // UTF-8 byte order: é (C3 A9) < U+FFFD (EF BF BD) < U+10000 (F0 90 80 80), all after "z".
  assert.deepEqual((await listed("u/")).map(([key]) => key), [
    "u/z",
    "u/é",
    "u/\uFFFD",
    "u/\u{10000}",
  ]);
  assert.deepEqual(await listed("nothing"), []);
  assert.equal((await listed("")).length, keys.length);
});

contractTest("list resumes after a key and rolls folders up", async (store, p) => {
  for (const key of ["j/a/01", "j/a/02", "j/a/03", "j/b/01", "j/c", "k/01"]) {
    await store.put(`${p}${key}`, bytes(key));
  }
  const listed = async (prefix: string, options: ListOptions) =>
    (await Array.fromAsync(store.list(`${p}${prefix}`, options))).map((i) => [
      i.key.slice(p.length),
      i.size,
    ]);
  assert.deepEqual(await listed("j/a/", { startAfter: `${p}j/a/01` }), [
    ["j/a/02", 6],
    ["j/a/03", 6],
  ]);
  assert.deepEqual(await listed("j/a/", { startAfter: `${p}j/a/03` }), []);
  assert.deepEqual(await listed("j/", { delimiter: "/" }), [["j/a/", 0], ["j/b/", 0], ["j/c", 3]]);
});

contractTest("list pages through more than 1,000 keys", async (store, p) => {
  const limit = createLimiter(32);
  const keys = Array.from({ length: 1_100 }, (_, i) => `${p}many/${String(i).padStart(5, "0")}`);
  await Promise.all(keys.map((key) => limit.run(() => store.put(key, bytes("x")))));
  const listed = await Array.fromAsync(store.list(`${p}many/`), (info) => info.key);
  assert.deepEqual(listed, keys);
});

contractTest("If-None-Match writes only the first time", async (store, p) => {
  assert.equal(await store.putConditional(`${p}k`, bytes("one"), { ifNoneMatch: "*" }), true);
  assert.equal(await store.putConditional(`${p}k`, bytes("two"), { ifNoneMatch: "*" }), false);
  assert.equal(text(await store.get(`${p}k`)), "one");
});

contractTest("If-Match writes only over the version it names", async (store, p) => {
  await store.put(`${p}k`, bytes("one"));
  const stale = (await store.getWithEtag(`${p}k`))!;
  assert.equal(text(stale.body), "one");
  await store.put(`${p}k`, bytes("two"));
  const current = (await store.getWithEtag(`${p}k`))!;
  assert.notEqual(current.etag, stale.etag);

  assert.equal(await store.putConditional(`${p}k`, bytes("three"), { ifMatch: stale.etag }), false);
  assert.equal(text(await store.get(`${p}k`)), "two");
  assert.equal(
    await store.putConditional(`${p}k`, bytes("three"), { ifMatch: current.etag }),
    true,
  );
  assert.equal(text(await store.get(`${p}k`)), "three");
  assert.equal(
    await store.putConditional(`${p}gone`, bytes("x"), { ifMatch: current.etag }),
    false,
  );
  assert.equal(await store.has(`${p}gone`), false);
});

contractTest("10 concurrent If-None-Match writes: exactly one wins", async (store, p) => {
  for (let round = 0; round < 3; round++) {
    const key = `${p}race-${round}`;
    const results = await Promise.all(
      Array.from(
        { length: 10 },
        (_, i) => store.putConditional(key, bytes(`writer ${i}`), { ifNoneMatch: "*" }),
      ),
    );
    const winners = results.flatMap((won, i) => won ? [i] : []);
    assert.equal(winners.length, 1, `round ${round}: winners ${winners}`);
    assert.equal(text(await store.get(key)), `writer ${winners[0]}`);
  }
});

contractTest("concurrent compare-and-swap increments lose no update", async (store, p) => {
  const key = `${p}counter`;
  await store.put(key, bytes("0"));
  const workers = 5;
  const increments = 4;
  await Promise.all(Array.from({ length: workers }, async () => {
    for (let done = 0; done < increments;) {
      const current = (await store.getWithEtag(key))!;
      const next = bytes(String(Number(text(current.body)) + 1));
      if (await store.putConditional(key, next, { ifMatch: current.etag })) done++;
    }
  }));
  assert.equal(text(await store.get(key)), String(workers * increments));
});
