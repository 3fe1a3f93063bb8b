/**
 * In-process throughput of the push pipeline's pure stages: FastCDC chunking, BLAKE3
 * chunk ids, XXH3-128 fingerprints and zstd encoding. The data is N MiB, half
 * random bytes and half compressible text; every figure is given for each half and
 * for both together (total bytes over total time).
 *
 * Usage: `$DENO run -A scripts/bench/pipeline.ts [--size-mib N] [--level L] [--runs R]`
 *
 * Each measurement runs R times (default 1) and the fastest run counts. The rows:
 * - FastCDC's boundary search alone, over bytes held in memory;
 * - chunkStream over a generator of 1 MiB pieces, over a file's `readable` (64 KiB
 *   pieces), and over the file itself as a reader;
 * - BLAKE3, XXH3-128 and zstd (levels 1, 2 and 3) timed on their own, then the stages' sum;
 * - AES-256-GCM sealing of each chunk's stored form, timed on its own (end-to-end encryption);
 * - "saveFile": what a push runs, from a cached temp file into packs, with a store
 *   that keeps nothing (no network in the figure): once with every chunk hashed on
 *   the main thread, once with the push's hasher (`core/hashing/chunk_hasher.ts`),
 *   which hashes (and encodes every other chunk) on a worker after the first 8 MiB;
 *   then with the push's hasher into a sealed namespace's packs (every chunk sealed), run in
 *   turn with the plaintext one so both share the machine's state.
 *
 * Then the peak RSS (sampled once per chunk, workers included) and the load average,
 * which says how much other work on the machine the figures share their cores with.
 *
 * @module
 */

import { parseArgs } from "node:util";
import {
  type ByteSource,
  chunkStream,
  DEFAULT_CHUNK_SIZES,
  findChunkBoundary,
} from "../../core/chunking/fastcdc.ts";
import { DEFAULT_ZSTD_LEVEL, encodeChunk } from "../../core/chunking/chunk_codec.ts";
import { blake3Hex } from "../../core/hashing/blake3.ts";
import { xxh128Hex } from "../../core/hashing/xxh128.ts";
import type { ObjectStore } from "../../core/store/object_store.ts";
import { saveFile } from "../../core/sync/file_saver.ts";
import { createPackWriter } from "../../core/sync/pack_writer.ts";
import { createChunkHasher } from "../../core/hashing/chunk_hasher.ts";
import { type FleetKeys, fleetKeysOf } from "../../core/crypto/fleet_keys.ts";
import { firstKeychain } from "../../core/crypto/fleet_keychain.ts";
import { sealStored } from "../../core/crypto/sealed_object.ts";

const MIB = 1024 * 1024;
const PIECE_SIZE = MIB;
/** Distinct pieces of each kind; the data cycles through them. */
const POOL_PIECES = 8;
const COMPARED_LEVELS = [1, 2, 3];

/** The two halves of the bench data. */
type Kind = "random" | "text";
const KINDS: readonly Kind[] = ["random", "text"];

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

/** Space between the stamps that make each MiB of a bench file unique. */
const STAMP_EVERY = 16 * 1024;

/** A copy of `piece` with its index written into it every {@linkcode STAMP_EVERY} bytes. */
function stamped(piece: Uint8Array, index: number): Uint8Array {
  const copy = piece.slice();
  const mark = new TextEncoder().encode(` ${index} `);
  for (let at = 0; at + mark.length <= copy.length; at += STAMP_EVERY) copy.set(mark, at);
  return copy;
}

/** The distinct pieces of each kind, built once before any timing. */
type PiecePools = Record<Kind, Uint8Array[]>;

function makePiecePools(): PiecePools {
  const next = xorshift32(0x5eed);
  const vocabulary = makeVocabulary(next);
  return {
    random: Array.from({ length: POOL_PIECES }, () => randomPiece(next)),
    text: Array.from({ length: POOL_PIECES }, () => textPiece(next, vocabulary)),
  };
}

