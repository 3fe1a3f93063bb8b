import assert from "node:assert/strict";
import { join } from "node:path";
import { parseDocument } from "yaml";
import { TcfsError } from "../../../core/errors.ts";
import { findAgeIdentities } from "../../../core/credentials/age_identities.ts";
import { decryptSopsFile, SopsErrorKind } from "../../../core/credentials/sops_decrypt.ts";
import {
  makeAgeKey,
  mustRunTool,
  runTool,
  sopsDecryptJson,
  sopsEncryptFile,
} from "./real_tools.ts";

const SECRET = "wJalrXUtnFEMI/K7MDENG+bPxRfiCY";

/** Every kind of value the issue lists, with comments, as a user would write it. */
const PLAIN_SECRETS = `# lab credentials
s3_access: AKIAEXAMPLE
s3_secret: "${SECRET}"
s3_endpoint: http://127.0.0.1:8333
nats_url: nats://127.0.0.1:4222
port: 8333
negative: -17
ratio: 0.25
huge: 1.0e+21
tiny: 1.5e-7
enabled: true
disabled: false
empty: ""
nothing: null
unicode: "grüße ✓"
multiline: |
  line one
  line two
nested:
  # a comment inside a map
  deep:
    list: [a, 2, false, 3.5]
    maps:
      - name: one
        value: 1
      - name: two
  "10": ten
  "2": two
hosts:
  - yoga
  - xoxd-bates
token_unencrypted: visible-in-plaintext
`;

async function assertRejects(
  promise: Promise<unknown>,
  kind: string,
  check: (message: string) => void,
): Promise<TcfsError> {
  try {
    await promise;
  } catch (err) {
    assert.ok(err instanceof TcfsError, `expected a TcfsError, got ${err}`);
    assert.equal(err.kind, kind, err.message);
    check(err.message);
    return err;
  }
  assert.fail(`expected a ${kind} error`);
}

