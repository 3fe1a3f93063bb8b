import assert from "node:assert/strict";
import { join } from "node:path";
import { formatEnvAssignment, parseEnvFile, updateEnvFile } from "../../platform/env_file.ts";
import { TcfsError } from "../../core/errors.ts";

const TRICKY_VALUES: Record<string, string> = {
  PLAIN: "http://127.0.0.1:18333",
  SPACES: "/home/ada/My Files/sync root",
  QUOTES: `it's "quoted"`,
  DOLLAR: "$HOME and ${PATH} and $(id) and `id`",
  BACKSLASH: "C:\\path\\n\\\\twice",
  HASH: "#not-a-comment # still value",
  EMPTY: "",
  UNICODE: "naïve ☃ façade",
  TRAILING: "ends with spaces   ",
};

/** What bash reads from the file with `set -a; . file`, the way a shell user would load it. */
async function readWithBash(path: string, names: string[]): Promise<Record<string, string>> {
  const script = `set -a; . "$1"; shift; for n in "$@"; do printf '%s\\0' "\${!n}"; done`;
  const output = await new Deno.Command("bash", {
    args: ["-c", script, "bash", path, ...names],
    env: {},
    clearEnv: true,
  }).output();
  assert.equal(output.code, 0, new TextDecoder().decode(output.stderr));
  const values = new TextDecoder().decode(output.stdout).split("\0").slice(0, -1);
  return Object.fromEntries(names.map((name, i) => [name, values[i]]));
}

Deno.test("written values read back identically with our parser and with bash", async () => {
  const dir = await Deno.makeTempDir({ prefix: "tcfs-envfile-" });
  const path = join(dir, "env");
  await updateEnvFile(path, TRICKY_VALUES);
  const parsed = parseEnvFile(await Deno.readTextFile(path), path);
  assert.deepEqual(parsed, TRICKY_VALUES);
  assert.deepEqual(await readWithBash(path, Object.keys(TRICKY_VALUES)), TRICKY_VALUES);
  assert.equal((await Deno.stat(path)).mode! & 0o777, 0o600);
  await Deno.remove(dir, { recursive: true });
});

Deno.test("updating keeps the user's lines, rewrites changed values in place, appends new ones", async () => {
  const dir = await Deno.makeTempDir({ prefix: "tcfs-envfile-" });
  const path = join(dir, "env");
  const original = [
    "# my settings",
    "export TCFS_S3_ENDPOINT=http://old:8333",
    "MY_OWN=keep me",
    "TCFS_NATS_URL='nats://yoga.local:4222'",
    "",
  ].join("\n");
  await Deno.writeTextFile(path, original, { mode: 0o644 });
  const update = await updateEnvFile(path, {
    TCFS_S3_ENDPOINT: "http://new:8333",
    TCFS_NATS_URL: "nats://yoga.local:4222",
    TCFS_S3_BUCKET: "tcfs",
  });
  assert.deepEqual(update, {
    added: ["TCFS_S3_BUCKET"],
    changed: ["TCFS_S3_ENDPOINT"],
    unchanged: ["TCFS_NATS_URL"],
  });
  assert.equal(
    await Deno.readTextFile(path),
    [
      "# my settings",
      'TCFS_S3_ENDPOINT="http://new:8333"',
      "MY_OWN=keep me",
      "TCFS_NATS_URL='nats://yoga.local:4222'",
      'TCFS_S3_BUCKET="tcfs"',
      "",
    ].join("\n"),
  );
  assert.equal((await Deno.stat(path)).mode! & 0o777, 0o600);
  await Deno.remove(dir, { recursive: true });
});

Deno.test("a malformed env file is left alone, and unwritable values are refused", async () => {
  const dir = await Deno.makeTempDir({ prefix: "tcfs-envfile-" });
  const path = join(dir, "env");
  await Deno.writeTextFile(path, 'BROKEN="never closed\n');
  await assert.rejects(
    () => updateEnvFile(path, { TCFS_S3_BUCKET: "tcfs" }),
    (err: unknown) => err instanceof TcfsError && err.kind === "env_file_invalid",
  );
  assert.equal(await Deno.readTextFile(path), 'BROKEN="never closed\n');
  assert.throws(() => formatEnvAssignment("TCFS_X", "two\nlines"), TcfsError);
  assert.throws(() => formatEnvAssignment("1BAD", "x"), TcfsError);
  await Deno.remove(dir, { recursive: true });
});