/**
 * The bench's data: `halfMib` MiB of each kind, as generated pieces and as files.
 * The pieces repeat, which the stages timed on their own cannot exploit (each chunk
 * is hashed and compressed on its own). The files are stamped so that no chunk
 * repeats: saveFile stores a repeated chunk once, which would flatter it.
 */
class BenchData {
  readonly halfMib: number;
  readonly #pools = makePiecePools();
  readonly #dir: string;

  private constructor(halfMib: number, dir: string) {
    this.halfMib = halfMib;
    this.#dir = dir;
  }

  /** Builds the pieces and writes one file per kind into a new temp directory. */
  static async create(halfMib: number): Promise<BenchData> {
    const data = new BenchData(halfMib, await Deno.makeTempDir({ prefix: "tcfs-pipeline-" }));
    for (const kind of KINDS) {
      using file = await Deno.open(data.path(kind), { write: true, create: true });
      let index = 0;
      const stamp = new TransformStream<Uint8Array, Uint8Array>({
        transform: (piece, out) => out.enqueue(stamped(piece, index++)),
      });
      await data.pieces(kind).pipeThrough(stamp).pipeTo(file.writable, { preventClose: true });
    }
    return data;
  }

  /** Bytes of each kind. */
  get halfBytes(): number {
    return this.halfMib * MIB;
  }

  path(kind: Kind): string {
    return `${this.#dir}/${kind}.bin`;
  }

  /** Streams the `kind` half in 1 MiB pieces. */
  pieces(kind: Kind): ReadableStream<Uint8Array> {
    const pool = this.#pools[kind];
    return ReadableStream.from(
      Array.from({ length: this.halfMib }, (_, i) => pool[i % POOL_PIECES]),
    );
  }

  /** The pool's pieces of `kind` laid end to end. */
  contiguous(kind: Kind): Uint8Array {
    const pool = this.#pools[kind];
    const data = new Uint8Array(pool.length * PIECE_SIZE);
    pool.forEach((piece, i) => data.set(piece, i * PIECE_SIZE));
    return data;
  }

