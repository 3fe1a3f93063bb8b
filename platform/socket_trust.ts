/**
 * Whether a control socket can be trusted: the CLI sends the daemon requests (and
 * reads back paths and state) over it, and a daemon listens on it. Another local user
 * who owns the socket, or can replace it, could answer in the daemon's place or
 * squat the path, so both the socket and its directory must belong to this user or
 * to root, and neither may be writable by others (a shared directory only with the
 * sticky bit, as `/tmp` has, where no one can replace another user's entry).
 *
 * @module
 */

import { dirname } from "node:path";
import { TcfsError } from "../core/errors.ts";
import { lstatIfPresent } from "../core/io/lstat_if_present.ts";

/** The parts of a stat that decide trust; `null` where the OS has no Unix owners. */
export interface OwnerAndMode {
  uid: number | null;
  mode: number | null;
}

const STICKY = 0o1000;
const WRITABLE_BY_OTHERS = 0o022;

/**
 * Why the socket at `path` must not be trusted by user `me`, or `undefined` when it may
 * be. `socket` is undefined when nothing is at the path yet.
 *
 * @example
 * ```ts
 * socketTrustProblem("/tmp/tcfsd.sock", { uid: 501, mode: 0o140600 }, { uid: 0, mode: 0o41777 }, 502);
 * // "/tmp/tcfsd.sock is owned by uid 501, not by you (uid 502) or root"
 * ```
 */
export function socketTrustProblem(
  path: string,
  socket: OwnerAndMode | undefined,
  dir: OwnerAndMode,
  me: number,
): string | undefined {
  const foreign = (what: string, stat: OwnerAndMode) =>
    stat.uid !== null && stat.uid !== me && stat.uid !== 0
      ? `${what} is owned by uid ${stat.uid}, not by you (uid ${me}) or root`
      : undefined;
  const dirPath = dirname(path);
  const dirMode = dir.mode ?? 0;
  return foreign(dirPath, dir) ??
    ((dirMode & WRITABLE_BY_OTHERS) !== 0 && (dirMode & STICKY) === 0
      ? `${dirPath} is writable by other users (mode ${
        octal(dirMode)
      }), who could replace the socket`
      : undefined) ??
    (socket && foreign(path, socket)) ??
    (socket && ((socket.mode ?? 0) & WRITABLE_BY_OTHERS) !== 0
      ? `${path} is writable by other users (mode ${octal(socket.mode!)})`
      : undefined);
}

/**
 * Throws when the socket at `path`, or its directory, is not this user's (see
 * {@linkcode socketTrustProblem}). A missing directory passes: nothing listens there.
 *
 * @throws {TcfsError} kind `socket_untrusted`.
 *
 * @example
 * ```ts
 * assertTrustedSocket("/run/user/1000/tcfsd.sock");
 * ```
 */
export function assertTrustedSocket(path: string): void {
  const me = Deno.uid();
  if (me === null) return;
  const dir = lstatIfPresent(dirname(path));
  if (!dir) return;
  const problem = socketTrustProblem(path, lstatIfPresent(path), dir, me);
  if (problem) {
    throw new TcfsError(`refusing the control socket ${path}: ${problem}`, {
      kind: "socket_untrusted",
      hint: "another local user may be answering in the daemon's place; set [daemon] socket " +
        "(or --socket, TCFS_SOCKET) to a path in a directory only you can write",
    });
  }
}

function octal(mode: number): string {
  return (mode & 0o7777).toString(8).padStart(4, "0");
}
