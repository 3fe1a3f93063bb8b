import assert from "node:assert/strict";
import { TcfsError } from "../../../core/errors.ts";
import { createFsStore } from "../../../core/store/fs_store.ts";
import type { ObjectInfo, ObjectStore } from "../../../core/store/object_store.ts";
import { type RetryInfo, withRetry } from "../../../core/store/retrying_store.ts";

/**
 * A real fs store whose calls fail on a script: each entry of `failures`
 * is thrown by one call, `before` the call reaches the store or `after` it
 * took effect (a lost answer), `takesMs` after the call began. The first `listFailures` listings fail after
 * yielding 7 keys that no earlier listing yielded.
 */
function flaky(
  store: ObjectStore,
  failures: { error: unknown; when: "before" | "after"; takesMs?: number }[],
  listFailures = 0,
): ObjectStore & { calls: number } {
  let calls = 0;
  const listed = new Set<string>();
  const wrap = <A extends unknown[], T>(fn: (...args: A) => Promise<T>) => async (...args: A) => {
    calls++;
    const failure = failures.shift();
    if (failure?.takesMs) await new Promise((resolve) => setTimeout(resolve, failure.takesMs));
    if (failure?.when === "before") throw failure.error;
    const result = await fn(...args);
    if (failure?.when === "after") throw failure.error;
    return result;
  };
  return {
    get calls() {
      return calls;
    },
    location: store.location,
    ensureReady: wrap(() => store.ensureReady()),
    get: wrap((key) => store.get(key)),
    getRange: wrap((key, offset, length) => store.getRange(key, offset, length)),
    getWithEtag: wrap((key) => store.getWithEtag(key)),
    put: wrap((key, body, options) => store.put(key, body, options)),
    putConditional: wrap((key, body, condition) => store.putConditional(key, body, condition)),
    has: wrap((key) => store.has(key)),
    delete: wrap((key) => store.delete(key)),
    close: () => store.close(),
    async *list(prefix: string): AsyncIterable<ObjectInfo> {
      calls++;
      let fresh = 0;
      for await (const info of store.list(prefix)) {
        if (listFailures > 0 && !listed.has(info.key) && fresh++ === 7) {
          listFailures--;
          throw unreachable();
        }
        listed.add(info.key);
        yield info;
      }
    },
  };
}

const unreachable = () =>
  new TcfsError("cannot reach S3 at http://127.0.0.1:1: connection refused", {
    kind: "store_unreachable",
  });

