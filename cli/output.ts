/**
 * How commands print: one JSON document with --json, aligned text otherwise.
 *
 * @module
 */

/**
 * Prints `value` as one JSON document on stdout.
 *
 * @example
 * ```ts
 * printJson({ files: 3 });
 * ```
 */
export function printJson(value: unknown): void {
  console.log(JSON.stringify(value, null, 2));
}

/**
 * Formats a byte count for people (IEC units).
 *
 * @example
 * ```ts
 * formatBytes(1536); // "1.5 KiB"
 * ```
 */
export function formatBytes(bytes: number): string {
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return unit === 0 ? `${bytes} B` : `${value.toFixed(1)} ${units[unit]}`;
}

/**
 * Aligns rows into columns separated by two spaces.
 *
 * @example
 * ```ts
 * formatTable([["PATH", "SIZE"], ["a.txt", "3 B"]]);
 * ```
 */
export function formatTable(rows: string[][]): string {
  const widths: number[] = [];
  for (const row of rows) {
    row.forEach((cell, i) => (widths[i] = Math.max(widths[i] ?? 0, cell.length)));
  }
  return rows.map((row) =>
    // An empty last cell leaves no padding behind.
    row.map((cell, i) => (i === row.length - 1 ? cell : cell.padEnd(widths[i]))).join("  ")
      .trimEnd()
  ).join("\n");
}

/** Help text of the `--json` flag every command has. */
export const JSON_FLAG_HELP = "print one JSON document instead of text";

/**
 * Sets the process exit code without exiting (later output still flushes).
 *
 * @example
 * ```ts
 * setExitCode(ExitCode.conflicts);
 * ```
 */
export function setExitCode(code: number): void {
  if (code > (Deno.exitCode ?? 0)) Deno.exitCode = code;
}
