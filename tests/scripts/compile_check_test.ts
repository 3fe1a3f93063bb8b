import assert from "node:assert/strict";
import { crc32 } from "node:zlib";
import { concatBytes } from "../../core/encoding/concat_bytes.ts";

const root = new URL("../../", import.meta.url).pathname;
const compileScript = `${root}scripts/compile.sh`;
const checkScript = `${root}scripts/lib/compile_check.ts`;
const denoVersion = Deno.version.deno;
const hostTarget = Deno.build.target;
const hostName = `tcfs-${Deno.build.os}-${Deno.build.arch}`;
const decoder = new TextDecoder();

/** Runs scripts/compile.sh with only the environment given (no stray DENORT_BIN*). */
async function compile(env: Record<string, string>, args: string[] = []) {
  const { code, stdout, stderr } = await new Deno.Command(compileScript, {
    args,
    clearEnv: true,
    env: {
      PATH: Deno.env.get("PATH")!,
      HOME: Deno.env.get("HOME") ?? "/nonexistent",
      ...(Deno.env.has("DENO_DIR") ? { DENO_DIR: Deno.env.get("DENO_DIR")! } : {}),
      ...env,
    },
    stdout: "piped",
    stderr: "piped",
  }).output();
  return { code, stdout: decoder.decode(stdout), stderr: decoder.decode(stderr) };
}

async function sandbox() {
  const dir = await Deno.makeTempDir();
  await Deno.mkdir(`${dir}/denort`);
  return {
    dist: `${dir}/dist`,
    denorts: `${dir}/denort`,
    dir,
    [Symbol.asyncDispose]: () => Deno.remove(dir, { recursive: true }),
  };
}

async function listDir(path: string): Promise<string[]> {
  try {
    return (await Array.fromAsync(Deno.readDir(path), (e) => e.name)).sort();
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) return [];
    throw err;
  }
}

/** A zip archive holding one uncompressed file, as Deno's denort-<target>.zip holds `denort`. */
function storedZip(name: string, data: Uint8Array): Uint8Array {
  const fileName = new TextEncoder().encode(name);
  const crc = crc32(data);
  const local = new DataView(new ArrayBuffer(30));
  local.setUint32(0, 0x04034b50, true);
  local.setUint16(4, 20, true);
  local.setUint32(14, crc, true);
  local.setUint32(18, data.length, true);
  local.setUint32(22, data.length, true);
  local.setUint16(26, fileName.length, true);
  const central = new DataView(new ArrayBuffer(46));
  central.setUint32(0, 0x02014b50, true);
  central.setUint16(4, 0x0314, true); // made by Unix, so the file mode below applies
  central.setUint16(6, 20, true);
  central.setUint32(16, crc, true);
  central.setUint32(20, data.length, true);
  central.setUint32(24, data.length, true);
  central.setUint16(28, fileName.length, true);
  central.setUint32(38, 0o100755 << 16, true);
  const localSize = 30 + fileName.length + data.length;
  const end = new DataView(new ArrayBuffer(22));
  end.setUint32(0, 0x06054b50, true);
  end.setUint16(8, 1, true);
  end.setUint16(10, 1, true);
  end.setUint32(12, 46 + fileName.length, true);
  end.setUint32(16, localSize, true);
  const parts = [local, fileName, data, central, fileName, end].map((p) =>
    p instanceof DataView ? new Uint8Array(p.buffer) : p
  );
  return concatBytes(parts);
}

/** A small executable of this machine's own format that is not denort. */
function notDenort(): Promise<Uint8Array> {
  return Deno.readFile("/bin/true");
}

Deno.test("compile.sh --check finds main.ts's module graph complete and embeddable", async () => {
  const result = await compile({}, ["--check"]);
  assert.equal(result.code, 0, result.stderr);
  assert.match(
    result.stdout,
    /^compile check: main\.ts \+ core\/hashing\/chunk_worker\.ts \+ core\/crypto\/box_opener_worker\.ts \+ core\/state\/log_checkpoint_worker\.ts: \d+ modules .* resolve;/,
  );
});

