/**
 * In-process throughput of the push pipeline's pure stages: FastCDC chunking, BLAKE3
 * (chunk ids and the whole-file hash) and zstd encoding, over N MiB streamed from a
 * generator: the first half random bytes, the second half compressible text.
 *
 * Usage: `$DENO run -A scripts/bench/pipeline.ts [--size-mib N] [--level L]`
 *
 * It makes two passes over the same stream:
 * - "stages": one stage at a time, each timed on its own, with no overlap;
 * - "pipeline": as a push runs it, with up to {@linkcode ENCODES_IN_FLIGHT} chunk
 *   encodings on zstd's worker threads while the main thread chunks and hashes.
 *
 * @module
 */

import { parseArgs } from "node:util";
import { chunkStream, DEFAULT_CHUNK_SIZES } from "../../core/chunking/fastcdc.ts";
import { DEFAULT_ZSTD_LEVEL, encodeChunk } from "../../core/chunking/chunk_codec.ts";
import { blake3Hex, createBlake3Hasher } from "../../core/hashing/blake3.ts";

const MIB = 1024 * 1024;
const PIECE_SIZE = MIB;
/** Distinct pieces of each kind; the stream cycles through them, stamping each copy. */
const POOL_PIECES = 8;
const ENCODES_IN_FLIGHT = 4;

/** Deterministic pseudo-random words (xorshift32), fast enough not to show in the timings. */
function xorshift32(seed: number): () => number {
  let state = seed | 0 || 1;
  return () => {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    return state >>> 0;
  };
}

function randomPiece(next: () => number): Uint8Array {
  const words = new Uint32Array(PIECE_SIZE / 4);
  for (let i = 0; i < words.length; i++) words[i] = next();
  return new Uint8Array(words.buffer);
}

/** Log-like text: lines of words from a 2,000-word vocabulary, skewed towards common ones. */
function textPiece(next: () => number, vocabulary: string[]): Uint8Array {
  const encoder = new TextEncoder();
  const piece = new Uint8Array(PIECE_SIZE);
  let at = 0;
  while (at < PIECE_SIZE) {
    const wordsOnLine = 4 + (next() % 12);
    let line = `${next() % 100000} `;
    for (let w = 0; w < wordsOnLine; w++) {
      const skewed = Math.floor((next() / 2 ** 32) ** 3 * vocabulary.length);
      line += vocabulary[skewed] + " ";
    }
    const bytes = encoder.encode(line + "\n");
    piece.set(bytes.subarray(0, PIECE_SIZE - at), at);
    at += bytes.length;
  }
  return piece;
}

function makeVocabulary(next: () => number): string[] {
  const letters = "etaoinshrdlucmfwypvbgkjqxz";
  return Array.from({ length: 2000 }, () => {
    let word = "";
    for (let n = 2 + (next() % 9); n > 0; n--) {
      word += letters[Math.floor((next() % 26) * (next() % 26) / 26)];
    }
    return word;
  });
}

/** The distinct pieces the bench data is made of, built once before any timing. */
interface PiecePools {
  random: Uint8Array[];
  text: Uint8Array[];
}

function makePiecePools(): PiecePools {
  const next = xorshift32(0x5eed);
  const vocabulary = makeVocabulary(next);
  return {
    random: Array.from({ length: POOL_PIECES }, () => randomPiece(next)),
    text: Array.from({ length: POOL_PIECES }, () => textPiece(next, vocabulary)),
  };
}

/** Streams `sizeMib` MiB: random pieces, then text pieces, each copy stamped with its index. */
async function* benchData(pools: PiecePools, sizeMib: number): AsyncGenerator<Uint8Array> {
  for (let i = 0; i < sizeMib; i++) {
    const pool = i < sizeMib / 2 ? pools.random : pools.text;
    const piece = pool[i % POOL_PIECES].slice();
    new DataView(piece.buffer).setUint32(PIECE_SIZE / 2, i);
    yield piece;
  }
}

interface StageTimes {
  chunkMs: number;
  chunkIdMs: number;
  fileHashMs: number;
  encodeMs: number;
  storedBytes: number;
  chunks: number;
}

