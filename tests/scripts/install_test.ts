import assert from "node:assert/strict";

const installScript = new URL("../../scripts/install.sh", import.meta.url).pathname;
const scriptsDir = new URL("../../scripts/", import.meta.url).pathname;
const enrollHint = "tcfs device enroll --name $(hostname)";
const platforms = ["linux-x86_64", "linux-aarch64", "darwin-x86_64", "darwin-aarch64"];

/** A release served on 127.0.0.1; `files` may be changed between runs. */
interface FakeRelease {
  url: string;
  files: Map<string, Uint8Array<ArrayBuffer>>;
  requests: string[];
  [Symbol.asyncDispose](): Promise<void>;
}

function serveRelease(files: Map<string, Uint8Array<ArrayBuffer>>): Promise<FakeRelease> {
  const requests: string[] = [];
  return new Promise((resolve) => {
    const server = Deno.serve({
      hostname: "127.0.0.1",
      port: 0,
      onListen: ({ port }) =>
        resolve({
          url: `http://127.0.0.1:${port}/releases/v0.7.0`,
          files,
          requests,
          [Symbol.asyncDispose]: () => server.shutdown(),
        }),
    }, (request) => {
      const path = new URL(request.url).pathname;
      requests.push(path);
      const body = files.get(path.replace(/^\/releases\/v0\.7\.0\//, ""));
      return body ? new Response(body) : new Response("not found", { status: 404 });
    });
  });
}

/** A stand-in for a tcfs binary: a script that prints its version. */
function standIn(version: string, platform: string): Uint8Array<ArrayBuffer> {
  return new TextEncoder().encode(`#!/bin/sh\necho "tcfs ${version} (${platform})"\n`);
}

async function sha256(bytes: Uint8Array<ArrayBuffer>): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", bytes));
  return Array.from(digest, (b) => b.toString(16).padStart(2, "0")).join("");
}

/** All four binaries of one version, with a SHA256SUMS that matches them. */
async function releaseFiles(version: string): Promise<Map<string, Uint8Array<ArrayBuffer>>> {
  const files = new Map(platforms.map((p) => [`tcfs-${p}`, standIn(version, p)]));
  let sums = "";
  for (const [name, bytes] of files) sums += `${await sha256(bytes)}  ${name}\n`;
  files.set("SHA256SUMS", new TextEncoder().encode(sums));
  return files;
}

/** A scratch directory: `bin` (the install dir, not yet created) and `tmp` (TMPDIR). */
async function sandbox() {
  const root = await Deno.makeTempDir();
  await Deno.mkdir(`${root}/tmp`);
  return {
    bin: `${root}/bin`,
    tmp: `${root}/tmp`,
    [Symbol.asyncDispose]: () => Deno.remove(root, { recursive: true }),
  };
}

async function install(env: Record<string, string>) {
  const { code, stdout, stderr } = await new Deno.Command("sh", {
    args: [installScript],
    clearEnv: true,
    env: {
      PATH: Deno.env.get("PATH")!,
      HOME: Deno.env.get("HOME") ?? "/nonexistent",
      TCFS_INSTALL_OS: "Linux",
      TCFS_INSTALL_ARCH: "x86_64",
      ...env,
    },
    stdout: "piped",
    stderr: "piped",
  }).output();
  const decoder = new TextDecoder();
  return { code, stdout: decoder.decode(stdout), stderr: decoder.decode(stderr) };
}

async function run(path: string): Promise<string> {
  const { code, stdout } = await new Deno.Command(path, { args: ["--version"] }).output();
  assert.equal(code, 0);
  return new TextDecoder().decode(stdout).trim();
}

async function listDir(path: string): Promise<string[]> {
  try {
    return (await Array.fromAsync(Deno.readDir(path), (e) => e.name)).sort();
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) return [];
    throw err;
  }
}

Deno.test("install.sh installs the verified binary for this OS and arch", async () => {
  await using release = await serveRelease(await releaseFiles("0.7.0"));
  await using box = await sandbox();
  const result = await install({
    TCFS_INSTALL_BASE_URL: release.url,
    TCFS_INSTALL_DIR: box.bin,
    TCFS_INSTALL_ARCH: "amd64",
    TMPDIR: box.tmp,
  });
  assert.equal(result.code, 0, result.stderr);
  assert.deepEqual(await listDir(box.bin), ["tcfs"]);
  assert.equal((await Deno.stat(`${box.bin}/tcfs`)).mode! & 0o777, 0o755);
  assert.equal(await run(`${box.bin}/tcfs`), "tcfs 0.7.0 (linux-x86_64)");
  assert.ok(
    result.stdout.includes(`installed ${box.bin}/tcfs (tcfs 0.7.0 (linux-x86_64))`),
    result.stdout,
  );
  assert.ok(result.stdout.includes(`${box.bin} is not on your PATH`), result.stdout);
  assert.ok(result.stdout.includes(enrollHint), result.stdout);
  assert.deepEqual(await listDir(box.tmp), [], "temporary files left behind");
});

