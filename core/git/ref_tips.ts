/**
 * Concurrent values of one ref: the branch follows one tip, and each other tip that history
 * does not already hold is kept under `refs/tcfs-conflicts/`, so no commit is lost.
 *
 * @module
 */

/** One device's value of a ref: a commit id, or `ref: <name>` for a symbolic ref. */
export interface RefValue {
  /** The device the value comes from (its name). */
  device: string;
  value: string;
}

/** What the ref becomes, and the tips kept beside it. */
export interface TipChoice {
  winner: RefValue;
  kept: RefValue[];
}

/**
 * Picks the value a ref keeps among concurrent ones. A tip that another descends from is
 * history already (a fast-forward): it is dropped. Of the rest, the smallest device name wins,
 * as every device computes alike; the others are `kept`. `isAncestor` says undefined when it
 * can't tell (no git, an object missing): such a tip is kept.
 *
 * @example
 * ```ts
 * const { winner, kept } = await chooseTip(
 *   [{ device: "b", value: "c2" }, { device: "a", value: "c1" }],
 *   () => Promise.resolve(false),
 * );
 * // winner: a's c1; kept: b's c2
 * ```
 */
export async function chooseTip(
  values: readonly RefValue[],
  isAncestor: (ancestor: string, descendant: string) => Promise<boolean | undefined>,
): Promise<TipChoice> {
  const distinct: RefValue[] = [];
  for (const v of [...values].sort((a, b) => compare(a.device, b.device))) {
    if (!distinct.some((d) => d.value === v.value)) distinct.push(v);
  }
  const tips: RefValue[] = [];
  for (const v of distinct) {
    let behind = false;
    for (const other of distinct) {
      if (other === v || isSymbolic(v.value) || isSymbolic(other.value)) continue;
      if (await isAncestor(v.value, other.value)) {
        behind = true;
        break;
      }
    }
    if (!behind) tips.push(v);
  }
  const [winner, ...rest] = tips;
  // A symbolic value (HEAD on a branch) names a ref that stays: nothing to keep.
  return { winner, kept: rest.filter((v) => !isSymbolic(v.value)) };
}

/**
 * Where a kept tip goes: `refs/tcfs-conflicts/<device>/<branch>@<commit>` (the commit's first
 * twelve digits, so a second conflict on the branch never replaces the first).
 *
 * @example
 * ```ts
 * conflictRefName("laptop", "refs/heads/main", "0123456789abcdef"); // refs/tcfs-conflicts/laptop/main@0123456789ab
 * ```
 */
export function conflictRefName(device: string, ref: string, commit: string): string {
  const branch = ref.replace(/^refs\/(heads\/)?/, "");
  const safeDevice = device.replace(/[^A-Za-z0-9._-]/g, "-").replace(/\.{2,}/g, ".")
    .replace(/^[.-]+|[.]+$/g, "") || "device";
  return `refs/tcfs-conflicts/${safeDevice}/${branch}@${commit.slice(0, 12)}`;
}

/** The prefix of the refs {@linkcode conflictRefName} makes. */
export const CONFLICT_REFS = "refs/tcfs-conflicts/";

function isSymbolic(value: string): boolean {
  return value.startsWith("ref:");
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
