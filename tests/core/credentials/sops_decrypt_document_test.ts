import assert from "node:assert/strict";
import { join } from "node:path";
import { findAgeIdentities } from "../../../core/credentials/age_identities.ts";
import { decryptSopsDocument, SopsErrorKind } from "../../../core/credentials/sops_decrypt.ts";
import { makeScopedTempDir } from "../../support/module_unload.ts";
import { makeAgeKey, mustRunTool, sopsDecryptJson, sopsEncryptFile } from "./real_tools.ts";

const FILE = `# tcfs credentials
s3_access: "0042"
s3_secret: wJalrXUtnFEMI/K7MDENG # the secret
quoted: 'yes'
limits:
  # tuning
  max_mib: 512
  ratio: 0.5
  enabled: false
  nested:
    deeper: [1, two, {three: 3}]
hosts:
  - name: a
    port: 8333
  - name: b
    port: 8334
blank: ""
nothing: null
`;

Deno.test("decryptSopsDocument gives sops decrypt's data with the comments, ready to re-encrypt", async () => {
  const tmp = await makeScopedTempDir("tcfs-sops-doc-");
  try {
    const key = await makeAgeKey(tmp.path, "host");
    const file = await sopsEncryptFile(tmp.path, "secrets.yaml", FILE, [key.recipient]);
    const keys = await findAgeIdentities({ SOPS_AGE_KEY_FILE: key.keyFile, HOME: tmp.path });
    const document = await decryptSopsDocument(file, keys);
    assert.deepEqual(document.toJS(), await sopsDecryptJson(tmp.path, file, key.keyFile));
    const text = document.toString();
    for (const comment of ["# tcfs credentials", "# the secret", "# tuning"]) {
      assert.ok(text.includes(comment), `${comment} is missing from:\n${text}`);
    }
    assert.doesNotMatch(text, /ENC\[|sops:/);
    // The plaintext goes back through sops unchanged in meaning.
    const again = await mustRunTool(
      "sops",
      ["encrypt", "--input-type", "yaml", "--output-type", "yaml", "--filename-override", "x.yaml"],
      { cwd: tmp.path, env: { SOPS_AGE_RECIPIENTS: key.recipient }, stdin: text },
    );
    await Deno.writeTextFile(join(tmp.path, "again.yaml"), again);
    assert.deepEqual(
      await sopsDecryptJson(tmp.path, "again.yaml", key.keyFile),
      await sopsDecryptJson(tmp.path, file, key.keyFile),
    );
  } finally {
    await tmp.remove();
  }
});

Deno.test("decryptSopsDocument checks the MAC like decryptSopsFile", async () => {
  const tmp = await makeScopedTempDir("tcfs-sops-doc-");
  try {
    const key = await makeAgeKey(tmp.path, "host");
    const file = await sopsEncryptFile(tmp.path, "secrets.yaml", "a: 1\nb: 2\n", [key.recipient]);
    const text = await Deno.readTextFile(file);
    // Every remaining value still decrypts; only the MAC notices that one is gone.
    await Deno.writeTextFile(file, text.replace(/^b: .*\n/m, ""));
    const keys = await findAgeIdentities({ SOPS_AGE_KEY_FILE: key.keyFile, HOME: tmp.path });
    await assert.rejects(decryptSopsDocument(file, keys), { kind: SopsErrorKind.macMismatch });
  } finally {
    await tmp.remove();
  }
});