Deno.test("install.sh maps Darwin arm64 to tcfs-darwin-aarch64", async () => {
  await using release = await serveRelease(await releaseFiles("0.7.0"));
  await using box = await sandbox();
  const result = await install({
    TCFS_INSTALL_BASE_URL: release.url,
    TCFS_INSTALL_DIR: box.bin,
    TCFS_INSTALL_OS: "Darwin",
    TCFS_INSTALL_ARCH: "arm64",
    PATH: `${box.bin}:${Deno.env.get("PATH")}`,
  });
  assert.equal(result.code, 0, result.stderr);
  assert.equal(await run(`${box.bin}/tcfs`), "tcfs 0.7.0 (darwin-aarch64)");
  assert.ok(!result.stdout.includes("not on your PATH"), result.stdout);
});

Deno.test("install.sh upgrades by renaming, leaving the running binary's inode untouched", async () => {
  await using release = await serveRelease(await releaseFiles("0.7.0"));
  await using box = await sandbox();
  const env = { TCFS_INSTALL_BASE_URL: release.url, TCFS_INSTALL_DIR: box.bin, TMPDIR: box.tmp };
  assert.equal((await install(env)).code, 0);
  // Holding the old file open stands in for a daemon that is running it.
  using old = await Deno.open(`${box.bin}/tcfs`);
  const oldInode = (await old.stat()).ino;

  const upgrade = await releaseFiles("0.8.0");
  for (const [name, bytes] of upgrade) release.files.set(name, bytes);
  const result = await install(env);

  assert.equal(result.code, 0, result.stderr);
  assert.equal(await run(`${box.bin}/tcfs`), "tcfs 0.8.0 (linux-x86_64)");
  assert.notEqual((await Deno.stat(`${box.bin}/tcfs`)).ino, oldInode);
  const oldContent = new Uint8Array((await old.stat()).size);
  assert.equal(await old.read(oldContent), oldContent.length);
  assert.deepEqual(oldContent, standIn("0.7.0", "linux-x86_64"));
  assert.deepEqual(await listDir(box.bin), ["tcfs"]);
  assert.deepEqual(await listDir(box.tmp), []);
});

Deno.test("install.sh refuses a binary whose checksum doesn't match, and writes nothing", async () => {
  const files = await releaseFiles("0.7.0");
  files.set("tcfs-linux-x86_64", standIn("0.7.0-tampered", "linux-x86_64"));
  await using release = await serveRelease(files);
  await using box = await sandbox();
  const result = await install({
    TCFS_INSTALL_BASE_URL: release.url,
    TCFS_INSTALL_DIR: box.bin,
    TMPDIR: box.tmp,
  });
  assert.notEqual(result.code, 0);
  assert.match(
    result.stderr,
    /checksum mismatch for tcfs-linux-x86_64: SHA256SUMS says [0-9a-f]{64}, the download is [0-9a-f]{64}\..*Nothing was installed\./,
  );
  assert.deepEqual(await listDir(box.bin), []);
  assert.deepEqual(await listDir(box.tmp), []);
});

Deno.test("install.sh keeps the installed binary when the upgrade fails verification", async () => {
  await using release = await serveRelease(await releaseFiles("0.7.0"));
  await using box = await sandbox();
  const env = { TCFS_INSTALL_BASE_URL: release.url, TCFS_INSTALL_DIR: box.bin, TMPDIR: box.tmp };
  assert.equal((await install(env)).code, 0);
  release.files.set("tcfs-linux-x86_64", standIn("0.8.0", "linux-x86_64"));

  const result = await install(env);
  assert.notEqual(result.code, 0);
  assert.match(result.stderr, /checksum mismatch/);
  assert.equal(await run(`${box.bin}/tcfs`), "tcfs 0.7.0 (linux-x86_64)");
  assert.deepEqual(await listDir(box.bin), ["tcfs"]);
});

Deno.test("install.sh refuses a binary that SHA256SUMS doesn't list", async () => {
  const files = await releaseFiles("0.7.0");
  const sums = new TextDecoder().decode(files.get("SHA256SUMS"));
  files.set(
    "SHA256SUMS",
    new TextEncoder().encode(
      sums.split("\n").filter((l) => !l.endsWith("linux-x86_64")).join("\n"),
    ),
  );
  await using release = await serveRelease(files);
  await using box = await sandbox();
  const result = await install({
    TCFS_INSTALL_BASE_URL: release.url,
    TCFS_INSTALL_DIR: box.bin,
    TMPDIR: box.tmp,
  });
  assert.notEqual(result.code, 0);
  assert.ok(
    result.stderr.includes(
      `${release.url}/SHA256SUMS has no checksum for tcfs-linux-x86_64; refusing to install an unverified binary.`,
    ),
    result.stderr,
  );
  assert.deepEqual(await listDir(box.bin), []);
  assert.deepEqual(await listDir(box.tmp), []);
});

