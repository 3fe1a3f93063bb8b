/**
 * A last-resort cleanup for what a test module starts: servers a failing test never stopped and
 * temp dirs it never disposed of are dealt with when the module unloads, so none outlive the run.
 *
 * @module
 */

const cleanups = new Set<() => void>();

globalThis.addEventListener("unload", () => {
  // Last registered, first run: a server stops before its data dir goes.
  for (const cleanup of [...cleanups].reverse()) {
    try {
      cleanup();
    } catch {
      // Best effort: the module is going away and nobody is left to report to.
    }
  }
  cleanups.clear();
});

/**
 * Runs `cleanup` (synchronously) when this test module unloads, unless the returned function is
 * called first because the owner cleaned up itself.
 *
 * @example
 * ```ts
 * const dir = await Deno.makeTempDir();
 * const cancel = atModuleUnload(() => Deno.removeSync(dir, { recursive: true }));
 * // … on orderly cleanup:
 * cancel();
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export function atModuleUnload(cleanup: () => void): () => void {
  cleanups.add(cleanup);
  return () => cleanups.delete(cleanup);
}

/** A temp dir deleted by {@linkcode ScopedTempDir.remove} or, at the latest, at module unload. */
export interface ScopedTempDir {
  readonly path: string;
  remove(): Promise<void>;
}

/**
 * Makes a temp dir that cannot outlive the test module.
 *
 * @example
 * ```ts
 * const root = await makeScopedTempDir("tcfs-test-nats-");
 * await Deno.writeTextFile(`${root.path}/nats.conf`, "");
 * await root.remove();
 * ```
 */
export async function makeScopedTempDir(prefix: string): Promise<ScopedTempDir> {
  const path = await Deno.makeTempDir({ prefix });
  const cancel = atModuleUnload(() => Deno.removeSync(path, { recursive: true }));
  return {
    path,
    async remove() {
      cancel();
      await Deno.remove(path, { recursive: true });
    },
  };
}
