import assert from "node:assert/strict";
import { join } from "node:path";
import { parse } from "yaml";
import { Secret } from "../../../core/credentials/secret_redaction.ts";
import {
  rotateSopsCredentials,
  SopsRotationErrorKind,
} from "../../../core/credentials/sops_rotation.ts";
import { TcfsError } from "../../../core/errors.ts";
import { makeScopedTempDir } from "../../support/module_unload.ts";
import {
  type AgeKey,
  makeAgeKey,
  mustRunTool,
  sopsDecryptJson,
  sopsEncryptFile,
} from "./real_tools.ts";

const OLD = { access: "AK-OLD-0001", secret: "old-secret-0001" };
const NEW = { access: "AK-NEW-0002", secret: "new-secret-0002" };

/**
 * A host file as the fleet guide writes them, with nested maps, a list, ints, floats, bools and
 * comments. No comment sits inside a list: sops 3.13.2 cannot decrypt files that have one
 * (getsops/sops#2243).
 */
const PLAINTEXT = `# tcfs credentials for yoga
s3_access: ${OLD.access}
s3_secret: ${OLD.secret}
s3_endpoint: http://dees-appu-bearts:8333
nats_url: nats://yoga.local:4222
limits:
  # per-host tuning
  max_mib: 512
  ratio: 0.75
  enabled: true
mirrors:
  - http://a.example:8333
  - http://b.example:8333
`;

const EXPECTED_OTHER_KEYS = {
  s3_endpoint: "http://dees-appu-bearts:8333",
  nats_url: "nats://yoga.local:4222",
  limits: { max_mib: 512, ratio: 0.75, enabled: true },
  mirrors: ["http://a.example:8333", "http://b.example:8333"],
};

/** A repository with a host file encrypted for the host only, and the host's environment. */
interface Repo {
  dir: string;
  file: string;
  host: AgeKey;
  admin: AgeKey;
  other: AgeKey;
  env: Record<string, string>;
}

async function repo(root: string): Promise<Repo> {
  const keys = join(root, "keys");
  await Deno.mkdir(keys);
  const [host, admin, other] = await Promise.all(
    ["host", "admin", "other"].map((name) => makeAgeKey(keys, name)),
  );
  const dir = join(root, "repo");
  await Deno.mkdir(join(dir, "secrets", "hosts"), { recursive: true });
  const file = await sopsEncryptFile(
    join(dir, "secrets", "hosts"),
    "yoga.yaml",
    PLAINTEXT,
    [host.recipient],
  );
  const env = {
    PATH: Deno.env.get("PATH") ?? "/usr/bin:/bin",
    HOME: root,
    SOPS_AGE_KEY_FILE: host.keyFile,
  };
  return { dir, file, host, admin, other, env };
}

/** The `.sops.yaml` of the fleet guide: one creation rule per host file. */
async function writeSopsConfig(repo: Repo): Promise<string> {
  const path = join(repo.dir, ".sops.yaml");
  await Deno.writeTextFile(
    path,
    `creation_rules:
  - path_regex: secrets/hosts/other\\.yaml$
    age: >-
      ${repo.other.recipient}
  - path_regex: secrets/hosts/yoga\\.yaml$
    age: >-
      ${repo.host.recipient},${repo.admin.recipient}
`,
  );
  return path;
}

function newPair() {
  return { accessKeyId: new Secret(NEW.access), secretAccessKey: new Secret(NEW.secret) };
}

async function metadataOf(file: string): Promise<Record<string, unknown>> {
  return (parse(await Deno.readTextFile(file)) as { sops: Record<string, unknown> }).sops;
}

async function recipientsOf(file: string): Promise<string[]> {
  const age = (await metadataOf(file)).age as { recipient: string }[];
  return age.map((entry) => entry.recipient).sort();
}

async function modeOf(path: string): Promise<number> {
  return (await Deno.stat(path)).mode! & 0o777;
}

/** `path` without the directories that hold `tool`. */
async function pathWithout(tool: string, path: string): Promise<string> {
  const dirs = [];
  for (const dir of path.split(":")) {
    const holds = await Deno.stat(join(dir, tool)).then(() => true, () => false);
    if (!holds) dirs.push(dir);
  }
  return dirs.join(":");
}

async function listDir(dir: string): Promise<string[]> {
  return (await Array.fromAsync(Deno.readDir(dir), (entry) => entry.name)).sort();
}

