/**
 * The record of cached chunk files that checked out against their ids, kept across processes
 * (`$XDG_CACHE_HOME/tcfs/verified-chunks`, 0600), so that a mount started again does not hash
 * a chunk file nothing changed since it was checked. A file is known by what `stat` says of it:
 * inode, size, mtime (to the millisecond) and ctime (to the second: what Deno reports). tcfs
 * never writes a chunk's file in place (a chunk is replaced whole, by a rename: a new inode and
 * ctime), and any write into it, or `utime` to put its mtime back, sets its ctime to the time of
 * that change. So a file that still matches holds the bytes that checked out, unless the disk
 * changed them without a write (bit rot, a damaged sector read back without error), or a
 * writer changed them within the second of the check and put the mtime back. To bound the first,
 * a check is trusted for {@linkcode TRUST_MS} only; then the chunk is hashed again.
 *
 * The file is an append-only log, one line per check (`<id> <ino> <size> <mtime> <ctime>
 * <checked at>`): a line cut short by a crash, or one of a file gone since, matches nothing. It
 * is rewritten with the live lines alone when it is read and holds many more than those.
 * Several processes (the daemon, a `tcfs mount` in a terminal) append to it; each reads it when
 * it opens the cache.
 *
 * @module
 */

/** How long a check is trusted before the chunk is hashed again: a week. */
export const TRUST_MS = 7 * 24 * 3600 * 1000;

/** What a chunk file was when it checked out. */
interface Check {
  ino: number;
  size: number;
  mtime: number;
  ctime: number;
  /** When its bytes were hashed (`Date.now()`). */
  at: number;
}

/** The record of checked chunk files; see the module doc. */
export interface VerifiedChunks {
  /** Whether a check of the chunk is on record (and not expired); its file may have changed since. */
  has(id: string): boolean;
  /** Whether `info` (the chunk file's `stat`) shows the file that checked out, unchanged since. */
  matches(id: string, info: Deno.FileInfo): boolean;
  /** Records that the chunk's file, as `info` showed it before its bytes were read, checked out. */
  record(id: string, info: Deno.FileInfo): void;
  /**
   * Carries a check over a change tcfs made to the file's metadata itself (the use time the cache
   * sets): if `before` matched, `after` does now, with the time of the original check.
   */
  carry(id: string, before: Deno.FileInfo, after: Deno.FileInfo): void;
  /** Forgets the chunk's check (its file was removed). */
  forget(id: string): void;
}

/**
 * Reads the record at `path` (none: checks are kept in memory only), keeping the checks of the
 * chunks `cached` accepts.
 *
 * @example
 * ```ts
 * const verified = openVerifiedChunks(join(cacheDir, "verified-chunks"), (id) => sizes.has(id));
 * if (!verified.matches(id, file.statSync())) await hashAgain(id);
 * ```
 */
export function openVerifiedChunks(
  path: string | undefined,
  cached: (id: string) => boolean,
): VerifiedChunks {
  const checks = new Map<string, Check>();
  const now = Date.now();
  let lines = 0;
  for (const line of path ? readOwnRecord(path).split("\n") : []) {
    const [id, ...fields] = line.split(" ");
    const [ino, size, mtime, ctime, at] = fields.map(Number);
    lines++;
    if (fields.length !== 5 || !(now - at < TRUST_MS) || !cached(id)) continue;
    if (![ino, size, mtime, ctime].every(Number.isSafeInteger)) continue;
    checks.set(id, { ino, size, mtime, ctime, at });
  }
  if (path && lines > 2 * checks.size + 1024) rewrite(path, checks);

  let pending: string[] = [];
  const flush = () => {
    const text = pending.join("");
    pending = [];
    try {
      // One write in append mode: lines from several processes never interleave.
      Deno.writeTextFileSync(path!, text, { append: true, mode: 0o600 });
    } catch {
      // Unrecorded checks are hashed again by the next process, no worse than without a record.
    }
  };
  const save = (id: string, check: Check) => {
    checks.set(id, check);
    if (!path) return;
    // The checks of one turn (a range's chunks, put together) go out in one write.
    if (pending.length === 0) queueMicrotask(flush);
    pending.push(lineOf(id, check));
  };
  /** The chunk's check, while it is trusted. */
  const trusted = (id: string) => {
    const check = checks.get(id);
    return check && Date.now() - check.at < TRUST_MS ? check : undefined;
  };
  const matches = (id: string, info: Deno.FileInfo) => {
    const check = trusted(id);
    if (!check) return false;
    const now = stampOf(info);
    return now.ino === check.ino && now.size === check.size && now.mtime === check.mtime &&
      now.ctime === check.ctime;
  };
  return {
    has: (id) => trusted(id) !== undefined,
    matches,
    record: (id, info) => save(id, { ...stampOf(info), at: Date.now() }),
    carry(id, before, after) {
      if (matches(id, before)) save(id, { ...stampOf(after), at: checks.get(id)!.at });
      else checks.delete(id);
    },
    forget: (id) => checks.delete(id),
  };
}

function stampOf(info: Deno.FileInfo): Omit<Check, "at"> {
  return {
    ino: info.ino ?? -1,
    size: info.size,
    mtime: info.mtime?.getTime() ?? -1,
    ctime: info.ctime?.getTime() ?? -1,
  };
}

function lineOf(id: string, c: Check): string {
  return `${id} ${c.ino} ${c.size} ${c.mtime} ${c.ctime} ${c.at}\n`;
}

/**
 * The record's text; empty when there is none, or when it is not this user's own private file
 * (another user able to write it could mark a damaged chunk as checked).
 */
function readOwnRecord(path: string): string {
  try {
    const info = Deno.statSync(path);
    if (!info.isFile || info.uid !== Deno.uid() || ((info.mode ?? 0) & 0o077) !== 0) {
      Deno.removeSync(path);
      return "";
    }
    return Deno.readTextFileSync(path);
  } catch {
    return "";
  }
}

/** Replaces the record with `checks` alone, through a temp file and a rename. */
function rewrite(path: string, checks: Map<string, Check>): void {
  const temp = `${path}.tmp${crypto.randomUUID().slice(0, 8)}`;
  try {
    const text = [...checks].map(([id, check]) => lineOf(id, check)).join("");
    Deno.writeTextFileSync(temp, text, { mode: 0o600 });
    Deno.renameSync(temp, path);
  } catch {
    Deno.remove(temp).catch(() => {});
  }
}
