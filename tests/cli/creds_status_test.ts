import assert from "node:assert/strict";
import { join } from "node:path";
import { type CliResult, type DeviceHome, makeDeviceHome } from "../support/device_home.ts";
import { makeScopedTempDir } from "../support/module_unload.ts";
import {
  makeAgeKey,
  makeKeepassxcDatabase,
  sopsEncryptFile,
} from "../core/credentials/real_tools.ts";

/** One key pair per source, so the output shows which source won. */
const KEYS = {
  env: { access: "AK-ENV-0001", secret: "env-secret-value-0001" },
  sops: { access: "AK-SOPS-0002", secret: "sops-secret-value-0002" },
  kdbx: { access: "AK-KDBX-0003", secret: "kdbx-secret-value-0003" },
  config: { access: "AK-CONFIG-0004", secret: "config-secret-value-0004" },
};
const KDBX_PASSWORD = "kdbx-password-value-0005";
const SECRETS = [...Object.values(KEYS).map((pair) => pair.secret), KDBX_PASSWORD];

interface StatusJson {
  source: string;
  s3: string;
  tried: { source: string; outcome: string; reason: string }[];
  warnings: string[];
}

/**
 * A device with every source of the chain set up the way users do it: the age key where
 * `age-keygen` is told to put it, the SOPS file from `sops`, a KeePassXC database from
 * `keepassxc-cli`, plaintext keys in a 0600 config.toml, and the TCFS_S3_* variables.
 */
async function deviceWithEverySource(parent: string) {
  const device = await makeDeviceHome(parent, "yoga", {
    TCFS_SOCKET: join(parent, "yoga", "run", "tcfsd.sock"),
  });
  const configDir = join(device.home, ".config", "tcfs");
  const ageDir = join(device.home, ".config", "sops", "age");
  await Deno.mkdir(configDir, { recursive: true });
  await Deno.mkdir(ageDir, { recursive: true });
  const age = await makeAgeKey(ageDir, "keys");
  const sopsFile = await sopsEncryptFile(
    configDir,
    "secrets.yaml",
    `s3_access: ${KEYS.sops.access}\ns3_secret: ${KEYS.sops.secret}\n`,
    [age.recipient],
  );
  const kdbxDir = join(device.home, "keepass");
  await Deno.mkdir(kdbxDir);
  const kdbx = await makeKeepassxcDatabase(kdbxDir, { password: KDBX_PASSWORD }, {
    path: "tcfs/s3",
    userName: KEYS.kdbx.access,
    password: KEYS.kdbx.secret,
    url: "http://kdbx.example:8333",
  });
  const configFile = join(configDir, "config.toml");
  await Deno.writeTextFile(
    configFile,
    `[storage]\ns3_access = "${KEYS.config.access}"\ns3_secret = "${KEYS.config.secret}"\n\n` +
      `[secrets]\nsops_nix_dir = "${join(device.home, "no-sops-nix")}"\n`,
    { mode: 0o600 },
  );
  const env = {
    TCFS_S3_ACCESS: KEYS.env.access,
    TCFS_S3_SECRET: KEYS.env.secret,
    TCFS_KDBX_PATH: kdbx,
    TCFS_KDBX_PASSWORD: KDBX_PASSWORD,
  };
  return { device, sopsFile, kdbx, configFile, ageKeyFile: age.keyFile, env };
}

/** Runs `tcfs creds status` as text and as JSON; neither may show a secret. */
async function credsStatus(device: DeviceHome, env: Record<string, string>) {
  const text = await device.tcfs(["creds", "status"], { env });
  const json = await device.tcfs(["creds", "status", "--json"], { env });
  assert.equal(text.code, 0, text.stderr);
  assert.equal(json.code, 0, json.stderr);
  assertNoSecrets(text, json);
  return { text: text.stdout, json: JSON.parse(json.stdout) as StatusJson };
}

function assertNoSecrets(...results: CliResult[]) {
  const shown = results.map((result) => result.stdout + result.stderr).join("\n");
  for (const secret of SECRETS) {
    assert.ok(!shown.includes(secret), `a secret value was shown:\n${shown}`);
  }
}

function outcomes(status: StatusJson): string[] {
  return status.tried.map((attempt) => `${attempt.outcome} ${attempt.source}`);
}

