/**
 * Reads an HTTP body of known length into one buffer of that length, piece by piece as the
 * pieces arrive: collecting the pieces and joining them at the end (what the AWS SDK's
 * `transformToByteArray` does) holds the body twice at its peak, and leaves the pieces for the
 * collector, which frees them late (a mount reading a large file fetches one range after another).
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
}

/**
 * The body of `stream`, `length` bytes long (fewer if it ends early: the caller checks what it
 * got, as it would any short body).
 *
 * @throws {Error} when the stream yields more than `length` bytes; an error named
 *   `TimeoutError` when it went silent for `options.idleMs`.
 *
 * @example
 * ```ts
 * const bytes = await readBody(res.Body!.transformToWebStream(), res.ContentLength!);
 * ```
 */
export async function readBody(
  stream: ReadableStream<Uint8Array>,
  length: number,
  options: ReadBodyOptions = {},
): Promise<Uint8Array<ArrayBuffer>> {
  const out = new Uint8Array(length);
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
      if (filled + piece.length > length) {
        await reader.cancel().catch(() => {});
        throw new Error(`the body is longer than the ${length} bytes its headers announced`);
      }
      out.set(piece, filled);
      filled += piece.length;
    }
  } finally {
    clearTimeout(timer);
    reader.releaseLock();
  }
  return out.subarray(0, filled);
}
