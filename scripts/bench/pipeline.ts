/**
 * In-process throughput of the push pipeline's pure stages: FastCDC chunking, BLAKE3
 * (chunk ids and the whole-file hash) and zstd encoding, over N MiB streamed from a
 * generator: the first half random bytes, the second half compressible text.
 *
 * Usage: `$DENO run -A scripts/bench/pipeline.ts [--size-mib N] [--level L]`
 *
 * It makes these passes over the same stream and prints MB/s for each:
 * - FastCDC's boundary search alone, over the same bytes held in memory;
 * - each stage timed on its own, then their sum ("all stages, one by one");
 * - "pipeline, one thread": as a push would run it, with up to
 *   {@linkcode JOBS_IN_FLIGHT} async encodings pending while it chunks and hashes
 *   (Deno 2.9.6 runs async zstd on the calling thread, so they barely overlap);
 * - "pipeline, N workers": the main thread chunks and hashes the whole file while
 *   N workers compute chunk ids and encodings.
 *
 * Then the peak RSS (sampled once per chunk, workers included) and the load average.
 *
 * @module
 */

import { parseArgs } from "node:util";
import {
  chunkStream,
  DEFAULT_CHUNK_SIZES,
  findChunkBoundary,
} from "../../core/chunking/fastcdc.ts";
import { DEFAULT_ZSTD_LEVEL, encodeChunk } from "../../core/chunking/chunk_codec.ts";
import { blake3Hex, createBlake3Hasher } from "../../core/hashing/blake3.ts";
import type { ChunkJob, ChunkResult } from "./pipeline_worker.ts";

const MIB = 1024 * 1024;
const PIECE_SIZE = MIB;
/** Distinct pieces of each kind; the stream cycles through them. */
const POOL_PIECES = 8;
const JOBS_IN_FLIGHT = 4;

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

/**
 * Streams `sizeMib` MiB: random pieces, then text pieces. Pieces repeat, which no
 * stage measured here can exploit (each chunk is hashed and compressed on its own).
 */
async function* benchData(pools: PiecePools, sizeMib: number): AsyncGenerator<Uint8Array> {
  for (let i = 0; i < sizeMib; i++) {
    yield (i < sizeMib / 2 ? pools.random : pools.text)[i % POOL_PIECES];
  }
}

let peakRss = 0;

/** Samples the resident set size; called once per chunk in every pass. */
function sampleRss(): void {
  peakRss = Math.max(peakRss, Deno.memoryUsage().rss);
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
async function measureStages(
  pools: PiecePools,
  sizeMib: number,
  level: number,
): Promise<StageTimes> {
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
    sampleRss();
  }
  fileHasher.digestHex();
  return times;
}

/** Times findChunkBoundary alone, over the pools' pieces laid end to end, `sizeMib` MiB in all. */
function measureBoundarySearch(pools: PiecePools, sizeMib: number): number {
  const pieces = [...pools.random, ...pools.text];
  const data = new Uint8Array(pieces.length * PIECE_SIZE);
  pieces.forEach((piece, i) => data.set(piece, i * PIECE_SIZE));
  const t = performance.now();
  for (let round = 0; round < sizeMib / pieces.length; round++) {
    for (let at = 0; at < data.length;) {
      at += findChunkBoundary(data.subarray(at), DEFAULT_CHUNK_SIZES);
    }
  }
  return performance.now() - t;
}

/**
 * Streams the bench data through chunking and the whole-file hash, handing each chunk
 * to `job` with at most `limit` jobs pending, as a push would. Returns the elapsed ms.
 */
async function runPipeline(
  pools: PiecePools,
  sizeMib: number,
  limit: number,
  job: (chunk: Uint8Array<ArrayBuffer>) => Promise<unknown>,
): Promise<number> {
  const t = performance.now();
  const fileHasher = await createBlake3Hasher();
  const pending = new Set<Promise<void>>();
  for await (const chunk of chunkStream(benchData(pools, sizeMib), DEFAULT_CHUNK_SIZES)) {
    fileHasher.update(chunk);
    const done: Promise<void> = job(chunk).then(() => {
      pending.delete(done);
    });
    pending.add(done);
    if (pending.size >= limit) await Promise.race(pending);
    sampleRss();
  }
  await Promise.all(pending);
  fileHasher.digestHex();
  return performance.now() - t;
}

