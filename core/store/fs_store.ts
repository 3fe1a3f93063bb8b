/**
 * The filesystem backend: a directory that holds exactly the keys a bucket
 * would (key `a/b/c` is the file `<root>/a/b/c`). It is the embedded default
 * store, and with `file:///dir` it can sit on a mount that several device
 * homes, on one host or many, write to at the same time.
 *
 * Every write goes to a temp file in the key's directory, is fsynced and then
 * renamed into place, so readers see the old object or the new one, never a
 * part. Conditional writes take a per-key `flock` lock, which the kernel drops
 * when its holder dies, so a crashed writer never leaves a stale lock behind.
 *
 * @module
 */

import { blake3 } from "hash-wasm";
import { createLimiter, type Limiter } from "../concurrency/limiter.ts";
import { TcfsError } from "../errors.ts";
import { readUpTo } from "../io/byte_reader.ts";
import { syncDirectory } from "../io/durable_directory.ts";
import { compareKeys } from "./key_order.ts";
import type {
  GetOptions,
  ListOptions,
  ObjectInfo,
  ObjectStore,
  ObjectWithEtag,
  PutCondition,
} from "./object_store.ts";
import { oversizedObject } from "./oversized_object.ts";

/**
 * File names starting with this are the store's own temp and lock files. No
 * key segment may start with it, so they never show up as keys.
 */
const RESERVED_NAME_PREFIX = ".tcfs-";
const TEMP_PREFIX = `${RESERVED_NAME_PREFIX}tmp-`;
const LOCK_PREFIX = `${RESERVED_NAME_PREFIX}lock-`;
/** How long a conditional write waits for another writer's lock on the same key. */
const LOCK_TIMEOUT_MS = 30_000;
/** Directory reads and stats in flight while listing: hides disk latency, bounds open fds. */
const LIST_CONCURRENCY = 32;

/**
 * Opens the filesystem store rooted at `root`, which must be an absolute path.
 * Nothing touches the disk until the first call; {@linkcode ObjectStore.ensureReady}
 * creates the directory.
 *
 * Conditional writes are atomic against each other, from any process. A plain
 * `put` or `delete` does not take their lock, so don't mix the two on one key.
 *
 * @example
 * ```ts
 * const store = createFsStore("/home/me/.local/share/tcfs/store");
 * await store.ensureReady();
 * await store.put("chunks/ab12", new Uint8Array([1, 2, 3]));
 * ```
 */
