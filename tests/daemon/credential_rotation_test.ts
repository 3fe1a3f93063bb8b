import assert from "node:assert/strict";
import { join } from "node:path";
import { type DaemonDevice, makeDaemonDevice, waitFor } from "./daemon_device.ts";
import { type DeviceHome, makeDeviceHome } from "../support/device_home.ts";
import { makeScopedTempDir } from "../support/module_unload.ts";
import { startNatsServer } from "../support/nats_process.ts";
import { type S3Identity, startSeaweedFS } from "../support/seaweedfs_process.ts";
import { servicesEnv } from "../support/services_env.ts";
import { makeAgeKey, sopsEncryptFile } from "../core/credentials/real_tools.ts";

function identity(name: string): S3Identity {
  const hex = Array.from(
    crypto.getRandomValues(new Uint8Array(16)),
    (b) => b.toString(16).padStart(2, "0"),
  ).join("");
  return { access: `tcfs-${name}-${hex.slice(0, 8)}`, secret: `${name}-secret-${hex}` };
}

/**
 * Puts `keys` in the device's SOPS file the way the fleet guide does: an age key made by
 * `age-keygen` where sops looks for it, a `.sops.yaml` rule for the file, and `sops encrypt`.
 * Returns the file's path.
 */
async function sopsCredentials(home: string, keys: S3Identity, extra = ""): Promise<string> {
  const configDir = join(home, ".config", "tcfs");
  const ageDir = join(home, ".config", "sops", "age");
  await Deno.mkdir(configDir, { recursive: true });
  await Deno.mkdir(ageDir, { recursive: true });
  const host = await makeAgeKey(ageDir, "keys");
  await Deno.writeTextFile(
    join(configDir, ".sops.yaml"),
    `creation_rules:\n  - path_regex: secrets\\.yaml$\n    age: ${host.recipient}\n`,
  );
  return await sopsEncryptFile(
    configDir,
    "secrets.yaml",
    `s3_access: ${keys.access}\ns3_secret: ${keys.secret}\n${extra}`,
    [host.recipient],
  );
}

/** What another device sees in the store with `keys`: path → size. */
async function remoteSizes(observer: DeviceHome, keys: S3Identity): Promise<Map<string, number>> {
  const result = await observer.tcfs(["ls", "--json"], {
    env: { TCFS_S3_ACCESS: keys.access, TCFS_S3_SECRET: keys.secret },
  });
  if (result.code !== 0) return new Map();
  const entries = JSON.parse(result.stdout) as { path: string; size: number }[];
  return new Map(entries.map((entry) => [entry.path, entry.size]));
}

/** Waits until a file the daemon should push shows up in the store with `text`'s size. */
async function waitUntilStored(
  device: DaemonDevice,
  observer: DeviceHome,
  keys: S3Identity,
  path: string,
  text: string,
): Promise<void> {
  await waitFor(
    async () =>
      (await remoteSizes(observer, keys)).get(path) === new TextEncoder().encode(text).length,
    30_000,
    async () => `${path} never reached the store; daemon log:\n${await device.log()}`,
  );
}

/** Whether the daemon reported a failed sync or counted an error. */
async function assertNoFailedSync(
  device: DaemonDevice,
  lines: { kind: string; outcome?: string }[],
) {
  const status = await device.status();
  for (const root of status.sync.roots) assert.equal(root.last_error, undefined, root.last_error);
  assert.deepEqual(lines.filter((line) => line.kind === "sync" && line.outcome === "error"), []);
  const metrics = await metricsText(device);
  assert.equal(errorsTotal(metrics), 0, metrics);
}

async function metricsText(device: DaemonDevice): Promise<string> {
  const { metrics_addr } = await device.status();
  const response = await fetch(`http://${metrics_addr}/metrics`);
  return await response.text();
}

