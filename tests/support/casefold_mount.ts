/**
 * A case-insensitive, case-preserving filesystem (as macOS's and Windows' are by default) for
 * tests: `casefold-fs` (tests/support/casefold_fs, built by scripts/setup.sh) serving a folder
 * over FUSE.
 *
 * @module
 */

const CASEFOLD_FS = new URL("../../.tools/bin/casefold-fs", import.meta.url).pathname;

/** A mounted casefold-fs; disposing of it unmounts it and waits for the server to end. */
export interface CasefoldMount extends AsyncDisposable {
  mountpoint: string;
}

/**
 * Mounts a new, empty casefold-fs at a folder made under `parent`.
 *
 * @example
 * ```ts
 * await using mount = await mountCasefold(tmp);
 * await Deno.writeTextFile(join(mount.mountpoint, "A.txt"), "a"); // readable as a.txt too
 * ```
 */
export async function mountCasefold(parent: string): Promise<CasefoldMount> {
  const backing = await Deno.makeTempDir({ dir: parent, prefix: "casefold-backing-" });
  const mountpoint = await Deno.makeTempDir({ dir: parent, prefix: "casefold-" });
  const server = new Deno.Command(CASEFOLD_FS, {
    args: [backing, mountpoint],
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  // It prints one line once the kernel serves the mount, and nothing after.
  let said = "";
  for await (const text of server.stdout.pipeThrough(new TextDecoderStream())) {
    said += text;
    if (said.includes("\n")) break;
  }
  if (said !== "mounted\n") {
    await server.status;
    throw new Error(`casefold-fs did not mount ${mountpoint} (run scripts/setup.sh): ${said}`);
  }
  return {
    mountpoint,
    async [Symbol.asyncDispose]() {
      await new Deno.Command("fusermount3", { args: ["-u", mountpoint] }).output();
      await server.status;
    },
  };
}
