/**
 * Crash points for the fault suite: `TCFS_CRASH_AT=<point>` (or `<point>:<n>` for
 * its n-th pass) makes the process kill itself with SIGKILL there, as a power
 * cut or `kill -9` would, so tests can check what a crash at that moment leaves
 * behind. Read once at start-up; without the variable every call is a no-op.
 *
 * @module
 */

/** The named moments a sync can be cut at. */
export type CrashPoint =
  /** Push: the packs are durable, the version not yet written. */
  | "after-packs"
  /** Push: the version is written, the local state not yet. */
  | "after-version"
  /** Push: its last segment is written, the checkpoint that was due not yet. */
  | "before-checkpoint"
  /** Pull: the temp file is complete and synced, not yet renamed over the target. */
  | "before-rename"
  /** Pull: the file is in place, its tracked row not yet written. */
  | "before-state-commit";

const armed = parse(Deno.env.get("TCFS_CRASH_AT"));
let passes = 0;

/**
 * Kills the process when `TCFS_CRASH_AT` names this point (on its n-th pass).
 *
 * @example
 * ```ts
 * crashPoint("after-packs");
 * const written = await writeVersion(ctx, rel, content, base, seen);
 * ```
 */
export function crashPoint(point: CrashPoint): void {
  if (armed?.point !== point || ++passes !== armed.pass) return;
  Deno.kill(Deno.pid, "SIGKILL");
}

function parse(value: string | undefined): { point: string; pass: number } | undefined {
  if (!value) return undefined;
  const [point, pass] = value.split(":");
  return { point, pass: pass === undefined ? 1 : Number(pass) };
}
