/**
 * How local state files what belongs to one store: its tracked namespaces, chunk
 * fingerprints and cached version bodies carry the store's location in front of
 * their own name. The same namespace or version key can mean other things in
 * another bucket (a device's counters start at 1 in each), so rows of two stores
 * never mix, and everything of one store shares a prefix.
 *
 * @module
 */

const SEPARATOR = "#";

/**
 * The key `name` (a namespace, a version key) is filed under for the store at `location`.
 *
 * @example
 * ```ts
 * fileUnderStore("http://127.0.0.1:18333/tcfs", "default"); // "http://127.0.0.1:18333/tcfs#default"
 * ```
 */
export function fileUnderStore(location: string, name: string): string {
  return `${location}${SEPARATOR}${name}`;
}

/**
 * What every key filed for the store at `location` starts with.
 *
 * @example
 * ```ts
 * storeFilingPrefix("http://127.0.0.1:18333/tcfs"); // "http://127.0.0.1:18333/tcfs#"
 * ```
 */
export function storeFilingPrefix(location: string): string {
  return fileUnderStore(location, "");
}
