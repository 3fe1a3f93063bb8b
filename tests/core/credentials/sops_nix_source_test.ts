import assert from "node:assert/strict";
import { join } from "node:path";
import { TcfsError } from "../../../core/errors.ts";
import { readSopsNixCredentials } from "../../../core/credentials/sops_nix_source.ts";

Deno.test("a sops-nix directory supplies keys, endpoint and NATS URL without their trailing newlines", async () => {
  const dir = await Deno.makeTempDir({ prefix: "tcfs-sops-nix-" });
  try {
    // sops-nix writes each secret's value as-is; values typed into YAML end in a newline.
    await Deno.writeTextFile(join(dir, "s3_access"), "AKIANIX\n");
    await Deno.writeTextFile(join(dir, "s3_secret"), "nix secret with spaces \n");
    await Deno.writeTextFile(join(dir, "s3_endpoint"), "http://127.0.0.1:8333\r\n");
    await Deno.writeTextFile(join(dir, "nats_url"), "nats://127.0.0.1:4222");

    const reading = await readSopsNixCredentials(dir);

    assert.ok(reading.found);
    assert.equal(reading.values.s3?.accessKeyId.reveal(), "AKIANIX");
    assert.equal(reading.values.s3?.secretAccessKey.reveal(), "nix secret with spaces ");
    assert.equal(reading.values.s3Endpoint, "http://127.0.0.1:8333");
    assert.equal(reading.values.natsUrl, "nats://127.0.0.1:4222");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a sops-nix directory that is absent or empty is skipped; half a key pair is an error", async () => {
  const dir = await Deno.makeTempDir({ prefix: "tcfs-sops-nix-" });
  try {
    assert.deepEqual(await readSopsNixCredentials(join(dir, "absent")), {
      found: false,
      reason: "not found",
    });
    assert.deepEqual(await readSopsNixCredentials(dir), {
      found: false,
      reason: "holds none of s3_access, s3_secret, s3_endpoint, nats_url",
    });

    await Deno.writeTextFile(join(dir, "nats_url"), "nats://127.0.0.1:4222\n");
    assert.deepEqual(await readSopsNixCredentials(dir), {
      found: true,
      values: { natsUrl: "nats://127.0.0.1:4222" },
    });

    await Deno.writeTextFile(join(dir, "s3_access"), "AKIANIX\n");
    await assert.rejects(readSopsNixCredentials(dir), (err) => {
      assert.ok(err instanceof TcfsError);
      assert.equal(err.message, `${dir}/s3_access is set but ${dir}/s3_secret is not`);
      return true;
    });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
