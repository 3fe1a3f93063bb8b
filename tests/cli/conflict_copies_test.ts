import assert from "node:assert/strict";
import { join } from "node:path";
import { type DeviceHome, makeDeviceHome } from "../support/device_home.ts";
import type { PullSummary, PushSummary } from "../../core/sync/transfer_summary.ts";

const DEVICES = ["alpha", "bravo", "charlie"];
const FILES = ["shared-0.txt", "shared-1.txt"];

/** Three devices in auto mode on one file:// store, each with a sync_root at ~/Sync. */
async function autoFleet(env: Record<string, string> = {}) {
  const tmp = await Deno.makeTempDir({ prefix: "tcfs-copies-" });
  const devices: DeviceHome[] = [];
  for (const name of DEVICES) {
    devices.push(
      await makeDeviceHome(tmp, name, {
        TCFS_S3_ENDPOINT: `file://${tmp}/store`,
        TCFS_SYNC_ROOT: join(tmp, name, "Sync"),
        TCFS_CONFLICT_MODE: "auto",
        ...env,
      }),
    );
    await Deno.mkdir(join(tmp, name, "Sync"), { recursive: true });
  }
  const root = (d: DeviceHome) => join(d.home, "Sync");
  const sync = async (d: DeviceHome) => {
    await d.tcfsJson<PushSummary>(["push", root(d)], { allowCodes: [3] });
    await d.tcfsJson<PullSummary>(["pull", "tcfs/default/"], { allowCodes: [3] });
  };
  return { tmp, devices, root, sync };
}

/**
 * Every device edits both files, then all sync, two at once; repeated, then settled one by one.
 * Returns the contents that must survive: all written, less those a device edited over.
 */
async function editRounds(fleet: Awaited<ReturnType<typeof autoFleet>>, rounds: number) {
  const written = new Set<string>();
  const editedOver = new Set<string>();
  for (let round = 0; round < rounds; round++) {
    for (const d of fleet.devices) {
      for (const file of FILES) {
        const path = join(fleet.root(d), file);
        const before = await Deno.readTextFile(path).catch(() => undefined);
        if (before !== undefined) editedOver.add(before);
        const content = `${d.name} round ${round} ${file}\n`;
        await Deno.writeTextFile(path, content);
        written.add(content);
      }
    }
    // charlie's edit lands first; alpha and bravo both beat it at once, so both keep a copy of it.
    const [alpha, bravo, charlie] = fleet.devices;
    await fleet.sync(charlie);
    await Promise.all([alpha, bravo].map(fleet.sync));
  }
  for (let pass = 0; pass < 3; pass++) {
    for (const d of fleet.devices) await fleet.sync(d);
  }
  return { written, mustSurvive: [...written].filter((c) => !editedOver.has(c)) };
}

async function tree(dir: string): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  for await (const e of Deno.readDir(dir)) {
    out.set(e.name, await Deno.readTextFile(join(dir, e.name)));
  }
  return out;
}

Deno.test("auto mode, three devices editing two files at once: one copy per losing content, never a copy of a copy, nothing lost", async () => {
  const fleet = await autoFleet({ TCFS_MAX_CONFLICTS: "100" });
  const rounds = 4;
  const { written, mustSurvive } = await editRounds(fleet, rounds);
  const trees = await Promise.all(fleet.devices.map((d) => tree(fleet.root(d))));
  for (const [i, t] of trees.entries()) {
    assert.deepEqual([...t].sort(), [...trees[0]].sort(), `${fleet.devices[i].name} differs`);
  }
  const names = [...trees[0].keys()];
  const contents = new Set(trees[0].values());
  assert.deepEqual(names.filter((n) => n.split(".conflict-").length > 2), [], "copies of copies");
  for (const content of mustSurvive) assert.ok(contents.has(content), `lost: ${content}`);
  for (const file of FILES) {
    const stem = file.replace(/\.txt$/, "");
    const copies = names.filter((n) => n.startsWith(`${stem}.conflict-`)).sort();
    const copyContents = copies.map((n) => trees[0].get(n)!);
    const listing = copies.map((n, i) => `${n}: ${copyContents[i].trim()}`).join("\n");
    // One copy per losing content: each holds a distinct content some device wrote, never
    // the content that stands at the path.
    assert.equal(new Set(copyContents).size, copies.length, `duplicate copies:\n${listing}`);
    for (const content of copyContents) {
      assert.ok(written.has(content), `not a written content: ${content}`);
      assert.notEqual(content, trees[0].get(file), `a copy of the winner:\n${listing}`);
    }
  }
  await Deno.remove(fleet.tmp, { recursive: true });
});
