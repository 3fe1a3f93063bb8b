/**
 * Finding the host's age identities, in the places and order sops itself uses.
 *
 * @module
 */

import { identityToRecipient } from "age-encryption";
import { describeReadError } from "./read_error.ts";
import { Secret } from "./secret_redaction.ts";
import { readPrivateFile } from "./private_file.ts";
import { TcfsError } from "../errors.ts";

/** One age identity (private key) and where it came from. */
export interface AgeIdentity {
  /** The `AGE-SECRET-KEY-1…` text. */
  secretKey: Secret;
  /** Its public key (`age1…`), safe to show. */
  recipient: string;
  /** Where it was found, e.g. `SOPS_AGE_KEY_FILE (/home/u/key.txt)`. */
  origin: string;
}

/** The identities found, and a note for every place looked at. */
export interface AgeIdentitySearch {
  /** In lookup order, without duplicates. */
  identities: AgeIdentity[];
  /** One line per place, saying what was found there (never key material). */
  searched: string[];
}

/** Where an age identity may live: the literal key text, or a file of keys. */
type IdentityPlace = { origin: string; text: string } | { origin: string; path: string };

/**
 * Collects age identities from, in order: `SOPS_AGE_KEY` (key text),
 * `SOPS_AGE_KEY_FILE`, `$CREDENTIALS_DIRECTORY/age-identity` (systemd
 * `LoadCredential`) and the sops user key file
 * (`$XDG_CONFIG_HOME/sops/age/keys.txt`, else `~/.config/sops/age/keys.txt`,
 * and on macOS also `~/Library/Application Support/sops/age/keys.txt`).
 * Every place contributes; a file may hold several identities and comments.
 * Missing or unreadable places are noted in `searched`, never thrown.
 *
 * @example
 * ```ts
 * const { identities, searched } = await findAgeIdentities(Deno.env.toObject());
 * console.log(identities.map((i) => `${i.recipient} (${i.origin})`), searched);
 * ```
 */
export async function findAgeIdentities(
  env: Record<string, string | undefined>,
  os: typeof Deno.build.os = Deno.build.os,
): Promise<AgeIdentitySearch> {
  const identities: AgeIdentity[] = [];
  const searched: string[] = [];
  for (const place of identityPlaces(env, os)) {
    let text: string;
    if ("text" in place) {
      text = place.text;
    } else {
      try {
        const file = { what: "age key file", path: place.path, holds: "age identities" };
        text = new TextDecoder().decode(await readPrivateFile(file));
      } catch (err) {
        if (err instanceof TcfsError) throw err;
        searched.push(`${place.origin}: ${describeReadError(err)}`);
        continue;
      }
    }
    const parsed = await parseIdentities(text, place.origin);
    for (const identity of parsed.identities) {
      if (!identities.some((known) => known.recipient === identity.recipient)) {
        identities.push(identity);
      }
    }
    const count = `${parsed.identities.length} ${
      parsed.identities.length === 1 ? "identity" : "identities"
    }`;
    searched.push([`${place.origin}: ${count}`, ...parsed.problems].join("; "));
  }
  return { identities, searched };
}

/**
 * Reads the identities in the text of an age key file: one `AGE-SECRET-KEY-…`
 * per line, `#` comments and blank lines ignored. Lines that are not usable
 * identities are reported by line number only, since they may be key material.
 */
async function parseIdentities(
  text: string,
  origin: string,
): Promise<{ identities: AgeIdentity[]; problems: string[] }> {
  const identities: AgeIdentity[] = [];
  const problems: string[] = [];
  const lines = text.split(/\r?\n/);
  for (const [index, raw] of lines.entries()) {
    const line = raw.trim();
    if (line === "" || line.startsWith("#")) continue;
    if (line.startsWith("AGE-PLUGIN-")) {
      problems.push(`line ${index + 1} is an age plugin identity, which tcfs cannot use`);
      continue;
    }
    try {
      const recipient = await identityToRecipient(line);
      identities.push({ secretKey: new Secret(line), recipient, origin });
    } catch {
      problems.push(`line ${index + 1} is not an age identity`);
    }
  }
  return { identities, problems };
}

function identityPlaces(
  env: Record<string, string | undefined>,
  os: typeof Deno.build.os,
): IdentityPlace[] {
  const places: IdentityPlace[] = [];
  if (env.SOPS_AGE_KEY) places.push({ origin: "SOPS_AGE_KEY", text: env.SOPS_AGE_KEY });
  if (env.SOPS_AGE_KEY_FILE) {
    places.push({
      origin: `SOPS_AGE_KEY_FILE (${env.SOPS_AGE_KEY_FILE})`,
      path: env.SOPS_AGE_KEY_FILE,
    });
  }
  if (env.CREDENTIALS_DIRECTORY) {
    const path = `${env.CREDENTIALS_DIRECTORY}/age-identity`;
    places.push({ origin: `$CREDENTIALS_DIRECTORY/age-identity (${path})`, path });
  }
  for (const path of userKeyFiles(env, os)) places.push({ origin: path, path });
  return places;
}

function userKeyFiles(env: Record<string, string | undefined>, os: typeof Deno.build.os): string[] {
  if (env.XDG_CONFIG_HOME) return [`${env.XDG_CONFIG_HOME}/sops/age/keys.txt`];
  if (!env.HOME) return [];
  const files = [`${env.HOME}/.config/sops/age/keys.txt`];
  // sops uses Go's os.UserConfigDir(), which is this on macOS.
  if (os === "darwin") files.push(`${env.HOME}/Library/Application Support/sops/age/keys.txt`);
  return files;
}
