/**
 * Three devices edit, delete and rename the same 20 paths at random, with
 * pushes and pulls interleaved, on one memory store in auto conflict mode.
 * After a final convergence round every device must hold the same tree, and
 * every content survives (at its path or as a conflict copy) unless a device
 * replaced, deleted or overwrote it while it held it, i.e. after seeing it.
 *
 * The seed is printed on failure; `TCFS_MODEL_SEED=<n>` replays one.
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { createMemoryStore } from "../support/memory_store.ts";
import { openSyncDevice, type SyncDevice } from "../support/sync_device.ts";
import { snapshotTree } from "../support/tree_compare.ts";
import { seededRandom } from "./seeded_random.ts";

const STEPS = 200;
const PATHS = Array.from({ length: 20 }, (_, i) => (i < 15 ? "" : "sub/") + `p${i}.txt`);
const SEEDS = Deno.env.get("TCFS_MODEL_SEED")
  ? [Number(Deno.env.get("TCFS_MODEL_SEED"))]
  : [20261203, 7, 4242];

/** `TCFS_MODEL_LOG=1` prints every step of a failed run, not only the last 40. */
const FULL_LOG = Deno.env.get("TCFS_MODEL_LOG") !== undefined;

for (const seed of SEEDS) {
  Deno.test({
    name:
      `three devices, ${STEPS} random steps on 20 shared paths converge and lose nothing (seed ${seed})`,
    fn: () => modelTest(seed),
  });
}

async function modelTest(seed: number): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "tcfs-model-" });
  const log: string[] = [];
  try {
    await runModel(dir, seed, log);
  } catch (err) {
    throw new Error(
      `model run failed with seed ${seed} (replay: TCFS_MODEL_SEED=${seed})\n` +
        `last steps:\n${log.slice(FULL_LOG ? 0 : -40).join("\n")}\n${(err as Error).message}`,
      { cause: err },
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

async function readOrUndefined(path: string): Promise<string | undefined> {
  try {
    return await Deno.readTextFile(path);
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) return undefined;
    throw err;
  }
}

async function runModel(dir: string, seed: number, log: string[]): Promise<void> {
  const random = seededRandom(seed);
  const pick = <T>(items: readonly T[]) => items[Math.floor(random() * items.length)];
  const store = createMemoryStore();
  const devices: SyncDevice[] = [];
  for (const name of ["alpha", "bravo", "charlie"]) {
    const device = await openSyncDevice(dir, name, store, "auto");
    await Deno.mkdir(join(device.root, "sub"));
    devices.push(device);
  }
  /** Every content written, and those a device replaced while it held them. */
  const written = new Set<string>();
  const superseded = new Set<string>();
  const replaceAt = async (path: string) => {
    const before = await readOrUndefined(path);
    if (before !== undefined) superseded.add(before);
  };
  const sync = async (device: SyncDevice, how: "push" | "pull") => {
    const summary = how === "push" ? await device.pushAll() : await device.pullAll().catch(
      (err) => {
        // An empty namespace is "nothing at …", not a failure of the model.
        if (err?.kind === "not_found") return undefined;
        throw err;
      },
    );
    if (summary && summary.failures.length > 0) {
      throw new Error(`${how} failed for ${JSON.stringify(summary.failures)}`);
    }
    return summary;
  };

  try {
    for (let step = 0; step < STEPS; step++) {
      const device = pick(devices);
      const name = device.ctx.device.name;
      const roll = random();
      const rel = pick(PATHS);
      const path = join(device.root, rel);
      if (roll < 0.35) {
        const content = `${name} step ${step} ${"x".repeat(Math.floor(random() * 40))}\n`;
        await replaceAt(path);
        await Deno.writeTextFile(path, content);
        written.add(content);
        log.push(`${step} ${name} write ${rel}`);
      } else if (roll < 0.45) {
        await replaceAt(path);
        await Deno.remove(path).catch(() => {});
        log.push(`${step} ${name} delete ${rel}`);
      } else if (roll < 0.55) {
        const to = pick(PATHS.filter((p) => p !== rel));
        if (await readOrUndefined(path) === undefined) continue;
        await replaceAt(join(device.root, to));
        await Deno.rename(path, join(device.root, to));
        log.push(`${step} ${name} rename ${rel} -> ${to}`);
      } else if (roll < 0.8) {
        const s = await sync(device, "push");
        log.push(`${step} ${name} push ${JSON.stringify(s && { ...s, bytes_total: undefined })}`);
      } else {
        const s = await sync(device, "pull");
        log.push(`${step} ${name} pull ${JSON.stringify(s && { ...s, bytes_total: undefined })}`);
      }
    }
    for (let round = 0; round < 4; round++) {
      for (const device of devices) {
        await sync(device, "push");
        await sync(device, "pull");
        log.push(`final ${round} ${device.ctx.device.name} synced`);
      }
    }

    const trees = await Promise.all(devices.map(async (d) => {
      const snapshot = await snapshotTree(d.root);
      return new Map([...snapshot].map(([rel, entry]) => [rel, entry.content]));
    }));
    for (const [i, tree] of trees.entries()) {
      assert.deepEqual(
        [...tree].sort(),
        [...trees[0]].sort(),
        `${devices[i].ctx.device.name} differs from alpha`,
      );
    }
    const held = new Set<string>();
    for (const rel of trees[0].keys()) {
      held.add(await Deno.readTextFile(join(devices[0].root, rel)));
    }
    const lost = [...written].filter((c) => !superseded.has(c) && !held.has(c));
    assert.deepEqual(lost, [], "contents nobody replaced after seeing them are gone");
  } finally {
    for (const device of devices) device[Symbol.dispose]();
  }
}
