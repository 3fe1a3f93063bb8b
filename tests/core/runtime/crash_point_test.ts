import assert from "node:assert/strict";

const MODULE = new URL("../../../core/runtime/crash_point.ts", import.meta.url).href;

/** Passes `after-packs` three times, printing the count after each pass. */
async function passThrice(crashAt: string | undefined) {
  const script = `import { crashPoint } from "${MODULE}";
for (let i = 1; i <= 3; i++) { crashPoint("after-packs"); console.log(i); }`;
  const env: Record<string, string> = { NO_COLOR: "1" };
  if (crashAt !== undefined) env.TCFS_CRASH_AT = crashAt;
  const output = await new Deno.Command(Deno.execPath(), {
    args: ["eval", "--quiet", script],
    env,
    stdin: "null",
  }).output();
  return { code: output.code, printed: new TextDecoder().decode(output.stdout).trim() };
}

Deno.test("TCFS_CRASH_AT kills the process like kill -9 at the named pass of its point, and only there", async () => {
  assert.deepEqual(await passThrice("after-packs"), { code: 137, printed: "" });
  assert.deepEqual(await passThrice("after-packs:3"), { code: 137, printed: "1\n2" });
  assert.deepEqual(await passThrice("before-rename"), { code: 0, printed: "1\n2\n3" });
  assert.deepEqual(await passThrice(undefined), { code: 0, printed: "1\n2\n3" });
});
