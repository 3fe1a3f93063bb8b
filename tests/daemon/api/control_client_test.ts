import assert from "node:assert/strict";
import { join } from "node:path";
import { createControlClient, daemonAvailable } from "../../../daemon/api/control_client.ts";
import { ExitCode, TcfsError } from "../../../core/errors.ts";

Deno.test("with no daemon on the socket, calls fail as 'daemon not running' (exit code 4)", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const socket = join(dir, "tcfsd.sock");
    assert.equal(await daemonAvailable(socket), false);
    using client = createControlClient(socket);
    await assert.rejects(client.status(), (err: unknown) => {
      assert.ok(err instanceof TcfsError);
      assert.equal(err.kind, "daemon_not_running");
      assert.equal(err.exitCode, ExitCode.daemonNotRunning);
      assert.match(err.message, new RegExp(socket));
      return true;
    });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
