import assert from "node:assert/strict";
import { join } from "node:path";
import { loadTestConfig } from "../../support/test_config.ts";
import { TcfsError } from "../../../core/errors.ts";
import { deviceHome } from "./device_home.ts";

Deno.test("with no config file, loadConfig gives the documented defaults", async () => {
  await using device = await deviceHome();
  const config = await loadTestConfig({ env: device.env, system: false });
  const { home } = device;
  assert.deepEqual(config.file, { path: device.configFile, exists: false });
  assert.deepEqual(config.envSources, {});
  assert.deepEqual(config.storage, {
    endpoint: "",
    bucket: "tcfs",
    region: "us-east-1",
    s3Access: undefined,
    s3Secret: undefined,
  });
  assert.deepEqual(config.sync, {
    namespace: "default",
    syncRoot: undefined,
    excludePatterns: ["*.swp", "*.swo", ".direnv"],
    deviceName: Deno.hostname(),
    conflictMode: "interactive",
    maxConflicts: 10,
    links: "keep",
    natsUrl: undefined,
    pollIntervalSecs: 30,
    debounceMs: 300,
    massDeleteRatio: 0.5,
    massDeleteMinFiles: 100,
  });
  assert.deepEqual(config.history, {
    keepDays: 30,
    keepLast: 10,
    staggered: false,
    gcIntervalSecs: 86400,
    gcMinAgeSecs: 3600,
  });
  assert.deepEqual(Object.values(config.nats), Array(7).fill(undefined));
  assert.deepEqual(config.daemon, {
    socket: join(home, ".local/state/tcfs/tcfsd.sock"),
    metricsAddr: "127.0.0.1:9100",
    logLevel: "info",
    logFormat: "text",
  });
  assert.deepEqual(config.secrets, {
    sopsFile: join(home, ".config/tcfs/secrets.yaml"),
    sopsNixDir: "/run/secrets/tcfs",
    ageIdentityFile: undefined,
    kdbxPath: undefined,
    kdbxEntry: "tcfs/s3",
    kdbxKeyFile: undefined,
  });
  assert.equal(config.paths.storeDir, join(home, ".local/share/tcfs/store"));
});

Deno.test("the default socket follows XDG_RUNTIME_DIR, and a system daemon's is /run", async () => {
  await using device = await deviceHome();
  const env = { ...device.env, XDG_RUNTIME_DIR: "/run/user/1000" };
  const user = await loadTestConfig({ env, system: false });
  const system = await loadTestConfig({ env, system: true });
  const expected = Deno.build.os === "darwin"
    ? ["/tmp/tcfsd.sock", "/tmp/tcfsd.sock"]
    : ["/run/user/1000/tcfsd.sock", "/run/tcfsd.sock"];
  assert.deepEqual([user.daemon.socket, system.daemon.socket], expected);
});

const FULL_CONFIG = `
[storage]
endpoint = "http://127.0.0.1:8333"
bucket = "lab-bucket"
region = "eu-west-1"
s3_access = "AKIDEXAMPLE"
s3_secret = "wJalrXUtnFEMI"

[sync]
namespace = "lab"
sync_root = "~/sync"
exclude_patterns = ["*.tmp"]
device_name = "yoga"
conflict_mode = "auto"
links = "skip"
nats_url = "nats://yoga.local:4222"
poll_interval_secs = 5
debounce_ms = 0
mass_delete_ratio = 0.3
mass_delete_min_files = 10

[history]
keep_days = 0
keep_last = 1
staggered = true
gc_interval_secs = 0
gc_min_age_secs = 600

[nats]
creds_file = "/etc/nats/tcfs.creds"
user = "tcfs"
password = "natspass"
token = "natstoken"
tls_ca_file = "~/ca.pem"
domain = "leaf"
replicas = 3

[daemon]
socket = "/tmp/devA.sock"
metrics_addr = "[::1]:9200"
log_level = "debug"
log_format = "json"

[secrets]
sops_file = "/etc/tcfs/secrets.yaml"
sops_nix_dir = "/run/secrets/lab"
age_identity_file = "~/.age/key.txt"
kdbx_path = "/home/shared/fleet.kdbx"
kdbx_entry = "fleet/s3"
kdbx_key_file = "/home/shared/fleet.keyx"
`;

