import assert from "node:assert/strict";
import { inspect } from "node:util";
import { REDACTED, Secret } from "../../../core/credentials/secret_redaction.ts";

Deno.test("a Secret prints as <redacted> everywhere and reveals its value only on request", () => {
  const value = "wJalrXUtnFEMI/K7MDENG";
  const secret = new Secret(value);
  const holder = { nested: { secret } };

  for (
    const printed of [
      String(secret),
      `${secret}`,
      "key: " + secret,
      JSON.stringify(holder),
      Deno.inspect(holder, { depth: 10 }),
      inspect(holder, { depth: 10, showHidden: true }),
    ]
  ) {
    assert.ok(printed.includes(REDACTED), printed);
    assert.ok(!printed.includes(value), printed);
  }
  assert.equal(secret.reveal(), value);
});