async function withTempStore(fn: (store: ObjectStore) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "tcfs-retry-" });
  try {
    const store = createFsStore(dir);
    await store.ensureReady();
    await fn(store);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

const bytes = (text: string) => new TextEncoder().encode(text);

Deno.test("withRetry retries transient failures until the call succeeds", async () => {
  await withTempStore(async (inner) => {
    const store = flaky(inner, [
      { error: unreachable(), when: "before" },
      { error: new TcfsError("S3 500", { kind: "store_error" }), when: "before" },
      { error: new Deno.errors.ConnectionReset("reset"), when: "before" },
    ]);
    const retries: RetryInfo[] = [];
    const retrying = withRetry(store, { baseDelayMs: 1, onRetry: (info) => retries.push(info) });
    await retrying.put("k", bytes("v"));
    assert.deepEqual(await inner.get("k"), bytes("v"));
    assert.equal(store.calls, 4);
    assert.deepEqual(retries.map((r) => [r.operation, r.key, r.attempt]), [
      ["put", "k", 1],
      ["put", "k", 2],
      ["put", "k", 3],
    ]);
  });
});

Deno.test("withRetry gives up after the configured attempts and says so", async () => {
  await withTempStore(async (inner) => {
    const failures = Array.from({ length: 10 }, () => ({
      error: unreachable(),
      when: "before" as const,
    }));
    const store = flaky(inner, failures);
    let retries = 0;
    const retrying = withRetry(store, { attempts: 4, baseDelayMs: 1, onRetry: () => retries++ });
    await assert.rejects(retrying.get("k"), (err: TcfsError) => {
      assert.equal(err.kind, "store_unreachable");
      assert.match(err.message, /http:\/\/127\.0\.0\.1:1.*gave up after 4 attempts/);
      return true;
    });
    assert.equal(store.calls, 4);
    assert.equal(retries, 3);
  });
});

Deno.test("withRetry starts no new attempt once its time budget is spent", async () => {
  await withTempStore(async (inner) => {
    // SeaweedFS without live servers for a replica: a 500, but only after a long wait.
    const slow500 = () => ({
      error: new TcfsError("S3 500 InternalError", { kind: "store_error" }),
      when: "before" as const,
      takesMs: 60,
    });
    const store = flaky(inner, Array.from({ length: 10 }, slow500));
    // Not a literal in the call: the budget is an option main's withRetry did not have.
    const options = { attempts: 5, baseDelayMs: 1, budgetMs: 100 };
    await assert.rejects(withRetry(store, options).put("k", bytes("v")), (err: TcfsError) => {
      assert.equal(err.kind, "store_error");
      assert.match(err.message, /gave up after 2 attempts in 0\.\d s/);
      return true;
    });
    assert.equal(store.calls, 2);
  });
});

Deno.test("withRetry does not retry refusals, bad input or plain bugs", async () => {
  await withTempStore(async (inner) => {
    for (
      const error of [
        new TcfsError("403", { kind: "store_forbidden" }),
        new TcfsError("no bucket", { kind: "bucket_missing" }),
        new TcfsError("bad key", { kind: "invalid_key" }),
        new TypeError("a bug"),
      ]
    ) {
      const store = flaky(inner, [{ error, when: "before" }]);
      const retrying = withRetry(store, { baseDelayMs: 1 });
      await assert.rejects(retrying.get("k"), (err) => err === error);
      assert.equal(store.calls, 1);
    }
  });
});

Deno.test("withRetry resumes a failed listing after the last key it yielded", async () => {
  await withTempStore(async (inner) => {
    const keys = Array.from({ length: 50 }, (_, i) => `p/${String(i).padStart(2, "0")}`);
    for (const key of keys) await inner.put(key, bytes(key));
    let retries = 0;
    const listing = withRetry(flaky(inner, [], 1), { baseDelayMs: 1, onRetry: () => retries++ });
    assert.deepEqual(await Array.fromAsync(listing.list("p/"), (info) => info.key), keys);
    assert.equal(retries, 1);

    // Each failure comes after progress, so even two attempts per step finish the listing.
    const stubborn = withRetry(flaky(inner, [], 6), { attempts: 2, baseDelayMs: 1 });
    assert.deepEqual(await Array.fromAsync(stubborn.list("p/"), (info) => info.key), keys);
  });
});

Deno.test("withRetry reports a conditional write whose answer was lost as written", async () => {
  await withTempStore(async (inner) => {
    // The first attempt creates the object, then the answer is lost; the retry
    // then fails If-None-Match against our own write.
    const store = flaky(inner, [{ error: unreachable(), when: "after" }]);
    const retrying = withRetry(store, { baseDelayMs: 1 });
    assert.equal(await retrying.putConditional("k", bytes("mine"), { ifNoneMatch: "*" }), true);
    assert.deepEqual(await inner.get("k"), bytes("mine"));

    // Someone else's bytes in place: the retried write really lost.
    await inner.put("other", bytes("theirs"));
    const lossy = flaky(inner, [{ error: unreachable(), when: "before" }]);
    assert.equal(
      await withRetry(lossy, { baseDelayMs: 1 }).putConditional("other", bytes("mine"), {
        ifNoneMatch: "*",
      }),
      false,
    );
    assert.deepEqual(await inner.get("other"), bytes("theirs"));
  });
});
