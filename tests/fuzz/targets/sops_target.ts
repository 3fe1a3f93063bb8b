/**
 * Fuzz target: SOPS files (YAML and JSON), from fixtures sops encrypted for the suite's
 * throwaway age identity: damaged text, changed structure (metadata included), alias bombs.
 *
 * @module
 */

import { join } from "node:path";
import { findAgeIdentities } from "../../../core/credentials/age_identities.ts";
import type { AgeIdentitySearch } from "../../../core/credentials/age_identities.ts";
import { decryptSopsFile } from "../../../core/credentials/sops_decrypt.ts";
import type { FuzzTarget } from "../fuzz_target.ts";
import { below, hostileText, jsonText, mutateJson } from "../mutations.ts";
import { FUZZ_AGE_IDENTITY } from "../fixtures/fuzz_age_identity.ts";

const FIXTURES = new URL("../fixtures/", import.meta.url);
const YAML_TEXT = Deno.readTextFileSync(new URL("secrets.sops.yaml", FIXTURES));
const JSON_VALUE = JSON.parse(Deno.readTextFileSync(new URL("secrets.sops.json", FIXTURES)));

/** A YAML document whose aliases expand exponentially, in front of the real file. */
function aliasBomb(levels: number): string {
  const lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"];
  for (let i = 1; i < levels; i++) {
    lines.push(`a${i}: &a${i} [${Array(10).fill(`*a${i - 1}`).join(", ")}]`);
  }
  return `${lines.join("\n")}\n`;
}

interface Fixture {
  dir: string;
  keys: AgeIdentitySearch;
}

export const target: FuzzTarget<{ name: string; text: string }, Fixture> = {
  open: async () => ({
    dir: await Deno.makeTempDir({ prefix: "tcfs-fuzz-sops-" }),
    keys: await findAgeIdentities({ SOPS_AGE_KEY: FUZZ_AGE_IDENTITY }),
  }),
  close: ({ dir }) => Deno.remove(dir, { recursive: true }),
  input: (random) => {
    const roll = random();
    if (roll < 0.45) return { name: "secrets.yaml", text: hostileText(random, YAML_TEXT) };
    if (roll < 0.9) return { name: "secrets.json", text: jsonText(mutateJson(random, JSON_VALUE)) };
    return { name: "secrets.yaml", text: aliasBomb(2 + below(random, 8)) + YAML_TEXT };
  },
  run: async ({ name, text }, { dir, keys }) => {
    const file = join(dir, name);
    await Deno.writeTextFile(file, text);
    await decryptSopsFile(file, keys);
  },
};
