import assert from "node:assert/strict";
import { statusText } from "../../cli/commands/sync_status_command.ts";
import type { PathState, PathStatus } from "../../core/sync/sync_status.ts";

const row = (name: string, state: PathState): PathStatus => ({
  path: name,
  remote: `tcfs/default/${name}`,
  local: `/s/${name}`,
  state,
});

Deno.test("sync-status lists only paths with something to do, then counts the synced ones", () => {
  const rows = [row("a", "synced"), row("b", "modified"), row("c", "synced"), row("d", "conflict")];
  assert.equal(
    statusText(rows, false),
    "STATE     PATH\nmodified  /s/b\nconflict  /s/d\n\n2 paths to sync, 2 synced",
  );
  assert.match(statusText(rows, true), /^STATE {5}PATH\nsynced {4}\/s\/a\nmodified/);
});

Deno.test("sync-status with everything synced, or nothing at all, prints one line", () => {
  assert.equal(statusText([row("a", "synced")], false), "nothing to sync, 1 synced");
  assert.equal(statusText([], false), "nothing to sync");
  assert.equal(statusText([row("n", "new")], false), "STATE  PATH\nnew    /s/n\n\n1 path to sync");
});