Deno.test("every key of the config file is read, with ~ expanded in paths", async () => {
  await using device = await deviceHome(FULL_CONFIG, 0o640);
  const { home } = device;
  const config = await loadTestConfig({ env: device.env, system: false });
  assert.deepEqual(config.file, { path: device.configFile, exists: true, mode: 0o640 });
  assert.deepEqual(config.storage, {
    endpoint: "http://127.0.0.1:8333",
    bucket: "lab-bucket",
    region: "eu-west-1",
    s3Access: "AKIDEXAMPLE",
    s3Secret: "wJalrXUtnFEMI",
  });
  assert.deepEqual(config.sync, {
    namespace: "lab",
    syncRoot: join(home, "sync"),
    excludePatterns: ["*.tmp"],
    deviceName: "yoga",
    conflictMode: "auto",
    maxConflicts: 10,
    links: "skip",
    natsUrl: "nats://yoga.local:4222",
    pollIntervalSecs: 5,
    debounceMs: 0,
    massDeleteRatio: 0.3,
    massDeleteMinFiles: 10,
  });
  assert.deepEqual(config.history, {
    keepDays: 0,
    keepLast: 1,
    staggered: true,
    gcIntervalSecs: 0,
    gcMinAgeSecs: 600,
  });
  assert.deepEqual(config.nats, {
    credsFile: "/etc/nats/tcfs.creds",
    user: "tcfs",
    password: "natspass",
    token: "natstoken",
    tlsCaFile: join(home, "ca.pem"),
    domain: "leaf",
    replicas: 3,
  });
  assert.deepEqual(config.daemon, {
    socket: "/tmp/devA.sock",
    metricsAddr: "[::1]:9200",
    logLevel: "debug",
    logFormat: "json",
  });
  assert.deepEqual(config.secrets, {
    sopsFile: "/etc/tcfs/secrets.yaml",
    sopsNixDir: "/run/secrets/lab",
    ageIdentityFile: join(home, ".age/key.txt"),
    kdbxPath: "/home/shared/fleet.kdbx",
    kdbxEntry: "fleet/s3",
    kdbxKeyFile: "/home/shared/fleet.keyx",
  });
});

Deno.test("TCFS_* variables override the file and are reported as env sources", async () => {
  await using device = await deviceHome(FULL_CONFIG);
  const config = await loadTestConfig({
    env: { ...device.env, TCFS_S3_BUCKET: "from-env", TCFS_CONFLICT_MODE: "defer" },
  });
  assert.equal(config.storage.bucket, "from-env");
  assert.equal(config.sync.conflictMode, "defer");
  assert.equal(config.storage.region, "eu-west-1");
  assert.deepEqual(config.envSources, {
    "storage.bucket": "TCFS_S3_BUCKET",
    "sync.conflict_mode": "TCFS_CONFLICT_MODE",
  });
});

Deno.test("TCFS_MAX_CONFLICTS sets [sync] max_conflicts, which must be a whole number >= 1", async () => {
  await using device = await deviceHome(FULL_CONFIG);
  const config = await loadTestConfig({ env: { ...device.env, TCFS_MAX_CONFLICTS: "3" } });
  assert.equal(config.sync.maxConflicts, 3);
  assert.deepEqual(config.envSources, { "sync.max_conflicts": "TCFS_MAX_CONFLICTS" });
  for (const bad of ["0", "ten"]) {
    await assert.rejects(
      loadTestConfig({ env: { ...device.env, TCFS_MAX_CONFLICTS: bad } }),
      (err: unknown) => err instanceof TcfsError && err.kind === "config_invalid",
    );
  }
});

