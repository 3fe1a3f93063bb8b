/**
 * One device of the gc concurrency test (`gc_concurrency_test.ts`), in a worker of its own so
 * that what a process keeps to itself (its view of the condemned packs, the packs it has seen
 * stored) is its own, as on another machine: a writer that edits and syncs at random, or the
 * device that runs gc in a loop. The test sends {@linkcode PartyRequest}s one at a time and
 * gets a {@linkcode PartyReply} for each.
 *
 * @module
 */

/// <reference lib="deno.worker" />

import { join } from "node:path";
import { openFleetBucket } from "../support/fleet_bucket.ts";
import { openSyncDevice, type SyncDevice } from "../support/sync_device.ts";
import { randomBytes } from "../support/random_bytes.ts";
import { snapshotTree } from "../support/tree_compare.ts";
import { seededRandom } from "./seeded_random.ts";
import { runGc } from "../../core/gc/gc_run.ts";
import { checkStore } from "../../core/check/store_check.ts";
import { TcfsError } from "../../core/errors.ts";
import type { ObjectStore } from "../../core/store/object_store.ts";

/** What the test asks a party to do. */
export type PartyRequest =
  | { op: "open"; parent: string; name: string; bucket: string }
  | { op: "churn"; seed: number; untilMs: number; idleMs: number }
  | { op: "gc-loop"; untilMs: number; minAgeMs: number; pauseMs: number }
  | { op: "gc"; minAgeMs: number }
  | { op: "push" }
  | { op: "pull" }
  | { op: "check" }
  | { op: "tree" }
  | { op: "close" };

/** The answer to one request: its value, or the error it threw. */
export type PartyReply = { ok: true; value: unknown } | { ok: false; error: string };

/** What a writer did in its loop. */
export interface ChurnReport {
  steps: number;
  pushes: number;
  pulls: number;
  /** Pauses longer than gc's minimum age. */
  idles: number;
  /** Pushes refused because they named a pack gc had condemned meanwhile, by error. */
  refused: string[];
  /** Pulls that failed, or paths they could not bring, by error. */
  pullFailures: string[];
  /** Digests of every content written that no other write can repeat. */
  written: string[];
  /** Digests of contents this device replaced or deleted while it held them. */
  superseded: string[];
}

/** What gc did over its loop, summed. */
export interface GcLoopReport {
  runs: number;
  versionsDropped: number;
  floors: number;
  journalObjectsDeleted: number;
  repackedPacks: number;
  condemned: number;
  deleted: number;
  deletedBytes: number;
  rescued: number;
  /** Journal objects gc could not read (it deleted nothing those runs). */
  problems: string[];
}

/** The paths writers edit, delete and rename between. */
const PATHS = [
  ...Array.from({ length: 10 }, (_, i) => `p${i}.txt`),
  ...Array.from({ length: 8 }, (_, i) => `sub/q${i}.bin`),
  ...Array.from({ length: 6 }, (_, i) => `sub/deep/r${i}.bin`),
];

/**
 * Bodies that files take again and again, each several chunks long: a write of one names the
 * chunks an earlier write stored, which by then may sit in a pack gc has condemned or deleted.
 */
const BODIES = [90, 200, 350, 700].map((kib, i) => randomBytes(kib * 1024, 1400 + i));

let device: SyncDevice | undefined;
let store: (ObjectStore & AsyncDisposable) | undefined;

self.onmessage = async (message: MessageEvent<PartyRequest>) => {
  try {
    self.postMessage({ ok: true, value: await handle(message.data) } satisfies PartyReply);
  } catch (err) {
    const error = err instanceof Error ? `${err.message}\n${err.stack}` : String(err);
    self.postMessage({ ok: false, error } satisfies PartyReply);
  }
};

async function handle(request: PartyRequest): Promise<unknown> {
  if (request.op === "open") {
    store = await openFleetBucket(request.bucket);
    device = await openSyncDevice(request.parent, request.name, store, "auto");
    // No conflict copy is capped away: the test counts on finding every content.
    device.ctx.maxConflicts = 1_000_000;
    for (const dir of ["sub", "sub/deep"]) await Deno.mkdir(join(device.root, dir));
    return device.ctx.device.id;
  }
  const d = device!;
  switch (request.op) {
    case "churn":
      return await churn(d, request);
    case "gc-loop":
      return await gcLoop(d, request);
    case "gc":
      return await runGc(d.ctx, { policy: DROP_ALL_BUT_HEADS, minAgeMs: request.minAgeMs });
    case "push":
      return await d.pushAll();
    case "pull":
      return await pullUnlessEmpty(d);
    case "check":
      return await checkStore(d.ctx, { prefix: "", readData: true });
    case "tree": {
      const tree = await snapshotTree(d.root);
      return [...tree].filter(([, e]) => e.kind === "file").map(([rel, e]) => [rel, e.content]);
    }
    case "close":
      d[Symbol.dispose]();
      await store![Symbol.asyncDispose]();
      return undefined;
  }
}

