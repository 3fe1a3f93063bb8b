/**
 * A window that slides over a byte source: reads go straight into one buffer,
 * and the chunkers look at what is buffered without copying it.
 *
 * @module
 */

import type { ByteReader } from "../io/byte_reader.ts";
import { releaseBuffer } from "../runtime/released_buffer.ts";

/** The buffered bytes of a source, from the first one not yet consumed. */
export interface ReadWindow {
  /**
   * Reads until at least `need` bytes are buffered or the source has ended, and
   * returns the buffered bytes. The view is valid until the next `fill`.
   */
  fill(need: number): Promise<Uint8Array>;
  /** Drops the first `count` buffered bytes. */
  consume(count: number): void;
  /** True once the source has ended: what is buffered is all that is left. */
  readonly ended: boolean;
  /**
   * Frees the buffer now rather than when it is collected, for a reader done with the window
   * (`released_buffer.ts`): nothing may be read from it or from a view `fill` returned after.
   */
  release(): void;
}

/** Reads of less than this share of the buffer are avoided by moving the buffered bytes to the front. */
const MIN_READ_SHARE = 1 / 8;

/**
 * Creates a window of `capacity` bytes over `reader`; `fill` can ask for up to
 * `capacity * 7 / 8` bytes at once.
 *
 * @example
 * ```ts
 * using file = await Deno.open("big.iso");
 * const window = createReadWindow(file, 8 << 20);
 * const head = await window.fill(1 << 20);
 * window.consume(head.length);
 * ```
 */
export function createReadWindow(reader: ByteReader, capacity: number): ReadWindow {
  const buffer = new Uint8Array(capacity);
  const minRead = Math.ceil(capacity * MIN_READ_SHARE);
  let start = 0;
  let end = 0;
  let ended = false;
  return {
    get ended() {
      return ended;
    },
    async fill(need) {
      while (!ended && end - start < need) {
        if (buffer.length - end < minRead) {
          buffer.copyWithin(0, start, end);
          end -= start;
          start = 0;
        }
        const read = await reader.read(buffer.subarray(end));
        if (read === null) ended = true;
        else end += read;
      }
      return buffer.subarray(start, end);
    },
    consume(count) {
      start += count;
    },
    release() {
      releaseBuffer(buffer);
    },
  };
}
