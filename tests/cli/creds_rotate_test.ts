import assert from "node:assert/strict";
import { join } from "node:path";
import { parse } from "yaml";
import {
  type CliResult,
  cliResult,
  type DeviceHome,
  makeDeviceHome,
} from "../support/device_home.ts";
import { makeScopedTempDir } from "../support/module_unload.ts";
import {
  type AgeKey,
  makeAgeKey,
  sopsDecryptJson,
  sopsEncryptFile,
} from "../core/credentials/real_tools.ts";

const REPO = new URL("../../", import.meta.url).pathname;
const OLD = { access: "AK-OLD-0001", secret: "old-secret-value-0001" };
const NEW = { access: "AK-NEW-0002", secret: "new-secret-value-0002" };

interface Host {
  device: DeviceHome;
  configDir: string;
  sopsFile: string;
  host: AgeKey;
  admin: AgeKey;
}

/** A device whose keys are in `~/.config/tcfs/secrets.yaml`, with a `.sops.yaml` beside it. */
async function hostWithSopsFile(parent: string): Promise<Host> {
  const device = await makeDeviceHome(parent, "yoga", {
    TCFS_SOCKET: join(parent, "yoga", "run", "tcfsd.sock"),
  });
  const configDir = join(device.home, ".config", "tcfs");
  const ageDir = join(device.home, ".config", "sops", "age");
  await Deno.mkdir(configDir, { recursive: true });
  await Deno.mkdir(ageDir, { recursive: true });
  const host = await makeAgeKey(ageDir, "keys");
  const admin = await makeAgeKey(parent, "admin");
  const sopsFile = await sopsEncryptFile(
    configDir,
    "secrets.yaml",
    `s3_access: ${OLD.access}\ns3_secret: ${OLD.secret}\ns3_endpoint: http://127.0.0.1:18333\n`,
    [host.recipient],
  );
  await Deno.writeTextFile(
    join(configDir, ".sops.yaml"),
    // Anchored: sops matches it against the path relative to this file's directory.
    `creation_rules:\n  - path_regex: ^secrets\\.yaml$\n    age: ${host.recipient},${admin.recipient}\n`,
  );
  return { device, configDir, sopsFile, host, admin };
}

function assertNoSecrets(...results: CliResult[]) {
  const shown = results.map((result) => result.stdout + result.stderr).join("\n");
  for (const secret of [OLD.secret, NEW.secret]) {
    assert.ok(!shown.includes(secret), `a secret value was shown:\n${shown}`);
  }
}

