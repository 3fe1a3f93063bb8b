/**
 * Reading into buffers the caller owns, from anything shaped like a `Deno.FsFile`.
 *
 * @module
 */

/**
 * Anything that reads into a buffer it is given, such as a `Deno.FsFile`. `read` fills
 * a prefix of `into` and returns its length, or `null` at the end of the data.
 */
export interface ByteReader {
  /** Reads up to `into.length` bytes into `into`. */
  read(into: Uint8Array): Promise<number | null>;
}

/**
 * Fills `into` from `reader` until it is full or the data ends, and returns the
 * filled part (shorter only at the end of the data).
 *
 * @example
 * ```ts
 * using file = await Deno.open("notes.txt");
 * const head = await readUpTo(file, new Uint8Array(4096));
 * ```
 */
export async function readUpTo(reader: ByteReader, into: Uint8Array): Promise<Uint8Array> {
  let filled = 0;
  while (filled < into.length) {
    const read = await reader.read(into.subarray(filled));
    if (read === null) break;
    filled += read;
  }
  return into.subarray(0, filled);
}

/** Anything that reads synchronously into a buffer it is given, such as a `Deno.FsFile`. */
export interface SyncByteReader {
  /** Reads up to `into.length` bytes into `into`; `null` at the end of the data. */
  readSync(into: Uint8Array): number | null;
}

/**
 * {@linkcode readUpTo} without awaiting: for small local files, whose reads take less than an
 * awaited call's hand-off to a thread.
 *
 * @example
 * ```ts
 * using file = Deno.openSync("notes.txt");
 * const head = readUpToSync(file, new Uint8Array(4096));
 * ```
 */
export function readUpToSync(reader: SyncByteReader, into: Uint8Array): Uint8Array {
  let filled = 0;
  while (filled < into.length) {
    const read = reader.readSync(into.subarray(filled));
    if (read === null) break;
    filled += read;
  }
  return into.subarray(0, filled);
}