Deno.test("rotate re-encrypts with the .sops.yaml rule, keeps everything else and a backup", async () => {
  const tmp = await makeScopedTempDir("tcfs-rotate-");
  try {
    const r = await repo(tmp.path);
    const sopsConfig = await writeSopsConfig(r);
    const before = await Deno.readFile(r.file);
    // A recipient in the environment must not override the file's own rule.
    const env = { ...r.env, SOPS_AGE_RECIPIENTS: r.other.recipient };
    const result = await rotateSopsCredentials({
      file: r.file,
      s3: newPair(),
      env,
      now: new Date("2026-11-26T09:30:15.123Z"),
    });

    assert.equal(result.sopsConfig, sopsConfig);
    assert.equal(result.backup, `${r.file}.bak-20261126T093015Z`);
    const ruleRecipients = [r.host.recipient, r.admin.recipient].sort();
    assert.deepEqual(await recipientsOf(r.file), ruleRecipients);
    assert.deepEqual([...result.recipients].sort(), ruleRecipients);

    const cwd = join(r.dir, "secrets", "hosts");
    const expectedNew = { s3_access: NEW.access, s3_secret: NEW.secret, ...EXPECTED_OTHER_KEYS };
    assert.deepEqual(await sopsDecryptJson(cwd, r.file, r.host.keyFile), expectedNew);
    // The rule's second recipient can open it too: the rule, not the old file, chose them.
    assert.deepEqual(await sopsDecryptJson(cwd, r.file, r.admin.keyFile), expectedNew);
    const asYaml = await mustRunTool("sops", ["decrypt", r.file], {
      cwd,
      env: { SOPS_AGE_KEY_FILE: r.host.keyFile },
    });
    assert.match(asYaml, /# tcfs credentials for yoga/);
    assert.match(asYaml, /# per-host tuning/);

    assert.deepEqual(await Deno.readFile(result.backup), before);
    // The backup's name has no .yaml for sops to go by.
    const backupJson = await mustRunTool(
      "sops",
      ["decrypt", "--input-type", "yaml", "--output-type", "json", result.backup],
      { cwd, env: { SOPS_AGE_KEY_FILE: r.host.keyFile } },
    );
    assert.deepEqual(JSON.parse(backupJson), {
      s3_access: OLD.access,
      s3_secret: OLD.secret,
      ...EXPECTED_OTHER_KEYS,
    });
    assert.equal(await modeOf(r.file), 0o600);
    assert.equal(await modeOf(result.backup), 0o600);
    assert.deepEqual(await listDir(cwd), ["yoga.yaml", "yoga.yaml.bak-20261126T093015Z"]);

    const again = await rotateSopsCredentials({
      file: r.file,
      s3: newPair(),
      env,
      now: new Date("2026-11-26T09:30:15.900Z"),
    });
    assert.equal(again.backup, `${r.file}.bak-20261126T093015Z-2`);
  } finally {
    await tmp.remove();
  }
});

Deno.test("without a .sops.yaml the file keeps its recipients and its encryption rule", async () => {
  const tmp = await makeScopedTempDir("tcfs-rotate-");
  try {
    const r = await repo(tmp.path);
    const cwd = join(r.dir, "secrets", "hosts");
    await Deno.writeTextFile(r.file, PLAINTEXT);
    await mustRunTool("sops", [
      "encrypt",
      "--encrypted-regex",
      "^(s3_access|s3_secret|nats_)",
      "--in-place",
      r.file,
    ], {
      cwd,
      env: { SOPS_AGE_RECIPIENTS: `${r.host.recipient},${r.admin.recipient}` },
    });
    const result = await rotateSopsCredentials({ file: r.file, s3: newPair(), env: r.env });
    assert.equal(result.sopsConfig, undefined);
    assert.deepEqual(await recipientsOf(r.file), [r.host.recipient, r.admin.recipient].sort());
    assert.equal((await metadataOf(r.file)).encrypted_regex, "^(s3_access|s3_secret|nats_)");
    const stored = parse(await Deno.readTextFile(r.file)) as Record<string, unknown>;
    assert.equal(
      stored.s3_endpoint,
      EXPECTED_OTHER_KEYS.s3_endpoint,
      "left in the clear, as before",
    );
    assert.match(String(stored.s3_secret), /^ENC\[AES256_GCM,/);
    assert.deepEqual(await sopsDecryptJson(cwd, r.file, r.admin.keyFile), {
      s3_access: NEW.access,
      s3_secret: NEW.secret,
      ...EXPECTED_OTHER_KEYS,
    });
  } finally {
    await tmp.remove();
  }
});

Deno.test("without sops on PATH rotate says what to install and leaves the file alone", async () => {
  const tmp = await makeScopedTempDir("tcfs-rotate-");
  try {
    const r = await repo(tmp.path);
    await writeSopsConfig(r);
    const path = await pathWithout("sops", r.env.PATH);
    const before = await Deno.readFile(r.file);
    await assert.rejects(
      rotateSopsCredentials({ file: r.file, s3: newPair(), env: { ...r.env, PATH: path } }),
      (err: unknown) => {
        assert.ok(err instanceof TcfsError);
        assert.equal(err.kind, SopsRotationErrorKind.sopsMissing);
        assert.match(err.message, /`sops` is not installed/);
        assert.match(err.hint!, /go install github\.com\/getsops\/sops\/v3\/cmd\/sops@v3\.13\.2/);
        assert.match(err.hint!, /scripts\/setup\.sh/);
        return true;
      },
    );
    assert.deepEqual(await Deno.readFile(r.file), before);
    assert.deepEqual(await listDir(join(r.dir, "secrets", "hosts")), ["yoga.yaml"]);
  } finally {
    await tmp.remove();
  }
});

Deno.test("a rule that leaves this host out is refused before the file is replaced", async () => {
  const tmp = await makeScopedTempDir("tcfs-rotate-");
  try {
    const r = await repo(tmp.path);
    await Deno.writeTextFile(
      join(r.dir, ".sops.yaml"),
      `creation_rules:\n  - path_regex: yoga\\.yaml$\n    age: ${r.admin.recipient}\n`,
    );
    const before = await Deno.readFile(r.file);
    await assert.rejects(
      rotateSopsCredentials({ file: r.file, s3: newPair(), env: r.env }),
      (err: unknown) => {
        assert.ok(err instanceof TcfsError);
        assert.equal(err.kind, SopsRotationErrorKind.verifyFailed);
        assert.match(err.message, /could not be read back on this host/);
        assert.ok(!err.message.includes(NEW.secret) && !err.message.includes(OLD.secret));
        return true;
      },
    );
    assert.deepEqual(await Deno.readFile(r.file), before);
    assert.deepEqual(await listDir(join(r.dir, "secrets", "hosts")), ["yoga.yaml"]);
  } finally {
    await tmp.remove();
  }
});

Deno.test("sops refusing to encrypt is reported with its reason, the file untouched", async () => {
  const tmp = await makeScopedTempDir("tcfs-rotate-");
  try {
    const r = await repo(tmp.path);
    await Deno.writeTextFile(
      join(r.dir, ".sops.yaml"),
      `creation_rules:\n  - path_regex: nothing-matches\\.yaml$\n    age: ${r.host.recipient}\n`,
    );
    const before = await Deno.readFile(r.file);
    await assert.rejects(
      rotateSopsCredentials({ file: r.file, s3: newPair(), env: r.env }),
      (err: unknown) => {
        assert.ok(err instanceof TcfsError);
        assert.equal(err.kind, SopsRotationErrorKind.encryptFailed);
        assert.match(err.message, /no matching creation rules found/);
        assert.match(err.hint!, /creation_rules/);
        return true;
      },
    );
    assert.deepEqual(await Deno.readFile(r.file), before);
  } finally {
    await tmp.remove();
  }
});

Deno.test("a missing or symlinked SOPS file is not rotated", async () => {
  const tmp = await makeScopedTempDir("tcfs-rotate-");
  try {
    const r = await repo(tmp.path);
    await assert.rejects(
      rotateSopsCredentials({ file: join(tmp.path, "absent.yaml"), s3: newPair(), env: r.env }),
      { kind: SopsRotationErrorKind.fileMissing },
    );
    const link = join(tmp.path, "linked.yaml");
    await Deno.symlink(r.file, link);
    await assert.rejects(
      rotateSopsCredentials({ file: link, s3: newPair(), env: r.env }),
      { kind: SopsRotationErrorKind.managedElsewhere },
    );
  } finally {
    await tmp.remove();
  }
});

Deno.test("sops runs without tcfs's own secrets in its environment", async () => {
  const tmp = await makeScopedTempDir("tcfs-rotate-");
  try {
    const r = await repo(tmp.path);
    await writeSopsConfig(r);
    const realSops = (await Promise.all(
      r.env.PATH.split(":").map(async (dir) =>
        await Deno.stat(join(dir, "sops")).then(() => join(dir, "sops"), () => undefined)
      ),
    )).find(Boolean)!;
    const bin = join(tmp.path, "bin");
    const dump = join(tmp.path, "sops-env.txt");
    await Deno.mkdir(bin);
    await Deno.writeTextFile(
      join(bin, "sops"),
      `#!/bin/sh\nenv >> '${dump}'\nexec '${realSops}' "$@"\n`,
      { mode: 0o755 },
    );
    await rotateSopsCredentials({
      file: r.file,
      s3: newPair(),
      env: {
        ...r.env,
        PATH: `${bin}:${r.env.PATH}`,
        TCFS_S3_SECRET: "old-secret-from-the-env",
        TCFS_KDBX_PASSWORD: "kdbx-password",
      },
    });
    const seen = await Deno.readTextFile(dump);
    assert.match(seen, /^SOPS_AGE_KEY_FILE=/m, "sops still gets what it needs");
    assert.doesNotMatch(seen, /old-secret-from-the-env|kdbx-password/);
  } finally {
    await tmp.remove();
  }
});
