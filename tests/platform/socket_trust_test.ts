import assert from "node:assert/strict";
import { join } from "node:path";
import { assertTrustedSocket, socketTrustProblem } from "../../platform/socket_trust.ts";
import { daemonAvailable } from "../../daemon/api/control_client.ts";
import { claimSocketPath } from "../../daemon/api/socket_claim.ts";
import { TcfsError } from "../../core/errors.ts";

const ME = 501;
const SOCKET = 0o140000;
const DIR = 0o040000;

Deno.test("a socket is trusted only when it and its directory are yours or root's, and private", () => {
  const path = "/tmp/tcfsd.sock";
  const check = (socket: [number, number] | undefined, dir: [number, number]) =>
    socketTrustProblem(
      path,
      socket && { uid: socket[0], mode: socket[1] },
      { uid: dir[0], mode: dir[1] },
      ME,
    );
  // Trusted: your own private dir; root's sticky /tmp with your socket; root's socket.
  assert.equal(check([ME, SOCKET | 0o600], [ME, DIR | 0o700]), undefined);
  assert.equal(check([ME, SOCKET | 0o600], [0, DIR | 0o1777]), undefined);
  assert.equal(check([0, SOCKET | 0o600], [0, DIR | 0o755]), undefined);
  assert.equal(check(undefined, [ME, DIR | 0o700]), undefined);
  assert.equal(socketTrustProblem(path, undefined, { uid: null, mode: null }, ME), undefined);
  // Refused: another user's socket, even in sticky /tmp; another user's directory;
  // a directory or socket others may write.
  assert.match(check([502, SOCKET | 0o600], [0, DIR | 0o1777])!, /owned by uid 502, not by you/);
  assert.match(check([ME, SOCKET | 0o600], [502, DIR | 0o700])!, /^\/tmp is owned by uid 502/);
  assert.match(check(undefined, [ME, DIR | 0o777])!, /writable by other users \(mode 0777\)/);
  assert.match(check(undefined, [0, DIR | 0o775])!, /writable by other users/);
  assert.match(check([ME, SOCKET | 0o666], [ME, DIR | 0o700])!, /tcfsd.sock is writable/);
});

Deno.test("the CLI and the daemon refuse a socket in a world-writable directory", async () => {
  const dir = await Deno.makeTempDir({ prefix: "tcfs-socket-" });
  try {
    const shared = join(dir, "shared");
    await Deno.mkdir(shared);
    await Deno.chmod(shared, 0o777);
    const socket = join(shared, "tcfsd.sock");
    const untrusted = (err: unknown) =>
      err instanceof TcfsError && err.kind === "socket_untrusted" &&
      err.message.includes(`${shared} is writable by other users (mode 0777)`);
    await assert.rejects(daemonAvailable(socket), untrusted);
    await assert.rejects(claimSocketPath(socket), untrusted);
    await Deno.chmod(shared, 0o700);
    assert.equal(await daemonAvailable(socket), false);
    await claimSocketPath(socket);
    assertTrustedSocket(join(dir, "missing", "tcfsd.sock"));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
