import assert from "node:assert/strict";
import { join } from "node:path";
import { findAgeIdentities } from "../../../core/credentials/age_identities.ts";
import { makeAgeKey } from "./real_tools.ts";

Deno.test("identities come from SOPS_AGE_KEY, SOPS_AGE_KEY_FILE, $CREDENTIALS_DIRECTORY, then keys.txt", async () => {
  const dir = await Deno.makeTempDir({ prefix: "tcfs-age-" });
  try {
    const [inline, fromFile, fromSystemd, fromConfig] = await Promise.all(
      ["inline", "file", "systemd", "config"].map((name) => makeAgeKey(dir, name)),
    );
    const credentials = join(dir, "credentials");
    await Deno.mkdir(credentials);
    await Deno.copyFile(fromSystemd.keyFile, join(credentials, "age-identity"));
    const xdg = join(dir, "xdg");
    await Deno.mkdir(join(xdg, "sops/age"), { recursive: true });
    await Deno.copyFile(fromConfig.keyFile, join(xdg, "sops/age/keys.txt"));

    const { identities, searched } = await findAgeIdentities({
      SOPS_AGE_KEY: inline.secretKey,
      SOPS_AGE_KEY_FILE: fromFile.keyFile,
      CREDENTIALS_DIRECTORY: credentials,
      XDG_CONFIG_HOME: xdg,
      HOME: join(dir, "home-not-used-when-xdg-is-set"),
    }, "linux");

    assert.deepEqual(
      identities.map((identity) => [identity.recipient, identity.origin]),
      [
        [inline.recipient, "SOPS_AGE_KEY"],
        [fromFile.recipient, `SOPS_AGE_KEY_FILE (${fromFile.keyFile})`],
        [
          fromSystemd.recipient,
          `$CREDENTIALS_DIRECTORY/age-identity (${credentials}/age-identity)`,
        ],
        [fromConfig.recipient, `${xdg}/sops/age/keys.txt`],
      ],
    );
    assert.equal(identities[1].secretKey.reveal(), fromFile.secretKey);
    assert.equal(searched.length, 4);
    assert.ok(searched.every((line) => line.endsWith(": 1 identity")), searched.join("\n"));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a key file may hold several identities and comments; duplicates count once", async () => {
  const dir = await Deno.makeTempDir({ prefix: "tcfs-age-" });
  try {
    const first = await makeAgeKey(dir, "first");
    const second = await makeAgeKey(dir, "second");
    const keys = join(dir, "keys.txt");
    await Deno.writeTextFile(
      keys,
      `${await Deno.readTextFile(first.keyFile)}\n\n${await Deno.readTextFile(second.keyFile)}`,
      { mode: 0o600 },
    );

    const { identities, searched } = await findAgeIdentities({
      SOPS_AGE_KEY_FILE: keys,
      SOPS_AGE_KEY: second.secretKey,
    });

    assert.deepEqual(identities.map((identity) => identity.recipient), [
      second.recipient,
      first.recipient,
    ]);
    assert.deepEqual(searched, [
      "SOPS_AGE_KEY: 1 identity",
      `SOPS_AGE_KEY_FILE (${keys}): 2 identities`,
    ]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("without XDG_CONFIG_HOME the key file is ~/.config/sops/age/keys.txt (and on macOS also Application Support)", async () => {
  const dir = await Deno.makeTempDir({ prefix: "tcfs-age-" });
  try {
    const key = await makeAgeKey(dir, "host");
    await Deno.mkdir(join(dir, ".config/sops/age"), { recursive: true });
    await Deno.copyFile(key.keyFile, join(dir, ".config/sops/age/keys.txt"));

    const linux = await findAgeIdentities({ HOME: dir }, "linux");
    const mac = await findAgeIdentities({ HOME: dir }, "darwin");

    assert.deepEqual(linux.identities.map((identity) => identity.recipient), [key.recipient]);
    assert.deepEqual(mac.identities.map((identity) => identity.recipient), [key.recipient]);
    assert.deepEqual(mac.searched, [
      `${dir}/.config/sops/age/keys.txt: 1 identity`,
      `${dir}/Library/Application Support/sops/age/keys.txt: not found`,
    ]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("unusable places and lines are reported without showing their contents", async () => {
  const dir = await Deno.makeTempDir({ prefix: "tcfs-age-" });
  try {
    const key = await makeAgeKey(dir, "host");
    const broken = key.secretKey.slice(0, -3) + "QQQ";
    const text = `# mixed\n${broken}\nAGE-PLUGIN-YUBIKEY-1QQQQQQ\nnot a key\n${key.secretKey}\n`;

    const { identities, searched } = await findAgeIdentities({
      SOPS_AGE_KEY: text,
      SOPS_AGE_KEY_FILE: join(dir, "missing.txt"),
    });

    assert.deepEqual(identities.map((identity) => identity.recipient), [key.recipient]);
    assert.deepEqual(searched, [
      "SOPS_AGE_KEY: 1 identity; line 2 is not an age identity; " +
      "line 3 is an age plugin identity, which tcfs cannot use; line 4 is not an age identity",
      `SOPS_AGE_KEY_FILE (${dir}/missing.txt): not found`,
    ]);
    assert.ok(!searched.join("\n").includes("AGE-SECRET-KEY"));
    assert.ok(!Deno.inspect(identities).includes(key.secretKey), "identities print redacted");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
