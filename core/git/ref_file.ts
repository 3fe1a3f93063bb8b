/**
 * Loose ref files tcfs writes itself (a resolved ref, a kept tip), and the checks a ref name
 * or value read from another device must pass before it names a file.
 *
 * @module
 */

import { dirname, join } from "node:path";
import { inLinkFreeFolder } from "../paths/link_free_folder.ts";
import { syncDirectory } from "../io/durable_directory.ts";

/**
 * Writes a ref file whole (temp file, fsync, rename), through no link below `within`.
 *
 * @example
 * ```ts
 * await writeRefFile("/home/me/Sync", "/home/me/Sync/p/.git/refs/heads/main", `${commit}\n`);
 * ```
 */
export async function writeRefFile(within: string, path: string, text: string): Promise<void> {
  const dir = dirname(path);
  const temp = join(dir, `.${path.slice(dir.length + 1)}.tcfs-tmp-${crypto.randomUUID()}`);
  await inLinkFreeFolder(within, dir, async () => {
    using file = await Deno.open(temp, { write: true, createNew: true, mode: 0o644 });
    await file.write(new TextEncoder().encode(text));
    await file.sync();
  }, { create: true });
  try {
    await inLinkFreeFolder(within, dir, () => Deno.rename(temp, path));
  } catch (err) {
    await Deno.remove(temp).catch(() => {});
    throw err;
  }
  await syncDirectory(dir);
}

/**
 * A full commit id (SHA-1 or SHA-256).
 *
 * @example
 * ```ts
 * isObjectId("0".repeat(40)); // true
 * ```
 */
export function isObjectId(value: string): boolean {
  return /^[0-9a-f]{40}([0-9a-f]{24})?$/.test(value);
}

/**
 * A ref name safe to use as a path below the git directory (it came from another device).
 *
 * @example
 * ```ts
 * validRefName("refs/heads/main"); // true
 * validRefName("refs/../../etc"); // false
 * ```
 */
export function validRefName(name: string): boolean {
  return /^refs\/[A-Za-z0-9._\/@+-]+$/.test(name) &&
    name.split("/").every((s) => s !== "" && !s.startsWith(".") && !s.endsWith(".lock")) &&
    !name.includes("..") && !name.includes("@{");
}
