import assert from "node:assert/strict";
import { TcfsError } from "../../../core/errors.ts";
import type { ObjectStore } from "../../../core/store/object_store.ts";
import { withRetry } from "../../../core/store/retrying_store.ts";
import { createS3Store, type S3StoreOptions } from "../../../core/store/s3_store.ts";
import { startSeaweedFS } from "../../support/seaweedfs_process.ts";
import { servicesEnv } from "../../support/services_env.ts";

const bytes = (text: string) => new TextEncoder().encode(text);

function servicesOptions(overrides: Partial<S3StoreOptions> = {}): S3StoreOptions {
  const env = servicesEnv();
  return {
    endpoint: env.s3Endpoint,
    bucket: env.s3Bucket,
    region: "us-east-1",
    credentials: { accessKeyId: env.s3Access, secretAccessKey: env.s3Secret },
    ...overrides,
  };
}

/** Runs `fn` with a store that is closed afterwards, whatever happens. */
async function using(store: ObjectStore, fn: (store: ObjectStore) => Promise<void>) {
  try {
    await fn(store);
  } finally {
    store.close();
  }
}

/** A loopback port nothing listens on. */
function closedPort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  listener.close();
  return listener.addr.port;
}

function expectKind(kind: string, ...fragments: string[]) {
  return (err: unknown) => {
    assert.ok(err instanceof TcfsError, `expected a TcfsError, got ${err}`);
    assert.equal(err.kind, kind, err.message);
    for (const fragment of fragments) assert.ok(err.message.includes(fragment), err.message);
    assert.ok(err.hint, "every store error carries a hint");
    return true;
  };
}

// The SDK's keep-alive sockets outlive a single test by design.
const s3Test = (name: string, fn: () => Promise<void>) =>
  Deno.test({ name, fn, sanitizeOps: false, sanitizeResources: false });

s3Test("an unreachable endpoint is store_unreachable, after retries", async () => {
  const endpoint = `http://127.0.0.1:${closedPort()}`;
  let retries = 0;
  const store = withRetry(createS3Store(servicesOptions({ endpoint })), {
    attempts: 3,
    baseDelayMs: 1,
    onRetry: () => retries++,
  });
  await using(store, async () => {
    await assert.rejects(
      store.put("k", bytes("x")),
      expectKind("store_unreachable", endpoint, "connection refused", "3 attempts"),
    );
    assert.equal(retries, 2);
  });
});

s3Test("an unknown host is store_unreachable", async () => {
  const endpoint = "http://tcfs-no-such-host.invalid:8333";
  await using(createS3Store(servicesOptions({ endpoint })), async (store) => {
    await assert.rejects(store.get("k"), expectKind("store_unreachable", endpoint, "host"));
  });
});

s3Test("a wrong secret is store_forbidden, is not retried and is not echoed", async () => {
  const env = servicesEnv();
  const secret = "definitely-not-the-secret";
  let retries = 0;
  const store = withRetry(
    createS3Store(servicesOptions({
      credentials: { accessKeyId: env.s3Access, secretAccessKey: secret },
    })),
    { baseDelayMs: 1, onRetry: () => retries++ },
  );
  await using(store, async () => {
    for (const call of [() => store.get("k"), () => store.ensureReady(), () => store.has("k")]) {
      await assert.rejects(call(), (err: TcfsError) => {
        expectKind("store_forbidden", env.s3Endpoint, env.s3Bucket)(err);
        assert.ok(!`${err.message} ${err.hint}`.includes(secret));
        assert.equal(err.cause, undefined, "the SDK error may carry the string-to-sign");
        return true;
      });
    }
    assert.equal(retries, 0);
  });
});

s3Test("an unknown access key is store_forbidden", async () => {
  const credentials = { accessKeyId: "TCFSNOSUCHKEY", secretAccessKey: "x" };
  await using(createS3Store(servicesOptions({ credentials })), async (store) => {
    await assert.rejects(store.put("k", bytes("x")), expectKind("store_forbidden"));
  });
});

