/**
 * `tcfs creds rotate`: the fleet guide's rotation steps 2–3 (put the new key pair in the SOPS
 * file, re-encrypt it) and the daemon told to reload.
 *
 * @module
 */

import { Command } from "@commander-js/extra-typings";
import { ExitCode, TcfsError } from "../../core/errors.ts";
import { Secret } from "../../core/credentials/secret_redaction.ts";
import type { S3Credentials } from "../../core/credentials/credential_values.ts";
import type { SopsRotationResult } from "../../core/credentials/sops_rotation.ts";
import { createControlClient, daemonAvailable } from "../../daemon/api/control_client.ts";
import { openCliRuntime } from "../cli_runtime.ts";
import { JSON_FLAG_HELP, printJson, setExitCode } from "../output.ts";

/** The environment variables the new key pair may come from. */
const NEW_KEY_VARIABLES = {
  access: "TCFS_NEW_ACCESS_KEY",
  secret: "TCFS_NEW_SECRET_KEY",
} as const;

/** What became of telling the daemon. */
type DaemonReload =
  | { state: "reloaded"; socket: string; reloaded_at: string; credentials_source?: string }
  | { state: "not_running"; socket: string }
  | { state: "failed"; socket: string; error: string };

/** Builds the command. */
export function credsRotateCommand() {
  return new Command("rotate")
    .description(
      "put a new S3 key pair in the SOPS file (re-encrypted by sops) and reload the daemon",
    )
    .option("--access-key <key>", `the new access key (default: $${NEW_KEY_VARIABLES.access})`)
    .option(
      "--secret-key <secret>",
      `the new secret key; visible to other users in \`ps\`, so prefer $${NEW_KEY_VARIABLES.secret} or --secret-key-stdin`,
    )
    .option("--secret-key-stdin", "read the new secret key from the first line of stdin")
    .option("--file <path>", "the SOPS file (default: [secrets] sops_file)")
    .option("--no-reload", "do not ask a running daemon to reload")
    .option("--json", JSON_FLAG_HELP)
    .addHelpText(
      "after",
      `
The file is decrypted in-process with this host's age key, s3_access and s3_secret are replaced
(everything else is kept), and the plaintext is piped to \`sops encrypt\`, run next to the file so
its .sops.yaml creation rules choose the recipients; nothing unencrypted is written to disk. The
result must decrypt on this host before it replaces the file (atomically, mode 0600); the old
file is kept as <file>.bak-<UTC time>. Needs sops on PATH.

Examples:
  TCFS_NEW_ACCESS_KEY=AK2 TCFS_NEW_SECRET_KEY=... tcfs creds rotate
  pass show s3/new | tcfs creds rotate --access-key AK2 --secret-key-stdin
  tcfs creds rotate --file secrets/hosts/yoga.yaml --no-reload --json`,
    )
    .action(async (options) => {
      const runtime = await openCliRuntime();
      try {
        const s3 = await newKeyPair(options, runtime.env);
        const file = options.file ?? runtime.config.secrets.sopsFile;
        // SOPS and age load only for a rotation.
        const { rotateSopsCredentials } = await import("../../core/credentials/sops_rotation.ts");
        const rotation = await rotateSopsCredentials({ file, s3, env: runtime.env });
        const warnings: string[] = [];
        const winner = (await runtime.credentials()).source;
        if (winner !== `sops:${rotation.file}`) {
          warnings.push(
            `this host takes its S3 keys from ${winner}, not from ${rotation.file}; ` +
              "the new keys take effect only where the SOPS file is the source in use " +
              "(see `tcfs creds status`)",
          );
        }
        const daemon = options.reload
          ? await reloadDaemon(runtime.config.daemon.socket)
          : undefined;
        if (daemon?.state === "failed") setExitCode(ExitCode.error);
        if (options.json) {
          printJson({ ...rotationJson(rotation), ...(daemon && { daemon }), warnings });
          return;
        }
        console.log(describeRotation(rotation, daemon));
        for (const warning of warnings) console.error(`tcfs: warning: ${warning}`);
      } finally {
        runtime.close();
      }
    });
}