export function createFsStore(root: string): ObjectStore {
  if (!root.startsWith("/")) {
    throw new TcfsError(`fs store directory ${JSON.stringify(root)} is not an absolute path`, {
      kind: "config_invalid",
      hint: "give the store as an absolute path, or as file:///absolute/dir",
    });
  }
  const rootDir = root.length > 1 ? root.replace(/\/+$/, "") : root;
  const pathOf = (key: string) => `${rootDir}/${key}`;

  async function readBody(key: string, options: GetOptions = {}): Promise<Uint8Array | undefined> {
    checkKey(key);
    let file: Deno.FsFile;
    try {
      file = await Deno.open(pathOf(key), { read: true });
    } catch (err) {
      if (isAbsent(err)) return undefined;
      throw fsError(err, rootDir, `read key "${key}"`);
    }
    using _ = file;
    let info: Deno.FileInfo;
    try {
      info = await file.stat();
    } catch (err) {
      throw fsError(err, rootDir, `read key "${key}"`);
    }
    // A directory is a key prefix: no object, as in a bucket.
    if (!info.isFile) return undefined;
    const size = info.size;
    if (options.maxBytes !== undefined && size > options.maxBytes) {
      throw oversizedObject(key, size, options.maxBytes);
    }
    try {
      // Objects are replaced by rename, never rewritten: the open file keeps this size.
      return await readUpTo(file, new Uint8Array(size));
    } catch (err) {
      throw fsError(err, rootDir, `read key "${key}"`);
    }
  }

  async function write(key: string, body: Uint8Array): Promise<void> {
    const path = pathOf(key);
    const dir = parentOf(path);
    let temp: string | undefined;
    try {
      await Deno.mkdir(dir, { recursive: true });
      temp = `${dir}/${TEMP_PREFIX}${crypto.randomUUID()}`;
      await writeSynced(temp, body);
      await Deno.rename(temp, path);
      temp = undefined;
      // The rename is only durable once the directory entry is on disk.
      await syncDirectory(dir);
    } catch (err) {
      throw fsError(err, rootDir, `write key "${key}"`);
    } finally {
      if (temp) await Deno.remove(temp).catch(() => {});
    }
  }

  return {
    location: rootDir,

    async ensureReady() {
      try {
        await Deno.mkdir(rootDir, { recursive: true });
      } catch (err) {
        if (!(err instanceof Deno.errors.AlreadyExists)) {
          throw fsError(err, rootDir, "create the store directory");
        }
        throw new TcfsError(`fs store ${rootDir}: it exists but is not a directory`, {
          kind: "store_io",
          hint: "point the store at a directory (or a path that does not exist yet)",
        });
      }
    },

    get: readBody,

    async getRange(key: string, offset: number, length: number) {
      checkKey(key);
      let file: Deno.FsFile;
      try {
        file = await Deno.open(pathOf(key), { read: true });
      } catch (err) {
        if (isAbsent(err)) return undefined;
        throw fsError(err, rootDir, `read key "${key}"`);
      }
      try {
        // The length comes from a chunk ref, so from the store: allocate no more than the file has.
        const available = Math.max(0, (await file.stat()).size - offset);
        await file.seek(offset, Deno.SeekMode.Start);
        return await readUpTo(file, new Uint8Array(Math.min(length, available)));
      } catch (err) {
        throw fsError(err, rootDir, `read key "${key}"`);
      } finally {
        file.close();
      }
    },

    async getWithEtag(key: string, options?: GetOptions): Promise<ObjectWithEtag | undefined> {
      const body = await readBody(key, options);
      return body && { body, etag: await etagOf(body) };
    },

    async put(key: string, body: Uint8Array) {
      checkKey(key);
      await write(key, body);
    },

    async putConditional(key: string, body: Uint8Array, condition: PutCondition) {
      checkKey(key);
      const path = pathOf(key);
      const lockPath = `${parentOf(path)}/${LOCK_PREFIX}${path.slice(path.lastIndexOf("/") + 1)}`;
      try {
        await Deno.mkdir(parentOf(path), { recursive: true });
      } catch (err) {
        throw fsError(err, rootDir, `write key "${key}"`);
      }
      return await withKeyLock(lockPath, key, rootDir, async () => {
        const current = await readBody(key);
        const holds = "ifNoneMatch" in condition
          ? current === undefined
          : current !== undefined && await etagOf(current) === condition.ifMatch;
        if (holds) await write(key, body);
        return holds;
      });
    },

    async has(key: string) {
      checkKey(key);
      try {
        return (await Deno.stat(pathOf(key))).isFile;
      } catch (err) {
        if (isAbsent(err)) return false;
        throw fsError(err, rootDir, `look up key "${key}"`);
      }
    },

    async *list(prefix: string, options: ListOptions = {}): AsyncIterable<ObjectInfo> {
      checkPrefix(prefix);
      // Only the directory the prefix names is walked; its last, partial
      // segment filters that directory's entries.
      const cut = prefix.lastIndexOf("/") + 1;
      const found: ObjectInfo[] = [];
      const walk = { limit: createLimiter(LIST_CONCURRENCY), folders: options.delimiter === "/" };
      await collectKeys(rootDir, prefix.slice(0, cut), prefix.slice(cut), walk, found);
      const after = options.startAfter;
      yield* found.filter((info) => after === undefined || compareKeys(info.key, after) > 0)
        .sort((a, b) => compareKeys(a.key, b.key));
    },

    async delete(key: string) {
      checkKey(key);
      try {
        await Deno.remove(pathOf(key));
      } catch (err) {
        if (isAbsent(err)) return;
        throw fsError(err, rootDir, `delete key "${key}"`);
      }
    },

    close() {},
  };
}

/**
 * Walks `<root>/<keyPrefix>`, adding every regular file whose name starts with
 * `namePrefix`; with `folders`, a subdirectory is one entry (`<key>/`) instead of its
 * files. One limiter bounds open directories and stats across the whole
 * walk; no slot is held while waiting for subdirectories, so it cannot deadlock.
 */
async function collectKeys(
  root: string,
  keyPrefix: string,
  namePrefix: string,
  walk: { limit: Limiter; folders: boolean },
  out: ObjectInfo[],
): Promise<void> {
  const { limit } = walk;
  const dir = `${root}/${keyPrefix}`;
  let entries: Deno.DirEntry[];
  try {
    entries = await limit.run(() => Array.fromAsync(Deno.readDir(dir)));
  } catch (err) {
    if (isAbsent(err)) return;
    throw fsError(err, root, `list "${keyPrefix}"`);
  }
  await Promise.all(entries.map(async (entry) => {
    if (!entry.name.startsWith(namePrefix) || entry.name.startsWith(RESERVED_NAME_PREFIX)) return;
    const key = keyPrefix + entry.name;
    if (entry.isDirectory && walk.folders) return void out.push({ key: `${key}/`, size: 0 });
    if (entry.isDirectory) return collectKeys(root, `${key}/`, "", walk, out);
    if (!entry.isFile) return;
    try {
      out.push({ key, size: (await limit.run(() => Deno.stat(`${dir}${entry.name}`))).size });
    } catch (err) {
      // Deleted between readDir and stat: it is simply not there any more.
      if (!isAbsent(err)) throw fsError(err, root, `list "${key}"`);
    }
  }));
}