/** Runs tcfs as `device` with `stdin` piped in. */
async function tcfsWithStdin(
  device: DeviceHome,
  args: string[],
  stdin: string,
): Promise<CliResult> {
  const child = new Deno.Command(join(REPO, "scripts/tcfs"), {
    args,
    env: device.env,
    clearEnv: true,
    cwd: device.home,
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const writer = child.stdin.getWriter();
  await writer.write(new TextEncoder().encode(stdin));
  await writer.close();
  const output = await child.output();
  return cliResult(output);
}

/**
 * Runs tcfs with exactly `PATH`: with the flags of scripts/tcfs, but not through it, since it
 * puts the project's tools (sops among them) first on PATH.
 */
async function tcfsWithPath(
  device: DeviceHome,
  args: string[],
  env: Record<string, string>,
): Promise<CliResult> {
  const output = await new Deno.Command("bash", {
    args: [
      "-c",
      `source "${REPO}scripts/lib/deno-flags.sh"; ` +
      `exec "${REPO}.tools/bin/deno" run "\${TCFS_DENO_RUN_FLAGS[@]}" "${REPO}main.ts" "$@"`,
      "tcfs",
      ...args,
    ],
    env: { ...device.env, ...env },
    clearEnv: true,
    cwd: device.home,
    stdin: "null",
  }).output();
  return cliResult(output);
}

async function listDir(dir: string): Promise<string[]> {
  return (await Array.fromAsync(Deno.readDir(dir), (entry) => entry.name)).sort();
}

const newKeysEnv = { TCFS_NEW_ACCESS_KEY: NEW.access, TCFS_NEW_SECRET_KEY: NEW.secret };

Deno.test("creds rotate takes the new keys from the environment and re-encrypts with .sops.yaml", async () => {
  const tmp = await makeScopedTempDir("tcfs-creds-rotate-");
  try {
    const h = await hostWithSopsFile(tmp.path);
    const result = await h.device.tcfs(["creds", "rotate", "--json"], { env: newKeysEnv });
    assert.equal(result.code, 0, result.stderr);
    assertNoSecrets(result);
    const report = JSON.parse(result.stdout);
    assert.equal(report.file, h.sopsFile);
    assert.match(report.backup, /secrets\.yaml\.bak-\d{8}T\d{6}Z$/);
    assert.equal(report.sops_config, join(h.configDir, ".sops.yaml"));
    assert.deepEqual(report.recipients.sort(), [h.host.recipient, h.admin.recipient].sort());
    assert.deepEqual(report.daemon, {
      state: "not_running",
      socket: join(h.device.home, "run", "tcfsd.sock"),
    });
    assert.deepEqual(report.warnings, []);

    assert.deepEqual(await sopsDecryptJson(h.configDir, h.sopsFile, h.admin.keyFile), {
      s3_access: NEW.access,
      s3_secret: NEW.secret,
      s3_endpoint: "http://127.0.0.1:18333",
    });
    assert.equal((await Deno.stat(h.sopsFile)).mode! & 0o777, 0o600);
    assert.equal((await Deno.stat(report.backup)).mode! & 0o777, 0o600);
    const stored = parse(await Deno.readTextFile(h.sopsFile)) as { sops: { age: unknown[] } };
    assert.equal(stored.sops.age.length, 2);

    const status = JSON.parse((await h.device.tcfs(["creds", "status", "--json"])).stdout);
    assert.equal(status.source, `sops:${h.sopsFile}`);

    // A relative --file is the user's, relative to where tcfs runs.
    const text = await h.device.tcfs(["creds", "rotate", "--file", "tcfs/secrets.yaml"], {
      env: newKeysEnv,
      cwd: join(h.device.home, ".config"),
    });
    assert.equal(text.code, 0, text.stderr);
    assert.match(text.stdout, new RegExp(`rotated the S3 keys in ${h.sopsFile}`));
    assert.match(text.stdout, /previous file kept as .*secrets\.yaml\.bak-/);
    assert.match(text.stdout, /no daemon is running .*it loads the new keys when it starts/);
    assertNoSecrets(text);
  } finally {
    await tmp.remove();
  }
});

Deno.test("creds rotate reads the secret from stdin, and warns about one on the command line", async () => {
  const tmp = await makeScopedTempDir("tcfs-creds-rotate-");
  try {
    const h = await hostWithSopsFile(tmp.path);
    const piped = await tcfsWithStdin(
      h.device,
      ["creds", "rotate", "--access-key", NEW.access, "--secret-key-stdin", "--no-reload"],
      `${NEW.secret}\n`,
    );
    assert.equal(piped.code, 0, piped.stderr);
    assert.doesNotMatch(piped.stderr, /warning/);
    assertNoSecrets(piped);
    assert.deepEqual(await sopsDecryptJson(h.configDir, h.sopsFile, h.host.keyFile), {
      s3_access: NEW.access,
      s3_secret: NEW.secret,
      s3_endpoint: "http://127.0.0.1:18333",
    });

    const onCommandLine = await h.device.tcfs([
      "creds",
      "rotate",
      "--access-key",
      OLD.access,
      "--secret-key",
      OLD.secret,
    ]);
    assert.equal(onCommandLine.code, 0, onCommandLine.stderr);
    assert.match(
      onCommandLine.stderr,
      /visible to other users \(ps\).*TCFS_NEW_SECRET_KEY or --secret-key-stdin/s,
    );
    assertNoSecrets(onCommandLine);
  } finally {
    await tmp.remove();
  }
});

Deno.test("creds rotate without new keys, or shadowed by the environment, says so", async () => {
  const tmp = await makeScopedTempDir("tcfs-creds-rotate-");
  try {
    const h = await hostWithSopsFile(tmp.path);
    const before = await Deno.readFile(h.sopsFile);
    const missing = await h.device.tcfs(["creds", "rotate"], {
      env: { TCFS_NEW_ACCESS_KEY: NEW.access },
    });
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /no new secret key given/);
    assert.match(missing.stderr, /TCFS_NEW_SECRET_KEY/);
    assert.deepEqual(await Deno.readFile(h.sopsFile), before);

    const shadowed = await h.device.tcfs(["creds", "rotate"], {
      env: { ...newKeysEnv, TCFS_S3_ACCESS: "AK-ENV", TCFS_S3_SECRET: "env-secret-value" },
    });
    assert.equal(shadowed.code, 0, shadowed.stderr);
    assert.match(shadowed.stderr, /takes its S3 keys from env:TCFS_S3_ACCESS, not from/);
    assert.ok(!shadowed.stderr.includes("env-secret-value"));
  } finally {
    await tmp.remove();
  }
});

Deno.test("creds rotate with no sops on PATH says what to install and leaves the file alone", async () => {
  const tmp = await makeScopedTempDir("tcfs-creds-rotate-");
  try {
    const h = await hostWithSopsFile(tmp.path);
    const before = await Deno.readFile(h.sopsFile);
    const result = await tcfsWithPath(h.device, ["creds", "rotate"], {
      ...newKeysEnv,
      PATH: "/usr/local/bin:/usr/bin:/bin",
    });
    assert.equal(result.code, 1, result.stderr);
    assert.match(result.stderr, /`sops` is not installed/);
    assert.match(result.stderr, /go install github\.com\/getsops\/sops\/v3\/cmd\/sops@v3\.13\.2/);
    assert.deepEqual(await Deno.readFile(h.sopsFile), before);
    assert.deepEqual(await listDir(h.configDir), [".sops.yaml", "secrets.yaml"]);
  } finally {
    await tmp.remove();
  }
});
