/**
 * gc beside writers, on the real S3 store: two devices edit, create, delete and rename files
 * (taking up contents stored before, so their pushes name chunks in packs gc is condemning)
 * and push and pull at random, with pauses longer than gc's minimum age, while a third device
 * runs gc in a loop with the policy that drops the most and the smallest safe minimum age.
 * Each device runs in a worker of its own (`gc_concurrency_worker.ts`), so no device shares
 * another's view of the condemned packs. Afterwards both devices and a new one converge on the
 * same tree, every content nobody replaced is there, and every head reads back whole.
 *
 * `TCFS_GC_PROOF_SECONDS` sets how long the devices churn (default 150); the seed is printed
 * and `TCFS_GC_PROOF_SEED=<n>` replays one schedule (timing still varies). With
 * `TCFS_GC_PROOF_MIN_AGE_MS=0` gc deletes what it finds unreferenced at once, which is unsafe
 * beside writers: heads then lose content (pushes name packs gc deleted meanwhile).
 *
 * @module
 */

import assert from "node:assert/strict";
import { freshFleetBucket, openFleetBucket } from "../support/fleet_bucket.ts";
import { makeScopedTempDir } from "../support/module_unload.ts";
import type {
  ChurnReport,
  GcLoopReport,
  PartyReply,
  PartyRequest,
} from "./gc_concurrency_worker.ts";
import type { StoreCheckResult } from "../../core/check/store_check.ts";

/** The writers' view of condemned packs may be this old; gc's safe minimum age is 3×. */
const VIEW_MAX_AGE_MS = 1000;
/** The smallest safe minimum age; `TCFS_GC_PROOF_MIN_AGE_MS` sets another, to see an unsafe one fail. */
const MIN_AGE_MS = Number(Deno.env.get("TCFS_GC_PROOF_MIN_AGE_MS") ?? 3 * VIEW_MAX_AGE_MS);
const SECONDS = Number(Deno.env.get("TCFS_GC_PROOF_SECONDS") ?? 150);
const SEED = Number(Deno.env.get("TCFS_GC_PROOF_SEED") ?? 20261203);

/** A device in its worker. */
interface Party {
  call<T>(request: PartyRequest): Promise<T>;
  end(): void;
}

function startParty(): Party {
  const worker = new Worker(new URL("./gc_concurrency_worker.ts", import.meta.url), {
    type: "module",
  });
  let pending: PromiseWithResolvers<unknown> | undefined;
  worker.onmessage = (message: MessageEvent<PartyReply>) => {
    const reply = message.data;
    if (reply.ok) pending?.resolve(reply.value);
    else pending?.reject(new Error(reply.error));
  };
  worker.onerror = (event) => {
    event.preventDefault();
    pending?.reject(new Error(`the device's worker failed: ${event.message}`));
  };
  return {
    async call<T>(request: PartyRequest) {
      pending = Promise.withResolvers();
      worker.postMessage(request);
      return await pending.promise as T;
    },
    end: () => worker.terminate(),
  };
}

