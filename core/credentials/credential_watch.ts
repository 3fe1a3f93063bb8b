/**
 * Noticing that a credential file changed (the SOPS file rewritten by `tcfs creds rotate` or
 * a deploy, the KDBX database saved, the env file replaced), so a daemon reloads without being
 * told. Editors and tools replace such files by renaming a temp file over them, so the parent
 * directories are watched, not the files; events for other names in them are ignored.
 *
 * @module
 */

import { basename, dirname, join } from "node:path";

/** What {@linkcode watchCredentialFiles} needs. */
export interface CredentialWatchOptions {
  /** Absolute paths; files (and directories) that do not exist yet are fine. */
  files: string[];
  /**
   * Called once a burst of changes has settled, with the files that changed. Calls never
   * overlap: changes during a call lead to one more call after it.
   */
  onChange: (changed: string[]) => void | Promise<void>;
  /** How long changes must stop before `onChange` runs. Default 500 ms. */
  debounceMs?: number;
  /** How often missing directories are looked for. Default 2 s. */
  missingDirPollMs?: number;
  /** Told when `onChange` throws or a directory cannot be watched; the watch goes on. */
  onError?: (error: unknown) => void;
}

/** A running watch; {@linkcode CredentialWatch.close} stops it. */
export interface CredentialWatch extends Disposable {
  /** The parent directories watched right now; missing ones are not (they are looked for). */
  readonly watching: readonly string[];
  close(): void;
}

/**
 * Watches the parent directories of `files` and calls `onChange` after changes to any of them
 * settle. A file whose directory does not exist yet is picked up when the directory appears
 * (checked every `missingDirPollMs`), and its creation counts as a change.
 *
 * @example
 * ```ts
 * using watch = watchCredentialFiles({
 *   files: [config.secrets.sopsFile, tcfsPaths().envFile],
 *   onChange: async (changed) => {
 *     log.info(`credentials changed (${changed.join(", ")}); reloading`);
 *     await reload();
 *   },
 * });
 * ```
 */
export function watchCredentialFiles(options: CredentialWatchOptions): CredentialWatch {
  const debounceMs = options.debounceMs ?? 500;
  const pollMs = options.missingDirPollMs ?? 2_000;
  const targets = [...new Set(options.files)];
  const report = options.onError ?? (() => {});
  const changed = new Set<string>();
  let watcher: Deno.FsWatcher | undefined;
  let watching: string[] = [];
  /** Event paths → the file they stand for (events may name the directory's real path). */
  let eventPaths = new Map<string, string>();
  let debounce: ReturnType<typeof setTimeout> | undefined;
  let poll: ReturnType<typeof setTimeout> | undefined;
  let running: Promise<void> | undefined;
  let closed = false;

  function noteChange(path: string): void {
    changed.add(path);
    clearTimeout(debounce);
    debounce = setTimeout(deliver, debounceMs);
  }

  function deliver(): void {
    debounce = undefined;
    if (closed || changed.size === 0) return;
    // One call at a time: a change during a call is delivered after it.
    if (running) return;
    const batch = [...changed];
    changed.clear();
    running = (async () => {
      try {
        await options.onChange(batch);
      } catch (err) {
        report(err);
      } finally {
        running = undefined;
        if (changed.size > 0 && debounce === undefined) deliver();
      }
    })();
  }

  /**
   * (Re)starts the watcher on the parent directories that exist now. Files in a directory that
   * appeared since the last call count as changed: they were created while nobody watched.
   */
  function arm(options: { force?: boolean; initial?: boolean } = {}): void {
    if (closed) return;
    const dirs = [...new Set(targets.map((file) => dirname(file)))];
    const present = dirs.filter(isDirectory);
    if (options.force || present.join("\0") !== watching.join("\0")) {
      const appeared = options.initial ? [] : present.filter((dir) => !watching.includes(dir));
      watcher?.close();
      watcher = undefined;
      watching = present;
      eventPaths = new Map(targets.flatMap((file) => {
        const real = realDirectory(dirname(file));
        return real ? [[file, file], [join(real, basename(file)), file]] : [];
      }));
      if (present.length > 0) listen(present);
      for (const file of targets) {
        if (appeared.includes(dirname(file)) && exists(file)) noteChange(file);
      }
    }
    clearTimeout(poll);
    poll = present.length < dirs.length ? setTimeout(arm, pollMs) : undefined;
  }

  function listen(dirs: string[]): void {
    let current: Deno.FsWatcher;
    try {
      current = Deno.watchFs(dirs, { recursive: false });
    } catch (err) {
      report(err);
      watching = [];
      return;
    }
    watcher = current;
    (async () => {
      try {
        for await (const event of current) {
          for (const path of event.paths) {
            const target = eventPaths.get(path);
            if (target !== undefined) noteChange(target);
            // A watched directory itself went away (or was replaced): watch afresh.
            else if (watching.includes(path)) setTimeout(() => arm({ force: true }), 0);
          }
        }
      } catch (err) {
        if (!closed && watcher === current) report(err);
      }
    })();
  }

  arm({ initial: true });

  const close = () => {
    closed = true;
    clearTimeout(debounce);
    clearTimeout(poll);
    watcher?.close();
    watcher = undefined;
  };
  return {
    get watching() {
      return watching;
    },
    close,
    [Symbol.dispose]: close,
  };
}

function isDirectory(path: string): boolean {
  try {
    return Deno.statSync(path).isDirectory;
  } catch {
    return false;
  }
}

function realDirectory(path: string): string | undefined {
  try {
    return Deno.realPathSync(path);
  } catch {
    return undefined;
  }
}

function exists(path: string): boolean {
  try {
    Deno.statSync(path);
    return true;
  } catch {
    return false;
  }
}
