import assert from "node:assert/strict";
import { join } from "node:path";
import kdbxweb from "kdbxweb";
import { TcfsError } from "../../../core/errors.ts";
import { KdbxErrorKind, readKdbxCredentials } from "../../../core/credentials/kdbx_source.ts";
import type { SourceReading } from "../../../core/credentials/credential_values.ts";
import { makeKeepassxcDatabase } from "./real_tools.ts";

const PASSWORD = "correct horse battery staple";
const ACCESS = "AKIAKDBXEXAMPLE";
const SECRET = "kdbx/Secret+Value=42";
const ENDPOINT = "http://127.0.0.1:8333";

/** The tcfs/s3 entry, in a KDBX 3.1 made with keepassxc-cli. */
function keepassxcDatabase(dir: string, unlock: { password: string } | { keyFile: string }) {
  return makeKeepassxcDatabase(dir, unlock, {
    path: "tcfs/s3",
    userName: ACCESS,
    password: SECRET,
    url: ENDPOINT,
  });
}

/** A KDBX 4 database with Argon2, made with kdbxweb (keepassxc-cli cannot make one). */
async function kdbx4Database(dir: string, kdf: "argon2id" | "argon2d"): Promise<string> {
  const db = kdbxweb.Kdbx.create(
    new kdbxweb.Credentials(kdbxweb.ProtectedValue.fromString(PASSWORD)),
    "Vault",
  );
  db.setVersion(4);
  db.setKdf(kdf === "argon2id" ? kdbxweb.Consts.KdfId.Argon2id : kdbxweb.Consts.KdfId.Argon2d);
  const storage = db.createGroup(db.createGroup(db.getDefaultGroup(), "Lab"), "Storage");
  const entry = db.createEntry(storage);
  entry.fields.set("Title", "SeaweedFS");
  entry.fields.set("UserName", ACCESS);
  entry.fields.set("Password", kdbxweb.ProtectedValue.fromString(SECRET));
  entry.fields.set("URL", ENDPOINT);
  const file = join(dir, `${kdf}.kdbx`);
  await Deno.writeFile(file, new Uint8Array(await db.save()));
  return file;
}

function assertEntry(reading: SourceReading, endpoint: string | undefined = ENDPOINT) {
  assert.ok(reading.found, "the entry was found");
  assert.equal(reading.values.s3?.accessKeyId.reveal(), ACCESS);
  assert.equal(reading.values.s3?.secretAccessKey.reveal(), SECRET);
  assert.equal(reading.values.s3Endpoint, endpoint);
}

async function assertKind(promise: Promise<unknown>, kind: string): Promise<TcfsError> {
  try {
    await promise;
  } catch (err) {
    assert.ok(err instanceof TcfsError, String(err));
    assert.equal(err.kind, kind, err.message);
    return err;
  }
  assert.fail(`expected ${kind}`);
}

