import assert from "node:assert/strict";
import { join } from "node:path";
import { loadOrCreateAgeKey } from "../../../core/device/device_age_key.ts";
import { TcfsError } from "../../../core/errors.ts";

async function ageKeygen(args: string[]): Promise<string> {
  const output = await new Deno.Command("age-keygen", { args, stdout: "piped", stderr: "piped" })
    .output();
  assert.equal(output.code, 0, new TextDecoder().decode(output.stderr));
  return new TextDecoder().decode(output.stdout).trim();
}

Deno.test("a new key is written 0600 in age-keygen's format, and age-keygen -y agrees", async () => {
  const dir = await Deno.makeTempDir({ prefix: "tcfs-agekey-" });
  const path = join(dir, "sops", "age", "keys.txt");
  const key = await loadOrCreateAgeKey(path);
  assert.equal(key.created, true);
  assert.match(key.recipient, /^age1[02-9ac-hj-np-z]{58}$/);
  assert.equal((await Deno.stat(path)).mode! & 0o777, 0o600);
  assert.equal(await ageKeygen(["-y", path]), key.recipient);
  const lines = (await Deno.readTextFile(path)).split("\n");
  assert.match(lines[0], /^# created: \d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
  assert.equal(lines[1], `# public key: ${key.recipient}`);
  assert.match(lines[2], /^AGE-SECRET-KEY-1[0-9A-Z]+$/);
  // A second call reuses it.
  assert.deepEqual(await loadOrCreateAgeKey(path), { ...key, created: false });
  await Deno.remove(dir, { recursive: true });
});

Deno.test("a key file made by age-keygen is reused, never rewritten", async () => {
  const dir = await Deno.makeTempDir({ prefix: "tcfs-agekey-" });
  const path = join(dir, "keys.txt");
  await ageKeygen(["-o", path]);
  const before = await Deno.readTextFile(path);
  const key = await loadOrCreateAgeKey(path);
  assert.equal(key.created, false);
  assert.equal(key.recipient, await ageKeygen(["-y", path]));
  assert.equal(await Deno.readTextFile(path), before);
  await Deno.remove(dir, { recursive: true });
});

Deno.test("a key file without a usable identity is an error, and is left alone", async () => {
  const dir = await Deno.makeTempDir({ prefix: "tcfs-agekey-" });
  const path = join(dir, "keys.txt");
  await Deno.writeTextFile(path, "# only a comment\nAGE-SECRET-KEY-1NOTAKEY\n");
  await assert.rejects(
    () => loadOrCreateAgeKey(path),
    (err: unknown) =>
      err instanceof TcfsError && err.kind === "age_key_invalid" && !/NOTAKEY/.test(err.message),
  );
  assert.equal(await Deno.readTextFile(path), "# only a comment\nAGE-SECRET-KEY-1NOTAKEY\n");
  await Deno.remove(dir, { recursive: true });
});
