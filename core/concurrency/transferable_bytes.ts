/**
 * Bytes that can move to another thread: `postMessage` transfers whole
 * ArrayBuffers, so a view of part of a buffer (a Node Buffer from a shared pool,
 * a subarray of a read window) must be copied first, or the transfer would take
 * its neighbours' bytes along.
 *
 * @module
 */

/**
 * Returns `bytes` itself when it spans its whole ArrayBuffer, a copy otherwise.
 *
 * @example
 * ```ts
 * const owned = transferableBytes(window.subarray(0, 1000));
 * worker.postMessage(owned, [owned.buffer]);
 * ```
 */
export function transferableBytes(bytes: Uint8Array): Uint8Array<ArrayBuffer> {
  const whole = bytes.buffer instanceof ArrayBuffer && bytes.byteOffset === 0 &&
    bytes.byteLength === bytes.buffer.byteLength;
  return whole ? bytes as Uint8Array<ArrayBuffer> : bytes.slice();
}