/**
 * Runs `fn` holding an exclusive lock on `lockPath`. The lock file is removed
 * before the lock is released; a waiter that then locks the unlinked file sees
 * that the path no longer names it and starts over.
 */
async function withKeyLock<T>(
  lockPath: string,
  key: string,
  root: string,
  fn: () => Promise<T>,
): Promise<T> {
  const deadline = Date.now() + LOCK_TIMEOUT_MS;
  for (let delayMs = 1;; delayMs = Math.min(delayMs * 2, 50)) {
    let file: Deno.FsFile;
    try {
      file = await Deno.open(lockPath, { create: true, write: true });
    } catch (err) {
      throw fsError(err, root, `lock key "${key}"`);
    }
    try {
      if (await file.tryLock(true)) {
        const held = await file.stat();
        const named = await Deno.stat(lockPath).catch(() => undefined);
        if (named?.ino === held.ino && named?.dev === held.dev) {
          try {
            return await fn();
          } finally {
            await Deno.remove(lockPath).catch(() => {});
          }
        }
      }
    } finally {
      file.close();
    }
    if (Date.now() > deadline) {
      throw new TcfsError(
        `fs store ${root}: key "${key}" has been locked by another writer for over ${
          LOCK_TIMEOUT_MS / 1000
        } s`,
        {
          kind: "store_busy",
          hint: `a tcfs process holding ${lockPath} seems stuck; stop it, then retry`,
        },
      );
    }
    await new Promise((resolve) => setTimeout(resolve, Math.random() * delayMs));
  }
}

async function writeSynced(path: string, body: Uint8Array): Promise<void> {
  using file = await Deno.open(path, { write: true, createNew: true });
  for (let done = 0; done < body.length;) done += await file.write(body.subarray(done));
  await file.sync();
}

/** The etag is the content hash, so it changes with every write that changes the bytes. */
function etagOf(body: Uint8Array): Promise<string> {
  return blake3(body, 128);
}

function parentOf(path: string): string {
  return path.slice(0, path.lastIndexOf("/"));
}

/** True for errors meaning "no object here": missing, or a directory on the way or at the key. */
function isAbsent(err: unknown): boolean {
  return err instanceof Deno.errors.NotFound || err instanceof Deno.errors.NotADirectory ||
    err instanceof Deno.errors.IsADirectory;
}

function checkKey(key: string): void {
  const problem = key === ""
    ? "is empty"
    : key.startsWith("/")
    ? "is absolute"
    : key.split("/").map(segmentProblem).find((p) => p !== undefined);
  if (problem) throw invalidKey(key, problem);
}

/** A prefix is a key whose last segment may be partial or empty. */
function checkPrefix(prefix: string): void {
  if (prefix === "") return;
  const segments = prefix.split("/");
  const last = segments.pop()!;
  const problem = prefix.startsWith("/")
    ? "is absolute"
    : segments.map(segmentProblem).find((p) => p !== undefined) ??
      (/[\\\0]/.test(last) ? "contains a backslash or NUL" : undefined);
  if (problem) throw invalidKey(prefix, problem);
}

function segmentProblem(segment: string): string | undefined {
  if (segment === "") return "has an empty segment";
  if (segment === "." || segment === "..") return `has a "${segment}" segment`;
  if (/[\\\0]/.test(segment)) return "contains a backslash or NUL";
  if (segment.startsWith(RESERVED_NAME_PREFIX)) {
    return `has a segment starting with "${RESERVED_NAME_PREFIX}", which the fs store reserves`;
  }
  return undefined;
}

function invalidKey(key: string, problem: string): TcfsError {
  return new TcfsError(`invalid store key ${JSON.stringify(key)}: it ${problem}`, {
    kind: "invalid_key",
    hint: "keys are relative, '/'-separated paths without '.', '..' or empty segments",
  });
}

function fsError(err: unknown, root: string, action: string): TcfsError {
  if (err instanceof TcfsError) return err;
  const reason = err instanceof Error ? err.message : String(err);
  if (err instanceof Deno.errors.PermissionDenied) {
    return new TcfsError(`fs store ${root}: cannot ${action}: permission denied`, {
      kind: "store_forbidden",
      hint: `check that ${root} and everything under it is writable by this user`,
      cause: err,
    });
  }
  if (
    err instanceof Deno.errors.IsADirectory || err instanceof Deno.errors.NotADirectory ||
    err instanceof Deno.errors.AlreadyExists
  ) {
    return new TcfsError(
      `fs store ${root}: cannot ${action}: a key and a key prefix collide (${reason})`,
      {
        kind: "store_key_conflict",
        hint:
          "a directory store cannot hold both `a/b` and `a/b/c`; remove the stray file or directory",
        cause: err,
      },
    );
  }
  return new TcfsError(`fs store ${root}: cannot ${action}: ${reason}`, {
    kind: "store_io",
    hint: `check that ${root} is mounted, writable and not full`,
    cause: err,
  });
}
