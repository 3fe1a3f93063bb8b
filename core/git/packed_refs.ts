/**
 * git's `packed-refs` file: one `<commit> <ref>` per line, with `^<commit>` lines giving an
 * annotated tag's target and a `#` header naming the file's traits.
 *
 * @module
 */

/**
 * The refs a `packed-refs` text names, by name (peeled lines and the header dropped: git peels
 * again where the header does not promise it has).
 *
 * @example
 * ```ts
 * parsePackedRefs("# pack-refs with: peeled\nabc refs/heads/main\n"); // Map { "refs/heads/main" => "abc" }
 * ```
 */
export function parsePackedRefs(text: string): Map<string, string> {
  const refs = new Map<string, string>();
  for (const line of text.split("\n")) {
    if (line === "" || line.startsWith("#") || line.startsWith("^")) continue;
    const space = line.indexOf(" ");
    if (space > 0) refs.set(line.slice(space + 1), line.slice(0, space));
  }
  return refs;
}

/**
 * A `packed-refs` text for `refs`, sorted by name as git wants it.
 *
 * @example
 * ```ts
 * formatPackedRefs(new Map([["refs/heads/main", "abc"]])); // "# pack-refs with: sorted \nabc refs/heads/main\n"
 * ```
 */
export function formatPackedRefs(refs: ReadonlyMap<string, string>): string {
  const names = [...refs.keys()].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  return `# pack-refs with: sorted \n${names.map((n) => `${refs.get(n)} ${n}\n`).join("")}`;
}
