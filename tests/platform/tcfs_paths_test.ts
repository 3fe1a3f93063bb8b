import assert from "node:assert/strict";
import { defaultSocketPath, tcfsPaths } from "../../platform/tcfs_paths.ts";

Deno.test("tcfsPaths puts every per-device file under HOME", () => {
  assert.deepEqual(tcfsPaths({ HOME: "/tmp/devA" }), {
    configFile: "/tmp/devA/.config/tcfs/config.toml",
    envFile: "/tmp/devA/.config/tcfs/env",
    secretsFile: "/tmp/devA/.config/tcfs/secrets.yaml",
    ageKeyFile: "/tmp/devA/.config/sops/age/keys.txt",
    storeDir: "/tmp/devA/.local/share/tcfs/store",
    stateDb: "/tmp/devA/.local/state/tcfs/state.db",
    deviceFile: "/tmp/devA/.config/tcfs/device.json",
    recoveryKeyFile: "/tmp/devA/.config/tcfs/recovery-key.txt",
    cacheDir: "/tmp/devA/.cache/tcfs",
  });
});

Deno.test("tcfsPaths follows the XDG variables", () => {
  const paths = tcfsPaths({
    HOME: "/home/ada",
    XDG_CONFIG_HOME: "/cfg",
    XDG_DATA_HOME: "/data",
    XDG_STATE_HOME: "/state",
    XDG_CACHE_HOME: "/cache",
  });
  assert.equal(paths.configFile, "/cfg/tcfs/config.toml");
  assert.equal(paths.ageKeyFile, "/cfg/sops/age/keys.txt");
  assert.equal(paths.storeDir, "/data/tcfs/store");
  assert.equal(paths.stateDb, "/state/tcfs/state.db");
  assert.equal(paths.cacheDir, "/cache/tcfs");
});

Deno.test("tcfsPaths takes the config file from TCFS_CONFIG, relative to the working directory", () => {
  assert.equal(
    tcfsPaths({ HOME: "/home/ada", TCFS_CONFIG: "/etc/tcfs/config.toml" }).configFile,
    "/etc/tcfs/config.toml",
  );
  assert.equal(
    tcfsPaths({ HOME: "/home/ada", TCFS_CONFIG: "lab.toml" }).configFile,
    `${Deno.cwd()}/lab.toml`,
  );
});

Deno.test("defaultSocketPath follows the fleet guide's rules", () => {
  const env = { HOME: "/home/ada", XDG_RUNTIME_DIR: "/run/user/1000" };
  assert.equal(defaultSocketPath(env, { system: true, os: "linux" }), "/run/tcfsd.sock");
  assert.equal(defaultSocketPath(env, { system: false, os: "darwin" }), "/tmp/tcfsd.sock");
  assert.equal(defaultSocketPath(env, { system: true, os: "darwin" }), "/tmp/tcfsd.sock");
  // macOS gives each user a private TMPDIR; the shared /tmp is only the fallback.
  const mac = { HOME: "/Users/ada", TMPDIR: "/var/folders/x1/abc/T/" };
  assert.equal(
    defaultSocketPath(mac, { system: false, os: "darwin" }),
    "/var/folders/x1/abc/T/tcfsd.sock",
  );
  assert.equal(defaultSocketPath(mac, { system: true, os: "darwin" }), "/tmp/tcfsd.sock");
  assert.equal(
    defaultSocketPath(env, { system: false, os: "linux" }),
    "/run/user/1000/tcfsd.sock",
  );
});

Deno.test("defaultSocketPath falls back to the state dir without XDG_RUNTIME_DIR", () => {
  assert.equal(
    defaultSocketPath({ HOME: "/tmp/devA" }, { system: false, os: "linux" }),
    "/tmp/devA/.local/state/tcfs/tcfsd.sock",
  );
});

Deno.test("a system daemon's socket does not need HOME", () => {
  assert.equal(defaultSocketPath({}, { system: true, os: "linux" }), "/run/tcfsd.sock");
});
