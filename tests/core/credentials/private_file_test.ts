/**
 * Every file kind that can hold secrets is refused, with a `chmod 600` hint, when other
 * users can read it; the same file at 0600 is used.
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { refuseSharedSecrets } from "../../../core/credentials/private_file.ts";
import { findAgeIdentities } from "../../../core/credentials/age_identities.ts";
import { readKdbxCredentials } from "../../../core/credentials/kdbx_source.ts";
import { natsConnectOptions } from "../../../core/events/nats_connect_options.ts";
import { readEnvFile } from "../../../platform/env_file.ts";
import { createNatsCreds } from "../../daemon/nats/nats_creds_fixture.ts";

function exposed(path: string) {
  return (err: Error & { kind?: string; hint?: string }) =>
    err.kind === "config-secrets-exposed" && err.message.includes(path) &&
    /other users can access it \(mode 0644\)/.test(err.message) &&
    err.hint === `run \`chmod 600 ${path}\``;
}

async function withDir(fn: (dir: string) => Promise<void>) {
  const dir = await Deno.makeTempDir({ prefix: "tcfs-private-" });
  try {
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

/** Writes `text` at mode 0644, as a careless editor or `cp` would leave it. */
async function shared(path: string, text: string) {
  await Deno.writeTextFile(path, text);
  await Deno.chmod(path, 0o644);
}

Deno.test("refuseSharedSecrets passes only modes no group or other bit is set in", () => {
  const file = { what: "test file", path: "/x", holds: "secrets" };
  for (const mode of [0o600, 0o400, 0o700, 0o100600, undefined, null]) {
    refuseSharedSecrets(file, mode);
  }
  for (const mode of [0o640, 0o604, 0o610, 0o601, 0o100644]) {
    assert.throws(() => refuseSharedSecrets(file, mode), /other users can access it/);
  }
});

Deno.test("an env file with S3 secrets, a KDBX password or NATS credentials must be private", async () => {
  await withDir(async (dir) => {
    const path = join(dir, "env");
    for (
      const line of [
        "TCFS_S3_ACCESS=AK\nTCFS_S3_SECRET=SK",
        "AWS_SECRET_ACCESS_KEY=SK",
        "TCFS_KDBX_PASSWORD=hunter2",
        "SOPS_AGE_KEY=AGE-SECRET-KEY-1XYZ",
        "TCFS_NATS_URL=nats://tcfs:hunter2@yoga:4222",
      ]
    ) {
      await shared(path, `${line}\n`);
      await assert.rejects(readEnvFile(path), exposed(path), line);
      await Deno.chmod(path, 0o600);
      await readEnvFile(path);
    }
    await shared(path, "TCFS_NAMESPACE=lab\nTCFS_NATS_URL=nats://yoga:4222\n");
    assert.equal((await readEnvFile(path)).TCFS_NAMESPACE, "lab");
  });
});

Deno.test("an age key file must be private", async () => {
  await withDir(async (dir) => {
    const path = join(dir, "keys.txt");
    const key = "AGE-SECRET-KEY-1QQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQ\n";
    await shared(path, key);
    await assert.rejects(findAgeIdentities({ SOPS_AGE_KEY_FILE: path }, "linux"), exposed(path));
    await Deno.chmod(path, 0o600);
    await findAgeIdentities({ SOPS_AGE_KEY_FILE: path }, "linux");
  });
});

Deno.test("a KDBX key file must be private", async () => {
  await withDir(async (dir) => {
    const keyFile = join(dir, "tcfs.key");
    await shared(keyFile, "a key file");
    await Deno.writeTextFile(join(dir, "tcfs.kdbx"), "not opened: the key file is refused first");
    await assert.rejects(
      readKdbxCredentials({
        path: join(dir, "tcfs.kdbx"),
        entryPath: "tcfs",
        env: {},
        interactive: false,
        keyFile,
      }),
      exposed(keyFile),
    );
  });
});

Deno.test("a NATS credentials file must be private", async () => {
  await withDir(async (dir) => {
    const credsFile = join(dir, "tcfs.creds");
    await shared(credsFile, createNatsCreds().credsFile);
    await assert.rejects(natsConnectOptions("nats://host", { credsFile }), exposed(credsFile));
    await Deno.chmod(credsFile, 0o600);
    await natsConnectOptions("nats://host", { credsFile });
  });
});