  async remove(): Promise<void> {
    await Deno.remove(this.#dir, { recursive: true });
  }
}

/** A fleet's keys for the sealed rows: a keychain made here, never stored. */
const benchKeys = await fleetKeysOf(
  firstKeychain(
    crypto.randomUUID(),
    "age1ql3z7hjy54pw3hyww5ayyfg7zqgvc7w3j2elw8zmrj2kg5sfn9aqmcac8p",
    undefined,
  ),
);

let peakRss = 0;

/** Samples the resident set size; called once per chunk in every pass. */
function sampleRss(): void {
  peakRss = Math.max(peakRss, Deno.memoryUsage().rss);
}

/** Milliseconds each stage took over one half, and what zstd made of it. */
interface StageTimes {
  chunkMs: number;
  chunkIdMs: number;
  printMs: number;
  encodeMs: number[];
  storedBytes: number[];
  sealMs: number;
}

/** Runs each stage to completion before the next, timing each one; zstd at every level. */
async function measureStages(source: ByteSource, levels: number[]): Promise<StageTimes> {
  const times: StageTimes = {
    chunkMs: 0,
    chunkIdMs: 0,
    printMs: 0,
    encodeMs: levels.map(() => 0),
    storedBytes: levels.map(() => 0),
    sealMs: 0,
  };
  const chunks = chunkStream(source);
  for (;;) {
    let t = performance.now();
    const { value: chunk, done } = await chunks.next();
    times.chunkMs += performance.now() - t;
    if (done) break;
    t = performance.now();
    await blake3Hex(chunk);
    times.chunkIdMs += performance.now() - t;
    t = performance.now();
    await xxh128Hex(chunk);
    times.printMs += performance.now() - t;
    let stored = chunk;
    for (const [i, level] of levels.entries()) {
      t = performance.now();
      const encoded = encodeChunk(chunk, { level });
      times.encodeMs[i] += performance.now() - t;
      times.storedBytes[i] += encoded.length;
      if (level === DEFAULT_ZSTD_LEVEL) stored = encoded;
    }
    t = performance.now();
    await sealStored(benchKeys, stored, "bench");
    times.sealMs += performance.now() - t;
    sampleRss();
  }
  return times;
}

/** Times findChunkBoundary alone over `mib` MiB, cycling through `data`. */
function measureBoundarySearch(data: Uint8Array, mib: number): number {
  const t = performance.now();
  for (let round = 0; round < mib * MIB / data.length; round++) {
    for (let at = 0; at < data.length;) {
      at += findChunkBoundary(data.subarray(at), DEFAULT_CHUNK_SIZES);
    }
  }
  return performance.now() - t;
}

/** Times chunkStream alone over `source`. */
async function measureChunkStream(source: ByteSource): Promise<number> {
  const t = performance.now();
  for await (const _ of chunkStream(source)) sampleRss();
  return performance.now() - t;
}

/** A store that takes every pack and keeps nothing: the pipeline without the network. */
const discardingStore = {
  location: "nowhere",
  put: () => Promise.resolve(),
} as unknown as ObjectStore;

/**
 * What a push runs for one file, into packs that go nowhere, with the push's
 * hasher or with every chunk hashed in place. Returns the elapsed ms.
 */
async function saveFileMs(path: string, offload: boolean, keys?: FleetKeys): Promise<number> {
  const t = performance.now();
  const packs = createPackWriter(discardingStore, { keys });
  using hasher = offload ? createChunkHasher() : undefined;
  const { durable } = await saveFile(path, packs, { onBytes: sampleRss, hasher });
  packs.flush();
  await durable;
  return performance.now() - t;
}

/** Milliseconds for each half; the total is their sum. */
type HalfTimes = Record<Kind, number>;

/** Runs `measure` on each half `runs` times and keeps each half's fastest time. */
async function fastest<T>(
  runs: number,
  measure: (kind: Kind) => Promise<T>,
  ms: (result: T) => number,
): Promise<{ times: HalfTimes; results: Record<Kind, T> }> {
  const times = { random: Infinity, text: Infinity };
  const results = {} as Record<Kind, T>;
  for (let run = 0; run < runs; run++) {
    for (const kind of KINDS) {
      const result = await measure(kind);
      if (ms(result) < times[kind]) {
        times[kind] = ms(result);
        results[kind] = result;
      }
    }
  }
  return { times, results };
}

/** Prints one row: MB/s for the random half, the text half and both, then a note. */
function report(label: string, halfBytes: number, times: HalfTimes, note = ""): void {
  const mbps = (bytes: number, ms: number) => (bytes / 1e3 / ms).toFixed(0).padStart(7);
  const cells = [
    mbps(halfBytes, times.random),
    mbps(halfBytes, times.text),
    mbps(2 * halfBytes, times.random + times.text),
  ];
  console.log(`  ${label.padEnd(34)}${cells.join("")}${note ? `   ${note}` : ""}`);
}

function parseOptions(): { sizeMib: number; level: number; runs: number } {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      "size-mib": { type: "string", default: "512" },
      level: { type: "string" },
      runs: { type: "string", default: "1" },
    },
  });
  const sizeMib = Number(values["size-mib"]);
  const level = Number(values.level ?? DEFAULT_ZSTD_LEVEL);
  const runs = Number(values.runs);
  if (!Number.isInteger(sizeMib) || sizeMib < 2 || sizeMib % 2 !== 0) {
    throw new Error("--size-mib needs an even integer >= 2");
  }
  if (!Number.isInteger(runs) || runs < 1) throw new Error("--runs needs an integer >= 1");
  return { sizeMib, level, runs };
}

