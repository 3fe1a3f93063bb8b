import assert from "node:assert/strict";
import { join } from "node:path";
import { describeError, TcfsError } from "../../../core/errors.ts";
import {
  type CredentialChainInput,
  credentialStatus,
  describeCredentialStatus,
  requireS3Credentials,
  resolveCredentials,
  type ResolvedCredentials,
} from "../../../core/credentials/credential_chain.ts";
import { makeAgeKey, makeKeepassxcDatabase, sopsEncryptFile } from "./real_tools.ts";

/** One key pair per source, so every test can tell which source won. */
const KEYS = {
  envTcfs: { access: "AKIA-ENV-TCFS", secret: "secret-env-tcfs-0001" },
  envAws: { access: "AKIA-ENV-AWS", secret: "secret-env-aws-0002" },
  sops: { access: "AKIA-SOPS", secret: "secret-sops-0003" },
  sopsNix: { access: "AKIA-SOPS-NIX", secret: "secret-sops-nix-0004" },
  kdbx: { access: "AKIA-KDBX", secret: "secret-kdbx-0005" },
  config: { access: "AKIA-CONFIG", secret: "secret-config-0006" },
};
const ALL_SECRETS = Object.values(KEYS).map((pair) => pair.secret);
const KDBX_PASSWORD = "kdbx-password-0007";
const ENV_ENDPOINT = "http://env.example:8333";
const ENV_NATS = "nats://env.example:4222";

/** A host where every source of the chain is set up, each with its own key pair. */
interface FleetHost {
  dir: string;
  input: CredentialChainInput;
  sopsFile: string;
  configPath: string;
}

async function fleetHost(dir: string): Promise<FleetHost> {
  const key = await makeAgeKey(dir, "host");
  const sopsFile = await sopsEncryptFile(
    dir,
    "secrets.yaml",
    `# tcfs credentials for this host
s3_access: ${KEYS.sops.access}
s3_secret: ${KEYS.sops.secret}
s3_endpoint: http://sops.example:8333
nats_url: nats://sops.example:4222
extra:
  nested: [1, true, {deep: value}]
`,
    [key.recipient],
  );
  const sopsNixDir = join(dir, "run-secrets-tcfs");
  await Deno.mkdir(sopsNixDir);
  await Deno.writeTextFile(join(sopsNixDir, "s3_access"), `${KEYS.sopsNix.access}\n`);
  await Deno.writeTextFile(join(sopsNixDir, "s3_secret"), `${KEYS.sopsNix.secret}\n`);
  await Deno.writeTextFile(join(sopsNixDir, "s3_endpoint"), "http://sops-nix.example:8333\n");
  const kdbxPath = await makeKeepassxcDatabase(dir, { password: KDBX_PASSWORD }, {
    path: "tcfs/s3",
    userName: KEYS.kdbx.access,
    password: KEYS.kdbx.secret,
    url: "http://kdbx.example:8333",
  });
  const configPath = join(dir, "config.toml");
  await Deno.writeTextFile(configPath, "[storage]\n# stands in for the parsed file\n");
  await Deno.chmod(configPath, 0o600);
  return {
    dir,
    sopsFile,
    configPath,
    input: {
      env: {
        TCFS_S3_ACCESS: KEYS.envTcfs.access,
        TCFS_S3_SECRET: KEYS.envTcfs.secret,
        AWS_ACCESS_KEY_ID: KEYS.envAws.access,
        AWS_SECRET_ACCESS_KEY: KEYS.envAws.secret,
        TCFS_S3_ENDPOINT: ENV_ENDPOINT,
        TCFS_NATS_URL: ENV_NATS,
        SOPS_AGE_KEY_FILE: key.keyFile,
        TCFS_KDBX_PASSWORD: KDBX_PASSWORD,
        HOME: dir,
      },
      sopsFile,
      sopsNixDir,
      kdbxPath,
      kdbxEntry: "tcfs/s3",
      configFile: await configFile(configPath, KEYS.config),
      interactive: false,
    },
  };
}

/** config.toml as the config module would hand it over: path, mode and [storage] keys. */
async function configFile(path: string, keys?: { access: string; secret: string }) {
  const info = await Deno.stat(path);
  return {
    path,
    exists: true,
    mode: info.mode ?? undefined,
    s3Access: keys?.access,
    s3Secret: keys?.secret,
  };
}