Deno.test("TCFS_HISTORY_KEEP_DAYS and TCFS_HISTORY_KEEP_LAST set the [history] policy over the file", async () => {
  await using device = await deviceHome(FULL_CONFIG);
  const env = { ...device.env, TCFS_HISTORY_KEEP_DAYS: "90", TCFS_HISTORY_KEEP_LAST: "3" };
  const config = await loadTestConfig({ env });
  assert.equal(config.history.keepDays, 90);
  assert.equal(config.history.keepLast, 3);
  assert.equal(config.history.staggered, true);
  assert.deepEqual(config.envSources, {
    "history.keep_days": "TCFS_HISTORY_KEEP_DAYS",
    "history.keep_last": "TCFS_HISTORY_KEEP_LAST",
  });
});

Deno.test("a [history] value out of range is refused with the file, the key and the range", async () => {
  await using device = await deviceHome("[history]\nkeep_days = 30\nkeep_last = 0\n");
  await assert.rejects(loadTestConfig({ env: device.env }), (err: unknown) => {
    assert.ok(err instanceof TcfsError);
    assert.equal(err.kind, "config_invalid");
    assert.equal(
      err.message,
      `config file ${device.configFile}: [history] keep_last = 0 is not valid: it is less than 1`,
    );
    assert.equal(
      err.hint,
      `set [history] keep_last to a whole number, at least 1 in ${device.configFile}`,
    );
    return true;
  });
});

Deno.test("an empty TCFS_* variable counts as unset", async () => {
  await using device = await deviceHome(FULL_CONFIG);
  const config = await loadTestConfig({ env: { ...device.env, TCFS_S3_BUCKET: "" } });
  assert.equal(config.storage.bucket, "lab-bucket");
  assert.deepEqual(config.envSources, {});
});

Deno.test("TCFS_CONFIG and the path option choose the config file", async () => {
  await using device = await deviceHome();
  const other = join(device.home, "other.toml");
  await Deno.writeTextFile(other, '[sync]\nnamespace = "other"\n');
  const viaEnv = await loadTestConfig({ env: { ...device.env, TCFS_CONFIG: other } });
  assert.equal(viaEnv.sync.namespace, "other");
  assert.equal(viaEnv.file.path, other);
  assert.equal(viaEnv.paths.configFile, other);
  const viaOption = await loadTestConfig({
    env: { ...device.env, TCFS_CONFIG: join(device.home, "missing.toml") },
    path: other,
  });
  assert.equal(viaOption.sync.namespace, "other");
});

Deno.test("a config path that is a directory is a clear error", async () => {
  await using device = await deviceHome();
  await assert.rejects(loadTestConfig({ env: device.env, path: device.home }), (err: unknown) => {
    assert.ok(err instanceof TcfsError);
    assert.match(err.message, new RegExp(`cannot read config file ${device.home}: `));
    assert.match(err.hint ?? "", /TCFS_CONFIG/);
    return true;
  });
});

Deno.test("a bad value in the file is reported by loadConfig with the file and key", async () => {
  await using device = await deviceHome('[sync]\nconflict_mode = "sometimes"\n');
  await assert.rejects(loadTestConfig({ env: device.env }), (err: unknown) => {
    assert.ok(err instanceof TcfsError);
    assert.equal(err.kind, "config_invalid");
    assert.match(err.message, new RegExp(`${device.configFile}: \\[sync\\] conflict_mode`));
    return true;
  });
});

Deno.test("a config file with NATS credentials in [sync] nats_url must be private", async () => {
  const text = '[sync]\nnats_url = "nats://tcfs:hunter2@yoga:4222"\n';
  {
    await using device = await deviceHome(text, 0o644);
    await assert.rejects(
      loadTestConfig({ env: device.env, system: false }),
      (err: TcfsError) =>
        err.kind === "config-secrets-exposed" && err.message.includes(device.configFile) &&
        !err.message.includes("hunter2"),
    );
  }
  await using device = await deviceHome(text, 0o600);
  const config = await loadTestConfig({ env: device.env, system: false });
  assert.equal(config.sync.natsUrl, "nats://tcfs:hunter2@yoga:4222");
});
