import assert from "node:assert/strict";
import { servicesEnv } from "./services_env.ts";

Deno.test("servicesEnv reads the TCFS_* environment before .tools/services.env", () => {
  const given = {
    TCFS_S3_ENDPOINT: "http://127.0.0.1:1",
    TCFS_S3_ACCESS: "access-from-env",
    TCFS_S3_SECRET: "secret-from-env",
    TCFS_S3_BUCKET: "bucket-from-env",
    TCFS_NATS_URL: "nats://127.0.0.1:2",
  };
  const saved = Object.keys(given).map((name) => [name, Deno.env.get(name)] as const);
  try {
    for (const [name, value] of Object.entries(given)) Deno.env.set(name, value);
    assert.deepEqual(servicesEnv(), {
      s3Endpoint: given.TCFS_S3_ENDPOINT,
      s3Access: given.TCFS_S3_ACCESS,
      s3Secret: given.TCFS_S3_SECRET,
      s3Bucket: given.TCFS_S3_BUCKET,
      natsUrl: given.TCFS_NATS_URL,
    });
  } finally {
    for (const [name, value] of saved) {
      if (value === undefined) Deno.env.delete(name);
      else Deno.env.set(name, value);
    }
  }
});