Deno.test("the compile check reports what deno compile could not embed", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await Deno.writeTextFile(`${dir}/dynamic.ts`, "export const x = 1;\n");
    await Deno.writeTextFile(`${dir}/embedded.ts`, 'import "./missing_too.ts";\n');
    await Deno.writeTextFile(
      `${dir}/entry.ts`,
      `// A comment may mention import.meta.url and https://example.com freely.
/* So may a block comment: __dirname */
import { x } from "./missing.ts";
import y from "not-in-the-import-map";
const notes = await Deno.readTextFile(new URL("./notes.txt", import.meta.url));
const name = "./dynamic.ts";
await import(name);
await import("./dynamic.ts");
console.log(x, y, notes, "// not a comment", import.meta.dirname);
new Worker(new URL("./embedded.ts", import.meta.url), { type: "module" });
new Worker(new URL("./dynamic.ts", import.meta.url), { type: "module" });
`,
    );
    const { code, stderr } = await new Deno.Command(Deno.execPath(), {
      args: [
        ...["run", "--allow-read", "--allow-env", "--allow-run", checkScript],
        ...[`${dir}/entry.ts`, `${dir}/embedded.ts`],
      ],
      cwd: root,
      stderr: "piped",
    }).output();
    assert.equal(code, 1);
    const problems = decoder.decode(stderr).split("\n").filter((l) => l.startsWith("  - "));
    const notSourceTree =
      'a compiled binary has no source tree. Import the data instead (e.g. `with { type: "json" }`).';
    assert.deepEqual(problems.map((p) => p.replaceAll(dir, "<dir>")), [
      '  - file://<dir>/entry.ts: Import "not-in-the-import-map" not a dependency and not in import map from "file://<dir>/entry.ts"',
      '  - file://<dir>/missing.ts: Module not found "file://<dir>/missing.ts".',
      '  - file://<dir>/missing_too.ts: Module not found "file://<dir>/missing_too.ts".',
      "  - <dir>/entry.ts:11: starts a Worker from ./dynamic.ts, which the binary lacks; " +
      "list <dir>/dynamic.ts in TCFS_DENO_INCLUDES (scripts/lib/deno-flags.sh).",
      `  - <dir>/entry.ts:5: locates a file via import.meta (\`import.meta.url\`); ${notSourceTree}`,
      `  - <dir>/entry.ts:9: locates a file via import.meta (\`import.meta.dirname\`); ${notSourceTree}`,
      "  - <dir>/entry.ts:7: dynamic import of a computed specifier; deno compile can't see the module. Import it statically, or by a string literal.",
    ]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("compile.sh without denort stops before compiling and says what to provide", async () => {
  await using box = await sandbox();
  const result = await compile({ TCFS_DENORT_DIR: box.denorts, TCFS_DIST_DIR: box.dist });
  assert.notEqual(result.code, 0);
  const missing = [
    "x86_64-unknown-linux-gnu",
    "aarch64-unknown-linux-gnu",
    "x86_64-apple-darwin",
    "aarch64-apple-darwin",
  ].map((target) =>
    `    ${box.denorts}/denort-${target}.zip  (or DENORT_BIN_${target.replaceAll("-", "_")}` +
    (target === hostTarget ? ", or DENORT_BIN)" : ")")
  );
  assert.equal(
    result.stderr,
    `compile: no denort for x86_64-unknown-linux-gnu aarch64-unknown-linux-gnu x86_64-apple-darwin aarch64-apple-darwin; nothing was compiled.
  deno compile builds each executable on denort ${denoVersion}, Deno's runtime binary for the
  target, and downloads it from https://dl.deno.land/release/v${denoVersion}/ unless it is provided.
  Missing:
${missing.join("\n")}
  Put each zip there (from https://dl.deno.land/release/v${denoVersion}/<zip name>), or set the
  variable to the path of a denort ${denoVersion} for that target, then run scripts/compile.sh again.
  Where dl.deno.land is reachable, TCFS_ALLOW_DENORT_DOWNLOAD=1 lets Deno download them instead.
`,
  );
  assert.deepEqual(await listDir(box.dist), []);
});

Deno.test("compile.sh refuses the deno CLI as DENORT_BIN, which would build a REPL", async () => {
  await using box = await sandbox();
  const result = await compile({
    DENORT_BIN: Deno.execPath(),
    TCFS_DENORT_DIR: box.denorts,
    TCFS_DIST_DIR: box.dist,
  });
  assert.notEqual(result.code, 0);
  assert.equal(
    result.stderr,
    `compile: DENORT_BIN: ${Deno.execPath()} is the full deno CLI, not denort; a binary built on ` +
      `it starts the Deno REPL instead of tcfs. Use denort-${hostTarget}.zip from ` +
      `https://dl.deno.land/release/v${denoVersion}/\n`,
  );
  assert.deepEqual(await listDir(box.dist), []);
});

Deno.test("compile.sh refuses a denort of the wrong executable format for its target", async () => {
  await using box = await sandbox();
  const result = await compile({
    DENORT_BIN_aarch64_apple_darwin: "/bin/true",
    TCFS_COMPILE_TARGETS: "darwin-aarch64",
    TCFS_DIST_DIR: box.dist,
  });
  assert.notEqual(result.code, 0);
  assert.match(
    result.stderr,
    /^compile: DENORT_BIN_aarch64_apple_darwin: \/bin\/true is (ELF|Mach-O|universal)[^,]*, but aarch64-apple-darwin needs Mach-O aarch64\n$/,
  );
  assert.deepEqual(await listDir(box.dist), []);
});

Deno.test("compile.sh checks the denort inside a cached zip too", async () => {
  await using box = await sandbox();
  // The host's own format, carrying the text only the full deno CLI contains.
  const signature = new TextEncoder().encode("Compile the script into a self contained executable");
  const fake = new Uint8Array([...await notDenort(), ...signature]);
  await Deno.writeFile(`${box.denorts}/denort-${hostTarget}.zip`, storedZip("denort", fake));
  const result = await compile({
    TCFS_DENORT_DIR: box.denorts,
    TCFS_COMPILE_TARGETS: hostTarget,
    TCFS_DIST_DIR: box.dist,
  });
  assert.notEqual(result.code, 0);
  assert.match(
    result.stderr,
    new RegExp(
      `^compile: ${box.denorts}/denort-${hostTarget}\\.zip: \\S+/denort-${hostTarget} is the full deno CLI, not denort;`,
    ),
  );
  assert.deepEqual(await listDir(box.dist), []);
});

Deno.test({
  name: "compile.sh throws away a built binary that doesn't run as tcfs",
  ignore: Deno.build.os !== "linux",
  async fn() {
    await using box = await sandbox();
    // /bin/true passes for a denort by its format, so deno compile builds on it; the result
    // prints coreutils' version instead of tcfs's, and must not reach dist/.
    await Deno.writeFile(`${box.dir}/true`, await notDenort(), { mode: 0o755 });
    const result = await compile({
      DENORT_BIN: `${box.dir}/true`,
      TCFS_COMPILE_TARGETS: hostTarget,
      TCFS_DIST_DIR: box.dist,
    });
    assert.notEqual(result.code, 0);
    assert.match(
      result.stderr,
      new RegExp(
        `\\.compile\\.\\w+/${hostName} --version printed ".*", not tcfs \\d+\\.\\d+\\.\\d+; refusing this binary\\n$`,
      ),
    );
    assert.deepEqual(await listDir(box.dist), []);
  },
});
