import assert from "node:assert/strict";
import { TcfsError } from "../../../core/errors.ts";
import { openStore, type StoreTarget } from "../../../core/store/open_store.ts";
import { servicesEnv } from "../../support/services_env.ts";

const bytes = (text: string) => new TextEncoder().encode(text);
const credentials = { accessKeyId: "ignored", secretAccessKey: "ignored" };

async function withTempDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "tcfs-open-store-" });
  try {
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

function target(overrides: Partial<StoreTarget>): StoreTarget {
  return { bucket: "tcfs", region: "us-east-1", defaultStoreDir: "/nonexistent", ...overrides };
}

function expectConfigError(kind: string, ...fragments: string[]) {
  return (err: unknown) => {
    assert.ok(err instanceof TcfsError);
    assert.equal(err.kind, kind, err.message);
    for (const fragment of fragments) {
      assert.ok(`${err.message} ${err.hint}`.includes(fragment), `${err.message} / ${err.hint}`);
    }
    return true;
  };
}

Deno.test("no endpoint opens the embedded store in the default directory", async () => {
  await withTempDir(async (dir) => {
    for (const endpoint of [undefined, "", "  "]) {
      const store = openStore(target({ endpoint, defaultStoreDir: `${dir}/store` }));
      assert.equal(store.location, `${dir}/store`);
      await store.ensureReady();
      await store.put(`k${endpoint?.length}`, bytes("local"));
    }
    assert.equal(await Deno.readTextFile(`${dir}/store/kundefined`), "local");
    assert.equal(await Deno.readTextFile(`${dir}/store/k2`), "local");
  });
});

Deno.test("a file:// endpoint opens that directory and ignores credentials", async () => {
  await withTempDir(async (dir) => {
    for (
      const [endpoint, path] of [
        [`file://${dir}/shared`, `${dir}/shared`],
        [`file://localhost${dir}/other`, `${dir}/other`],
        [`file://${dir}/with%20space`, `${dir}/with space`],
      ]
    ) {
      const store = openStore(target({ endpoint, credentials }));
      assert.equal(store.location, path);
      await store.ensureReady();
      await store.put("chunks/x", bytes("shared"));
      assert.equal(await Deno.readTextFile(`${path}/chunks/x`), "shared");
    }
  });
});

Deno.test("a file:// endpoint with a host is refused", () => {
  assert.throws(
    () => openStore(target({ endpoint: "file://relative/dir" })),
    expectConfigError("config_invalid", "file:///"),
  );
});

Deno.test("an unsupported endpoint names the value and the accepted forms", () => {
  for (const endpoint of ["s3://tcfs", "ftp://host/x", "localhost:8333", "not a url"]) {
    assert.throws(
      () => openStore(target({ endpoint })),
      expectConfigError("config_invalid", endpoint, "file:///", "http(s)://"),
    );
  }
});

Deno.test("an http endpoint without credentials says where credentials come from", () => {
  assert.throws(
    () => openStore(target({ endpoint: "http://127.0.0.1:8333" })),
    expectConfigError(
      "credentials_missing",
      "no S3 credentials",
      "http://127.0.0.1:8333",
      "TCFS_S3_ACCESS",
      "TCFS_S3_SECRET",
    ),
  );
});

Deno.test("an invalid bucket name is refused before any request", () => {
  assert.throws(
    () =>
      openStore(target({ endpoint: "http://127.0.0.1:8333", bucket: "Bad_Bucket", credentials })),
    expectConfigError("config_invalid", "Bad_Bucket"),
  );
});

Deno.test({
  name: "an http endpoint opens the S3 store, with retries",
  async fn() {
    const env = servicesEnv();
    const store = openStore(target({
      endpoint: env.s3Endpoint,
      bucket: env.s3Bucket,
      credentials: { accessKeyId: env.s3Access, secretAccessKey: env.s3Secret },
    }));
    try {
      assert.ok(store.location.includes(env.s3Endpoint));
      await store.ensureReady();
      const key = `open-store-${crypto.randomUUID()}`;
      await store.put(key, bytes("remote"));
      assert.equal(new TextDecoder().decode(await store.get(key)), "remote");
      await store.delete(key);
    } finally {
      store.close();
    }

    const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
    listener.close();
    let retries = 0;
    const unreachable = openStore(target({
      endpoint: `http://127.0.0.1:${listener.addr.port}`,
      credentials,
      retry: { attempts: 2, baseDelayMs: 1, onRetry: () => retries++ },
    }));
    try {
      await assert.rejects(unreachable.get("k"), expectConfigError("store_unreachable"));
      assert.equal(retries, 1);
    } finally {
      unreachable.close();
    }
  },
});
