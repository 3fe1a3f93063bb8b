import assert from "node:assert/strict";
import { assertDeviceName } from "../../../core/device/device_name.ts";
import { ExitCode, TcfsError } from "../../../core/errors.ts";

Deno.test("fleet names from the deployment guide are valid", () => {
  for (
    const name of ["yoga", "xoxd-bates", "petting-zoo-mini", "yoga.local", "lab_01", "a".repeat(64)]
  ) {
    assert.equal(assertDeviceName(name), name);
  }
});

Deno.test("bad names are refused with a usage error that says why", () => {
  const cases: [string, RegExp][] = [
    ["", /is empty/],
    ["../x", /characters other than/],
    ["..", /starts with/],
    ["a/b", /characters other than/],
    ["has space", /characters other than/],
    ["x".repeat(300), /longer than 64/],
    ["ünïcode", /characters other than/],
    ["-dash", /starts with/],
  ];
  for (const [name, why] of cases) {
    assert.throws(() => assertDeviceName(name), (err: unknown) => {
      assert.ok(err instanceof TcfsError);
      assert.equal(err.exitCode, ExitCode.usage);
      assert.match(err.message, why, name);
      assert.ok(err.hint);
      return true;
    });
  }
});
