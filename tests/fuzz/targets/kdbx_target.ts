/**
 * Fuzz target: KDBX databases (headers most of all: KDF parameters, field lengths), damaged
 * from small real databases that kdbxweb makes when the run starts: KDBX 4 with Argon2id and
 * with AES-KDF, and KDBX 3.1. The databases' salts differ from run to run, so a replay makes
 * the same damage to a database of the same layout.
 *
 * @module
 */

import { join } from "node:path";
import kdbxweb from "kdbxweb";
import { KDBX_KDF_CAPS, readKdbxCredentials } from "../../../core/credentials/kdbx_source.ts";
import type { FuzzTarget } from "../fuzz_target.ts";
import { below, mutateBytes, pick, type Random, randomBytes } from "../mutations.ts";

/** The password of the databases the target makes. */
export const PASSWORD = "fuzz password";

/**
 * A small database with the entry `tcfs/s3`, cheap to open: KDBX 4 with `kdf` (Argon2 at
 * 64 MiB and one pass, or 1000 AES rounds), or KDBX 3.1 with 1000 AES rounds.
 */
export async function smallDatabase(version: 3 | 4, kdf: string): Promise<Uint8Array> {
  const db = kdbxweb.Kdbx.create(
    new kdbxweb.Credentials(kdbxweb.ProtectedValue.fromString(PASSWORD)),
    "Vault",
  );
  db.setVersion(version);
  if (version === 4) {
    db.setKdf(kdf);
    const params = db.header.kdfParameters!;
    if (kdf === kdbxweb.Consts.KdfId.Aes) {
      params.set("R", kdbxweb.VarDictionary.ValueType.UInt64, kdbxweb.Int64.from(1000));
    } else {
      params.set("M", kdbxweb.VarDictionary.ValueType.UInt64, kdbxweb.Int64.from(64 * 1024));
      params.set("I", kdbxweb.VarDictionary.ValueType.UInt64, kdbxweb.Int64.from(1));
    }
  } else {
    db.header.keyEncryptionRounds = 1000;
  }
  const group = db.createGroup(db.getDefaultGroup(), "tcfs");
  const entry = db.createEntry(group);
  entry.fields.set("Title", "s3");
  entry.fields.set("UserName", "AKIAFUZZ");
  entry.fields.set("Password", kdbxweb.ProtectedValue.fromString("fuzz-secret"));
  return new Uint8Array(await db.save());
}

/** Little-endian values that break 32- and 64-bit header fields. */
const HOSTILE_U64 = [0n, 1n, 1023n, 2n ** 31n, 2n ** 32n, 2n ** 40n, 2n ** 63n, 2n ** 64n - 1n];

/**
 * `bytes` with the KDF parameter `name` (`M`, `I`, `P` or `R` in a KDBX 4 variant dictionary)
 * set to `value`, or undefined when the header has no such parameter.
 */
export function withKdfParameter(
  bytes: Uint8Array,
  name: string,
  value: bigint,
): Uint8Array | undefined {
  const out = bytes.slice();
  const key = name.charCodeAt(0);
  // A dictionary entry: type, key length 1 (u32), the key, value length (u32), the value.
  for (let at = 12; at + 10 < Math.min(out.length, 1024); at++) {
    const size = out[at + 6];
    if (
      out[at + 1] === 1 && out[at + 2] === 0 && out[at + 5] === key &&
      (size === 4 || size === 8) && out[at + 7] === 0
    ) {
      for (let i = 0; i < size; i++, value >>= 8n) out[at + 10 + i] = Number(value & 0xffn);
      return out;
    }
  }
  return undefined;
}

/** `bytes` (KDBX 3.1) with the AES transform rounds (header field 6) set to `rounds`. */
export function withTransformRounds(bytes: Uint8Array, rounds: bigint): Uint8Array {
  const out = bytes.slice();
  for (let at = 12; at + 11 < out.length; at++) {
    if (out[at] === 6 && out[at + 1] === 8 && out[at + 2] === 0) {
      for (let i = 0; i < 8; i++, rounds >>= 8n) out[at + 3 + i] = Number(rounds & 0xffn);
      return out;
    }
  }
  throw new Error("no transform rounds field: not a KDBX 3.1 header");
}