/** Hands chunks to `count` workers round-robin and settles each job when it returns. */
class WorkerPool {
  #workers: Worker[];
  #pending = new Map<number, PromiseWithResolvers<ChunkResult>>();
  #seq = 0;

  constructor(count: number) {
    const url = new URL("./pipeline_worker.ts", import.meta.url);
    this.#workers = Array.from({ length: count }, () => {
      const worker = new Worker(url, { type: "module" });
      worker.onmessage = ({ data }: MessageEvent<ChunkResult>) => {
        this.#pending.get(data.seq)?.resolve(data);
        this.#pending.delete(data.seq);
      };
      worker.onerror = (event) => {
        event.preventDefault();
        for (const job of this.#pending.values()) job.reject(new Error(event.message));
        this.#pending.clear();
      };
      return worker;
    });
  }

  /** Sends the chunk to a worker; the chunk's buffer moves there. */
  run(chunk: Uint8Array<ArrayBuffer>, level: number): Promise<ChunkResult> {
    const job: ChunkJob = { seq: this.#seq++, chunk, level };
    const settled = Promise.withResolvers<ChunkResult>();
    this.#pending.set(job.seq, settled);
    this.#workers[job.seq % this.#workers.length].postMessage(job, [chunk.buffer]);
    return settled.promise;
  }

  close(): void {
    for (const worker of this.#workers) worker.terminate();
  }
}

/** Prints one result line: a label, a throughput and an optional note. */
function report(label: string, bytes: number, ms: number, note = ""): void {
  const mbps = (bytes / 1e6 / (ms / 1000)).toFixed(0).padStart(6);
  console.log(`  ${label.padEnd(24)} ${mbps} MB/s${note ? `  (${note})` : ""}`);
}

function parseOptions(): { sizeMib: number; level: number } {
  const { values } = parseArgs({
    args: Deno.args,
    options: { "size-mib": { type: "string", default: "512" }, level: { type: "string" } },
  });
  const sizeMib = Number(values["size-mib"]);
  const level = Number(values.level ?? DEFAULT_ZSTD_LEVEL);
  if (!Number.isInteger(sizeMib) || sizeMib < 2) {
    throw new Error("--size-mib needs an integer >= 2");
  }
  return { sizeMib, level };
}

async function main(): Promise<void> {
  const { sizeMib, level } = parseOptions();
  const bytes = sizeMib * MIB;
  const pools = makePiecePools();
  const { min, avg, max } = DEFAULT_CHUNK_SIZES;
  console.log(
    `pipeline bench: ${sizeMib} MiB (half random, half text), zstd level ${level}, chunks ` +
      `${min / 1024}/${avg / 1024}/${max / 1024} KiB, ${navigator.hardwareConcurrency} cores, ` +
      `load ${Deno.loadavg()[0].toFixed(2)} at start`,
  );
  const s = await measureStages(pools, sizeMib, level);
  report("boundary search alone", bytes, measureBoundarySearch(pools, sizeMib));
  report("chunkStream", bytes, s.chunkMs, `${s.chunks} chunks`);
  report("BLAKE3 chunk ids", bytes, s.chunkIdMs);
  report("BLAKE3 whole file", bytes, s.fileHashMs);
  const stored = `stored ${(100 * s.storedBytes / bytes).toFixed(1)}% of raw`;
  report("zstd encode", bytes, s.encodeMs, stored);
  report("all stages, one by one", bytes, s.chunkMs + s.chunkIdMs + s.fileHashMs + s.encodeMs);
  const oneThreadMs = await runPipeline(pools, sizeMib, JOBS_IN_FLIGHT, async (chunk) => {
    await blake3Hex(chunk);
    await encodeChunk(chunk, { level });
  });
  report("pipeline, one thread", bytes, oneThreadMs);
  for (const workers of [1, 2]) {
    const pool = new WorkerPool(workers);
    const ms = await runPipeline(
      pools,
      sizeMib,
      JOBS_IN_FLIGHT * workers,
      (chunk) => pool.run(chunk, level),
    );
    pool.close();
    report(`pipeline, ${workers} worker${workers > 1 ? "s" : ""}`, bytes, ms);
  }
  console.log(
    `  peak RSS ${(peakRss / MIB).toFixed(0)} MiB; load ${Deno.loadavg()[0].toFixed(2)} at end`,
  );
}

if (import.meta.main) await main();
