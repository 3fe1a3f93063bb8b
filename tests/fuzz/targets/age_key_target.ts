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

/** A throwaway identity made for this suite; it protects nothing. */
const IDENTITY = "AGE-SECRET-KEY-19ZLCSK4SLXGS2NYCVHM0PQXZRZ09VJWJNHGZ34Z3U7XREV4F49RQR9UA63";

const SAMPLE = `# created: 2026-12-03T10:00:00Z
# public key: age16l3z0z242kfaz9wakmp9g7n7dmky8nly6lz9lqk9t6m4g2w054cscpdp72
${IDENTITY}
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
