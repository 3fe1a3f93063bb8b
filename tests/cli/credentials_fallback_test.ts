import assert from "node:assert/strict";
import { join } from "node:path";
import { type DeviceHome, makeDeviceHome } from "../support/device_home.ts";
import { makeScopedTempDir } from "../support/module_unload.ts";
import { makeAgeKey, sopsEncryptFile } from "../core/credentials/real_tools.ts";
import { createFsStore } from "../../core/store/fs_store.ts";
import { storeSegments } from "../support/journal_store.ts";
import { makeDaemonDevice } from "../daemon/daemon_device.ts";

/**
 * The seed's layout: the endpoint and the keys live only in the SOPS file, encrypted for the
 * host's age key, which sits where age-keygen puts it. The remote is a directory store (the
 * failure comes before any request, so S3 would show nothing more).
 */
async function seedHost(parent: string) {
  const device = await makeDeviceHome(parent, "yoga", {});
  const ageDir = join(device.home, ".config", "sops", "age");
  await Deno.mkdir(ageDir, { recursive: true });
  await Deno.mkdir(join(device.home, ".config", "tcfs"), { recursive: true });
  const age = await makeAgeKey(ageDir, "keys");
  return { device, remote: join(parent, "remote"), recipient: age.recipient };
}

function seedSecrets(remote: string, withKeys = true): string {
  return `s3_endpoint: file://${remote}\n` +
    (withKeys ? "s3_access: AK-SEED-0001\ns3_secret: seed-secret-value-0001\n" : "");
}

async function writeSecrets(device: DeviceHome, text: string, recipient: string) {
  return await sopsEncryptFile(join(device.home, ".config", "tcfs"), "secrets.yaml", text, [
    recipient,
  ]);
}

async function embeddedStoreEntries(device: DeviceHome): Promise<string[]> {
  try {
    return await Array.fromAsync(
      Deno.readDir(join(device.home, ".local", "share", "tcfs", "store")),
      (entry) => entry.name,
    );
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) return [];
    throw err;
  }
}

/** Versions in the journals of the file:// store at `remote`. */
async function remoteVersionCount(remote: string): Promise<number> {
  const store = createFsStore(remote);
  try {
    return (await storeSegments(store)).flatMap((segment) => segment.versions).length;
  } finally {
    store.close();
  }
}

Deno.test("a SOPS file this host cannot open, or one that was tampered with, fails push instead of filling the local store", async () => {
  const tmp = await makeScopedTempDir("tcfs-creds-fallback-");
  try {
    const host = await seedHost(tmp.path);
    const file = join(host.device.home, "notes.txt");
    await Deno.writeTextFile(file, "only copy");

    // The layout works when the key opens the file: the version lands on the remote.
    const secrets = await writeSecrets(host.device, seedSecrets(host.remote), host.recipient);
    const ok = await host.device.tcfs(["push", file]);
    assert.equal(ok.code, 0, ok.stderr);
    assert.equal(await remoteVersionCount(host.remote), 1);
    await Deno.writeTextFile(file, "second edit");

    // Encrypted for another host's key.
    const stranger = await makeAgeKey(tmp.path, "stranger");
    await writeSecrets(host.device, seedSecrets(host.remote), stranger.recipient);
    const wrongKey = await host.device.tcfs(["push", file]);
    assert.equal(wrongKey.code, 1, wrongKey.stdout);
    assert.match(wrongKey.stderr, new RegExp(`sops:${secrets}`));
    assert.match(wrongKey.stderr, /will not use the local store/);
    assert.match(wrongKey.stderr, /tcfs creds status/);
    assert.doesNotMatch(wrongKey.stdout, /pushed/);
    // doctor does not call the local store fine either, nor write into it.
    const doctor = await host.device.tcfs(["doctor", "--json"]);
    const storeCheck = JSON.parse(doctor.stdout).checks.find((check: { name: string }) =>
      check.name === "store reachable"
    );
    assert.equal(storeCheck.status, "fail");
    assert.match(storeCheck.detail, /will not use the local store/);

    // Encrypted for this host, then one ciphertext character changed: the MAC fails.
    await writeSecrets(host.device, seedSecrets(host.remote), host.recipient);
    const text = await Deno.readTextFile(secrets);
    const at = text.indexOf("ENC[AES256_GCM,data:") + "ENC[AES256_GCM,data:".length;
    const flipped = text[at] === "A" ? "B" : "A";
    await Deno.writeTextFile(secrets, text.slice(0, at) + flipped + text.slice(at + 1));
    const tampered = await host.device.tcfs(["push", file]);
    assert.equal(tampered.code, 1, tampered.stdout);
    assert.match(tampered.stderr, /will not use the local store/);

    // An endpoint without keys still names the remote.
    await writeSecrets(host.device, seedSecrets(host.remote, false), host.recipient);
    const keyless = await host.device.tcfs(["push", file, "--json"]);
    assert.equal(keyless.code, 1, keyless.stdout);
    const error = JSON.parse(keyless.stdout).error;
    assert.equal(error.kind, "credentials-incomplete");
    assert.match(error.message, /names an S3 endpoint but no S3 key pair/);

    assert.deepEqual(await embeddedStoreEntries(host.device), []);

    // Choosing the local store on purpose still works.
    const local = await host.device.tcfs(["push", file], {
      env: {
        TCFS_S3_ENDPOINT: `file://${join(host.device.home, ".local", "share", "tcfs", "store")}`,
      },
    });
    assert.equal(local.code, 0, local.stderr);
  } finally {
    await tmp.remove();
  }
});

Deno.test("a daemon whose SOPS file cannot be opened reports it and does not sync into the local store", async () => {
  const tmp = await makeScopedTempDir("tcfs-creds-fallback-daemon-");
  try {
    const remote = join(tmp.path, "remote");
    const device = await makeDaemonDevice(tmp.path, "yoga", {});
    const ageDir = join(device.home, ".config", "sops", "age");
    await Deno.mkdir(ageDir, { recursive: true });
    await Deno.mkdir(join(device.home, ".config", "tcfs"), { recursive: true });
    await makeAgeKey(ageDir, "keys");
    const stranger = await makeAgeKey(tmp.path, "stranger");
    await sopsEncryptFile(
      join(device.home, ".config", "tcfs"),
      "secrets.yaml",
      seedSecrets(remote),
      [
        stranger.recipient,
      ],
    );
    await Deno.writeTextFile(join(device.root, "notes.txt"), "only copy");

    const started = await device.start().then(() => "answered", (err: Error) => err.message);
    if (started === "answered") await device.stop();
    assert.notEqual(started, "answered", "the daemon must not run on the local store");
    assert.match(started, /will not use the local store/);
    assert.match(started, /no matching key/);
    const store = join(device.home, ".local", "share", "tcfs", "store");
    const entries = await Array.fromAsync(Deno.readDir(store)).catch(() => []);
    assert.deepEqual(entries, []);
    assert.equal(await remoteVersionCount(remote), 0);
  } finally {
    await tmp.remove();
  }
});