/** The sum of `tcfs_errors_total` over its labels. */
function errorsTotal(metrics: string): number {
  return metrics.split("\n")
    .filter((line) => line.startsWith("tcfs_errors_total"))
    .reduce((sum, line) => sum + Number(line.split(" ").at(-1)), 0);
}

/** Everything the daemon shows the world: its whole log, its metrics and its status. */
async function everythingShown(device: DaemonDevice): Promise<string> {
  return [
    await device.log(),
    await metricsText(device),
    JSON.stringify(await device.status()),
    (await device.tcfs(["status", "--json"])).stdout,
    (await device.tcfs(["creds", "status", "--json"])).stdout,
    (await device.tcfs(["config", "show"])).stdout,
  ].join("\n");
}

function assertNotShown(shown: string, secrets: string[]) {
  for (const secret of secrets) {
    assert.ok(!shown.includes(secret), `a secret appeared in the daemon's output`);
  }
}

Deno.test("rotation end to end: the daemon keeps syncing through `tcfs creds rotate` and the old key's removal", async () => {
  const tmp = await makeScopedTempDir("tcfs-daemon-rotation-");
  const key1 = identity("key1");
  const key2 = identity("key2");
  await using seaweedfs = await startSeaweedFS({ identities: [key1, key2] });
  await using nats = await startNatsServer();
  const env = {
    TCFS_S3_ENDPOINT: seaweedfs.endpoint,
    TCFS_S3_BUCKET: seaweedfs.bucket,
    TCFS_NAMESPACE: "rotation",
  };
  const device = await makeDaemonDevice(tmp.path, "yoga", { ...env, TCFS_NATS_URL: nats.url });
  const observer = await makeDeviceHome(tmp.path, "observer", {
    ...env,
    TCFS_SOCKET: join(tmp.path, "observer", "run", "tcfsd.sock"),
  });
  const sopsFile = await sopsCredentials(device.home, key1);
  const logs = async () => `daemon log:\n${await device.log()}`;
  await device.start();
  const activity = await device.recordEvents();
  try {
    const before = await device.status();
    assert.equal(before.credentials.source, `sops:${sopsFile}`);
    await waitFor(async () => (await device.status()).nats.state === "connected", 15_000, logs);

    await Deno.writeTextFile(join(device.root, "before.txt"), "synced with key 1\n");
    await waitFor(async () => (await remoteSizes(observer, key1)).has("before.txt"), 20_000, logs);

    const rotated = await device.tcfs(["creds", "rotate", "--json"], {
      TCFS_NEW_ACCESS_KEY: key2.access,
      TCFS_NEW_SECRET_KEY: key2.secret,
    });
    assert.equal(rotated.code, 0, rotated.stderr);
    const report = JSON.parse(rotated.stdout);
    assert.equal(report.daemon.state, "reloaded");
    assert.equal(report.daemon.credentials_source, `sops:${sopsFile}`);

    // Key 1 is gone from SeaweedFS: only the rotated key works from now on.
    await seaweedfs.restart({ identities: [key2] });
    const edited = "edited after the rotation\n";
    await Deno.writeTextFile(join(device.root, "after.txt"), "synced with key 2\n");
    await Deno.writeTextFile(join(device.root, "before.txt"), edited);
    await waitFor(
      async () => {
        const sizes = await remoteSizes(observer, key2);
        return sizes.has("after.txt") && sizes.get("before.txt") === edited.length;
      },
      30_000,
      logs,
    );
    const pulled = join(tmp.path, "pulled");
    const pull = await observer.tcfs(["pull", `${seaweedfs.bucket}/rotation`, pulled], {
      env: { TCFS_S3_ACCESS: key2.access, TCFS_S3_SECRET: key2.secret },
    });
    assert.equal(pull.code, 0, pull.stderr);
    assert.equal(await Deno.readTextFile(join(pulled, "after.txt")), "synced with key 2\n");
    assert.equal(await Deno.readTextFile(join(pulled, "before.txt")), edited);

    const after = await device.status();
    assert.equal(after.pid, before.pid, "the daemon was not restarted");
    assert.equal(after.credentials.source, `sops:${sopsFile}`);
    assert.ok(after.credentials.loaded_at > before.credentials.loaded_at);
    await waitFor(async () => (await device.status()).nats.state === "connected", 15_000, logs);
    await assertNoFailedSync(device, activity.lines);

    const creds = JSON.parse((await device.tcfs(["creds", "status", "--json"])).stdout);
    assert.equal(creds.source, `sops:${sopsFile}`);
    assert.deepEqual(
      [creds.daemon.source, creds.daemon.loaded_at],
      [`sops:${sopsFile}`, after.credentials.loaded_at],
    );
    const doctor = await device.tcfs(["doctor", "--json"]);
    const checks = Object.fromEntries(
      (JSON.parse(doctor.stdout).checks as { name: string; status: string }[])
        .map((check) => [check.name, check.status]),
    );
    for (
      const name of [
        "credentials",
        "store reachable",
        "bucket writable",
        "nats reachable",
        "daemon",
      ]
    ) {
      assert.equal(checks[name], "ok", `${name}: ${doctor.stdout}`);
    }
    assertNotShown(await everythingShown(device), [key1.secret, key2.secret]);
  } finally {
    await activity.stop();
    await device.stop();
    await tmp.remove();
  }
});

