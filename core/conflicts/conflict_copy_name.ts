/**
 * Names for the copies that keep a conflict's losing side:
 * `name.conflict-<device>-<yyyymmdd-hhmmss>.ext`, beside the original.
 *
 * @module
 */

/**
 * Builds the conflict-copy path for `rel`, kept by `deviceName` at `when`.
 *
 * @example
 * ```ts
 * conflictCopyPath("docs/report.pdf", "yoga", new Date("2026-11-25T12:00:00Z"));
 * // "docs/report.conflict-yoga-20261125-120000.pdf"
 * ```
 */
export function conflictCopyPath(rel: string, deviceName: string, when: Date): string {
  const slash = rel.lastIndexOf("/");
  const dir = rel.slice(0, slash + 1);
  const name = rel.slice(slash + 1);
  const dot = name.lastIndexOf(".");
  // A leading dot is part of the name (.bashrc), not an extension.
  const [stem, ext] = dot > 0 ? [name.slice(0, dot), name.slice(dot)] : [name, ""];
  const iso = when.toISOString();
  const stamp = `${iso.slice(0, 10).replaceAll("-", "")}-${iso.slice(11, 19).replaceAll(":", "")}`;
  const device = deviceName.replace(/[^A-Za-z0-9._-]/g, "_");
  return `${dir}${stem}.conflict-${device}-${stamp}${ext}`;
}
