/**
 * Where a conflicted path lives: shared by the resolver and the conflict copy cap.
 *
 * @module
 */

/** A conflicted path and where it lives on this device. */
export interface ConflictSite {
  rel: string;
  localPath: string;
}
