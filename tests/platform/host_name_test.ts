import assert from "node:assert/strict";
import { hostName } from "../../platform/host_name.ts";

Deno.test("hostName is the full host name the OS reports", () => {
  assert.equal(hostName(), Deno.hostname().trim());
});

Deno.test({
  name: "hostName falls back to unknown-device when the host name cannot be read",
  permissions: { sys: false },
  fn() {
    assert.equal(hostName(), "unknown-device");
  },
});