async function newKeyPair(
  options: { accessKey?: string; secretKey?: string; secretKeyStdin?: true },
  env: Record<string, string | undefined>,
): Promise<S3Credentials> {
  const access = options.accessKey ?? env[NEW_KEY_VARIABLES.access];
  let secret: string | undefined;
  if (options.secretKeyStdin) {
    if (options.secretKey !== undefined) {
      throw usage("--secret-key and --secret-key-stdin both give the secret", "use one of them");
    }
    secret = await readFirstLine(Deno.stdin.readable);
  } else if (options.secretKey !== undefined) {
    console.error(
      "tcfs: warning: a secret on the command line is visible to other users (ps) and may " +
        `stay in your shell history; prefer ${NEW_KEY_VARIABLES.secret} or --secret-key-stdin`,
    );
    secret = options.secretKey;
  } else {
    secret = env[NEW_KEY_VARIABLES.secret];
  }
  if (!access) {
    throw usage(
      "no new access key given",
      `pass --access-key <key> or set ${NEW_KEY_VARIABLES.access}`,
    );
  }
  if (!secret) {
    throw usage(
      "no new secret key given",
      `set ${NEW_KEY_VARIABLES.secret}, or pipe it in with --secret-key-stdin`,
    );
  }
  return { accessKeyId: new Secret(access), secretAccessKey: new Secret(secret) };
}

async function readFirstLine(stream: ReadableStream<Uint8Array>): Promise<string> {
  let text = "";
  for await (const piece of stream.pipeThrough(new TextDecoderStream())) {
    text += piece;
    if (text.includes("\n")) break;
  }
  return text.split(/\r?\n/)[0];
}

function usage(message: string, hint: string): TcfsError {
  return new TcfsError(message, { kind: "usage", exitCode: ExitCode.usage, hint });
}

/** Asks a running daemon to reload; a daemon that is not running is not an error. */
async function reloadDaemon(socket: string): Promise<DaemonReload> {
  if (!await daemonAvailable(socket)) return { state: "not_running", socket };
  using client = createControlClient(socket);
  try {
    const reloaded = await client.reload();
    const status = await client.status().catch(() => undefined);
    return {
      state: "reloaded",
      socket,
      reloaded_at: reloaded.reloaded_at,
      ...(status && { credentials_source: status.credentials.source }),
    };
  } catch (err) {
    return { state: "failed", socket, error: (err as Error).message };
  }
}

function rotationJson(rotation: SopsRotationResult) {
  return {
    file: rotation.file,
    backup: rotation.backup,
    sops_config: rotation.sopsConfig ?? null,
    recipients: rotation.recipients,
  };
}

function describeRotation(rotation: SopsRotationResult, daemon?: DaemonReload): string {
  const lines = [
    `rotated the S3 keys in ${rotation.file}`,
    `  encrypted for ${rotation.recipients.join(", ")}` +
    (rotation.sopsConfig
      ? ` (creation rules of ${rotation.sopsConfig})`
      : " (no .sops.yaml applies: the file's previous recipients)"),
    `  previous file kept as ${rotation.backup}`,
  ];
  if (daemon?.state === "reloaded") {
    lines.push(
      `  the daemon reloaded at ${daemon.reloaded_at}` +
        (daemon.credentials_source ? `, keys from ${daemon.credentials_source}` : ""),
    );
  } else if (daemon?.state === "not_running") {
    lines.push(`  no daemon is running (${daemon.socket}); it loads the new keys when it starts`);
  } else if (daemon?.state === "failed") {
    lines.push(
      `  the daemon did not reload: ${daemon.error}`,
      "  see `tcfs creds status`, then send the daemon SIGHUP (`systemctl --user kill -s HUP tcfsd`)",
    );
  }
  return lines.join("\n");
}
