/**
 * Folders named with characters outside the BMP (emoji, some CJK extensions): JavaScript
 * counts each as two, SQLite as one, and the state db's "at or below this folder" tests once
 * counted lengths (core/state/path_prefix_sql.ts).
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { hostileFleet } from "../support/hostile_fleet.ts";
import type { PullSummary, PushSummary } from "../../core/sync/transfer_summary.ts";

Deno.test("a folder named with an emoji is pushed, pulled and has its deletions pushed by name", async () => {
  await using fleet = await hostileFleet();
  const folder = join(fleet.a.home, "📁 notes");
  await Deno.mkdir(join(folder, "𝒜"), { recursive: true });
  await Deno.writeTextFile(join(folder, "a.txt"), "a\n");
  await Deno.writeTextFile(join(folder, "𝒜", "b.txt"), "b\n");
  await Deno.writeTextFile(join(fleet.a.home, "📁 notes.txt"), "a sibling, not below it\n");
  await fleet.a.tcfsJson<PushSummary>(["push", folder, "tcfs/default/📁 notes"]);
  await fleet.a.tcfsJson<PushSummary>([
    "push",
    join(fleet.a.home, "📁 notes.txt"),
    "tcfs/default/📁 notes.txt",
  ]);

  const dest = join(fleet.b.home, "got");
  const pulled = await fleet.b.tcfsJson<PullSummary>(["pull", "tcfs/default/📁 notes", dest]);
  assert.equal(pulled.files, 2);
  assert.equal(await Deno.readTextFile(join(dest, "𝒜", "b.txt")), "b\n");

  // A second push of the folder finds what it pushed before: the deletion goes, nothing else.
  await Deno.remove(join(folder, "a.txt"));
  const again = await fleet.a.tcfsJson<PushSummary>(["push", folder, "tcfs/default/📁 notes"]);
  assert.deepEqual([again.files, again.deleted, again.unchanged], [0, 1, 1]);
  const second = await fleet.b.tcfsJson<PullSummary>(["pull", "tcfs/default/📁 notes", dest]);
  assert.equal(second.deleted, 1);
  await assert.rejects(Deno.stat(join(dest, "a.txt")), Deno.errors.NotFound);
  assert.equal(await Deno.readTextFile(join(dest, "𝒜", "b.txt")), "b\n");
});
