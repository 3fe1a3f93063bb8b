import assert from "node:assert/strict";
import { join } from "node:path";
import { type ControlHandlers, serveControlApi } from "../../daemon/api/control_server.ts";
import { fuzzTest } from "./fuzz_test_runner.ts";

fuzzTest("control API", new URL("./targets/control_api_target.ts", import.meta.url));

// A body is read whole before it is checked; without a cap, one local request could make the
// daemon hold gigabytes.
Deno.test("the control server refuses a request body over 64 KiB without reading it all", async () => {
  const dir = await Deno.makeTempDir({ prefix: "tcfs-fuzz-api-" });
  const path = join(dir, "tcfsd.sock");
  const pushes: unknown[] = [];
  const handlers = {
    "POST /v1/push": (input: unknown) => {
      pushes.push(input);
      return Promise.resolve({});
    },
  } as unknown as ControlHandlers;
  const server = await serveControlApi({ path, handlers, log: () => {} });
  const client = Deno.createHttpClient({ proxy: { transport: "unix", path } });
  try {
    const post = (body: BodyInit) =>
      fetch("http://localhost/v1/push", { method: "POST", body, client });
    const huge = JSON.stringify({ path: `/home/ada/${"x".repeat(10 << 20)}` });
    const refused = await post(huge);
    assert.equal(refused.status, 413);
    assert.equal((await refused.json()).error.kind, "bad_request");
    // Streamed without a length, too.
    const stream = new Blob([huge]).stream();
    const streamed = await post(stream);
    assert.equal(streamed.status, 413);
    await streamed.body?.cancel();
    const small = await post(JSON.stringify({ path: "/home/ada/a.txt" }));
    assert.equal(small.status, 200);
    await small.body?.cancel();
    assert.deepEqual(pushes, [{
      path: "/home/ada/a.txt",
      remote: undefined,
      transfer: undefined,
      dry_run: undefined,
      allow_mass_delete: undefined,
    }]);
  } finally {
    client.close();
    await server.shutdown();
    await Deno.remove(dir, { recursive: true });
  }
});
