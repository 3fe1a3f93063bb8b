/**
 * The mounted tree's answers to the kernel: names and attributes from the heads
 * (`mount_tree.ts`), content by range (`range_reader.ts`). A reader that keeps reading on
 * from where it stopped gets read-ahead: the chunks of the next {@linkcode READ_AHEAD_BYTES}
 * are fetched while it consumes these.
 *
 * Changes are staged: a file opened for writing is copied whole into the staging folder (or
 * started empty when truncated or created), written there, and pushed as a new version when a
 * descriptor of it is closed (`flush`). Attribute changes, deletions, renames and links are
 * pushed at once. Until its push shows in the heads, a change is shown from `local`. Folders
 * exist remotely only through their files: a new empty folder lives in this mount alone, and
 * renaming a folder is refused with EXDEV (`mv` then copies and deletes, file by file).
 *
 * @module
 */

import { join } from "node:path";
import type {
  FuseAttr,
  FuseDirEntry,
  FuseErrno,
  FuseOperations,
  FuseResult,
} from "./fuse_operations.ts";
import {
  applyLocalChange,
  type ChangeBase,
  type LocalChange,
  type MountNode,
  type MountTree,
  parentRel,
} from "./mount_tree.ts";
import type { RangeReader } from "./range_reader.ts";
import type { WriteBack, WriteBackOutcome } from "./write_back.ts";
import { describeError, TcfsError } from "../errors.ts";
import type { FileVersion } from "../remote/file_version.ts";
import { readUpTo } from "../io/byte_reader.ts";

/** How far ahead of a sequential reader chunks are fetched. */
const READ_AHEAD_BYTES = 8 * 1024 * 1024;
/**
 * Bytes read in sequence before read-ahead starts: a single large read (the kernel splits it
 * into 128 KiB requests) fetches only what it asked for.
 */
const SEQUENTIAL_THRESHOLD = 2 * 1024 * 1024;
/** Bytes copied at a time when a file is staged for writing. */
const STAGE_PIECE_BYTES = 4 * 1024 * 1024;

/** What {@linkcode createMountFilesystem} needs. */
export interface MountFilesystemOptions {
  /** The current tree; read on every request, so swapping it shows remote changes. */
  tree: () => MountTree;
  /**
   * The remote version `key` of `rel` (below the prefix), whole: the tree keeps only what
   * listing needs, and a file's chunk list is read when it is opened or staged.
   */
  version: (rel: string, key: string) => FileVersion | undefined;
  reader: RangeReader;
  /** Reports a read or a push that failed (the caller sees EIO). */
  log: (message: string) => void;
  /** The bound `df` shows as the file system's size. */
  cacheBytes: () => { used: number; max: number };
  /** Changes made through the mount, by path below the prefix, until pushed. */
  local: Map<string, LocalChange>;
  /** Where staged files live. */
  stagingDir: string;
  /** A file kept open is pushed after this long without a write. */
  writeQuietMs: number;
  /** Pushes one change (paths below the prefix). */
  writeBack: (change: WriteBack) => Promise<WriteBackOutcome | undefined>;
  /** Shows a path whose change was pushed and dropped as the remote now holds it. */
  settled: (rel: string) => void;
}

interface OpenFile {
  node: MountNode;
  /** The version `node` shows, once read for reading its content. */
  version?: FileVersion;
  writable: boolean;
  /** Written since the last push. */
  dirty: boolean;
  /** Pushes what was written once writes stop for a while, if the file stays open. */
  quiet?: ReturnType<typeof setTimeout>;
  /** Where the last read ended, and how many bytes were read in sequence up to there. */
  end: number;
  run: number;
}

const ENOENT = { errno: "ENOENT" } as const;
const err = (errno: FuseErrno) => ({ errno });

/**
 * The FUSE operations of a mount.
 *
 * @example
 * ```ts
 * const ops = createMountFilesystem({ tree: () => tree, reader, log: console.error, ... });
 * await serveFuse(mountpoint, ops, { readOnly: false, source: "tcfs:tcfs/default" });
 * ```
 */