s3Test("credentials can come from a provider function", async () => {
  const env = servicesEnv();
  let asked = 0;
  const credentials = () => {
    asked++;
    return Promise.resolve({ accessKeyId: env.s3Access, secretAccessKey: env.s3Secret });
  };
  await using(createS3Store(servicesOptions({ credentials })), async (store) => {
    const key = `provider-${crypto.randomUUID()}`;
    await store.put(key, bytes("x"));
    assert.equal(new TextDecoder().decode(await store.get(key)), "x");
    await store.delete(key);
    assert.ok(asked >= 1);
  });
});

s3Test("the bucket is created on first use", async () => {
  const bucket = `tcfs-test-${crypto.randomUUID().slice(0, 8)}`;
  await using(createS3Store(servicesOptions({ bucket })), async (store) => {
    await assert.rejects(store.get("k"), expectKind("bucket_missing", bucket));
    // Two devices starting at once both succeed.
    await Promise.all([store.ensureReady(), store.ensureReady()]);
    await store.ensureReady();
    await store.put("k", bytes("in the new bucket"));
    assert.equal(new TextDecoder().decode(await store.get("k")), "in the new bucket");
    await store.delete("k");
  });
});

/** Answers every request with one S3 error, as a struggling server would. */
async function withErrorServer(
  status: number,
  code: string,
  fn: (endpoint: string) => Promise<void>,
): Promise<void> {
  const body = `<?xml version="1.0" encoding="UTF-8"?>
<Error><Code>${code}</Code><Message>test says ${code}</Message></Error>`;
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen() {} },
    () => new Response(body, { status, headers: { "content-type": "application/xml" } }),
  );
  try {
    await fn(`http://127.0.0.1:${server.addr.port}`);
  } finally {
    await server.shutdown();
  }
}

s3Test("5xx is store_error and retried; other 4xx are not", async () => {
  await withErrorServer(500, "InternalError", async (endpoint) => {
    let retries = 0;
    const store = withRetry(createS3Store(servicesOptions({ endpoint })), {
      attempts: 3,
      baseDelayMs: 1,
      onRetry: () => retries++,
    });
    await using(store, async () => {
      await assert.rejects(store.put("k", bytes("x")), expectKind("store_error", endpoint, "500"));
      assert.equal(retries, 2);
    });
  });
  await withErrorServer(400, "InvalidArgument", async (endpoint) => {
    let retries = 0;
    const store = withRetry(createS3Store(servicesOptions({ endpoint })), {
      baseDelayMs: 1,
      onRetry: () => retries++,
    });
    await using(store, async () => {
      await assert.rejects(store.put("k", bytes("x")), expectKind("store_rejected", endpoint));
      assert.equal(retries, 0);
    });
  });
});

s3Test("409 ConditionalRequestConflict is a lost conditional write", async () => {
  await withErrorServer(409, "ConditionalRequestConflict", async (endpoint) => {
    await using(createS3Store(servicesOptions({ endpoint })), async (store) => {
      assert.equal(await store.putConditional("k", bytes("x"), { ifNoneMatch: "*" }), false);
    });
  });
});

s3Test("a SeaweedFS stopped mid-sequence fails clearly; after restart puts succeed", async () => {
  const seaweed = await startSeaweedFS();
  try {
    const store = withRetry(
      createS3Store({
        endpoint: seaweed.s3Endpoint,
        bucket: "fault",
        region: "us-east-1",
        credentials: { accessKeyId: seaweed.s3Access, secretAccessKey: seaweed.s3Secret },
      }),
      { attempts: 3, baseDelayMs: 10 },
    );
    await using(store, async () => {
      await store.ensureReady();
      for (let i = 0; i < 5; i++) await store.put(`seq/${i}`, bytes(`object ${i}`));
      await seaweed.stop();
      await assert.rejects(
        store.put("seq/5", bytes("object 5")),
        expectKind("store_unreachable", seaweed.s3Endpoint),
      );
      await seaweed.restart();
      await store.put("seq/5", bytes("object 5"));
      const listed = await Array.fromAsync(store.list("seq/"), (info) => info.key);
      assert.deepEqual(listed, [0, 1, 2, 3, 4, 5].map((i) => `seq/${i}`));
      assert.equal(new TextDecoder().decode(await store.get("seq/2")), "object 2");
    });
  } finally {
    await seaweed.stop();
  }
});
