/**
 * Freeing a buffer's memory when its owner is done with it, rather than when the garbage
 * collector finds it dead. V8 frees an ArrayBuffer's memory only once a collection finds the
 * buffer unreachable, and a buffer that lived long enough to be promoted to the old space (a
 * chunk waiting for its pack, a pack waiting for its upload) waits for a full collection. A
 * push moves every byte it reads through several such buffers: without full collections on
 * request, they piled up to 320–370 MB of peak RSS on the real tree of docs/BENCHMARKS.md, and
 * with a full collection every 16 MiB read, those collections cost some 0.3 s of its 3 s of CPU.
 *
 * @module
 */

/**
 * Frees the memory of `bytes` now, when they span their whole ArrayBuffer: the buffer is
 * detached and reads as empty from then on. A view into part of a buffer is left alone (the
 * rest may be someone else's), as is a buffer already detached. Only for memory the caller
 * owns and nothing else will read.
 *
 * @example
 * ```ts
 * const body = concatBytes(parts);
 * await store.put(key, body);
 * releaseBuffer(body); // 4 MiB back now, not at the next full collection
 * ```
 */
export function releaseBuffer(bytes: Uint8Array): void {
  const buffer = bytes.buffer;
  if (
    buffer instanceof ArrayBuffer && !buffer.detached && !buffer.resizable &&
    bytes.byteOffset === 0 && bytes.byteLength === buffer.byteLength
  ) buffer.transfer(0);
}
