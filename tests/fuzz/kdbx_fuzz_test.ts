import assert from "node:assert/strict";
import { join } from "node:path";
import kdbxweb from "kdbxweb";
import { KdbxErrorKind, readKdbxCredentials } from "../../core/credentials/kdbx_source.ts";
import { fuzzTest } from "./fuzz_test_runner.ts";
import {
  PASSWORD,
  smallDatabase,
  withKdfParameter,
  withTransformRounds,
} from "./targets/kdbx_target.ts";

fuzzTest("KDBX databases", new URL("./targets/kdbx_target.ts", import.meta.url));

// Found by seed 225953090, case 326: a KDBX 3.1 header asking for ~2^62 AES rounds hung the
// process (synchronously, so no timer could end it). The header is read before anything in the
// file is authenticated, so key derivation parameters are capped before any work.
Deno.test("KDBX headers asking for endless key derivation are refused at once", async () => {
  const dir = await Deno.makeTempDir({ prefix: "tcfs-fuzz-kdbx-" });
  try {
    const { Aes, Argon2id } = kdbxweb.Consts.KdfId;
    const argon2 = await smallDatabase(4, Argon2id);
    const aes4 = await smallDatabase(4, Aes);
    const hostile: [string, Uint8Array | undefined][] = [
      ["KDBX 3.1, 2^62 rounds", withTransformRounds(await smallDatabase(3, Aes), 2n ** 62n)],
      ["KDBX 4 AES-KDF, 2^63 rounds", withKdfParameter(aes4, "R", 2n ** 63n)],
      ["Argon2, 2^40 bytes of memory", withKdfParameter(argon2, "M", 2n ** 40n)],
      ["Argon2, 2^32 passes", withKdfParameter(argon2, "I", 2n ** 32n - 1n)],
      ["Argon2, 2^31 lanes", withKdfParameter(argon2, "P", 2n ** 31n)],
    ];
    for (const [what, bytes] of hostile) {
      assert.ok(bytes, what);
      const path = join(dir, "hostile.kdbx");
      await Deno.writeFile(path, bytes);
      const started = performance.now();
      const reading = readKdbxCredentials({
        path,
        entryPath: "tcfs/s3",
        env: { TCFS_KDBX_PASSWORD: PASSWORD },
        interactive: false,
      });
      await assert.rejects(reading, (err: Error & { kind?: string }) => {
        assert.equal(err.kind, KdbxErrorKind.unreadable, `${what}: ${err.message}`);
        assert.match(err.message, /key derivation/, what);
        return true;
      });
      assert.ok(performance.now() - started < 2000, `${what}: refused before any work`);
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
