import assert from "node:assert/strict";
import { join } from "node:path";
import { findAgeIdentities } from "../../core/credentials/age_identities.ts";
import { decryptSopsFile, SopsErrorKind } from "../../core/credentials/sops_decrypt.ts";
import { FUZZ_AGE_IDENTITY } from "./fixtures/fuzz_age_identity.ts";
import { fuzzTest } from "./fuzz_test_runner.ts";

fuzzTest("SOPS files", new URL("./targets/sops_target.ts", import.meta.url));

// Found by seed 807217681, case 1: aliases that expand exponentially made the YAML library
// throw a ReferenceError.
Deno.test("a SOPS file whose YAML aliases expand exponentially is unreadable, not a crash", async () => {
  const dir = await Deno.makeTempDir({ prefix: "tcfs-fuzz-sops-" });
  try {
    const lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"];
    for (let i = 1; i < 5; i++) lines.push(`a${i}: &a${i} [${Array(10).fill(`*a${i - 1}`)}]`);
    const fixture = await Deno.readTextFile(
      new URL("./fixtures/secrets.sops.yaml", import.meta.url),
    );
    const file = join(dir, "secrets.yaml");
    await Deno.writeTextFile(file, `${lines.join("\n")}\n${fixture}`);
    const keys = await findAgeIdentities({ SOPS_AGE_KEY: FUZZ_AGE_IDENTITY });
    await assert.rejects(decryptSopsFile(file, keys), (err: Error & { kind?: string }) => {
      assert.equal(err.kind, SopsErrorKind.unreadable, err.message);
      assert.match(err.message, /alias/);
      return true;
    });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
