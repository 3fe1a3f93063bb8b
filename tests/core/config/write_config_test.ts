import assert from "node:assert/strict";
import { join } from "node:path";
import { loadTestConfig } from "../../support/test_config.ts";
import { writeConfigFile } from "../../../core/config/write_config.ts";
import type { ConfigFileUpdates } from "../../../core/config/write_config.ts";
import { TcfsError } from "../../../core/errors.ts";
import { deviceHome } from "./device_home.ts";

Deno.test("writeConfigFile creates the file, mode 0600, and loadConfig reads it back", async () => {
  await using device = await deviceHome();
  await writeConfigFile(device.configFile, {
    storage: { endpoint: "file:///mnt/shared", bucket: undefined },
    sync: { device_name: "yoga", conflict_mode: "auto", sync_root: "~/sync" },
  });
  assert.equal((await Deno.stat(device.configFile)).mode! & 0o777, 0o600);
  const config = await loadTestConfig({ env: device.env });
  assert.equal(config.storage.endpoint, "file:///mnt/shared");
  assert.equal(config.storage.bucket, "tcfs");
  assert.equal(config.sync.deviceName, "yoga");
  assert.equal(config.sync.conflictMode, "auto");
  assert.equal(config.sync.syncRoot, join(device.home, "sync"));
  assert.match(await Deno.readTextFile(device.configFile), /sync_root = "~\/sync"/);
});

Deno.test("writeConfigFile keeps the keys it does not update and tightens the mode", async () => {
  await using device = await deviceHome(
    '[storage]\nbucket = "lab"\ns3_secret = "keep-me"\n\n[daemon]\nlog_level = "debug"\n',
    0o644,
  );
  await writeConfigFile(device.configFile, {
    storage: { bucket: "fleet" },
    nats: { domain: "leaf" },
  });
  const config = await loadTestConfig({ env: device.env });
  assert.equal(config.storage.bucket, "fleet");
  assert.equal(config.storage.s3Secret, "keep-me");
  assert.equal(config.daemon.logLevel, "debug");
  assert.equal(config.nats.domain, "leaf");
  assert.equal(config.file.mode, 0o600);
  const leftovers = [...Deno.readDirSync(join(device.home, ".config/tcfs"))].map((e) => e.name);
  assert.deepEqual(leftovers, ["config.toml"]);
});

Deno.test("writeConfigFile refuses an invalid update and leaves the file untouched", async () => {
  const original = '[sync]\nnamespace = "lab"\n';
  await using device = await deviceHome(original);
  for (
    const updates of [
      { sync: { conflict_mode: "sometimes" } },
      { sync: { conflict_mod: "auto" } },
      // A caller that bypasses the types, as JSON-driven callers can.
      { fuse: { cache: 1 } } as unknown as ConfigFileUpdates,
    ]
  ) {
    await assert.rejects(writeConfigFile(device.configFile, updates), (err: unknown) => {
      assert.ok(err instanceof TcfsError);
      assert.equal(err.kind, "config_invalid");
      assert.ok(err.message.includes(device.configFile));
      return true;
    });
  }
  assert.equal(await Deno.readTextFile(device.configFile), original);
});

Deno.test("writeConfigFile refuses to overwrite a malformed file", async () => {
  const original = "[sync\nnamespace = 1\n";
  await using device = await deviceHome(original);
  await assert.rejects(
    writeConfigFile(device.configFile, { sync: { namespace: "lab" } }),
    /is not valid TOML/,
  );
  assert.equal(await Deno.readTextFile(device.configFile), original);
});