Deno.test("a file sops encrypted for one recipient decrypts exactly as `sops decrypt` does", async () => {
  const dir = await Deno.makeTempDir({ prefix: "tcfs-sops-" });
  try {
    const key = await makeAgeKey(dir, "host");
    const file = await sopsEncryptFile(dir, "secrets.yaml", PLAIN_SECRETS, [key.recipient]);
    const encrypted = await Deno.readTextFile(file);
    assert.ok(!encrypted.includes(SECRET) && encrypted.includes("visible-in-plaintext"));

    const data = await decryptSopsFile(
      file,
      await findAgeIdentities({ SOPS_AGE_KEY_FILE: key.keyFile }),
    );

    assert.deepEqual(data, await sopsDecryptJson(dir, file, key.keyFile));
    assert.equal(data.s3_secret, SECRET);
    assert.deepEqual(data.nested, {
      deep: { list: ["a", 2, false, 3.5], maps: [{ name: "one", value: 1 }, { name: "two" }] },
      "10": "ten",
      "2": "two",
    });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a file for two recipients (from .sops.yaml creation_rules) opens with either key", async () => {
  const dir = await Deno.makeTempDir({ prefix: "tcfs-sops-" });
  try {
    const yoga = await makeAgeKey(dir, "yoga");
    const bates = await makeAgeKey(dir, "bates");
    const unrelated = await makeAgeKey(dir, "unrelated");
    // The fleet guide's layout: a .sops.yaml at the repo root, per-host files below it.
    await Deno.writeTextFile(
      join(dir, ".sops.yaml"),
      `creation_rules:\n  - path_regex: secrets/hosts/yoga\\.yaml$\n    age: >-\n      ${yoga.recipient},\n      ${bates.recipient}\n`,
    );
    await Deno.mkdir(join(dir, "secrets/hosts"), { recursive: true });
    const file = join(dir, "secrets/hosts/yoga.yaml");
    await Deno.writeTextFile(file, PLAIN_SECRETS);
    await mustRunTool("sops", ["encrypt", "--in-place", "secrets/hosts/yoga.yaml"], { cwd: dir });
    const metadata = parseDocument(await Deno.readTextFile(file)).toJS().sops;
    assert.deepEqual(
      metadata.age.map((block: { recipient: string }) => block.recipient).sort(),
      [yoga.recipient, bates.recipient].sort(),
    );
    const expected = await sopsDecryptJson(dir, file, yoga.keyFile);

    // Each host alone: the first block, the second block, and a key file with two identities.
    assert.deepEqual(
      await decryptSopsFile(file, await findAgeIdentities({ SOPS_AGE_KEY: yoga.secretKey })),
      expected,
    );
    assert.deepEqual(
      await decryptSopsFile(file, await findAgeIdentities({ SOPS_AGE_KEY: bates.secretKey })),
      expected,
    );
    const twoKeys = join(dir, "keys.txt");
    await Deno.writeTextFile(
      twoKeys,
      (await Deno.readTextFile(unrelated.keyFile)) + "\n" +
        (await Deno.readTextFile(bates.keyFile)),
      { mode: 0o600 },
    );
    assert.deepEqual(
      await decryptSopsFile(file, await findAgeIdentities({ SOPS_AGE_KEY_FILE: twoKeys })),
      expected,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("every sops encryption rule leaves the same values in plaintext and the MAC still holds", async (t) => {
  const dir = await Deno.makeTempDir({ prefix: "tcfs-sops-" });
  try {
    const key = await makeAgeKey(dir, "host");
    const plain = `s3_access: AKIAEXAMPLE
# sops:enc
s3_secret: "${SECRET}"
# sops:nocrypt
public_note: hello-plain
count: 3
nested:
  inner_note: inner-plain
  list: [1, two]
`;
    const rules = [
      "encrypted_regex: ^s3_",
      "unencrypted_regex: _note$",
      "encrypted_suffix: _secret",
      "unencrypted_suffix: _note",
      "encrypted_regex: ^s3_\n    mac_only_encrypted: true",
      "encrypted_comment_regex: sops:enc",
      "unencrypted_comment_regex: sops:nocrypt",
    ];
    for (const [index, rule] of rules.entries()) {
      await t.step(rule.replaceAll("\n    ", ", "), async () => {
        const ruleDir = join(dir, `rule${index}`);
        await Deno.mkdir(ruleDir);
        await Deno.writeTextFile(
          join(ruleDir, ".sops.yaml"),
          `creation_rules:\n  - age: ${key.recipient}\n    ${rule}\n`,
        );
        const file = join(ruleDir, "secrets.yaml");
        await Deno.writeTextFile(file, plain);
        await mustRunTool("sops", ["encrypt", "--in-place", "secrets.yaml"], { cwd: ruleDir });
        const encrypted = await Deno.readTextFile(file);
        assert.ok(encrypted.includes("hello-plain"), "the rule left public_note in plaintext");
        assert.ok(!encrypted.includes(SECRET), "the rule encrypted s3_secret");

        const data = await decryptSopsFile(
          file,
          await findAgeIdentities({ SOPS_AGE_KEY_FILE: key.keyFile }),
        );

        assert.deepEqual(data, await sopsDecryptJson(ruleDir, file, key.keyFile));
        assert.equal(data.s3_secret, SECRET);
      });
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("comments inside lists are dropped, as sops drops them, and are not part of the MAC", async () => {
  // sops stores such a comment as a list item of type comment. (sops 3.13.2 itself
  // then fails its own MAC check, getsops/sops#2243, so compare with the plaintext.)
  const dir = await Deno.makeTempDir({ prefix: "tcfs-sops-" });
  try {
    const key = await makeAgeKey(dir, "host");
    const plain =
      "hosts:\n  # - retired-host\n  - yoga # the leaf node\n  - xoxd-bates\ns3_secret: x\n";
    const file = await sopsEncryptFile(dir, "secrets.yaml", plain, [key.recipient]);
    assert.match(await Deno.readTextFile(file), /type:comment\]\n/);

    const data = await decryptSopsFile(
      file,
      await findAgeIdentities({ SOPS_AGE_KEY_FILE: key.keyFile }),
    );

    assert.deepEqual(data, parseDocument(plain).toJS());
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a JSON file sops encrypted decrypts like sops", async () => {
  const dir = await Deno.makeTempDir({ prefix: "tcfs-sops-" });
  try {
    const key = await makeAgeKey(dir, "host");
    const file = await sopsEncryptFile(
      dir,
      "secrets.json",
      JSON.stringify({
        s3_access: "AKIAEXAMPLE",
        s3_secret: SECRET,
        n: 7,
        ok: true,
        l: [1.5, "x"],
      }),
      [key.recipient],
    );
    const data = await decryptSopsFile(
      file,
      await findAgeIdentities({ SOPS_AGE_KEY_FILE: key.keyFile }),
    );
    assert.deepEqual(data, await sopsDecryptJson(dir, file, key.keyFile));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("altered files are refused: a changed ciphertext names its key, a changed plaintext breaks the MAC", async (t) => {
  const dir = await Deno.makeTempDir({ prefix: "tcfs-sops-" });
  try {
    const key = await makeAgeKey(dir, "host");
    const file = await sopsEncryptFile(dir, "secrets.yaml", PLAIN_SECRETS, [key.recipient]);
    const original = await Deno.readTextFile(file);
    const keys = await findAgeIdentities({ SOPS_AGE_KEY_FILE: key.keyFile });
    const sopsRefuses = async (expected: string) => {
      const result = await runTool("sops", ["decrypt", file], {
        cwd: dir,
        env: { SOPS_AGE_KEY_FILE: key.keyFile },
      });
      assert.notEqual(result.code, 0, "sops itself refuses the altered file");
      assert.match(result.stderr, new RegExp(expected));
    };

    await t.step("ciphertext of s3_secret changed", async () => {
      const tampered = original.replace(
        /(s3_secret: ENC\[AES256_GCM,data:)(.)/,
        (_, prefix, first) => prefix + (first === "A" ? "B" : "A"),
      );
      assert.notEqual(tampered, original);
      await Deno.writeTextFile(file, tampered);
      await assertRejects(decryptSopsFile(file, keys), SopsErrorKind.corruptValue, (message) => {
        assert.match(message, /s3_secret/);
        assert.ok(!message.includes(SECRET));
      });
      await sopsRefuses("Could not decrypt value|cipher: message authentication failed");
    });

    await t.step("encrypted values swapped between keys", async () => {
      const access = /s3_access: (ENC\[[^\]]+\])/.exec(original)![1];
      const secret = /s3_secret: (ENC\[[^\]]+\])/.exec(original)![1];
      await Deno.writeTextFile(
        file,
        original.replace(access, "@@A").replace(secret, access).replace("@@A", secret),
      );
      await assertRejects(decryptSopsFile(file, keys), SopsErrorKind.corruptValue, (message) => {
        assert.match(message, /s3_access/);
      });
    });

    await t.step("a plaintext value changed", async () => {
      await Deno.writeTextFile(
        file,
        original.replace("visible-in-plaintext", "changed-by-someone"),
      );
      await assertRejects(decryptSopsFile(file, keys), SopsErrorKind.macMismatch, (message) => {
        assert.match(message, /MAC mismatch/);
      });
      await sopsRefuses("MAC mismatch");
    });

    await t.step("an encrypted entry removed", async () => {
      await Deno.writeTextFile(file, original.replace(/^port: .*\n/m, ""));
      await assertRejects(decryptSopsFile(file, keys), SopsErrorKind.macMismatch, () => {});
      await sopsRefuses("MAC mismatch");
    });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a file for other recipients gives 'no matching key', naming recipients and the keys tried", async () => {
  const dir = await Deno.makeTempDir({ prefix: "tcfs-sops-" });
  try {
    const yoga = await makeAgeKey(dir, "yoga");
    const bates = await makeAgeKey(dir, "bates");
    const stranger = await makeAgeKey(dir, "stranger");
    const file = await sopsEncryptFile(dir, "secrets.yaml", PLAIN_SECRETS, [
      yoga.recipient,
      bates.recipient,
    ]);

    const error = await assertRejects(
      decryptSopsFile(file, await findAgeIdentities({ SOPS_AGE_KEY_FILE: stranger.keyFile })),
      SopsErrorKind.noMatchingKey,
      (message) => {
        assert.match(message, /no matching key/);
        for (const recipient of [yoga.recipient, bates.recipient, stranger.recipient]) {
          assert.ok(message.includes(recipient), `names ${recipient}`);
        }
        assert.ok(message.includes(stranger.keyFile), "says where the tried key came from");
        assert.ok(!message.includes("AGE-SECRET-KEY"), "never shows a private key");
      },
    );
    assert.match(error.hint ?? "", /sops updatekeys/);

    await assertRejects(
      decryptSopsFile(file, await findAgeIdentities({ HOME: join(dir, "empty-home") })),
      SopsErrorKind.noMatchingKey,
      (message) =>
        assert.match(
          message,
          /no age identity found.*empty-home\/\.config\/sops\/age\/keys\.txt: not found/,
        ),
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("files that sops did not encrypt for age are refused with what is wrong", async (t) => {
  const dir = await Deno.makeTempDir({ prefix: "tcfs-sops-" });
  try {
    const key = await makeAgeKey(dir, "host");
    const keys = await findAgeIdentities({ SOPS_AGE_KEY_FILE: key.keyFile });

    await t.step("plain YAML", async () => {
      const file = join(dir, "plain.yaml");
      await Deno.writeTextFile(file, PLAIN_SECRETS);
      await assertRejects(decryptSopsFile(file, keys), SopsErrorKind.notSopsFile, (message) => {
        assert.match(message, /no "sops" metadata/);
      });
    });

    await t.step("encrypted only for PGP (the age block replaced by hand)", async () => {
      const file = await sopsEncryptFile(dir, "pgp.yaml", PLAIN_SECRETS, [key.recipient]);
      const document = parseDocument(await Deno.readTextFile(file));
      document.deleteIn(["sops", "age"]);
      document.setIn(["sops", "pgp"], [{
        created_at: "2026-01-01T00:00:00Z",
        enc: "-----BEGIN PGP MESSAGE-----\n\nwcBMA\n-----END PGP MESSAGE-----\n",
        fp: "FBC7B9E2A4F9289AC0C1D4843D16CEE4A27381B4",
      }]);
      await Deno.writeTextFile(file, document.toString());
      await assertRejects(
        decryptSopsFile(file, keys),
        SopsErrorKind.unsupportedKeyType,
        (message) => {
          assert.match(message, /no age recipients; it is encrypted only for pgp keys/);
        },
      );
    });

    await t.step("broken YAML is reported by position, without quoting the line", async () => {
      const file = join(dir, "broken.yaml");
      await Deno.writeTextFile(file, `s3_access: [${SECRET}\nsops: x\n  y`);
      await assertRejects(decryptSopsFile(file, keys), SopsErrorKind.unreadable, (message) => {
        assert.match(message, /not valid YAML or JSON .* at line \d+/);
        assert.ok(!message.includes(SECRET));
      });
    });

    await t.step("a missing file", async () => {
      await assertRejects(
        decryptSopsFile(join(dir, "absent.yaml"), keys),
        SopsErrorKind.unreadable,
        (message) => assert.match(message, /absent\.yaml: not found/),
      );
    });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