/**
 * `bytes` with one KDF parameter (`M`, `I`, `P`, `R` in a KDBX 4 variant dictionary) set to a
 * hostile value, or a header field's length (at the start of the file) damaged.
 */
function mutateHeader(random: Random, bytes: Uint8Array): Uint8Array {
  const name = pick(random, ["M", "I", "P", "R"]);
  const changed = withKdfParameter(bytes, name, pick(random, HOSTILE_U64));
  if (changed) return changed;
  if (random() < 0.5) {
    try {
      return withTransformRounds(bytes, pick(random, HOSTILE_U64));
    } catch {
      // KDBX 4 without this parameter: damaged below instead.
    }
  }
  // Damage the start of the header, where its fields and their lengths are.
  const out = bytes.slice();
  const at = 12 + below(random, 200);
  out.set(randomBytes(random, 1 + below(random, 4)), Math.min(at, out.length));
  return out.slice(0, Math.max(at + 4, out.length));
}

/**
 * True when the header of `bytes` asks for key derivation within the caps but too slow for one
 * case (over about 0.2 s here, so that a loaded machine stays far from the case timeout): such
 * a database is as slow as its settings ask, which is no finding, and would spend the run's
 * budget. Above the caps it must be refused at once.
 */
function slowButAllowed(bytes: Uint8Array): boolean {
  let header: kdbxweb.KdbxHeader;
  try {
    const context = new kdbxweb.KdbxContext({ kdbx: new kdbxweb.Kdbx() });
    header = kdbxweb.KdbxHeader.read(new kdbxweb.BinaryStream(bytes.slice().buffer), context);
  } catch {
    return false;
  }
  const number = (value: unknown) =>
    value instanceof kdbxweb.Int64 ? value.hi * 2 ** 32 + value.lo : Number(value ?? 0);
  const params = header.kdfParameters;
  const rounds = header.keyEncryptionRounds ?? number(params?.get("R"));
  const mib = number(params?.get("M")) / 2 ** 20;
  const work = mib * number(params?.get("I"));
  const caps = KDBX_KDF_CAPS;
  return (rounds > 2e6 && rounds <= caps.aesRounds) ||
    (work > 64 && work <= caps.argon2MiBPasses && mib <= caps.argon2MemoryBytes / 2 ** 20);
}

interface Fixture {
  dir: string;
  databases: Uint8Array[];
}

export const target: FuzzTarget<{ db: number; bytes: Uint8Array }, Fixture> = {
  open: async () => ({
    dir: await Deno.makeTempDir({ prefix: "tcfs-fuzz-kdbx-" }),
    databases: [
      await smallDatabase(4, kdbxweb.Consts.KdfId.Argon2id),
      await smallDatabase(4, kdbxweb.Consts.KdfId.Aes),
      await smallDatabase(3, kdbxweb.Consts.KdfId.Aes),
    ],
  }),
  close: ({ dir }) => Deno.remove(dir, { recursive: true }),
  input: (random, { databases }) => {
    const db = below(random, databases.length);
    const valid = databases[db];
    const roll = random();
    if (roll < 0.4) return { db, bytes: mutateHeader(random, valid) };
    if (roll < 0.6) return { db, bytes: valid.slice(0, below(random, valid.length)) };
    if (roll < 0.95) {
      // Most damage near the header, where the parser reads before anything is authenticated.
      const head = Math.min(valid.length, 256 + below(random, 512));
      const damaged = mutateBytes(random, valid.subarray(0, head));
      const out = new Uint8Array(damaged.length + valid.length - head);
      out.set(damaged);
      out.set(valid.subarray(head), damaged.length);
      return { db, bytes: out };
    }
    return { db, bytes: randomBytes(random, below(random, 4096)) };
  },
  run: async ({ bytes }, { dir }) => {
    if (slowButAllowed(bytes)) return;
    const path = join(dir, "fuzz.kdbx");
    await Deno.writeFile(path, bytes);
    await readKdbxCredentials({
      path,
      entryPath: "tcfs/s3",
      env: { TCFS_KDBX_PASSWORD: PASSWORD },
      interactive: false,
    });
  },
};
