import assert from "node:assert/strict";
import { dirname } from "node:path";
import { makeDaemonDevice } from "./daemon_device.ts";
import { makeScopedTempDir } from "../support/module_unload.ts";
import type { ApiErrorBody } from "../../daemon/api/api_types.ts";

/** curl run as the `nobody` user (with no groups) against the socket. */
async function curlAsNobody(
  socket: string,
): Promise<{ code: number; stdout: string; stderr: string }> {
  const output = await new Deno.Command("setpriv", {
    args: [
      "--reuid=nobody",
      "--regid=nogroup",
      "--clear-groups",
      "curl",
      "--silent",
      "--show-error",
      "--max-time",
      "5",
      "--unix-socket",
      socket,
      "http://localhost/v1/status",
    ],
    stdin: "null",
  }).output();
  const text = new TextDecoder();
  return {
    code: output.code,
    stdout: text.decode(output.stdout),
    stderr: text.decode(output.stderr),
  };
}

/** One request on the socket: its status and JSON body. */
async function request(
  socket: string,
  path: string,
  init: RequestInit = {},
): Promise<{ status: number; json: ApiErrorBody }> {
  using client = Deno.createHttpClient({ proxy: { transport: "unix", path: socket } });
  const response = await fetch(`http://localhost${path}`, { ...init, client });
  return { status: response.status, json: await response.json() };
}

Deno.test("the control socket is mode 0600 in a 0700 directory, and another uid cannot use it", {
  ignore: Deno.uid() !== 0,
}, async () => {
  const tmp = await makeScopedTempDir("tcfs-daemon-socket-");
  const a = await makeDaemonDevice(tmp.path, "devA", {
    TCFS_S3_ENDPOINT: `file://${tmp.path}/store`,
  });
  await a.start();
  try {
    assert.equal((await Deno.lstat(a.socket)).mode! & 0o777, 0o600);
    assert.equal((await Deno.stat(dirname(a.socket))).mode! & 0o777, 0o700);
    const refused = await curlAsNobody(a.socket);
    assert.notEqual(refused.code, 0);
    assert.equal(refused.stdout, "");

    // Even with every directory on the way open to others, the socket's own mode refuses.
    for (const dir of [tmp.path, a.home, dirname(a.socket)]) await Deno.chmod(dir, 0o711);
    const stillRefused = await curlAsNobody(a.socket);
    assert.equal(stillRefused.code, 7, stillRefused.stderr); // curl: couldn't connect
    // The check can fail: opening the socket's mode lets the other user in.
    await Deno.chmod(a.socket, 0o666);
    const admitted = await curlAsNobody(a.socket);
    assert.equal(admitted.code, 0, admitted.stderr);
    assert.equal(JSON.parse(admitted.stdout).device.name, "devA");
    await Deno.chmod(a.socket, 0o600);
  } finally {
    await a.stop();
    await tmp.remove();
  }
});

Deno.test("requests from web pages, unknown routes and bad bodies get JSON errors", async () => {
  const tmp = await makeScopedTempDir("tcfs-daemon-socket-");
  const a = await makeDaemonDevice(tmp.path, "devA", {
    TCFS_S3_ENDPOINT: `file://${tmp.path}/store`,
  });
  await a.start();
  try {
    const ok = await request(a.socket, "/v1/status");
    assert.equal(ok.status, 200);
    const pageHeaders: Record<string, string>[] = [
      { origin: "http://evil.example" },
      { referer: "http://evil.example/x" },
    ];
    for (const header of pageHeaders) {
      const refused = await request(a.socket, "/v1/status", { headers: header });
      assert.equal(refused.status, 403);
      assert.equal(refused.json.error.kind, "forbidden_origin");
    }
    const unknown = await request(a.socket, "/v1/nope");
    assert.equal(unknown.status, 404);
    assert.equal(unknown.json.error.kind, "not_found");
    assert.match(unknown.json.error.hint!, /docs\/API\.md/);
    const unversioned = await request(a.socket, "/status");
    assert.equal(unversioned.status, 404);
    const wrongMethod = await request(a.socket, "/v1/push");
    assert.equal(wrongMethod.status, 405);
    assert.equal(wrongMethod.json.error.kind, "method_not_allowed");
    const notJson = await request(a.socket, "/v1/push", { method: "POST", body: "{" });
    assert.equal(notJson.status, 400);
    assert.equal(notJson.json.error.kind, "bad_request");
    const badResolution = await request(a.socket, "/v1/conflicts/resolve", {
      method: "POST",
      body: JSON.stringify({ path: "a.txt", resolution: "flip_a_coin" }),
    });
    assert.equal(badResolution.status, 400);
    assert.match(badResolution.json.error.message, /keep_local/);
    const relative = await request(a.socket, "/v1/push", {
      method: "POST",
      body: JSON.stringify({ path: "relative/path" }),
    });
    assert.equal(relative.status, 400);
  } finally {
    await a.stop();
    await tmp.remove();
  }
});

Deno.test("a second daemon on a live socket refuses to start; a stale socket is replaced", async () => {
  const tmp = await makeScopedTempDir("tcfs-daemon-socket-");
  const a = await makeDaemonDevice(tmp.path, "devA", {
    TCFS_S3_ENDPOINT: `file://${tmp.path}/store`,
  });
  await a.start();
  try {
    const second = await a.tcfs(["daemon"]);
    assert.equal(second.code, 1);
    assert.match(second.stderr, new RegExp(`another tcfs daemon is running on ${a.socket}`));
    assert.equal((await a.status()).device.name, "devA", "the first daemon still answers");

    await a.stop("SIGKILL");
    assert.ok((await Deno.lstat(a.socket)).isSocket, "a killed daemon leaves its socket behind");
    await a.start();
    assert.equal((await a.status()).device.name, "devA");
    assert.equal((await Deno.lstat(a.socket)).mode! & 0o777, 0o600);
  } finally {
    await a.stop();
    await tmp.remove();
  }
});
