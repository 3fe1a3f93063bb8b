/**
 * How the engine puts its operations (`fuse_operations.ts`) at a mount point: the transport
 * (platform/fuse's `serveFuse`) is passed in, and this is all the engine knows of it.
 *
 * @module
 */

import type { FuseOperations } from "./fuse_operations.ts";

/** What every transport takes. */
export interface FuseAttachOptions {
  /** Refuse writes in the kernel (EROFS) as well as in the handlers. */
  readOnly: boolean;
  /** The source column of the mount table (`tcfs:<remote>`). */
  source: string;
  /** Where a failed handler is reported. */
  log?: (message: string) => void;
}

/** A live mount. */
export interface FuseSession {
  readonly mountpoint: string;
  /** Settles once the kernel closed the session: unmounted, by us or anyone else. */
  readonly closed: Promise<void>;
  /** Tells the kernel that a file's content changed: it drops its cached pages. */
  invalidate(ino: number): void;
  /** Unmounts (lazily, so open files do not keep this process alive) and waits for the end. */
  unmount(): Promise<void>;
}

/** Attaches operations to a directory (`serveFuse`). */
export type FuseAttach = (
  mountpoint: string,
  ops: FuseOperations,
  options: FuseAttachOptions,
) => Promise<FuseSession>;