Deno.test("a SOPS file replaced by a deploy, with no reload asked, is picked up by the file watch", async () => {
  const tmp = await makeScopedTempDir("tcfs-daemon-rotation-");
  const key1 = identity("key1");
  const key2 = identity("key2");
  await using seaweedfs = await startSeaweedFS({ identities: [key1, key2] });
  const env = {
    TCFS_S3_ENDPOINT: seaweedfs.endpoint,
    TCFS_S3_BUCKET: seaweedfs.bucket,
    TCFS_NAMESPACE: "deploy",
  };
  const device = await makeDaemonDevice(tmp.path, "yoga", env);
  const observer = await makeDeviceHome(tmp.path, "observer", {
    ...env,
    TCFS_SOCKET: join(tmp.path, "observer", "run", "tcfsd.sock"),
  });
  const sopsFile = await sopsCredentials(device.home, key1);
  await device.start();
  const activity = await device.recordEvents();
  try {
    const before = await device.status();
    await Deno.writeTextFile(join(device.root, "one.txt"), "one\n");
    await waitUntilStored(device, observer, key1, "one.txt", "one\n");

    // The deploy: encrypted elsewhere, copied next to the file and renamed over it.
    const recipient =
      (await Deno.readTextFile(join(device.home, ".config", "sops", "age", "keys.txt")))
        .match(/public key: (age1\w+)/)![1];
    const staging = join(tmp.path, "staging");
    await Deno.mkdir(staging);
    const built = await sopsEncryptFile(
      staging,
      "secrets.yaml",
      `s3_access: ${key2.access}\ns3_secret: ${key2.secret}\n`,
      [recipient],
    );
    await Deno.copyFile(built, `${sopsFile}.deploy`);
    await Deno.rename(`${sopsFile}.deploy`, sopsFile);
    await waitFor(
      async () => (await device.status()).credentials.loaded_at > before.credentials.loaded_at,
      10_000,
      async () => `the daemon did not reload on its own:\n${await device.log()}`,
    );
    assert.match(await device.log(), /secrets\.yaml changed: reloading/);

    await seaweedfs.restart({ identities: [key2] });
    await Deno.writeTextFile(join(device.root, "two.txt"), "two\n");
    await waitUntilStored(device, observer, key2, "two.txt", "two\n");
    assert.equal((await device.status()).pid, before.pid);
    await assertNoFailedSync(device, activity.lines);
  } finally {
    await activity.stop();
    await device.stop();
    await tmp.remove();
  }
});

