import assert from "node:assert/strict";
import { join } from "node:path";
import {
  type CredentialChainInput,
  requireS3Credentials,
  resolveCredentials,
} from "../../../core/credentials/credential_chain.ts";
import { TcfsError } from "../../../core/errors.ts";
import { withCredentialRefresh } from "../../../core/store/credential_refreshing_store.ts";
import type { ObjectStore } from "../../../core/store/object_store.ts";
import { openStore } from "../../../core/store/open_store.ts";
import { makeAgeKey, sopsEncryptFile } from "../credentials/real_tools.ts";
import { makeScopedTempDir } from "../../support/module_unload.ts";
import {
  type S3Identity,
  type SeaweedFS,
  startSeaweedFS,
} from "../../support/seaweedfs_process.ts";

const bytes = (text: string) => new TextEncoder().encode(text);
const text = (data?: Uint8Array) => data && new TextDecoder().decode(data);

function identity(name: string): S3Identity {
  const hex = Array.from(
    crypto.getRandomValues(new Uint8Array(16)),
    (b) => b.toString(16).padStart(2, "0"),
  )
    .join("");
  return { access: `tcfs-${name}-${hex.slice(0, 8)}`, secret: `${name}-${hex}` };
}

/** A host whose S3 keys live in a real SOPS file, and a way to open the store from them. */
interface SopsHost {
  seaweedfs: SeaweedFS;
  /** Re-encrypts the SOPS file (real sops) with another key pair. */
  writeKeys(keys: S3Identity): Promise<void>;
  /** Walks the credential chain and opens the store with what it finds, as tcfs does. */
  open(): Promise<ObjectStore>;
  /** A store with fixed keys, to check what the refreshed store did. */
  storeWith(keys: S3Identity): ObjectStore;
}

async function sopsHost(dir: string, seaweedfs: SeaweedFS, first: S3Identity): Promise<SopsHost> {
  const age = await makeAgeKey(dir, "host");
  const writeKeys = async (keys: S3Identity) => {
    await sopsEncryptFile(
      dir,
      "secrets.yaml",
      `s3_access: ${keys.access}\ns3_secret: ${keys.secret}\ns3_endpoint: ${seaweedfs.endpoint}\n`,
      [age.recipient],
    );
  };
  await writeKeys(first);
  const input: CredentialChainInput = {
    env: { SOPS_AGE_KEY_FILE: age.keyFile, HOME: dir },
    sopsFile: join(dir, "secrets.yaml"),
    sopsNixDir: join(dir, "no-sops-nix"),
    kdbxEntry: "tcfs/s3",
    configFile: { path: join(dir, "config.toml"), exists: false },
    interactive: false,
  };
  const storeFor = (credentials: { accessKeyId: string; secretAccessKey: string }) =>
    openStore({
      endpoint: seaweedfs.endpoint,
      bucket: seaweedfs.bucket,
      region: "us-east-1",
      defaultStoreDir: join(dir, "unused"),
      credentials,
      retry: { attempts: 3, baseDelayMs: 20 },
    });
  return {
    seaweedfs,
    writeKeys,
    async open() {
      const s3 = requireS3Credentials(await resolveCredentials(input));
      return storeFor({
        accessKeyId: s3.accessKeyId.reveal(),
        secretAccessKey: s3.secretAccessKey.reveal(),
      });
    },
    storeWith: (keys) => storeFor({ accessKeyId: keys.access, secretAccessKey: keys.secret }),
  };
}

/** Runs `fn` with a SeaweedFS that accepts `key1` and `key2`'s SOPS host set up with `key1`. */
async function withRotation(
  fn: (host: SopsHost, keys: { key1: S3Identity; key2: S3Identity }) => Promise<void>,
): Promise<void> {
  const tmp = await makeScopedTempDir("tcfs-refresh-");
  const key1 = identity("key1");
  const key2 = identity("key2");
  try {
    await using seaweedfs = await startSeaweedFS({ identities: [key1, key2] });
    await fn(await sopsHost(tmp.path, seaweedfs, key1), { key1, key2 });
  } finally {
    await tmp.remove();
  }
}

Deno.test("a 403 after a rotation reloads the SOPS credentials once and the request succeeds", async () => {
  await withRotation(async (host, { key1, key2 }) => {
    let reopens = 0;
    const store = withCredentialRefresh(await host.open(), {
      reopen: () => (reopens++, host.open()),
    });
    try {
      await store.put("rotation/before", bytes("with key 1"));
      await host.writeKeys(key2);
      await host.seaweedfs.restart({ identities: [key2] });
      await store.put("rotation/after", bytes("with key 2"));
      assert.equal(reopens, 1);
      assert.equal(text(await store.get("rotation/before")), "with key 1");
      assert.equal(reopens, 1, "a working store is not reopened again");
    } finally {
      store.close();
    }
    const withKey2 = host.storeWith(key2);
    const withKey1 = host.storeWith(key1);
    try {
      assert.equal(text(await withKey2.get("rotation/after")), "with key 2");
      await assert.rejects(withKey1.get("rotation/after"), { kind: "store_forbidden" });
    } finally {
      withKey2.close();
      withKey1.close();
    }
  });
});

Deno.test("a second 403 propagates, and refusals right after a reload do not reload again", async () => {
  await withRotation(async (host, { key2 }) => {
    let reopens = 0;
    const store = withCredentialRefresh(await host.open(), {
      reopen: () => (reopens++, host.open()),
    });
    try {
      // Key 1 is removed from SeaweedFS but the SOPS file still holds it.
      await host.seaweedfs.restart({ identities: [key2] });
      await assert.rejects(store.put("k", bytes("x")), (err: unknown) => {
        assert.ok(err instanceof TcfsError);
        assert.equal(err.kind, "store_forbidden");
        return true;
      });
      assert.equal(reopens, 1);
      await assert.rejects(store.get("k"), (err: unknown) => {
        assert.ok(err instanceof TcfsError);
        assert.equal(err.kind, "store_forbidden");
        assert.match(err.message, /reloading the credentials did not help: .*moments ago/);
        return true;
      });
      assert.equal(reopens, 1, "no reload storm while the keys stay wrong");
    } finally {
      store.close();
    }
  });
});

Deno.test("concurrent refusals after a rotation share one reload", async () => {
  await withRotation(async (host, { key2 }) => {
    let reopens = 0;
    const store = withCredentialRefresh(await host.open(), {
      reopen: () => (reopens++, host.open()),
    });
    try {
      const keys = Array.from({ length: 8 }, (_, i) => `many/${i}`);
      await Promise.all(keys.map((key) => store.put(key, bytes(key))));
      await host.writeKeys(key2);
      await host.seaweedfs.restart({ identities: [key2] });
      const read = await Promise.all(keys.map(async (key) => text(await store.get(key))));
      assert.deepEqual(read, keys);
      assert.equal(reopens, 1);
    } finally {
      store.close();
    }
  });
});

Deno.test("a listing refused after a rotation is retried once on the reloaded store", async () => {
  await withRotation(async (host, { key2 }) => {
    let reopens = 0;
    const store = withCredentialRefresh(await host.open(), {
      reopen: () => (reopens++, host.open()),
    });
    try {
      for (const i of [1, 2, 3]) await store.put(`list/${i}`, bytes(String(i)));
      await host.writeKeys(key2);
      await host.seaweedfs.restart({ identities: [key2] });
      const listed = await Array.fromAsync(store.list("list/"), (info) => info.key);
      assert.deepEqual(listed, ["list/1", "list/2", "list/3"]);
      assert.equal(reopens, 1);
    } finally {
      store.close();
    }
  });
});
