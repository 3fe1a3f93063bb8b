import assert from "node:assert/strict";
import { join } from "node:path";
import { mergeEnv, parseEnvFile, readEnvFile } from "../../platform/env_file.ts";
import { TcfsError } from "../../core/errors.ts";

Deno.test("parseEnvFile reads the fleet guide's env file", () => {
  const text = [
    "# ~/.config/tcfs/env (sourced by systemd/launchd)",
    "TCFS_S3_ACCESS=<your-access-credential>",
    "TCFS_S3_SECRET=<your-secret-credential>",
    "TCFS_S3_ENDPOINT=http://dees-appu-bearts:8333",
    "TCFS_NATS_URL=nats://yoga.local:4222",
    "",
  ].join("\n");
  assert.deepEqual(parseEnvFile(text, "env"), {
    TCFS_S3_ACCESS: "<your-access-credential>",
    TCFS_S3_SECRET: "<your-secret-credential>",
    TCFS_S3_ENDPOINT: "http://dees-appu-bearts:8333",
    TCFS_NATS_URL: "nats://yoga.local:4222",
  });
});

Deno.test("parseEnvFile handles comments, export, quotes, whitespace and CRLF", () => {
  const text = [
    "  # indented comment",
    "; systemd comment",
    "export A=1",
    "B = spaced value   ",
    "C='single $HOME \\n \"kept\"'",
    'D="double \\"quoted\\" \\\\ \\$HOME \\n $HOME"',
    "E=",
    "F=a#b # not a comment, as in systemd",
    "G=back\\ slash\\\\",
    'H="" ',
    "A=2\r",
  ].join("\n");
  assert.deepEqual(parseEnvFile(text, "env"), {
    A: "2",
    B: "spaced value",
    C: 'single $HOME \\n "kept"',
    D: 'double "quoted" \\ $HOME \\n $HOME',
    E: "",
    F: "a#b # not a comment, as in systemd",
    G: "back slash\\",
    H: "",
  });
});

Deno.test("parseEnvFile names the file and line of a malformed line, never its value", () => {
  const cases = [
    ["OK=1\nNO_EQUALS_HERE\n", 2],
    ["1BAD=x", 1],
    ["OK=1\n\nSECRET='hunter2", 3],
    ['SECRET="hunter2', 1],
    ['SECRET="hunter2" trailing', 1],
    ["SECRET=hunter2\\", 1],
    ["export", 1],
  ] as const;
  for (const [text, line] of cases) {
    assert.throws(() => parseEnvFile(text, "/home/ada/.config/tcfs/env"), (err: unknown) => {
      assert.ok(err instanceof TcfsError);
      assert.equal(err.kind, "env_file_invalid");
      assert.match(err.message, new RegExp(`^env file /home/ada/.config/tcfs/env line ${line}: `));
      assert.match(err.hint ?? "", /NAME=value/);
      assert.ok(!err.message.includes("hunter2") && !err.hint?.includes("hunter2"));
      return true;
    }, text);
  }
});

Deno.test("readEnvFile reads a file, and a missing file is empty", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const path = join(dir, "env");
    assert.deepEqual(await readEnvFile(path), {});
    await Deno.writeTextFile(path, "TCFS_NAMESPACE=lab\n");
    assert.deepEqual(await readEnvFile(path), { TCFS_NAMESPACE: "lab" });
    await Deno.writeTextFile(path, "TCFS_NAMESPACE\n");
    await assert.rejects(readEnvFile(path), new RegExp(`env file ${path} line 1`));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("readEnvFile reports a path it cannot read", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await assert.rejects(readEnvFile(dir), (err: unknown) => {
      assert.ok(err instanceof TcfsError);
      assert.match(err.message, new RegExp(`cannot read env file ${dir}`));
      return true;
    });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("mergeEnv lets the real environment win, even when empty", () => {
  assert.deepEqual(
    mergeEnv(
      { TCFS_NAMESPACE: "lab", TCFS_S3_BUCKET: "tcfs", TCFS_LOG: "debug" },
      { TCFS_NAMESPACE: "test", TCFS_LOG: "", HOME: "/home/ada", UNSET: undefined },
    ),
    { TCFS_NAMESPACE: "test", TCFS_S3_BUCKET: "tcfs", TCFS_LOG: "", HOME: "/home/ada" },
  );
});