Deno.test("sops-nix files rotated without any signal: the first refused request reloads them", async () => {
  const tmp = await makeScopedTempDir("tcfs-daemon-rotation-");
  const key1 = identity("key1");
  const key2 = identity("key2");
  await using seaweedfs = await startSeaweedFS({ identities: [key1, key2] });
  const env = {
    TCFS_S3_ENDPOINT: seaweedfs.endpoint,
    TCFS_S3_BUCKET: seaweedfs.bucket,
    TCFS_NAMESPACE: "sops-nix",
  };
  const device = await makeDaemonDevice(tmp.path, "yoga", env);
  const observer = await makeDeviceHome(tmp.path, "observer", {
    ...env,
    TCFS_SOCKET: join(tmp.path, "observer", "run", "tcfsd.sock"),
  });
  const secretsDir = join(device.home, "run-secrets-tcfs");
  const deploy = async (keys: S3Identity) => {
    await Deno.mkdir(secretsDir, { recursive: true });
    await Deno.writeTextFile(join(secretsDir, "s3_access"), `${keys.access}\n`, { mode: 0o400 });
    await Deno.writeTextFile(join(secretsDir, "s3_secret"), `${keys.secret}\n`, { mode: 0o400 });
  };
  await deploy(key1);
  await device.writeConfig(`[secrets]\nsops_nix_dir = "${secretsDir}"\n`);
  await device.start();
  const activity = await device.recordEvents();
  try {
    const before = await device.status();
    assert.equal(before.credentials.source, `sops-nix:${secretsDir}`);
    await Deno.writeTextFile(join(device.root, "one.txt"), "one\n");
    await waitUntilStored(device, observer, key1, "one.txt", "one\n");

    // sops-nix's activation replaces the files; nobody tells the daemon.
    await Deno.remove(secretsDir, { recursive: true });
    await deploy(key2);
    await seaweedfs.restart({ identities: [key2] });
    await Deno.writeTextFile(join(device.root, "two.txt"), "two\n");
    await waitUntilStored(device, observer, key2, "two.txt", "two\n");

    const after = await device.status();
    assert.equal(after.pid, before.pid);
    assert.ok(after.credentials.loaded_at > before.credentials.loaded_at);
    assert.match(await device.log(), /S3 refused a request: reloaded the credentials/);
    await assertNoFailedSync(device, activity.lines);
  } finally {
    await activity.stop();
    await device.stop();
    await tmp.remove();
  }
});

Deno.test("secrets never appear in the daemon's log, /metrics, GET /v1/status or the CLI's views", async () => {
  const tmp = await makeScopedTempDir("tcfs-daemon-secrets-");
  const s = servicesEnv();
  const natsPassword = `nats-password-${crypto.randomUUID()}`;
  const device = await makeDaemonDevice(tmp.path, "yoga", {
    TCFS_S3_ENDPOINT: s.s3Endpoint,
    TCFS_S3_BUCKET: s.s3Bucket,
    TCFS_NAMESPACE: `secrets-${crypto.randomUUID().slice(0, 8)}`,
  });
  // The keys come from the SOPS file, with a NATS URL carrying a password (nobody listens).
  await sopsCredentials(
    device.home,
    { access: s.s3Access, secret: s.s3Secret },
    `nats_url: nats://tcfs:${natsPassword}@127.0.0.1:1\n`,
  );
  await device.start();
  try {
    await Deno.writeTextFile(join(device.root, "report.txt"), "synced\n");
    await waitFor(
      async () => (await device.status()).sync.roots.some((root) => root.last_sync_at),
      20_000,
      async () => `no sync completed:\n${await device.log()}`,
    );
    device.signal("SIGHUP");
    await waitFor(
      async () => (await device.log()).includes("reloaded the config and credentials"),
      10_000,
      async () => `no reload:\n${await device.log()}`,
    );
    assertNotShown(await everythingShown(device), [s.s3Secret, natsPassword]);
  } finally {
    await device.stop();
    await tmp.remove();
  }
});
