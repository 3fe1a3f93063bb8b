/**
 * The mass-delete guard: a push that would delete most of what this device synced from a
 * folder is far more likely an unmounted drive, a wrong path or a stray `rm -rf` than a wish,
 * and a deletion spreads to every device. Such a push stops before it writes anything until
 * the user says it is meant (`--allow-mass-delete`).
 *
 * @module
 */

import { TcfsError } from "../errors.ts";
import type { SyncConfig } from "../config/config_schema.ts";

/** When a push counts as a mass deletion (`[sync] mass_delete_ratio`, `mass_delete_min_files`). */
export interface MassDeleteLimits {
  /** The share of the tracked files (0 to 1) that a push may delete. */
  ratio: number;
  /** Fewer deletions than this are never a mass deletion. */
  minFiles: number;
}

/** The limits when the config sets none: more than half, and at least 100 files. */
export const DEFAULT_MASS_DELETE_LIMITS: MassDeleteLimits = { ratio: 0.5, minFiles: 100 };

/**
 * The limits the config sets.
 *
 * @example
 * ```ts
 * massDeleteLimits(config.sync); // { ratio: 0.5, minFiles: 100 } by default
 * ```
 */
export function massDeleteLimits(sync: SyncConfig): MassDeleteLimits {
  return { ratio: sync.massDeleteRatio, minFiles: sync.massDeleteMinFiles };
}

/**
 * Whether deleting `deletions` of the `tracked` files synced from a folder is a mass deletion.
 *
 * @example
 * ```ts
 * isMassDelete(120, 200, DEFAULT_MASS_DELETE_LIMITS); // true
 * isMassDelete(99, 99, DEFAULT_MASS_DELETE_LIMITS); // false: fewer than 100
 * ```
 */
export function isMassDelete(
  deletions: number,
  tracked: number,
  limits: MassDeleteLimits,
): boolean {
  return deletions >= limits.minFiles && deletions > limits.ratio * tracked;
}

/**
 * Throws when pushing `where` would delete too much (see {@linkcode isMassDelete}), unless
 * the user allowed it.
 *
 * @throws {TcfsError} kind `mass_delete`.
 *
 * @example
 * ```ts
 * assertNoMassDelete("/home/me/Sync", { deletions: 3, tracked: 10 }, DEFAULT_MASS_DELETE_LIMITS);
 * ```
 */
export function assertNoMassDelete(
  where: string,
  counts: { deletions: number; tracked: number },
  limits: MassDeleteLimits,
  allowed = false,
): void {
  if (allowed || !isMassDelete(counts.deletions, counts.tracked, limits)) return;
  throw new TcfsError(
    `pushing ${where} would delete ${counts.deletions} of the ${counts.tracked} files synced ` +
      `from it on every device; nothing was pushed`,
    {
      kind: "mass_delete",
      hint: `if the folder is on a drive, check that it is mounted; to see the list, run ` +
        `\`tcfs push --dry-run --allow-mass-delete ${where}\`; if the deletions are meant, ` +
        `run \`tcfs push --allow-mass-delete ${where}\``,
    },
  );
}