export function createMountFilesystem(options: MountFilesystemOptions): FuseOperations {
  const open = new Map<number, OpenFile>();
  let nextHandle = 1;
  /** Pushes go one at a time: each reads the heads the one before wrote. */
  let pushing: Promise<unknown> = Promise.resolve();
  const node = (ino: number) => options.tree().nodes.get(ino);
  const child = (parent: number, name: string) => {
    const dir = node(parent);
    return dir?.children ? node(dir.children.get(name) ?? 0) : undefined;
  };
  const relIn = (parent: MountNode, name: string) =>
    parent.rel === "" ? name : `${parent.rel}/${name}`;
  const attrOf = (n: MountNode): FuseAttr => {
    const shown = n.local;
    if (n.kind === "dir") {
      return { ino: n.ino, kind: "dir", size: 4096, perm: 0o755, mtimeMs: n.mtimeMs };
    }
    if (n.kind === "symlink") {
      const target = shown?.kind === "symlink" ? shown.target : n.target!;
      return {
        ino: n.ino,
        kind: "symlink",
        size: new TextEncoder().encode(target).length,
        perm: 0o777,
        mtimeMs: n.mtimeMs,
      };
    }
    return shown?.kind === "file"
      ? { ino: n.ino, kind: "file", size: shown.size, perm: shown.perm, mtimeMs: shown.mtimeMs }
      : {
        ino: n.ino,
        kind: "file",
        size: n.size,
        perm: n.mode & 0o777,
        mtimeMs: n.mtimeMs,
      };
  };
  /** The remote version `n` shows (or its change is made on), read from the fold. */
  const versionOf = (n: MountNode): FileVersion => {
    const version = n.key === undefined ? undefined : options.version(n.rel, n.key);
    if (!version) {
      throw new TcfsError(
        `its version ${n.key} is no longer in this mount's fold (it shows again once the heads are read)`,
      );
    }
    return version;
  };
  const base = (n: MountNode | undefined): ChangeBase | undefined =>
    n?.key === undefined ? undefined : { key: n.key, version: versionOf(n) };
  /**
   * Records `change` at `rel`. Unless it names its base, it keeps the base of the change it
   * follows there, or, as the path's first change, is made on the version shown now.
   */
  const setLocal = (rel: string, change: LocalChange) => {
    if (!("base" in change)) {
      const tree = options.tree();
      change.base = options.local.has(rel)
        ? options.local.get(rel)!.base
        : base(tree.nodes.get(tree.inodes.byPath.get(rel) ?? 0));
    }
    options.local.set(rel, change);
    applyLocalChange(options.tree(), rel, change);
  };
  const stagedPath = () => join(options.stagingDir, crypto.randomUUID());
  /** A folder whose last entry goes stays, as a folder of this mount (rm -r removes it next). */
  const keepFolderOf = (rel: string) => {
    const parent = parentRel(rel);
    const tree = options.tree();
    const dir = tree.nodes.get(tree.inodes.byPath.get(parent) ?? 0);
    if (parent !== "" && dir?.children?.size === 0) {
      setLocal(parent, { kind: "dir", mtimeMs: Date.now() });
    }
  };

  /** The node's content as a staged file (copied whole unless `empty`). */
  async function stage(n: MountNode, empty: boolean): Promise<LocalChange & { kind: "file" }> {
    if (n.local?.kind === "file") {
      if (empty) await Deno.truncate(n.local.staged, 0);
      const staged = { ...n.local, size: empty ? 0 : n.local.size };
      setLocal(n.rel, staged);
      return staged;
    }
    const version = versionOf(n);
    const path = stagedPath();
    using file = await Deno.open(path, { write: true, createNew: true, mode: 0o600 });
    if (!empty) {
      for (let at = 0; at < version.size; at += STAGE_PIECE_BYTES) {
        const bytes = await options.reader.read(version, at, STAGE_PIECE_BYTES);
        for (let done = 0; done < bytes.length;) done += await file.write(bytes.subarray(done));
      }
    }
    await Deno.chmod(path, version.mode & 0o777);
    const staged = {
      kind: "file" as const,
      base: base(n),
      staged: path,
      size: empty ? 0 : version.size,
      perm: version.mode & 0o777,
      mtimeMs: version.mtime_ms,
    };
    setLocal(n.rel, staged);
    return staged;
  }

  /** Paths whose last push failed: their change stays shown until pushed. */
  const unpushed = new Set<string>();
  const writers = (rel: string) => [...open.values()].some((f) => f.node.rel === rel && f.writable);

  /** Open files of `rel` go on with the node the tree shows there now (its version read anew). */
  const followNode = (rel: string) => {
    for (const f of open.values()) {
      if (f.node.rel !== rel) continue;
      f.node = options.tree().nodes.get(f.node.ino) ?? f.node;
      f.version = undefined;
    }
  };

  /** Drops `rel`'s change once it is pushed and no one writes it: the heads show it now. */
  async function settle(rel: string): Promise<void> {
    const change = options.local.get(rel);
    if (!change || writers(rel) || unpushed.has(rel)) return;
    options.local.delete(rel);
    options.settled(rel);
    // Open readers go on with the node as the heads now show it.
    followNode(rel);
    if (change.kind === "file") await Deno.remove(change.staged).catch(() => {});
  }

  /**
   * Pushes the change at `rel` on its base (read when its turn comes: a change still being
   * written after a push has the pushed version as its base).
   */
  function commit(rel: string): Promise<FuseResult<void>> {
    const run = async (): Promise<FuseResult<void>> => {
      const change = options.local.get(rel);
      if (!change) return undefined;
      let localPath: string | undefined;
      let outcome: WriteBackOutcome | undefined;
      if (change.kind === "file") localPath = change.staged;
      else if (change.kind === "symlink") {
        localPath = stagedPath();
        await Deno.symlink(change.target, localPath);
      } else if (change.kind === "dir") return undefined;
      try {
        outcome = await options.writeBack({ rel, localPath, base: change.base });
        if (outcome?.keptAs) {
          options.log(
            `${rel}: another device wrote a version meanwhile: this edit is kept as ` +
              `${outcome.keptAs} beside it (tcfs conflicts lists it)`,
          );
        }
        const summary = outcome?.summary;
        const problem = summary?.conflicts.length
          ? `a version written meanwhile by another device conflicts with it (see tcfs conflicts)`
          : summary?.failures[0]?.error;
        if (problem) {
          options.log(`${rel}: not pushed: ${problem}`);
          unpushed.add(rel);
          return err("EIO");
        }
      } catch (e) {
        options.log(`${rel}: not pushed: ${describeError(e)}`);
        unpushed.add(rel);
        return err("EIO");
      } finally {
        if (change.kind === "symlink") await Deno.remove(localPath!).catch(() => {});
      }
      unpushed.delete(rel);
      await settle(rel);
      // Still being written: the pushed version is the base of the next push.
      const still = options.local.get(rel);
      if (still) {
        still.base = outcome?.written;
        applyLocalChange(options.tree(), rel, still);
        followNode(rel);
      }
      return undefined;
    };
    const result = pushing.then(run, run);
    pushing = result;
    return result;
  }

  /** Pushes what was written through an open file (on flush, fsync or a quiet period). */
  async function pushOpen(file: OpenFile): Promise<FuseResult<void>> {
    clearTimeout(file.quiet);
    if (!file.dirty) return undefined;
    file.dirty = false;
    const result = await commit(file.node.rel);
    // Not pushed: every later flush or fsync tries again, and fails the same way.
    if (result) file.dirty = true;
    return result;
  }

  return {
    lookup(parent, name): FuseResult<FuseAttr> {
      const dir = node(parent);
      if (!dir?.children) return dir ? err("ENOTDIR") : ENOENT;
      const found = child(parent, name);
      return found ? attrOf(found) : ENOENT;
    },
    getattr(ino) {
      const n = node(ino);
      return n ? attrOf(n) : ENOENT;
    },
    readdir(ino): FuseResult<FuseDirEntry[]> {
      const dir = node(ino);
      if (!dir?.children) return dir ? err("ENOTDIR") : ENOENT;
      const entries: FuseDirEntry[] = [];
      for (const [name, ino] of dir.children) entries.push({ name, ino, kind: node(ino)!.kind });
      return entries;
    },
    readlink(ino) {
      const n = node(ino);
      if (n?.kind !== "symlink") return n ? err("EINVAL") : ENOENT;
      return n.local?.kind === "symlink" ? n.local.target : n.target!;
    },
    async open(ino, mode) {
      const n = node(ino);
      if (!n) return ENOENT;
      if (n.kind === "dir") return err("EISDIR");
      if (mode.write) {
        try {
          await stage(n, mode.truncate);
        } catch (e) {
          options.log(`${n.rel}: could not stage it for writing: ${describeError(e)}`);
          return err("EIO");
        }
      }
      const handle = nextHandle++;
      open.set(handle, {
        node: node(ino)!,
        writable: mode.write,
        dirty: mode.truncate,
        end: 0,
        run: 0,
      });
      return handle;
    },
    async read(_ino, handle, offset, size, into): Promise<FuseResult<Uint8Array>> {
      const file = open.get(handle);
      if (!file) return err("EINVAL");
      const staged = options.local.get(file.node.rel);
      try {
        if (staged?.kind === "file") {
          using f = await Deno.open(staged.staged);
          await f.seek(offset, Deno.SeekMode.Start);
          const length = Math.max(0, Math.min(size, staged.size - offset));
          return await readUpTo(f, into?.subarray(0, length) ?? new Uint8Array(length));
        }
        const version = file.version ??= versionOf(file.node);
        file.run = offset === file.end ? file.run + size : size;
        file.end = offset + size;
        if (file.run >= SEQUENTIAL_THRESHOLD) {
          options.reader.prefetch(version, file.end, READ_AHEAD_BYTES);
        }
        return await options.reader.read(version, offset, size, into);
      } catch (e) {
        options.log(`read of ${file.node.rel} at ${offset} failed: ${describeError(e)}`);
        return err("EIO");
      }
    },
    async write(handle, offset, data) {
      const file = open.get(handle);
      const staged = file && options.local.get(file.node.rel);
      if (!file?.writable || staged?.kind !== "file") return err("EINVAL");
      try {
        using f = await Deno.open(staged.staged, { write: true });
        await f.seek(offset, Deno.SeekMode.Start);
        for (let done = 0; done < data.length;) done += await f.write(data.subarray(done));
      } catch (e) {
        options.log(`write of ${file.node.rel} at ${offset} failed: ${describeError(e)}`);
        return err("EIO");
      }
      staged.size = Math.max(staged.size, offset + data.length);
      staged.mtimeMs = Date.now();
      file.dirty = true;
      clearTimeout(file.quiet);
      file.quiet = setTimeout(() => pushOpen(file), options.writeQuietMs);
      return data.length;
    },
    async flush(handle) {
      const file = open.get(handle);
      return file ? await pushOpen(file) : undefined;
    },
    async release(handle) {
      const file = open.get(handle);
      open.delete(handle);
      clearTimeout(file?.quiet);
      if (!file?.writable) return;
      if (file.dirty) await commit(file.node.rel);
      else await settle(file.node.rel);
    },
    async create(parent, name, perm) {
      const dir = node(parent);
      if (!dir?.children) return dir ? err("ENOTDIR") : ENOENT;
      const rel = relIn(dir, name);
      const existing = child(parent, name);
      if (existing?.kind === "dir") return err("EISDIR");
      const path = stagedPath();
      try {
        await Deno.writeFile(path, new Uint8Array(), { createNew: true, mode: 0o600 });
        await Deno.chmod(path, perm & 0o777);
      } catch (e) {
        options.log(`${rel}: could not stage it: ${describeError(e)}`);
        return err("EIO");
      }
      setLocal(rel, {
        kind: "file",
        staged: path,
        size: 0,
        perm: perm & 0o777,
        mtimeMs: Date.now(),
      });
      const created = child(parent, name)!;
      const handle = nextHandle++;
      open.set(handle, { node: created, writable: true, dirty: true, end: 0, run: 0 });
      return [attrOf(created), handle];
    },
    async setattr(ino, changes, handle) {
      const n = node(ino);
      if (!n) return ENOENT;
      if (
        n.kind !== "file" ||
        (changes.perm === undefined && changes.size === undefined && changes.mtimeMs === undefined)
      ) {
        return attrOf(n);
      }
      try {
        const staged = await stage(n, changes.size === 0);
        if (changes.size !== undefined) {
          await Deno.truncate(staged.staged, changes.size);
          staged.size = changes.size;
          staged.mtimeMs = Date.now();
        }
        if (changes.perm !== undefined) {
          await Deno.chmod(staged.staged, changes.perm & 0o777);
          staged.perm = changes.perm & 0o777;
        }
        if (changes.mtimeMs !== undefined) staged.mtimeMs = changes.mtimeMs;
        const when = new Date(staged.mtimeMs);
        await Deno.utime(staged.staged, when, when);
      } catch (e) {
        options.log(`${n.rel}: could not change it: ${describeError(e)}`);
        return err("EIO");
      }
      const through = handle === undefined ? undefined : open.get(handle);
      if (through) through.dirty = true;
      else {
        const pushed = await commit(n.rel);
        if (pushed) return pushed;
      }
      return attrOf(node(ino) ?? n);
    },
    mkdir(parent, name) {
      const dir = node(parent);
      if (!dir?.children) return dir ? err("ENOTDIR") : ENOENT;
      if (dir.children.has(name)) return err("EEXIST");
      const rel = relIn(dir, name);
      setLocal(rel, { kind: "dir", mtimeMs: Date.now() });
      return attrOf(child(parent, name)!);
    },
    async unlink(parent, name) {
      const n = child(parent, name);
      if (!n) return ENOENT;
      if (n.kind === "dir") return err("EISDIR");
      const was = options.local.get(n.rel);
      setLocal(n.rel, { kind: "deleted" });
      keepFolderOf(n.rel);
      if (was?.kind === "file") await Deno.remove(was.staged).catch(() => {});
      return await commit(n.rel);
    },
    rmdir(parent, name) {
      const n = child(parent, name);
      if (!n) return ENOENT;
      if (n.kind !== "dir") return err("ENOTDIR");
      if (n.children!.size > 0) return err("ENOTEMPTY");
      // An empty folder exists in this mount alone.
      applyLocalChange(options.tree(), n.rel, { kind: "deleted" });
      options.local.delete(n.rel);
      return undefined;
    },
    async rename(parent, name, to, toName) {
      const n = child(parent, name);
      const toDir = node(to);
      if (!n || !toDir?.children) return ENOENT;
      if (n.kind === "dir") return err("EXDEV");
      const target = child(to, toName);
      if (target?.kind === "dir") return err("EISDIR");
      const toRel = relIn(toDir, toName);
      let moved: LocalChange;
      try {
        moved = n.kind === "symlink"
          ? {
            kind: "symlink",
            target: n.local?.kind === "symlink" ? n.local.target : n.target!,
            mtimeMs: n.mtimeMs,
          }
          : await stage(n, false);
      } catch (e) {
        options.log(`${n.rel}: could not stage it for the rename: ${describeError(e)}`);
        return err("EIO");
      }
      const from = base(n);
      const replaced = base(target);
      // The inode moves with the file, as the kernel expects of a rename.
      const { inodes } = options.tree();
      inodes.byPath.delete(n.rel);
      inodes.byPath.set(toRel, n.ino);
      setLocal(toRel, { ...moved, base: replaced });
      setLocal(n.rel, { kind: "deleted", base: from });
      keepFolderOf(n.rel);
      const written = await commit(toRel);
      if (written) return written;
      return await commit(n.rel);
    },
    async symlink(parent, name, target) {
      const dir = node(parent);
      if (!dir?.children) return dir ? err("ENOTDIR") : ENOENT;
      if (dir.children.has(name)) return err("EEXIST");
      const rel = relIn(dir, name);
      setLocal(rel, { kind: "symlink", target, mtimeMs: Date.now() });
      const made = child(parent, name)!;
      const pushed = await commit(rel);
      return pushed ?? attrOf(child(parent, name) ?? made);
    },
    statfs() {
      const { used, max } = options.cacheBytes();
      return {
        totalBytes: Math.max(options.tree().bytes, max),
        freeBytes: Math.max(0, max - used),
        files: options.tree().nodes.size,
      };
    },
  };
}
