/**
 * A full garbage collection on request, where the runtime allows one (`--expose-gc`, which
 * `scripts/lib/deno-flags.sh` passes). V8 lets its heap grow to several times what is live
 * before it collects on its own: a first pull of 100,000 files peaked at 1.4 GB of RSS, 0.74 GB
 * with a collection between its windows, for about a tenth more CPU; a first push of as many
 * small files from 0.5 to 0.33 GB with one every 4,096 files, for about 5 % more.
 *
 * A full collection marks everything live, so its cost grows with the live heap, not with the
 * garbage: between a pull's windows one took 40–200 ms to free some 13 MB of a 53 MB heap.
 * {@linkcode collectIfGrown} collects only once the memory in use has grown by a set amount since the
 * last collection, so that each one frees enough to be worth it.
 *
 * @module
 */

/**
 * Collects garbage now, when `--expose-gc` made that possible; otherwise does nothing.
 *
 * @example
 * ```ts
 * for (const window of windows) {
 *   collectFully(); // the last window's plans and buffers are garbage now
 *   await restore(window);
 * }
 * ```
 */
export function collectFully(): void {
  (globalThis as { gc?: () => void }).gc?.();
}

/**
 * Growth of the memory in use (V8's heap and the buffers outside it, which only a collection
 * of their owners lets go) past which {@linkcode collectIfGrown} collects: measured from the
 * least it saw since its last collection, as V8's own collections and large buffers let go
 * (a checkpoint's text) lower it.
 */
export const COLLECT_AFTER_GROWTH_BYTES = 16 * 1024 * 1024;

/** The least memory in use seen since the last collection made here. */
let lowest = 0;

/** V8's heap in use and the ArrayBuffers outside it: what a full collection can free. */
function inUse(): number {
  const { heapUsed, external } = Deno.memoryUsage();
  return heapUsed + external;
}

/**
 * Collects garbage, as {@linkcode collectFully}, when the memory in use has grown by
 * {@linkcode COLLECT_AFTER_GROWTH_BYTES} or more since the last collection made here; returns
 * whether it collected. For points where what came before is garbage, reached more often than
 * a collection pays (a pull's windows, a checkpoint's slices).
 *
 * @example
 * ```ts
 * for (const slice of slices) {
 *   collectIfGrown(); // the last slice's versions are garbage now
 *   fold(slice);
 * }
 * ```
 */
export function collectIfGrown(): boolean {
  const collect = (globalThis as { gc?: () => void }).gc;
  if (!collect) return false;
  const now = inUse();
  lowest = Math.min(lowest, now);
  if (now - lowest < COLLECT_AFTER_GROWTH_BYTES) return false;
  collect();
  lowest = inUse();
  return true;
}