Deno.test("install.sh names the URL that answered 404", async () => {
  const files = await releaseFiles("0.7.0");
  files.delete("tcfs-linux-x86_64");
  await using release = await serveRelease(files);
  await using box = await sandbox();
  const result = await install({
    TCFS_INSTALL_BASE_URL: release.url,
    TCFS_INSTALL_DIR: box.bin,
    TMPDIR: box.tmp,
  });
  assert.notEqual(result.code, 0);
  assert.ok(
    result.stderr.includes(`could not download ${release.url}/tcfs-linux-x86_64: `),
    result.stderr,
  );
  assert.match(result.stderr, /404/);
  assert.deepEqual(await listDir(box.bin), []);
  assert.deepEqual(await listDir(box.tmp), []);
});

Deno.test("install.sh rejects an unsupported architecture before downloading", async () => {
  await using release = await serveRelease(await releaseFiles("0.7.0"));
  await using box = await sandbox();
  const result = await install({
    TCFS_INSTALL_BASE_URL: release.url,
    TCFS_INSTALL_DIR: box.bin,
    TCFS_INSTALL_ARCH: "riscv64",
  });
  assert.notEqual(result.code, 0);
  assert.equal(
    result.stderr.trim(),
    "tcfs install: unsupported architecture riscv64; supported: x86_64 (amd64), aarch64 (arm64)",
  );
  assert.deepEqual(release.requests, []);
  assert.deepEqual(await listDir(box.bin), []);
});

Deno.test("install.sh downloads a pinned TCFS_VERSION from its GitHub release", async () => {
  // A proxy that refuses connections makes the download fail at once, naming the URL it tried.
  const closed = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const proxy = `http://127.0.0.1:${closed.addr.port}`;
  closed.close();
  await using box = await sandbox();
  for (const version of ["v0.6.1", "0.6.1"]) {
    const result = await install({
      TCFS_VERSION: version,
      TCFS_INSTALL_DIR: box.bin,
      TMPDIR: box.tmp,
      https_proxy: proxy,
      HTTPS_PROXY: proxy,
    });
    assert.notEqual(result.code, 0);
    assert.ok(
      result.stderr.includes(
        "could not download https://github.com/tinyland-inc/tcfs/releases/download/v0.6.1/tcfs-linux-x86_64",
      ),
      result.stderr,
    );
  }
});

/** A PATH with every command of this machine except curl, so install.sh must use wget. */
async function pathWithoutCurl(dir: string): Promise<string> {
  await Deno.mkdir(dir);
  for (const bin of ["/usr/local/bin", "/usr/bin", "/bin"]) {
    for await (const entry of Deno.readDir(bin)) {
      if (entry.name === "curl") continue;
      await Deno.symlink(`${bin}/${entry.name}`, `${dir}/${entry.name}`).catch((err) => {
        if (!(err instanceof Deno.errors.AlreadyExists)) throw err;
      });
    }
  }
  return dir;
}

const hasWget = (await new Deno.Command("sh", { args: ["-c", "command -v wget"] }).output())
  .success;

Deno.test({
  name: "install.sh falls back to wget when curl is missing",
  ignore: !hasWget,
  async fn() {
    await using release = await serveRelease(await releaseFiles("0.7.0"));
    await using box = await sandbox();
    const path = await pathWithoutCurl(`${box.tmp}/../path`);
    const env = { TCFS_INSTALL_BASE_URL: release.url, TCFS_INSTALL_DIR: box.bin, PATH: path };
    const result = await install(env);
    assert.equal(result.code, 0, result.stderr);
    assert.equal(await run(`${box.bin}/tcfs`), "tcfs 0.7.0 (linux-x86_64)");

    release.files.delete("SHA256SUMS");
    const missing = await install(env);
    assert.notEqual(missing.code, 0);
    assert.ok(
      missing.stderr.includes(`could not download ${release.url}/SHA256SUMS`),
      missing.stderr,
    );
  },
});

Deno.test("install.sh is POSIX sh and every script passes shellcheck", async () => {
  const shellcheck = async (args: string[]) => {
    try {
      return await new Deno.Command("shellcheck", { args, cwd: scriptsDir }).output();
    } catch (err) {
      if (err instanceof Deno.errors.NotFound) {
        throw new Error("shellcheck is not installed; run scripts/setup.sh");
      }
      throw err;
    }
  };
  const show = (out: Deno.CommandOutput) => new TextDecoder().decode(out.stdout);

  const posix = await shellcheck(["-s", "sh", "install.sh"]);
  assert.ok(posix.success, show(posix));

  const scripts: string[] = [];
  for await (const entry of Deno.readDir(scriptsDir)) {
    if (!entry.isFile) continue;
    const head = (await Deno.readTextFile(`${scriptsDir}${entry.name}`)).slice(0, 40);
    if (/^#!.*\b(ba)?sh\b/.test(head)) scripts.push(entry.name);
  }
  assert.ok(scripts.includes("compile.sh") && scripts.includes("install.sh"), `${scripts}`);
  const all = await shellcheck(["-x", ...scripts.sort()]);
  assert.ok(all.success, show(all));
});
