import assert from "node:assert/strict";
import { constants, zstdCompressSync, type ZstdOptions } from "node:zlib";
import {
  CHUNK_FORMAT_RAW,
  CHUNK_FORMAT_ZSTD,
  decodeChunk,
  encodeChunk,
} from "../../../core/chunking/chunk_codec.ts";
import { DEFAULT_CHUNK_SIZES } from "../../../core/chunking/fastcdc.ts";
import { TcfsError } from "../../../core/errors.ts";
import { randomBytes } from "../../support/random_bytes.ts";

const MIB = 1024 * 1024;

/** Log-like text that zstd shrinks a lot. */
function compressibleBytes(size: number): Uint8Array {
  const lines: string[] = [];
  for (let i = 0; lines.length * 40 < size; i++) {
    lines.push(`${i} INFO sync: pushed chunk ${(i * 7919) % 1000}\n`);
  }
  return new TextEncoder().encode(lines.join("")).slice(0, size);
}

function withFormatByte(format: number, payload: Uint8Array): Uint8Array {
  return Uint8Array.of(format, ...payload);
}

async function assertCorrupt(stored: Uint8Array, message: RegExp): Promise<void> {
  await assert.rejects(decodeChunk(stored), (err) => {
    assert.ok(err instanceof TcfsError, `expected a TcfsError, got ${err}`);
    assert.equal(err.kind, "corrupt_chunk");
    assert.match(err.message, message);
    assert.ok(err.hint);
    return true;
  });
}

Deno.test("random data is stored raw and round-trips", async () => {
  for (const size of [0, 1, 1000, 300_000, MIB]) {
    const raw = randomBytes(size, size + 1);
    const stored = encodeChunk(raw);
    assert.equal(stored[0], CHUNK_FORMAT_RAW);
    assert.equal(stored.length, size + 1);
    assert.deepEqual(await decodeChunk(stored), raw);
  }
});

Deno.test("compressible data is stored as zstd, smaller, and round-trips", async () => {
  for (const size of [8192, 300_000, MIB]) {
    const raw = compressibleBytes(size);
    for (const level of [1, 3]) {
      const stored = encodeChunk(raw, { level });
      assert.equal(stored[0], CHUNK_FORMAT_ZSTD);
      assert.ok(stored.length < raw.length / 4, `${size} bytes stored in ${stored.length}`);
      assert.deepEqual(await decodeChunk(stored), raw);
    }
  }
});

Deno.test("a chunk under 4 KiB stays raw: zstd's cost per call outweighs what it saves", () => {
  const raw = new TextEncoder().encode("a".repeat(4095));
  assert.equal(encodeChunk(raw)[0], CHUNK_FORMAT_RAW);
  assert.equal(encodeChunk(new TextEncoder().encode("a".repeat(4096)))[0], CHUNK_FORMAT_ZSTD);
});

Deno.test("compression is kept only when it saves at least 1/16", () => {
  const mostlyRandom = randomBytes(100_000, 9);
  mostlyRandom.set(compressibleBytes(3000), 0); // saves about 2%: not worth it
  assert.equal((encodeChunk(mostlyRandom))[0], CHUNK_FORMAT_RAW);
  const tenthText = randomBytes(100_000, 9);
  tenthText.set(compressibleBytes(12_000), 0); // saves about 8%
  assert.equal((encodeChunk(tenthText))[0], CHUNK_FORMAT_ZSTD);
});

Deno.test("a chunk compressible only in its middle is still compressed", async () => {
  // The start and end samples are random; only the middle one shows the text.
  const raw = randomBytes(200_000, 10);
  raw.set(compressibleBytes(80_000), 60_000);
  const stored = encodeChunk(raw);
  assert.equal(stored[0], CHUNK_FORMAT_ZSTD);
  assert.ok(stored.length < raw.length * 0.75, `${raw.length} bytes stored in ${stored.length}`);
  assert.deepEqual(await decodeChunk(stored), raw);
});

Deno.test("zstd frames written at any level, as earlier defaults did, still decode", async () => {
  const raw = compressibleBytes(300_000);
  for (const level of [1, 3, 19]) {
    const options: ZstdOptions & { pledgedSrcSize: number } = {
      pledgedSrcSize: raw.length,
      params: {
        [constants.ZSTD_c_compressionLevel]: level,
        [constants.ZSTD_c_checksumFlag]: 1,
        [constants.ZSTD_c_contentSizeFlag]: 1,
      },
    };
    const stored = withFormatByte(CHUNK_FORMAT_ZSTD, zstdCompressSync(raw, options));
    assert.deepEqual(await decodeChunk(stored), raw, `level ${level}`);
  }
});

Deno.test("an unknown format byte is a corrupt chunk", async () => {
  const stored = encodeChunk(randomBytes(1000, 1));
  stored[0] ^= 0xff;
  await assertCorrupt(stored, /unknown chunk format byte 0xff/);
  await assertCorrupt(new Uint8Array(0), /empty/);
});

Deno.test("raw bytes labelled as zstd are a corrupt chunk", async () => {
  const stored = encodeChunk(randomBytes(1000, 2));
  stored[0] = CHUNK_FORMAT_ZSTD;
  await assertCorrupt(stored, /zstd frame header/);
});

Deno.test("a truncated zstd payload is a corrupt chunk", async () => {
  const stored = encodeChunk(compressibleBytes(300_000));
  for (const cut of [5, 100, Math.floor(stored.length / 2), stored.length - 3]) {
    await assertCorrupt(stored.subarray(0, stored.length - cut), /zstd/);
  }
});

Deno.test("a damaged zstd payload is a corrupt chunk", async () => {
  const stored = encodeChunk(compressibleBytes(300_000));
  for (const at of [20, Math.floor(stored.length / 2), stored.length - 2]) {
    const damaged = stored.slice();
    damaged[at] ^= 0x55;
    await assertCorrupt(damaged, /zstd data is damaged/);
  }
});

Deno.test("a zstd chunk that inflates past the maximum chunk size is refused", async () => {
  const bomb = new Uint8Array(DEFAULT_CHUNK_SIZES.max + 1);
  const pledged: ZstdOptions & { pledgedSrcSize: number } = { pledgedSrcSize: bomb.length };
  const claimed = zstdCompressSync(bomb, pledged);
  await assertCorrupt(withFormatByte(CHUNK_FORMAT_ZSTD, claimed), /claims 1048577 bytes/);
  // Without a recorded size the decoder cannot bound the output up front.
  const unsized = zstdCompressSync(bomb, { params: { [constants.ZSTD_c_contentSizeFlag]: 0 } });
  await assertCorrupt(withFormatByte(CHUNK_FORMAT_ZSTD, unsized), /content size/);
  // A smaller limit applies when the caller gives one.
  const stored = encodeChunk(compressibleBytes(300_000));
  await assert.rejects(decodeChunk(stored, { maxRawSize: 1000 }), TcfsError);
});

Deno.test("a raw chunk larger than the maximum chunk size is refused", async () => {
  const stored = withFormatByte(CHUNK_FORMAT_RAW, randomBytes(2000, 3));
  await assert.rejects(decodeChunk(stored, { maxRawSize: 1000 }), /exceeds 1000 bytes/);
});
