import assert from "node:assert/strict";
import { GetObjectCommand, PutObjectCommand, S3Client } from "@aws-sdk/client-s3";
import { type S3Identity, type SeaweedFS, startSeaweedFS } from "./seaweedfs_process.ts";

function s3ClientFor(seaweedfs: SeaweedFS, identity: S3Identity = seaweedfs): S3Client {
  return new S3Client({
    endpoint: seaweedfs.endpoint,
    region: "us-east-1",
    forcePathStyle: true,
    credentials: { accessKeyId: identity.access, secretAccessKey: identity.secret },
    requestChecksumCalculation: "WHEN_REQUIRED",
    responseChecksumValidation: "WHEN_REQUIRED",
    maxAttempts: 1,
  });
}

async function getBytes(s3: S3Client, bucket: string, key: string): Promise<Uint8Array> {
  const object = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  return await object.Body!.transformToByteArray();
}

Deno.test("startSeaweedFS serves the bucket over S3 with its identity", async () => {
  await using seaweedfs = await startSeaweedFS({ bucket: "helper-test" });
  const s3 = s3ClientFor(seaweedfs);
  try {
    const body = crypto.getRandomValues(new Uint8Array(64 * 1024));
    await s3.send(new PutObjectCommand({ Bucket: "helper-test", Key: "a/b.bin", Body: body }));
    assert.deepEqual(await getBytes(s3, "helper-test", "a/b.bin"), body);
  } finally {
    s3.destroy();
  }
});

Deno.test("SeaweedFS restarted with rotated identities keeps its data and refuses the old key", async () => {
  const before = { access: "tcfs-before", secret: "secret-before-rotation" };
  const after = { access: "tcfs-after", secret: "secret-after-rotation" };
  await using seaweedfs = await startSeaweedFS({ identities: [before] });
  const body = new TextEncoder().encode("survives a restart");
  const oldClient = s3ClientFor(seaweedfs, before);
  const newClient = s3ClientFor(seaweedfs, after);
  try {
    await oldClient.send(new PutObjectCommand({ Bucket: seaweedfs.bucket, Key: "k", Body: body }));
    await seaweedfs.stop();
    await assert.rejects(getBytes(oldClient, seaweedfs.bucket, "k"));
    await seaweedfs.restart({ identities: [after] });
    assert.equal(seaweedfs.access, after.access);
    assert.deepEqual(await getBytes(newClient, seaweedfs.bucket, "k"), body);
    await assert.rejects(getBytes(oldClient, seaweedfs.bucket, "k"), (error: Error) => {
      assert.match(error.name, /InvalidAccessKeyId|AccessDenied|Forbidden|403/);
      return true;
    });
  } finally {
    oldClient.destroy();
    newClient.destroy();
  }
});
