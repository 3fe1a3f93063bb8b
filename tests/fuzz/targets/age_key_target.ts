/**
 * Fuzz target: age key files, as sops and tcfs read them (`SOPS_AGE_KEY`, key files, the
 * device's own key file).
 *
 * @module
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { findAgeIdentities } from "../../../core/credentials/age_identities.ts";
import { readFirstRecipient } from "../../../core/device/device_age_key.ts";
import type { FuzzTarget } from "../fuzz_target.ts";
import { hostileText } from "../mutations.ts";
import { FUZZ_AGE_IDENTITY, FUZZ_AGE_RECIPIENT } from "../fixtures/fuzz_age_identity.ts";

const SAMPLE = `# created: 2026-12-03T10:00:00Z
# public key: ${FUZZ_AGE_RECIPIENT}
${FUZZ_AGE_IDENTITY}
AGE-PLUGIN-YUBIKEY-1QQQQQQ
`;

export const target: FuzzTarget<string, string> = {
  open: () => Deno.makeTempDir({ prefix: "tcfs-fuzz-age-" }),
  close: (dir) => Deno.remove(dir, { recursive: true }),
  input: (random) => hostileText(random, SAMPLE),
  run: async (text, dir) => {
    const file = join(dir, "keys.txt");
    await Deno.writeTextFile(file, text);
    const search = await findAgeIdentities({ SOPS_AGE_KEY: text, SOPS_AGE_KEY_FILE: file });
    for (const identity of search.identities) {
      assert.match(identity.recipient, /^age1[02-9ac-hj-np-z]+$/, "a found identity has a key");
    }
    const notes = search.searched.join("\n");
    assert.ok(!notes.includes("AGE-SECRET-KEY"), "notes never quote key material");
    await readFirstRecipient(file);
  },
};
