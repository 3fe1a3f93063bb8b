import assert from "node:assert/strict";
import { tcfsVersion, versionInfo } from "../../core/version.ts";

const root = new URL("../../", import.meta.url);

Deno.test("tcfsVersion is the version in deno.json", async () => {
  const config = JSON.parse(await Deno.readTextFile(new URL("deno.json", root)));
  assert.match(config.version, /^\d+\.\d+\.\d+/);
  assert.equal(tcfsVersion(), config.version);
});

Deno.test("versionInfo reports tcfs, the runtime and the platform", () => {
  assert.deepEqual(versionInfo(), {
    tcfs: tcfsVersion(),
    deno: Deno.version.deno,
    v8: Deno.version.v8,
    typescript: Deno.version.typescript,
    os: Deno.build.os,
    arch: Deno.build.arch,
  });
});

Deno.test("the version is embedded in the module graph, not read from disk at run time", async () => {
  // Run without --allow-read: a compiled binary has no deno.json beside it to read.
  const dir = await Deno.makeTempDir();
  try {
    const program = `${dir}/print_version.ts`;
    await Deno.writeTextFile(
      program,
      `import { versionInfo } from ${JSON.stringify(new URL("core/version.ts", root).href)};
console.log(JSON.stringify(versionInfo()));`,
    );
    const { code, stdout, stderr } = await new Deno.Command(Deno.execPath(), {
      args: ["run", "--no-prompt", "--quiet", program],
      stdout: "piped",
      stderr: "piped",
    }).output();
    assert.equal(code, 0, new TextDecoder().decode(stderr));
    assert.deepEqual(JSON.parse(new TextDecoder().decode(stdout)), versionInfo());
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