function without(env: Record<string, string | undefined>, ...names: string[]) {
  return Object.fromEntries(Object.entries(env).filter(([name]) => !names.includes(name)));
}

/** Everything a user or log could see of the result, which must never contain a secret. */
function assertNoSecretsShown(resolved: ResolvedCredentials, extra = "") {
  const shown = [
    describeCredentialStatus(resolved),
    JSON.stringify(credentialStatus(resolved)),
    JSON.stringify(resolved),
    Deno.inspect(resolved, { depth: 10 }),
    extra,
  ].join("\n");
  for (const secret of [...ALL_SECRETS, KDBX_PASSWORD]) {
    assert.ok(!shown.includes(secret), `a secret leaked into:\n${shown}`);
  }
}

function outcomes(resolved: ResolvedCredentials): string[] {
  return resolved.tried.map((attempt) => `${attempt.outcome} ${attempt.source}`);
}

function requireError(resolved: ResolvedCredentials): TcfsError {
  try {
    requireS3Credentials(resolved);
  } catch (err) {
    assert.ok(err instanceof TcfsError);
    return err;
  }
  assert.fail("expected requireS3Credentials to throw");
}

Deno.test("each source shadows the ones below it: peeling them away one at a time", async () => {
  const dir = await Deno.makeTempDir({ prefix: "tcfs-chain-" });
  try {
    const host = await fleetHost(dir);
    const input = host.input;
    const sops = `sops:${host.sopsFile}`;
    const sopsNix = `sops-nix:${input.sopsNixDir}`;
    const kdbx = `kdbx:${input.kdbxPath}#tcfs/s3`;
    const config = `config:${host.configPath}`;
    const steps: {
      name: string;
      input: CredentialChainInput;
      source: string;
      keys: { access: string; secret: string };
      endpoint: [string, string];
      nats: [string, string];
    }[] = [];
    steps.push({
      name: "everything set: TCFS_S3_ACCESS wins",
      input,
      source: "env:TCFS_S3_ACCESS",
      keys: KEYS.envTcfs,
      endpoint: ["env:TCFS_S3_ENDPOINT", ENV_ENDPOINT],
      nats: ["env:TCFS_NATS_URL", ENV_NATS],
    });
    const noTcfs = { ...input, env: without(input.env, "TCFS_S3_ACCESS", "TCFS_S3_SECRET") };
    steps.push({
      name: "then the AWS variables",
      input: noTcfs,
      source: "env:AWS_ACCESS_KEY_ID",
      keys: KEYS.envAws,
      endpoint: ["env:TCFS_S3_ENDPOINT", ENV_ENDPOINT],
      nats: ["env:TCFS_NATS_URL", ENV_NATS],
    });
    const noEnv = {
      ...noTcfs,
      env: without(noTcfs.env, "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"),
    };
    steps.push({
      name: "with env unset the SOPS file wins, with its own endpoint and NATS URL",
      input: noEnv,
      source: sops,
      keys: KEYS.sops,
      endpoint: [sops, "http://sops.example:8333"],
      nats: [sops, "nats://sops.example:4222"],
    });
    const noSops = { ...noEnv, sopsFile: join(dir, "absent.yaml") };
    steps.push({
      name: "then sops-nix (no nats_url file, so NATS comes from env)",
      input: noSops,
      source: sopsNix,
      keys: KEYS.sopsNix,
      endpoint: [sopsNix, "http://sops-nix.example:8333"],
      nats: ["env:TCFS_NATS_URL", ENV_NATS],
    });
    const noSopsNix = { ...noSops, sopsNixDir: join(dir, "absent-dir") };
    steps.push({
      name: "then the KDBX entry, whose URL is the endpoint",
      input: noSopsNix,
      source: kdbx,
      keys: KEYS.kdbx,
      endpoint: [kdbx, "http://kdbx.example:8333"],
      nats: ["env:TCFS_NATS_URL", ENV_NATS],
    });
    const noKdbx = { ...noSopsNix, kdbxPath: undefined };
    steps.push({
      name: "and config.toml last",
      input: noKdbx,
      source: config,
      keys: KEYS.config,
      endpoint: ["env:TCFS_S3_ENDPOINT", ENV_ENDPOINT],
      nats: ["env:TCFS_NATS_URL", ENV_NATS],
    });

    for (const [index, step] of steps.entries()) {
      const resolved = await resolveCredentials(step.input);
      assert.equal(resolved.source, step.source, step.name);
      assert.equal(resolved.s3?.accessKeyId.reveal(), step.keys.access, step.name);
      assert.equal(resolved.s3?.secretAccessKey.reveal(), step.keys.secret, step.name);
      assert.deepEqual([resolved.s3EndpointSource, resolved.s3Endpoint], step.endpoint, step.name);
      assert.deepEqual([resolved.natsUrlSource, resolved.natsUrl], step.nats, step.name);
      // Sources above the winner were skipped (they are gone), the ones below not consulted.
      const winner = resolved.tried.findIndex((attempt) => attempt.outcome === "used");
      assert.equal(resolved.tried.length, 6);
      assert.ok(
        resolved.tried.slice(0, winner).every((attempt) => attempt.outcome === "skipped"),
        outcomes(resolved).join("\n"),
      );
      assert.ok(
        resolved.tried.slice(winner + 1).every((attempt) =>
          attempt.reason.startsWith("not consulted")
        ),
        outcomes(resolved).join("\n"),
      );
      assert.equal(winner, index, "each step peels off the previous winner");
      assertNoSecretsShown(resolved);
    }

    const configWarning = (await resolveCredentials(noKdbx)).warnings;
    assert.equal(configWarning.length, 1);
    assert.match(configWarning[0], /plaintext .*config\.toml, which is not recommended/);

    const none = await resolveCredentials({
      ...noKdbx,
      configFile: { path: host.configPath, exists: false },
    });
    assert.equal(none.source, "none");
    assert.equal(none.s3, undefined);
    const missing = requireError(none);
    assert.equal(missing.kind, "credentials-missing");
    assert.match(missing.message, /no S3 credentials found/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a world- or group-readable config.toml with secrets is refused, as ssh refuses such keys", async () => {
  const dir = await Deno.makeTempDir({ prefix: "tcfs-chain-" });
  try {
    const configPath = join(dir, "config.toml");
    await Deno.writeTextFile(configPath, "[storage]\n");
    const base = {
      env: { HOME: dir },
      sopsFile: join(dir, "absent.yaml"),
      sopsNixDir: join(dir, "absent"),
      kdbxEntry: "tcfs/s3",
      interactive: false,
    };
    for (const mode of [0o644, 0o640, 0o604]) {
      await Deno.chmod(configPath, mode);
      const resolved = await resolveCredentials({
        ...base,
        configFile: await configFile(configPath, KEYS.config),
      });
      assert.equal(resolved.source, "none");
      const attempt = resolved.tried.at(-1)!;
      assert.equal(attempt.outcome, "failed");
      assert.match(
        attempt.reason,
        new RegExp(`mode 0${mode.toString(8)}.*chmod 600 ${configPath}`),
      );
      const error = requireError(resolved);
      assert.equal(error.kind, "credentials-failed");
      assert.match(error.message, /chmod 600/);
      assertNoSecretsShown(resolved, describeError(error));
    }

    await Deno.chmod(configPath, 0o600);
    const allowed = await resolveCredentials({
      ...base,
      configFile: await configFile(configPath, KEYS.config),
    });
    assert.equal(allowed.s3?.secretAccessKey.reveal(), KEYS.config.secret);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a source that exists but fails is recorded, the chain goes on, and its reason surfaces", async (t) => {
  const dir = await Deno.makeTempDir({ prefix: "tcfs-chain-" });
  try {
    const host = await fleetHost(dir);
    const onlyLower = {
      ...host.input,
      env: without(
        host.input.env,
        "TCFS_S3_ACCESS",
        "TCFS_S3_SECRET",
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
      ),
      sopsNixDir: join(dir, "absent-dir"),
      kdbxPath: undefined,
    };
    const original = await Deno.readTextFile(host.sopsFile);
    await Deno.writeTextFile(
      host.sopsFile,
      original.replace(/^nats_url: .*\n/m, ""),
    );

    await t.step(
      "a tampered SOPS file with config.toml below: config is used, with warnings",
      async () => {
        const resolved = await resolveCredentials(onlyLower);
        assert.equal(resolved.source, `config:${host.configPath}`);
        assert.deepEqual(
          resolved.tried.find((attempt) => attempt.source.startsWith("sops:"))?.outcome,
          "failed",
        );
        assert.ok(
          resolved.warnings.some((warning) =>
            /^sops:.* failed \(.*MAC mismatch.*\); used config:/.test(warning)
          ),
          resolved.warnings.join("\n"),
        );
        assertNoSecretsShown(resolved);
      },
    );

    await t.step("the tampered SOPS file alone: the error says MAC mismatch", async () => {
      const resolved = await resolveCredentials({
        ...onlyLower,
        configFile: { path: host.configPath, exists: false },
      });
      const error = requireError(resolved);
      assert.equal(error.kind, "credentials-failed");
      assert.match(error.message, /^no S3 credentials: sops:.*MAC mismatch/);
      assertNoSecretsShown(resolved, describeError(error));
    });

    await t.step(
      "a wrong KDBX password alone (path from TCFS_KDBX_PATH): the error says so",
      async () => {
        const resolved = await resolveCredentials({
          ...onlyLower,
          sopsFile: join(dir, "absent.yaml"),
          kdbxPath: join(dir, "not-this-one.kdbx"),
          env: {
            ...onlyLower.env,
            TCFS_KDBX_PATH: host.input.kdbxPath,
            TCFS_KDBX_PASSWORD: "wrong-password",
          },
          configFile: { path: host.configPath, exists: false },
        });
        assert.ok(outcomes(resolved).includes(`failed kdbx:${host.input.kdbxPath}#tcfs/s3`));
        const error = requireError(resolved);
        assert.match(error.message, /wrong password or key file/);
        assert.ok(!error.message.includes("wrong-password"));
      },
    );

    await t.step(
      "half a pair in the environment fails that rank and the next one is used",
      async () => {
        const resolved = await resolveCredentials({
          ...host.input,
          env: without(host.input.env, "TCFS_S3_SECRET"),
        });
        assert.equal(resolved.source, "env:AWS_ACCESS_KEY_ID");
        assert.deepEqual(resolved.tried[0], {
          source: "env:TCFS_S3_ACCESS",
          outcome: "failed",
          reason:
            "TCFS_S3_ACCESS is set but TCFS_S3_SECRET is not (fix: set TCFS_S3_SECRET too, or remove TCFS_S3_ACCESS)",
        });
        assert.ok(
          resolved.warnings.some((warning) => warning.startsWith("env:TCFS_S3_ACCESS failed")),
        );
      },
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("status names every source and outcome but no value, and warns about unused plaintext secrets", async () => {
  const dir = await Deno.makeTempDir({ prefix: "tcfs-chain-" });
  try {
    const host = await fleetHost(dir);
    const resolved = await resolveCredentials({
      ...host.input,
      env: without(
        host.input.env,
        "TCFS_S3_ACCESS",
        "TCFS_S3_SECRET",
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
      ),
    });

    const status = describeCredentialStatus(resolved);
    const lines = status.split("\n");
    assert.equal(
      lines[0],
      `credentials: sops:${host.sopsFile} (loaded ${resolved.loadedAt.toISOString()})`,
    );
    assert.equal(lines[1], `  s3 endpoint: sops:${host.sopsFile}`);
    assert.match(status, /skipped +env:TCFS_S3_ACCESS +TCFS_S3_ACCESS is not set/);
    assert.match(status, /used +sops:\S+ +supplied the S3 key pair/);
    assert.match(status, /skipped +kdbx:\S+ +not consulted: sops:/);
    assert.match(
      status,
      /warnings:\n {2}\S+config\.toml holds plaintext \[storage\] s3_access\/s3_secret that are not used/,
    );
    for (
      const value of ["http://sops.example:8333", "nats://sops.example:4222", KEYS.sops.access]
    ) {
      assert.ok(!status.includes(value), `status shows ${value}`);
    }
    assertNoSecretsShown(resolved);
    assert.deepEqual(credentialStatus(resolved).s3, "set");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
