/**
 * Reads an HTTP body of known length into one buffer of that length, piece by piece as the
 * pieces arrive: collecting the pieces and joining them at the end (what the AWS SDK's
 * `transformToByteArray` does) holds the body twice at its peak, and leaves the pieces for the
 * collector, which frees them late (a mount reading a large file fetches one range after another).
 *
 * @module
 */

/**
 * The body of `stream`, `length` bytes long (fewer if it ends early: the caller checks what it
 * got, as it would any short body).
 *
 * @throws {Error} when the stream yields more than `length` bytes.
 *
 * @example
 * ```ts
 * const bytes = await readBody(res.Body!.transformToWebStream(), res.ContentLength!);
 * ```
 */
export async function readBody(
  stream: ReadableStream<Uint8Array>,
  length: number,
): Promise<Uint8Array<ArrayBuffer>> {
  const out = new Uint8Array(length);
  let filled = 0;
  for await (const piece of stream) {
    if (filled + piece.length > length) {
      throw new Error(`the body is longer than the ${length} bytes its headers announced`);
    }
    out.set(piece, filled);
    filled += piece.length;
  }
  return out.subarray(0, filled);
}