Deno.test("a KDBX 3.1 made by keepassxc-cli resolves tcfs/s3 with the password from TCFS_KDBX_PASSWORD", async () => {
  const dir = await Deno.makeTempDir({ prefix: "tcfs-kdbx-" });
  try {
    const db = await keepassxcDatabase(dir, { password: PASSWORD });
    const header = new DataView((await Deno.readFile(db)).buffer);
    assert.deepEqual([header.getUint16(10, true), header.getUint16(8, true)], [3, 1], "KDBX 3.1");

    assertEntry(
      await readKdbxCredentials({
        path: db,
        entryPath: "tcfs/s3",
        env: { TCFS_KDBX_PASSWORD: PASSWORD },
        interactive: false,
      }),
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a KDBX 3.1 locked by a key file alone opens with the key file", async () => {
  const dir = await Deno.makeTempDir({ prefix: "tcfs-kdbx-" });
  try {
    const keyFile = join(dir, "tcfs.key");
    const db = await keepassxcDatabase(dir, { keyFile });

    assertEntry(
      await readKdbxCredentials({
        path: db,
        entryPath: "tcfs/s3",
        keyFile,
        env: {},
        interactive: false,
      }),
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("KDBX 4 with Argon2id and Argon2d resolve nested entries, case-insensitively, with or without the root group", async () => {
  const dir = await Deno.makeTempDir({ prefix: "tcfs-kdbx-" });
  try {
    for (const kdf of ["argon2id", "argon2d"] as const) {
      const db = await kdbx4Database(dir, kdf);
      assert.equal(new DataView((await Deno.readFile(db)).buffer).getUint16(10, true), 4);
      for (
        const entryPath of [
          "Lab/Storage/SeaweedFS",
          "lab/storage/seaweedfs",
          "Vault/Lab/Storage/SeaweedFS",
        ]
      ) {
        assertEntry(
          await readKdbxCredentials({
            path: db,
            entryPath,
            env: { TCFS_KDBX_PASSWORD: PASSWORD },
            interactive: false,
          }),
        );
      }
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a wrong password says so clearly, and never echoes what was typed", async () => {
  const dir = await Deno.makeTempDir({ prefix: "tcfs-kdbx-" });
  try {
    const wrong = "not-the-password";
    for (
      const db of [
        await keepassxcDatabase(dir, { password: PASSWORD }),
        await kdbx4Database(dir, "argon2id"),
      ]
    ) {
      const error = await assertKind(
        readKdbxCredentials({
          path: db,
          entryPath: "tcfs/s3",
          env: { TCFS_KDBX_PASSWORD: wrong },
          interactive: false,
        }),
        KdbxErrorKind.wrongKey,
      );
      assert.equal(error.message, `KDBX at ${db}: wrong password or key file`);
      assert.ok(!`${error.message}${error.hint}`.includes(wrong));
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("without a password it prompts only when interactive, and otherwise says why it skipped", async () => {
  const dir = await Deno.makeTempDir({ prefix: "tcfs-kdbx-" });
  try {
    const db = await kdbx4Database(dir, "argon2id");
    const asked: string[] = [];
    const options = {
      path: db,
      entryPath: "Lab/Storage/SeaweedFS",
      env: {},
      promptPassword: (message: string) => {
        asked.push(message);
        return Promise.resolve(PASSWORD);
      },
    };

    const skipped = await readKdbxCredentials({ ...options, interactive: false });
    assert.deepEqual(asked, []);
    assert.ok(!skipped.found);
    assert.match(
      skipped.reason,
      /needs a password: set TCFS_KDBX_PASSWORD or a key file \(not prompting/,
    );

    assertEntry(await readKdbxCredentials({ ...options, interactive: true }));
    assert.deepEqual(asked, [`Password for ${db}: `]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a missing entry, a missing database and a non-KDBX file are clear errors", async () => {
  const dir = await Deno.makeTempDir({ prefix: "tcfs-kdbx-" });
  try {
    const db = await kdbx4Database(dir, "argon2id");
    const read = (path: string, entryPath: string) =>
      readKdbxCredentials({
        path,
        entryPath,
        env: { TCFS_KDBX_PASSWORD: PASSWORD },
        interactive: false,
      });

    const missing = await assertKind(read(db, "tcfs/s3"), KdbxErrorKind.entryNotFound);
    assert.equal(missing.message, `KDBX at ${db} has no entry tcfs/s3`);
    assert.match(missing.hint ?? "", /keepassxc-cli add/);
    // A group path is not an entry.
    await assertKind(read(db, "Lab/Storage"), KdbxErrorKind.entryNotFound);

    const absent = await assertKind(
      read(join(dir, "absent.kdbx"), "tcfs/s3"),
      KdbxErrorKind.unreadable,
    );
    assert.match(absent.message, /absent\.kdbx: not found/);

    const notKdbx = join(dir, "notes.txt");
    await Deno.writeTextFile(notKdbx, "just text, not a database\n");
    await assertKind(read(notKdbx, "tcfs/s3"), KdbxErrorKind.unreadable);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
