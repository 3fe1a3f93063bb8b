/**
 * Reads an HTTP body of known length into one buffer of that length, piece by piece as the
 * pieces arrive: collecting the pieces and joining them at the end (what the AWS SDK's
 * `transformToByteArray` does) holds the body twice at its peak, and leaves the pieces for the
 * collector, which frees them late (a mount reading a large file fetches one range after another).
 * A body whose length its headers do not give (chunked) is collected and joined, up to a limit.
 *
 * @module
 */

/** Options for {@linkcode readBody}. */
export interface ReadBodyOptions {
  /**
   * A body that sends nothing for this long is given up: a hung server, not a slow link. Deno's
   * fetch has no timeout of its own once the headers are in.
   */
  idleMs?: number;
  /** For a body of unknown length: more than this many bytes is an error. */
  maxBytes?: number;
}

/**
 * The body of `stream`, `length` bytes long (fewer if it ends early: the caller checks what it
 * got, as it would any short body), or as long as it is when `length` is undefined.
 *
 * @throws {RangeError} when the stream yields more than `length` bytes (or `options.maxBytes`).
 * @throws {Error} named `TimeoutError` when it went silent for `options.idleMs`.
 *
 * @example
 * ```ts
 * const bytes = await readBody(res.Body!.transformToWebStream(), res.ContentLength!);
 * ```
 */
export async function readBody(
  stream: ReadableStream<Uint8Array>,
  length: number | undefined,
  options: ReadBodyOptions = {},
): Promise<Uint8Array<ArrayBuffer>> {
  const limit = length ?? options.maxBytes ?? Infinity;
  /** The body so far: one buffer of `length`, or the pieces of a body of unknown length. */
  const out = length === undefined ? undefined : new Uint8Array(length);
  const pieces: Uint8Array[] = [];
  let filled = 0;
  const reader = stream.getReader();
  let silent = false;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const watch = () => {
    if (options.idleMs === undefined) return;
    clearTimeout(timer);
    timer = setTimeout(() => {
      silent = true;
      reader.cancel().catch(() => {});
    }, options.idleMs);
  };
  try {
    for (watch();; watch()) {
      const { done, value: piece } = await reader.read();
      if (silent) {
        const err = new Error(`the body sent nothing for ${options.idleMs} ms`);
        err.name = "TimeoutError";
        throw err;
      }
      if (done) break;
      if (filled + piece.length > limit) {
        await reader.cancel().catch(() => {});
        throw new RangeError(
          length === undefined
            ? `the body is longer than the ${limit} bytes it may have`
            : `the body is longer than the ${length} bytes its headers announced`,
        );
      }
      if (out) out.set(piece, filled);
      else pieces.push(piece);
      filled += piece.length;
    }
  } finally {
    clearTimeout(timer);
    reader.releaseLock();
  }
  if (out) return out.subarray(0, filled);
  const joined = new Uint8Array(filled);
  let at = 0;
  for (const piece of pieces) {
    joined.set(piece, at);
    at += piece.length;
  }
  return joined;
}
