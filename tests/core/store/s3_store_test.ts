import assert from "node:assert/strict";
import { TcfsError } from "../../../core/errors.ts";
import type { ObjectStore } from "../../../core/store/object_store.ts";
import { withRetry } from "../../../core/store/retrying_store.ts";
import { createS3Store, type S3StoreOptions } from "../../../core/store/s3_store.ts";
import { startSeaweedFS } from "../../support/seaweedfs_process.ts";
import { randomBytes } from "../../support/random_bytes.ts";
import { servicesEnv } from "../../support/services_env.ts";
import { tcfsVersion } from "../../../core/version.ts";

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

/** The store, closed when it goes out of scope (`using`). */
function closing(store: ObjectStore): ObjectStore & Disposable {
  return Object.assign(store, { [Symbol.dispose]: () => store.close() });
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

Deno.test("an unreachable endpoint is store_unreachable, after retries", async () => {
  const endpoint = `http://127.0.0.1:${closedPort()}`;
  let retries = 0;
  using store = closing(withRetry(createS3Store(servicesOptions({ endpoint })), {
    attempts: 3,
    baseDelayMs: 1,
    onRetry: () => retries++,
  }));
  await assert.rejects(
    store.put("k", bytes("x")),
    expectKind("store_unreachable", endpoint, "connection refused", "3 attempts"),
  );
  assert.equal(retries, 2);
});

Deno.test("an unknown host is store_unreachable", async () => {
  const endpoint = "http://tcfs-no-such-host.invalid:8333";
  using store = closing(createS3Store(servicesOptions({ endpoint })));
  await assert.rejects(store.get("k"), expectKind("store_unreachable", endpoint, "host"));
});

Deno.test("an endpoint on a port Deno's fetch refuses says so", async () => {
  // 6000 (X11) is one of the Fetch standard's bad ports: nothing is sent, whatever listens.
  const endpoint = "http://127.0.0.1:6000";
  using store = closing(createS3Store(servicesOptions({ endpoint })));
  await assert.rejects(store.get("k"), expectKind("store_unreachable", endpoint, "bad ports"));
});

/**
 * A server that answers each request with `head` and the first bytes of its body, then closes
 * the connection; what the store made of each request comes back from `fn`.
 */
async function withCutServer(head: string, fn: (endpoint: string) => Promise<void>) {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const served = (async () => {
    for await (const conn of listener) {
      await conn.read(new Uint8Array(64 * 1024)).catch(() => null);
      await conn.write(new TextEncoder().encode(`${head}\r\n\r\n0123456789`)).catch(() => {});
      conn.close();
    }
  })();
  try {
    await fn(`http://127.0.0.1:${listener.addr.port}`);
  } finally {
    listener.close();
    await served.catch(() => {});
  }
}

Deno.test("a connection dropped in the middle of a body is store_unreachable, as a reset", async () => {
  const head = 'HTTP/1.1 200 OK\r\nContent-Length: 1000\r\nETag: "e"';
  await withCutServer(head, async (endpoint) => {
    using store = closing(createS3Store(servicesOptions({ endpoint })));
    await assert.rejects(store.get("k"), expectKind("store_unreachable", endpoint, "reset"));
    await assert.rejects(store.getRange("k", 0, 1000), expectKind("store_unreachable", endpoint));
  });
});

Deno.test("a body of unknown length is read whole, and one over the limit is refused", async () => {
  const head = 'HTTP/1.1 200 OK\r\nConnection: close\r\nETag: "e"';
  await withCutServer(head, async (endpoint) => {
    using store = closing(createS3Store(servicesOptions({ endpoint })));
    assert.equal(new TextDecoder().decode(await store.get("k")), "0123456789");
    await assert.rejects(store.get("k", { maxBytes: 4 }), expectKind("oversized_object", "k"));
    await assert.rejects(store.getRange("k", 0, 4), expectKind("oversized_object", "k bytes 0+4"));
  });
});

Deno.test("a wrong secret is store_forbidden, is not retried and is not echoed", async () => {
  const env = servicesEnv();
  const secret = "definitely-not-the-secret";
  let retries = 0;
  using store = closing(withRetry(
    createS3Store(servicesOptions({
      credentials: { accessKeyId: env.s3Access, secretAccessKey: secret },
    })),
    { baseDelayMs: 1, onRetry: () => retries++ },
  ));
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

Deno.test("an unknown access key is store_forbidden", async () => {
  const credentials = { accessKeyId: "TCFSNOSUCHKEY", secretAccessKey: "x" };
  using store = closing(createS3Store(servicesOptions({ credentials })));
  await assert.rejects(store.put("k", bytes("x")), expectKind("store_forbidden"));
});

Deno.test("credentials can come from a provider function", async () => {
  const env = servicesEnv();
  let asked = 0;
  const credentials = () => {
    asked++;
    return Promise.resolve({ accessKeyId: env.s3Access, secretAccessKey: env.s3Secret });
  };
  using store = closing(createS3Store(servicesOptions({ credentials })));
  const key = `provider-${crypto.randomUUID()}`;
  await store.put(key, bytes("x"));
  assert.equal(new TextDecoder().decode(await store.get(key)), "x");
  await store.delete(key);
  assert.ok(asked >= 1);
});

Deno.test("the bucket is created on first use", async () => {
  const bucket = `tcfs-test-${crypto.randomUUID().slice(0, 8)}`;
  using store = closing(createS3Store(servicesOptions({ bucket })));
  await assert.rejects(store.get("k"), expectKind("bucket_missing", bucket));
  await assert.rejects(Array.fromAsync(store.list("")), expectKind("bucket_missing", bucket));
  // Two devices starting at once both succeed.
  await Promise.all([store.ensureReady(), store.ensureReady()]);
  await store.ensureReady();
  assert.deepEqual(await Array.fromAsync(store.list("")), []);
  await store.put("k", bytes("in the new bucket"));
  assert.equal(new TextDecoder().decode(await store.get("k")), "in the new bucket");
  await store.delete("k");
});

Deno.test("concurrent requests of every kind keep their own keys and bodies", async () => {
  using store = closing(createS3Store(servicesOptions()));
  const prefix = `concurrent-${crypto.randomUUID()}/`;
  const keys = Array.from({ length: 64 }, (_, i) => `${prefix}${i}`);
  const body = (i: number) => bytes(`object ${i} `.repeat(i + 1));
  await Promise.all(keys.map((key, i) => store.put(key, body(i))));
  const [bodies, present, absent, listed] = await Promise.all([
    Promise.all(keys.map((key) => store.get(key))),
    Promise.all(keys.map((key) => store.has(key))),
    Promise.all(keys.map((key) => store.has(`${key}-missing`))),
    Array.fromAsync(store.list(prefix)),
  ]);
  assert.deepEqual(bodies, keys.map((_, i) => body(i)));
  assert.ok(present.every((found) => found));
  assert.ok(absent.every((found) => !found));
  assert.deepEqual(listed.map((info) => info.key).sort(), [...keys].sort());
  await Promise.all(keys.map((key) => store.delete(key)));
  assert.deepEqual(await Array.fromAsync(store.list(prefix)), []);
});

Deno.test("requests name tcfs and its version as the user agent", async () => {
  const agents: string[] = [];
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, (request) => {
    agents.push(request.headers.get("user-agent") ?? "");
    return new Response(null, { status: 200 });
  });
  try {
    using store = closing(
      createS3Store(servicesOptions({ endpoint: `http://127.0.0.1:${server.addr.port}` })),
    );
    await store.put("a", bytes("x"));
    await store.put("b", bytes("y"));
  } finally {
    await server.shutdown();
  }
  assert.equal(agents.length, 2);
  for (const agent of agents) assert.match(agent, new RegExp(`^tcfs/${tcfsVersion()} `));
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

Deno.test("5xx is store_error and retried; other 4xx are not", async () => {
  await withErrorServer(500, "InternalError", async (endpoint) => {
    let retries = 0;
    using store = closing(withRetry(createS3Store(servicesOptions({ endpoint })), {
      attempts: 3,
      baseDelayMs: 1,
      onRetry: () => retries++,
    }));
    await assert.rejects(store.put("k", bytes("x")), expectKind("store_error", endpoint, "500"));
    assert.equal(retries, 2);
  });
  await withErrorServer(400, "InvalidArgument", async (endpoint) => {
    let retries = 0;
    using store = closing(withRetry(createS3Store(servicesOptions({ endpoint })), {
      baseDelayMs: 1,
      onRetry: () => retries++,
    }));
    await assert.rejects(store.put("k", bytes("x")), expectKind("store_rejected", endpoint));
    assert.equal(retries, 0);
  });
});

Deno.test("409 ConditionalRequestConflict is a lost conditional write", async () => {
  await withErrorServer(409, "ConditionalRequestConflict", async (endpoint) => {
    using store = closing(createS3Store(servicesOptions({ endpoint })));
    assert.equal(await store.putConditional("k", bytes("x"), { ifNoneMatch: "*" }), false);
  });
});

Deno.test("a SeaweedFS stopped during puts fails clearly; after restart puts succeed", async () => {
  await using seaweed = await startSeaweedFS();
  let retries = 0;
  using store = closing(withRetry(
    createS3Store({
      endpoint: seaweed.endpoint,
      bucket: seaweed.bucket,
      region: "us-east-1",
      credentials: { accessKeyId: seaweed.access, secretAccessKey: seaweed.secret },
    }),
    { onRetry: () => retries++ },
  ));
  await store.ensureReady();
  const acknowledged: string[] = [];
  let stopping: Promise<void> | undefined;
  let failure: unknown;
  for (let i = 0; failure === undefined && i < 10_000; i++) {
    // Stop it without waiting, so the kill lands while puts are in flight.
    if (i === 5) stopping = seaweed.stop();
    try {
      await store.put(`seq/${i}`, bytes(`object ${i}`));
      acknowledged.push(`seq/${i}`);
    } catch (err) {
      failure = err;
    }
  }
  await stopping;
  expectKind("store_unreachable", seaweed.endpoint, "gave up after 5 attempts")(failure);
  assert.equal(retries, 4);

  await seaweed.restart();
  await store.put("after-restart", bytes("ok"));
  assert.equal(new TextDecoder().decode(await store.get("after-restart")), "ok");
  for (const key of acknowledged) {
    assert.equal(new TextDecoder().decode(await store.get(key)), `object ${key.slice(4)}`);
  }
});

Deno.test("a put whose readers verify its bytes is sent unsigned; every other request signs its payload", async () => {
  const seen: [string, string][] = [];
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, (request) => {
    seen.push([new URL(request.url).pathname, request.headers.get("x-amz-content-sha256") ?? ""]);
    return new Response(null, { status: 200 });
  });
  try {
    using store = closing(
      createS3Store(servicesOptions({ endpoint: `http://127.0.0.1:${server.addr.port}` })),
    );
    await Promise.all([
      store.put("packs/p1", bytes("chunks"), { contentVerifiedByReaders: true }),
      store.put("ns/v.json", bytes("version")),
    ]);
  } finally {
    await server.shutdown();
  }
  const hashes = new Map(seen.map(([path, hash]) => [path.split("/").slice(2).join("/"), hash]));
  assert.equal(hashes.get("packs/p1"), "UNSIGNED-PAYLOAD");
  assert.match(hashes.get("ns/v.json") ?? "", /^[0-9a-f]{64}$/);
});

Deno.test("SeaweedFS stores an unsigned put byte for byte and still checks its signature", async () => {
  using store = closing(createS3Store(servicesOptions()));
  const key = `unsigned-${crypto.randomUUID()}`;
  const body = randomBytes(300_000, 61);
  await store.put(key, body, { contentVerifiedByReaders: true });
  assert.deepEqual(await store.get(key), body);
  await store.delete(key);
  using wrong = closing(
    createS3Store(servicesOptions({
      credentials: { accessKeyId: servicesEnv().s3Access, secretAccessKey: "not-the-secret" },
    })),
  );
  await assert.rejects(
    wrong.put(key, body, { contentVerifiedByReaders: true }),
    expectKind("store_forbidden"),
  );
});
