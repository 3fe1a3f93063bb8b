/**
 * `tcfs creds status|rotate`: where the S3 keys come from, and replacing them.
 *
 * @module
 */

import { Command } from "@commander-js/extra-typings";
import {
  credentialStatus,
  describeCredentialStatus,
} from "../../core/credentials/credential_chain.ts";
import type { TcfsConfig } from "../../core/config/config_schema.ts";
import type { CredentialStatus as DaemonCredentialStatus } from "../../daemon/api/api_types.ts";
import { openCliRuntime } from "../cli_runtime.ts";
import { runningDaemon } from "../daemon_connection.ts";
import { JSON_FLAG_HELP, printJson } from "../output.ts";
import { credsRotateCommand } from "./creds_rotate_command.ts";
import { thisDeviceKeys } from "../this_device_keys.ts";
import { describeKeyStatus } from "../../core/crypto/device_key_status.ts";
import { describeError, TcfsError } from "../../core/errors.ts";

/** Builds the command group. */
export function credsCommand() {
  const creds = new Command("creds").description(
    "S3 credentials: which source is used (status), replacing the key pair (rotate)",
  );
  for (const command of [credsStatusCommand(), credsRotateCommand()]) {
    // Usage errors must reach runTcfs (exit code 2) instead of exiting here.
    creds.addCommand(
      command.exitOverride().showHelpAfterError(
        "(run with --help for usage)",
      ) as unknown as Command,
    );
  }
  return creds;
}

function credsStatusCommand() {
  return new Command("status")
    .description("which credential source supplies the S3 keys, and why the others do not")
    .option("--json", JSON_FLAG_HELP)
    .addHelpText(
      "after",
      `
Sources, first match wins: TCFS_S3_ACCESS/TCFS_S3_SECRET, AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY,
the SOPS file ([secrets] sops_file), the sops-nix directory, the KeePassXC entry, and
[storage] s3_access/s3_secret in config.toml. Values are never shown.
When a daemon runs, the credentials it loaded (and when) are shown too. The last line says which
key epoch of the fleet's end-to-end encryption this device holds, and whether it is approved.

Examples:
  tcfs creds status
  tcfs creds status --json | jq -r .source`,
    )
    .action(async (options) => {
      const runtime = await openCliRuntime();
      try {
        const resolved = await runtime.credentials();
        const daemon = await daemonCredentials(runtime.config);
        const keys = await keysOrError(runtime);
        if (options.json) {
          printJson({ ...credentialStatus(resolved), ...(daemon && { daemon }), keys });
          return;
        }
        console.log(describeCredentialStatus(resolved));
        if (daemon) {
          console.log(
            `daemon: using ${daemon.source} (loaded ${daemon.loaded_at}) via ${runtime.config.daemon.socket}`,
          );
        }
        console.log(
          keys === null
            ? "keys: this machine has no device identity yet (run `tcfs device enroll`)"
            : "error" in keys
            ? `keys: unknown (${keys.error.message})`
            : `keys: ${describeKeyStatus(keys, runtime.config.sync.deviceName)}`,
        );
      } finally {
        runtime.close();
      }
    });
}

/**
 * This device's key status; null without a device identity; the error when the store or the
 * keychain cannot be read (credentials are still worth showing then).
 */
async function keysOrError(runtime: Awaited<ReturnType<typeof openCliRuntime>>) {
  try {
    return (await thisDeviceKeys(runtime)) ?? null;
  } catch (err) {
    return {
      error: {
        kind: err instanceof TcfsError ? err.kind : "error",
        message: describeError(err),
      },
    };
  }
}

/** What a running daemon loaded, or undefined when none answers. */
async function daemonCredentials(config: TcfsConfig): Promise<DaemonCredentialStatus | undefined> {
  using daemon = await runningDaemon(config);
  try {
    return (await daemon?.status())?.credentials;
  } catch {
    // A daemon that does not answer is `tcfs doctor`'s business, not this listing's.
    return undefined;
  }
}
