/**
 * Where `tcfs device enroll` gets the fleet's recovery passphrase: a file named by a flag,
 * `TCFS_RECOVERY_PASSPHRASE`, or a hidden prompt on a terminal. Never printed or logged.
 *
 * @module
 */

import { ExitCode, TcfsError } from "../core/errors.ts";
import { promptHidden } from "../core/credentials/password_prompt.ts";

/** The variable that carries the recovery passphrase in scripts. */
export const RECOVERY_PASSPHRASE_VAR = "TCFS_RECOVERY_PASSPHRASE";

/**
 * The shortest passphrase accepted for a new fleet: with the bucket readable, a short one
 * can be guessed offline, and it opens every key the fleet ever had.
 */
const MIN_NEW_PASSPHRASE = 12;

/** How to ask. */
export interface PassphraseSource {
  /** `--recovery-passphrase-file`. */
  file?: string;
  env: Record<string, string | undefined>;
  /** True for a new passphrase: asked twice, and held to a minimum length. */
  choosing: boolean;
}

/**
 * The recovery passphrase, or `undefined` when none is given and there is no terminal to ask.
 *
 * @throws {TcfsError} (usage exit code) for an unreadable or empty file, a too short new
 *   passphrase, or two different answers to the prompt.
 *
 * @example
 * ```ts
 * const passphrase = await recoveryPassphrase({ env: Deno.env.toObject(), choosing: true });
 * ```
 */
export async function recoveryPassphrase(
  source: PassphraseSource,
): Promise<string | undefined> {
  const given = source.file !== undefined
    ? await readPassphraseFile(source.file)
    : source.env[RECOVERY_PASSPHRASE_VAR] || undefined;
  if (given !== undefined) return checked(given, source.choosing);
  if (!Deno.stdin.isTerminal()) return undefined;
  if (!source.choosing) return await promptHidden("Fleet recovery passphrase: ");
  const first = checked(
    await promptHidden(
      "Choose the fleet's recovery passphrase (it recovers every file if all devices are lost): ",
    ),
    true,
  );
  if (await promptHidden("Repeat it: ") !== first) {
    throw usage("the two passphrases differ", "run the enrollment again");
  }
  return first;
}

async function readPassphraseFile(path: string): Promise<string> {
  let text: string;
  try {
    text = await Deno.readTextFile(path);
  } catch (err) {
    throw usage(
      `cannot read the recovery passphrase file ${path}: ${(err as Error).message}`,
      "give --recovery-passphrase-file a readable file holding the passphrase",
    );
  }
  // One line, as `echo … > file` writes it.
  return text.replace(/\r?\n$/, "");
}

function checked(passphrase: string, choosing: boolean): string {
  if (passphrase === "") {
    throw usage("the recovery passphrase is empty", "give the fleet's recovery passphrase");
  }
  if (choosing && [...passphrase].length < MIN_NEW_PASSPHRASE) {
    throw usage(
      `a new recovery passphrase needs at least ${MIN_NEW_PASSPHRASE} characters`,
      "use 4-5 random words or 12+ random characters: it protects every key of the fleet",
    );
  }
  return passphrase;
}

function usage(message: string, hint: string): TcfsError {
  return new TcfsError(message, { kind: "invalid_flag", exitCode: ExitCode.usage, hint });
}