Deno.test("creds status shows the winning source, each shadowing the ones below it", async () => {
  const tmp = await makeScopedTempDir("tcfs-creds-status-");
  try {
    const host = await deviceWithEverySource(tmp.path);
    const sops = `sops:${host.sopsFile}`;
    const kdbx = `kdbx:${host.kdbx}#tcfs/s3`;
    const config = `config:${host.configFile}`;
    const noEnv = { TCFS_S3_ACCESS: "", TCFS_S3_SECRET: "" };

    const everything = await credsStatus(host.device, host.env);
    assert.equal(everything.json.source, "env:TCFS_S3_ACCESS");
    assert.equal(everything.json.s3, "set");
    assert.deepEqual(outcomes(everything.json), [
      "used env:TCFS_S3_ACCESS",
      "skipped env:AWS_ACCESS_KEY_ID",
      `skipped ${sops}`,
      `skipped sops-nix:${join(host.device.home, "no-sops-nix")}`,
      `skipped ${kdbx}`,
      `skipped ${config}`,
    ]);
    assert.match(everything.text, /^credentials: env:TCFS_S3_ACCESS \(loaded \d{4}-/);
    assert.match(everything.text, /skipped +sops:.*not consulted: env:TCFS_S3_ACCESS comes first/);
    assert.match(
      everything.text,
      /holds plaintext \[storage\] s3_access\/s3_secret that are not used/,
    );

    const withoutEnv = await credsStatus(host.device, { ...host.env, ...noEnv });
    assert.equal(withoutEnv.json.source, sops);
    assert.match(withoutEnv.json.tried[0].reason, /TCFS_S3_ACCESS is not set/);
    assert.deepEqual(outcomes(withoutEnv.json).slice(2), [
      `used ${sops}`,
      `skipped sops-nix:${join(host.device.home, "no-sops-nix")}`,
      `skipped ${kdbx}`,
      `skipped ${config}`,
    ]);

    await Deno.rename(host.sopsFile, `${host.sopsFile}.away`);
    const withoutSops = await credsStatus(host.device, { ...host.env, ...noEnv });
    assert.equal(withoutSops.json.source, kdbx);
    assert.deepEqual(withoutSops.json.tried[2], {
      source: sops,
      outcome: "skipped",
      reason: "not found",
    });

    const withoutKdbx = await credsStatus(host.device, {
      ...host.env,
      ...noEnv,
      TCFS_KDBX_PATH: "",
    });
    assert.equal(withoutKdbx.json.source, config);
    assert.ok(
      withoutKdbx.json.warnings.some((warning) => /plaintext .*not recommended/.test(warning)),
      withoutKdbx.json.warnings.join("\n"),
    );

    // A SOPS file for another host's key and a wrong KDBX password both fail, with the
    // reason shown, and the chain goes on to config.toml.
    const stranger = await makeAgeKey(tmp.path, "stranger");
    await sopsEncryptFile(
      join(host.device.home, ".config", "tcfs"),
      "secrets.yaml",
      `s3_access: ${KEYS.sops.access}\ns3_secret: ${KEYS.sops.secret}\n`,
      [stranger.recipient],
    );
    const wrongPassword = await credsStatus(host.device, {
      ...host.env,
      ...noEnv,
      TCFS_KDBX_PASSWORD: "not-the-password",
    });
    const failed = wrongPassword.json.tried.filter((attempt) => attempt.outcome === "failed");
    assert.deepEqual(failed.map((attempt) => attempt.source), [sops, kdbx]);
    assert.match(failed[0].reason, /no matching key/);
    assert.match(failed[0].reason, new RegExp(stranger.recipient));
    assert.equal(wrongPassword.json.source, config);
  } finally {
    await tmp.remove();
  }
});

Deno.test("a group- or world-readable config.toml with secrets is refused by commands that need the store", async () => {
  const tmp = await makeScopedTempDir("tcfs-creds-status-");
  try {
    const host = await deviceWithEverySource(tmp.path);
    await Deno.remove(host.sopsFile);
    await Deno.chmod(host.configFile, 0o644);
    const env = {
      TCFS_S3_ACCESS: "",
      TCFS_S3_SECRET: "",
      TCFS_KDBX_PATH: "",
      TCFS_S3_ENDPOINT: "http://127.0.0.1:18333",
    };
    const status = await credsStatus(host.device, env);
    assert.equal(status.json.source, "none");
    const refused = status.json.tried.find((attempt) =>
      attempt.source === `config:${host.configFile}`
    );
    assert.equal(refused?.outcome, "failed");
    assert.match(refused!.reason, /other users can access it \(mode 0644\); refusing to use them/);
    assert.match(refused!.reason, new RegExp(`chmod 600 ${host.configFile}`));

    const ls = await host.device.tcfs(["ls"], { env });
    assert.notEqual(ls.code, 0);
    assert.match(ls.stderr, /refusing to use them/);
    assert.match(ls.stderr, /chmod 600/);
    assertNoSecrets(ls);

    await Deno.chmod(host.configFile, 0o600);
    const allowed = await credsStatus(host.device, env);
    assert.equal(allowed.json.source, `config:${host.configFile}`);
  } finally {
    await tmp.remove();
  }
});
