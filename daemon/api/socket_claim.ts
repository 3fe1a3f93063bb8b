/**
 * Taking over the control socket's path before listening: one daemon per socket. A socket
 * something still answers on belongs to a running daemon, and starting is refused; a socket
 * nothing answers on was left by a crash, and is replaced.
 *
 * @module
 */

import { dirname } from "node:path";
import { TcfsError } from "../../core/errors.ts";
import { assertTrustedSocket } from "../../platform/socket_trust.ts";

/**
 * Makes `path` free for a new listener: creates its directory (mode 0700) when missing, and
 * removes a stale socket.
 *
 * @throws {TcfsError} kind `daemon_running` when a daemon answers on `path`, kind
 *   `socket_path_taken` when `path` is something other than a socket, kind
 *   `socket_untrusted` when it or its directory is another user's or writable by others.
 *
 * @example
 * ```ts
 * await claimSocketPath("/run/user/1000/tcfsd.sock");
 * Deno.serve({ path: "/run/user/1000/tcfsd.sock" }, handler);
 * ```
 */
export async function claimSocketPath(path: string): Promise<void> {
  await Deno.mkdir(dirname(path), { recursive: true, mode: 0o700 });
  assertTrustedSocket(path);
  let info: Deno.FileInfo;
  try {
    info = await Deno.lstat(path);
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) return;
    throw err;
  }
  if (!info.isSocket) {
    throw new TcfsError(`${path} exists and is not a socket`, {
      kind: "socket_path_taken",
      hint: "move that file away, or set [daemon] socket (or --socket) to another path",
    });
  }
  if (await answers(path)) {
    throw new TcfsError(`another tcfs daemon is running on ${path}`, {
      kind: "daemon_running",
      hint: "stop it first (systemctl --user stop tcfsd), or give this one another " +
        "[daemon] socket (or --socket)",
    });
  }
  await Deno.remove(path);
}

/** Whether a listener accepts connections on the socket at `path`. */
async function answers(path: string): Promise<boolean> {
  try {
    const conn = await Deno.connect({ transport: "unix", path });
    conn.close();
    return true;
  } catch (err) {
    if (err instanceof Deno.errors.ConnectionRefused) return false;
    throw new TcfsError(
      `cannot check whether a daemon listens on ${path}: ${(err as Error).message}`,
      {
        kind: "socket_path_taken",
        cause: err,
        hint: "the socket may belong to another user; set [daemon] socket (or --socket) to a " +
          "path of your own",
      },
    );
  }
}