Deno.test({
  name: `gc in a loop beside two devices pushing and pulling for ${SECONDS} s loses no head`,
  // The workers' sqlite handles and S3 connections close in the workers.
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async () => {
    const before = Deno.env.get("TCFS_CONDEMNED_VIEW_MAX_AGE_MS");
    Deno.env.set("TCFS_CONDEMNED_VIEW_MAX_AGE_MS", String(VIEW_MAX_AGE_MS));
    const tmp = await makeScopedTempDir("tcfs-gc-proof-");
    const fleet = freshFleetBucket();
    const parties: Party[] = [];
    const open = async (name: string) => {
      const party = startParty();
      parties.push(party);
      await party.call({ op: "open", parent: tmp.path, name, bucket: fleet.bucket });
      return party;
    };
    let passed = false;
    try {
      const [alpha, bravo, gc] = await Promise.all(["alpha", "bravo", "gc"].map(open));
      const untilMs = Date.now() + SECONDS * 1000;
      const idleMs = MIN_AGE_MS + 500;
      const [a, b, loop] = await Promise.all([
        alpha.call<ChurnReport>({ op: "churn", seed: SEED, untilMs, idleMs }),
        bravo.call<ChurnReport>({ op: "churn", seed: SEED + 1, untilMs, idleMs }),
        gc.call<GcLoopReport>({ op: "gc-loop", untilMs, minAgeMs: MIN_AGE_MS, pauseMs: 300 }),
      ]);
      const brief = (r: ChurnReport) => ({
        ...r,
        written: r.written.length,
        superseded: r.superseded.length,
        refused: r.refused.length,
        pullFailures: r.pullFailures.length,
      });
      console.log(`seed ${SEED} (replay: TCFS_GC_PROOF_SEED=${SEED})`);
      console.log("alpha", brief(a), "\nbravo", brief(b), "\ngc", loop);
      for (const refusal of [...a.refused, ...b.refused].slice(0, 10)) {
        console.log(`  a push was refused: ${refusal}`);
      }
      for (const failure of [...a.pullFailures, ...b.pullFailures].slice(0, 10)) {
        console.log(`  a pull failed meanwhile: ${failure.split("\n")[0]}`);
      }
      assert.deepEqual(loop.problems, [], "gc could read every journal object");
      // Otherwise the run proves nothing.
      assert.ok(loop.deleted > 0, "gc deleted objects");
      assert.ok(loop.floors > 0 && loop.versionsDropped > 0, "gc pruned history");
      assert.ok(loop.repackedPacks > 0, "gc repacked packs");
      assert.ok(a.pushes > 0 && b.pushes > 0 && a.pushes + b.pushes >= 10, "the devices churned");

      // Quiet: the devices converge, then gc runs until nothing condemned waits any more.
      for (let round = 0; round < 3; round++) {
        for (const device of [alpha, bravo]) {
          await device.call({ op: "push" });
          await device.call({ op: "pull" });
        }
      }
      for (let run = 0; run < 2; run++) {
        await new Promise((resolve) => setTimeout(resolve, MIN_AGE_MS + 200));
        await gc.call({ op: "gc", minAgeMs: MIN_AGE_MS });
      }
      const charlie = await open("charlie");
      for (const device of [alpha, bravo, charlie]) await device.call({ op: "pull" });

      const trees = await Promise.all(
        [alpha, bravo, charlie].map(async (p) =>
          new Map(await p.call<[string, string][]>({ op: "tree" }))
        ),
      );
      const sorted = (tree: Map<string, string>) => [...tree].sort();
      assert.deepEqual(sorted(trees[1]), sorted(trees[0]), "bravo holds what alpha holds");
      assert.deepEqual(sorted(trees[2]), sorted(trees[0]), "a new device holds the same");
      const held = new Set(trees[0].values());
      const superseded = new Set([...a.superseded, ...b.superseded]);
      const lost = [...a.written, ...b.written].filter((c) => !superseded.has(c) && !held.has(c));
      assert.deepEqual(lost, [], "contents nobody replaced after seeing them are gone");

      const everyone = [["alpha", alpha], ["bravo", bravo], ["charlie", charlie]] as const;
      for (const [name, party] of everyone) {
        const check = await party.call<StoreCheckResult>({ op: "check" });
        assert.deepEqual(check.problems, [], `tcfs check --read-data on ${name}`);
        assert.ok(check.versions_checked > 0);
      }
      for (const party of parties) await party.call({ op: "close" });
      passed = true;
    } finally {
      for (const party of parties) party.end();
      if (before === undefined) Deno.env.delete("TCFS_CONDEMNED_VIEW_MAX_AGE_MS");
      else Deno.env.set("TCFS_CONDEMNED_VIEW_MAX_AGE_MS", before);
      await tmp.remove();
      if (passed) await emptyBucket(fleet.bucket);
      else console.log(`bucket ${fleet.bucket} kept for a look`);
    }
  },
});

/** Deletes what the run stored: a few hundred megabytes the shared SeaweedFS need not keep. */
async function emptyBucket(bucket: string): Promise<void> {
  await using store = await openFleetBucket(bucket);
  const keys: string[] = [];
  for await (const info of store.list("")) keys.push(info.key);
  for (const key of keys) await store.delete(key);
}