async function measureAll(data: BenchData, level: number, runs: number): Promise<void> {
  const half = data.halfBytes;
  const open = (kind: Kind) => Deno.open(data.path(kind));
  console.log(`  ${"MB/s".padEnd(34)} random   text  total`);

  const contiguous = { random: data.contiguous("random"), text: data.contiguous("text") };
  const search = await fastest(
    runs,
    (kind) => Promise.resolve(measureBoundarySearch(contiguous[kind], data.halfMib)),
    (ms) => ms,
  );
  report("boundary search alone", half, search.times);
  const stages = await fastest(
    runs,
    (kind) => measureStages(data.pieces(kind), COMPARED_LEVELS),
    (s) => s.chunkMs + s.chunkIdMs + s.printMs + s.encodeMs[0],
  );
  const stage = (pick: (s: StageTimes) => number): HalfTimes => ({
    random: pick(stages.results.random),
    text: pick(stages.results.text),
  });
  report("chunkStream, 1 MiB pieces", half, stage((s) => s.chunkMs));
  const overFile = async (measure: (file: Deno.FsFile) => Promise<number>) => {
    const { times } = await fastest(runs, async (kind) => {
      using file = await open(kind);
      return await measure(file);
    }, (ms) => ms);
    return times;
  };
  report("chunkStream, file.readable", half, await overFile((f) => measureChunkStream(f.readable)));
  report("chunkStream, file (reader)", half, await overFile((f) => measureChunkStream(f)));
  report("BLAKE3 chunk ids", half, stage((s) => s.chunkIdMs));
  report("AES-256-GCM seal (stored form)", half, stage((s) => s.sealMs));
  report("XXH3-128 fingerprints", half, stage((s) => s.printMs));
  for (const [i, compared] of COMPARED_LEVELS.entries()) {
    const stored = KINDS.map((kind) => stages.results[kind].storedBytes[i]);
    const percent = (bytes: number, of: number) => `${(100 * bytes / of).toFixed(1)}%`;
    const note = `stored ${stored.map((b) => percent(b, half)).join(" / ")} / ` +
      percent(stored[0] + stored[1], 2 * half);
    report(`zstd encode, level ${compared}`, half, stage((s) => s.encodeMs[i]), note);
  }
  const levelIndex = COMPARED_LEVELS.indexOf(level);
  if (levelIndex >= 0) {
    report(
      `all stages one by one, level ${level}`,
      half,
      stage((s) => s.chunkMs + s.chunkIdMs + s.printMs + s.encodeMs[levelIndex]),
    );
  }

  const saved = await fastest(
    runs,
    (kind) => saveFileMs(data.path(kind), false),
    (ms) => ms,
  );
  report(`saveFile, hashing in place, level ${DEFAULT_ZSTD_LEVEL}`, half, saved.times);
  // Plaintext and sealed in turn, run by run, so that neither gets a quieter machine.
  const plain = { random: Infinity, text: Infinity };
  const sealed = { random: Infinity, text: Infinity };
  for (let run = 0; run < runs; run++) {
    for (const kind of KINDS) {
      plain[kind] = Math.min(plain[kind], await saveFileMs(data.path(kind), true));
      sealed[kind] = Math.min(sealed[kind], await saveFileMs(data.path(kind), true, benchKeys));
    }
  }
  report(`saveFile, push's hasher, level ${DEFAULT_ZSTD_LEVEL}`, half, plain);
  const cost = (kind: Kind | "total") =>
    kind === "total"
      ? (sealed.random + sealed.text) / (plain.random + plain.text)
      : sealed[kind] / plain[kind];
  report(
    "saveFile, push's hasher, sealed",
    half,
    sealed,
    `time ×${cost("random").toFixed(2)} / ×${cost("text").toFixed(2)} / ×${
      cost("total").toFixed(2)
    } of plaintext (goal ≤ ×1.15)`,
  );
}

async function main(): Promise<void> {
  const { sizeMib, level, runs } = parseOptions();
  const { min, avg, max } = DEFAULT_CHUNK_SIZES;
  console.log(
    `pipeline bench: ${sizeMib} MiB (half random, half text), zstd level ${level}, chunks ` +
      `${min / 1024}/${avg / 1024}/${max / 1024} KiB, fastest of ${runs} run(s), ` +
      `${navigator.hardwareConcurrency} cores, load ${Deno.loadavg()[0].toFixed(2)} at start`,
  );
  const data = await BenchData.create(sizeMib / 2);
  try {
    await measureAll(data, level, runs);
  } finally {
    await data.remove();
  }
  console.log(
    `  peak RSS ${(peakRss / MIB).toFixed(0)} MiB; load ${Deno.loadavg()[0].toFixed(2)} at end`,
  );
}

if (import.meta.main) await main();
