/**
 * `tcfs device invite`: a one-time token with which a new machine enrolls and is approved by
 * the fleet's daemons, with no one at an approved device's keyboard.
 *
 * @module
 */

import { Command } from "@commander-js/extra-typings";
import { ExitCode, TcfsError } from "../../core/errors.ts";
import { openCliRuntime } from "../cli_runtime.ts";
import { deviceKeychainAccess } from "../../core/crypto/device_keys.ts";
import { fleetKeysOf } from "../../core/crypto/fleet_keys.ts";
import { createInvitation, DEFAULT_INVITE_TTL_MS } from "../../core/crypto/device_invites.ts";
import { parseDuration } from "../../core/config/duration_text.ts";
import { JSON_FLAG_HELP, printJson } from "../output.ts";

/** Builds the command. */
export function deviceInviteCommand() {
  return new Command("invite")
    .description("make a one-time token that lets a new machine in (run on an approved device)")
    .option(
      "--expires <age>",
      "how long the token stays good, e.g. 2h or 7d",
      `${DEFAULT_INVITE_TTL_MS / 3600_000}h`,
    )
    .option("--json", JSON_FLAG_HELP)
    .addHelpText(
      "after",
      `
Examples:
  tcfs device invite
  ssh labbox "tcfs device enroll --name labbox --invite $(tcfs device invite --json | jq -r .token)"

The new machine enrolls with --invite TOKEN; any approved device's daemon then approves it
within its poll interval (or run \`tcfs device approve <name>\` yourself). The token works once
and only before it expires. Keep it as you would a password until it is used: whoever enrolls
with it first is let in.`,
    )
    .action(async (options) => {
      const ttlMs = parseDuration(options.expires) ?? 0;
      if (ttlMs <= 0) {
        throw new TcfsError(`--expires ${options.expires} is not a positive duration`, {
          kind: "invalid_argument",
          exitCode: ExitCode.usage,
          hint: "give an age such as 30m, 2h or 7d",
        });
      }
      const runtime = await openCliRuntime();
      try {
        const store = await runtime.store();
        const me = await runtime.device();
        const access = await deviceKeychainAccess(store, await runtime.state(), {
          id: me.id,
          name: me.name,
          ageKeyFile: runtime.config.paths.ageKeyFile,
        });
        if (access.state !== "approved") {
          throw new TcfsError(
            access.state === "none"
              ? "the fleet has no keychain (it enrolled with --no-encrypt): new devices need no invitation"
              : `this device (${me.name}) is not approved, so it cannot invite others`,
            {
              kind: "not_approved",
              hint: access.state === "none"
                ? "enroll the new machine with `tcfs device enroll`"
                : "run `tcfs device invite` on an approved device (see `tcfs device list`)",
            },
          );
        }
        const invitation = await createInvitation(
          store,
          await fleetKeysOf(access.stored.keychain),
          me.id,
          ttlMs,
        );
        if (options.json) {
          return printJson({ token: invitation.token, expires_at: invitation.expiresAt });
        }
        console.log(invitation.token);
        console.error(
          `on the new machine: tcfs device enroll --name <its name> --invite <the token above>\n` +
            `good once, until ${invitation.expiresAt}; an approved daemon then lets it in`,
        );
      } finally {
        runtime.close();
      }
    });
}