/** Runs each stage to completion before the next, timing each one. */
async function measureStages(pools: PiecePools, sizeMib: number, level: number): Promise<StageTimes> {
  const times = { chunkMs: 0, chunkIdMs: 0, fileHashMs: 0, encodeMs: 0, storedBytes: 0, chunks: 0 };
  const fileHasher = await createBlake3Hasher();
  const chunks = chunkStream(benchData(pools, sizeMib), DEFAULT_CHUNK_SIZES);
  for (;;) {
    let t = performance.now();
    const { value: chunk, done } = await chunks.next();
    times.chunkMs += performance.now() - t;
    if (done) break;
    t = performance.now();
    await blake3Hex(chunk);
    times.chunkIdMs += performance.now() - t;
    t = performance.now();
    fileHasher.update(chunk);
    times.fileHashMs += performance.now() - t;
    t = performance.now();
    times.storedBytes += (await encodeChunk(chunk, { level })).length;
    times.encodeMs += performance.now() - t;
    times.chunks++;
  }
  fileHasher.digestHex();
  return times;
}

/** Times how long generating the data alone takes, to show it is not the bottleneck. */
async function measureGenerator(pools: PiecePools, sizeMib: number): Promise<number> {
  const t = performance.now();
  for await (const _ of benchData(pools, sizeMib)) { /* drain */ }
  return performance.now() - t;
}

/** Runs the stages as a push would: encodings overlap chunking and hashing. */
async function measurePipeline(pools: PiecePools, sizeMib: number, level: number): Promise<number> {
  const t = performance.now();
  const fileHasher = await createBlake3Hasher();
  const inFlight = new Set<Promise<void>>();
  for await (const chunk of chunkStream(benchData(pools, sizeMib), DEFAULT_CHUNK_SIZES)) {
    fileHasher.update(chunk);
    await blake3Hex(chunk);
    const encoding: Promise<void> = encodeChunk(chunk, { level }).then(() => {
      inFlight.delete(encoding);
    });
    inFlight.add(encoding);
    if (inFlight.size >= ENCODES_IN_FLIGHT) await Promise.race(inFlight);
  }
  await Promise.all(inFlight);
  fileHasher.digestHex();
  return performance.now() - t;
}

function mbPerSecond(bytes: number, ms: number): string {
  return `${(bytes / 1e6 / (ms / 1000)).toFixed(0).padStart(6)} MB/s`;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    args: Deno.args,
    options: { "size-mib": { type: "string", default: "512" }, level: { type: "string" } },
  });
  const sizeMib = Number(values["size-mib"]);
  const level = Number(values.level ?? DEFAULT_ZSTD_LEVEL);
  if (!Number.isInteger(sizeMib) || sizeMib < 2) throw new Error("--size-mib needs an integer >= 2");
  const bytes = sizeMib * MIB;
  const pools = makePiecePools();
  const [load1] = Deno.loadavg();
  console.log(
    `pipeline bench: ${sizeMib} MiB (half random, half text), zstd level ${level}, ` +
      `chunks ${DEFAULT_CHUNK_SIZES.min / 1024}/${DEFAULT_CHUNK_SIZES.avg / 1024}/` +
      `${DEFAULT_CHUNK_SIZES.max / 1024} KiB, ${navigator.hardwareConcurrency} cores, ` +
      `load ${load1.toFixed(2)}`,
  );
  console.log(`  generator alone       ${mbPerSecond(bytes, await measureGenerator(pools, sizeMib))}`);
  const s = await measureStages(pools, sizeMib, level);
  console.log(`  chunking (FastCDC)    ${mbPerSecond(bytes, s.chunkMs)}  (${s.chunks} chunks)`);
  console.log(`  BLAKE3 chunk ids      ${mbPerSecond(bytes, s.chunkIdMs)}`);
  console.log(`  BLAKE3 whole file     ${mbPerSecond(bytes, s.fileHashMs)}`);
  console.log(
    `  zstd encode           ${mbPerSecond(bytes, s.encodeMs)}  ` +
      `(stored ${(100 * s.storedBytes / bytes).toFixed(1)}% of raw)`,
  );
  const sequentialMs = s.chunkMs + s.chunkIdMs + s.fileHashMs + s.encodeMs;
  console.log(`  stages one by one     ${mbPerSecond(bytes, sequentialMs)}`);
  console.log(`  pipeline (overlapped) ${mbPerSecond(bytes, await measurePipeline(pools, sizeMib, level))}`);
  console.log(`  peak RSS              ${(Deno.memoryUsage().rss / MIB).toFixed(0)} MiB`);
}

if (import.meta.main) await main();