/** The policy that drops the most: every version but the heads (and what a deletion keeps). */
const DROP_ALL_BUT_HEADS = { keepDays: 0, keepLast: 1, staggered: false };

async function pullUnlessEmpty(d: SyncDevice) {
  try {
    return await d.pullAll();
  } catch (err) {
    // Nothing pushed yet is "nothing at …", not a failure.
    if (err instanceof TcfsError && err.kind === "not_found") return undefined;
    throw err;
  }
}

async function churn(
  d: SyncDevice,
  { seed, untilMs, idleMs }: { seed: number; untilMs: number; idleMs: number },
): Promise<ChurnReport> {
  const random = seededRandom(seed);
  const pick = <T>(items: readonly T[]) => items[Math.floor(random() * items.length)];
  const name = d.ctx.device.name;
  const report: ChurnReport = {
    steps: 0,
    pushes: 0,
    pulls: 0,
    idles: 0,
    refused: [],
    pullFailures: [],
    written: [],
    superseded: [],
  };
  const superseded = new Set<string>();
  const replaceAt = async (path: string) => {
    const held = await Deno.readFile(path).catch(() => undefined);
    if (held) superseded.add(await sha256(held));
  };
  const write = async (path: string, body: Uint8Array, unique: boolean) => {
    await replaceAt(path);
    await Deno.writeFile(path, body);
    if (unique) report.written.push(await sha256(body));
  };
  for (let step = 0; Date.now() < untilMs; step++) {
    report.steps++;
    const rel = pick(PATHS);
    const path = join(d.root, rel);
    const roll = random();
    const unique = new TextEncoder().encode(`${name} step ${step} ${random()}\n`);
    if (roll < 0.25) {
      await write(path, unique, true);
    } else if (roll < 0.45) {
      // A new first chunk, then the chunks of a body stored before.
      await write(path, concat(unique, pick(BODIES)), true);
    } else if (roll < 0.52) {
      await write(path, pick(BODIES), false);
    } else if (roll < 0.60) {
      await replaceAt(path);
      await Deno.remove(path).catch(() => {});
    } else if (roll < 0.67) {
      const to = join(d.root, pick(PATHS.filter((p) => p !== rel)));
      if (await Deno.lstat(path).catch(() => undefined)) {
        await replaceAt(to);
        await Deno.rename(path, to);
      }
    } else if (roll < 0.82) {
      report.pushes++;
      try {
        const summary = await d.pushAll();
        if (summary.failures.length > 0) {
          throw new Error(`push failed for ${JSON.stringify(summary.failures)}`);
        }
      } catch (err) {
        // The one refusal gc may cause: the files stay here, and the next push sends them.
        if (!(err instanceof TcfsError && err.kind === "content_condemned")) throw err;
        report.refused.push(err.message);
      }
    } else if (roll < 0.94) {
      report.pulls++;
      try {
        const summary = await pullUnlessEmpty(d);
        for (const f of summary?.failures ?? []) report.pullFailures.push(`${f.path}: ${f.error}`);
      } catch (err) {
        report.pullFailures.push(err instanceof Error ? err.message : String(err));
      }
    } else if (roll < 0.96) {
      // Away for longer than gc waits between condemning a pack and deleting it.
      report.idles++;
      await sleep(idleMs + random() * 2000);
    } else {
      await sleep(random() * 300);
    }
  }
  report.superseded = [...superseded];
  return report;
}

async function gcLoop(
  d: SyncDevice,
  { untilMs, minAgeMs, pauseMs }: { untilMs: number; minAgeMs: number; pauseMs: number },
): Promise<GcLoopReport> {
  const total: GcLoopReport = {
    runs: 0,
    versionsDropped: 0,
    floors: 0,
    journalObjectsDeleted: 0,
    repackedPacks: 0,
    condemned: 0,
    deleted: 0,
    deletedBytes: 0,
    rescued: 0,
    problems: [],
  };
  while (Date.now() < untilMs) {
    const report = await runGc(d.ctx, { policy: DROP_ALL_BUT_HEADS, minAgeMs });
    total.runs++;
    total.versionsDropped += report.versions.dropped;
    if (report.floor) total.floors++;
    total.journalObjectsDeleted += report.journal_objects_deleted;
    total.repackedPacks += report.repacked.packs;
    total.condemned += report.objects?.condemned ?? 0;
    total.deleted += report.objects?.deleted ?? 0;
    total.deletedBytes += report.objects?.deletedBytes ?? 0;
    total.rescued += report.objects?.rescued ?? 0;
    total.problems.push(...report.problems.map((p) => `${p.key}: ${p.why}`));
    await sleep(pauseMs);
  }
  return total;
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}

async function sha256(bytes: Uint8Array<ArrayBuffer> | Uint8Array): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", new Uint8Array(bytes));
  return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, "0")).join("");
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
