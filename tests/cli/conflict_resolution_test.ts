import assert from "node:assert/strict";
import { join } from "node:path";
import { type DeviceHome, makeDeviceHome } from "../support/device_home.ts";
import { servicesStoreEnv } from "../support/services_env.ts";
import type { PullSummary, PushSummary } from "../../core/sync/transfer_summary.ts";
import type { QueuedConflict } from "../../core/conflicts/conflict_queue.ts";

/** The seed guide's three hosts, each with a sync_root at ~/Sync. */
async function seedFleet(conflictMode: string) {
  const tmp = await Deno.makeTempDir({ prefix: "tcfs-conflict-" });
  // A bucket of its own, so the fleet registry holds exactly these three devices.
  const bucket = `seed-${crypto.randomUUID().slice(0, 8)}`;
  const namespace = "default";
  const devices: Record<string, DeviceHome> = {};
  for (const name of ["xoxd-bates", "yoga", "petting-zoo-mini"]) {
    const home = join(tmp, name);
    devices[name] = await makeDeviceHome(tmp, name, {
      ...servicesStoreEnv({ bucket }),
      TCFS_NAMESPACE: namespace,
      TCFS_SYNC_ROOT: join(home, "Sync"),
      TCFS_CONFLICT_MODE: conflictMode,
    });
    await Deno.mkdir(join(home, "Sync"), { recursive: true });
    // The root marker `tcfs device enroll` writes; these hosts push their roots without it.
    await Deno.writeTextFile(join(home, "Sync", ".tcfs-root"), "");
  }
  const root = (d: DeviceHome) => join(d.home, "Sync");
  const everything = `${bucket}/${namespace}/`;
  const sync = async (d: DeviceHome, codes: number[] = []) => {
    await d.tcfsJson<PushSummary>(["push", root(d)], { allowCodes: [3, ...codes] });
    return await d.tcfsJson<PullSummary>(["pull", everything], { allowCodes: [3, ...codes] });
  };
  return { tmp, devices, root, sync, everything };
}

/** yoga and xoxd-bates both edit notes.txt from the same base. */
async function concurrentEdit(fleet: Awaited<ReturnType<typeof seedFleet>>) {
  const { devices, root, sync } = fleet;
  const yoga = devices["yoga"];
  const xoxd = devices["xoxd-bates"];
  await Deno.writeTextFile(join(root(yoga), "notes.txt"), "base\n");
  await sync(yoga);
  for (const d of Object.values(devices)) await sync(d);
  await Deno.writeTextFile(join(root(yoga), "notes.txt"), "yoga's edit\n");
  await Deno.writeTextFile(join(root(xoxd), "notes.txt"), "xoxd's edit\n");
  await yoga.tcfsJson<PushSummary>(["push", root(yoga)]);
  return await xoxd.tcfsJson<PushSummary>(["push", root(xoxd)], { allowCodes: [3] });
}

async function files(dir: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for await (const e of Deno.readDir(dir)) {
    if (e.name === ".tcfs-root") continue;
    out[e.name.replace(/\d{8}-\d{6}/, "TS")] = await Deno.readTextFile(join(dir, e.name));
  }
  return out;
}

Deno.test("seed fleet: three hosts enroll at once, yoga pushes, the others pull byte-perfect; a concurrent edit is a conflict, not an overwrite", async () => {
  const fleet = await seedFleet("interactive");
  const { devices, root, sync } = fleet;
  const enrolled = await Promise.all(
    Object.values(devices).map((d) =>
      d.tcfs(["device", "enroll", "--name", d.name, "--no-service", "--json"])
    ),
  );
  for (const result of enrolled) assert.equal(result.code, 0, result.stderr);
  // One of them started the fleet's keys; it lets the other two in.
  const keys = enrolled.map((r) => JSON.parse(r.stdout).keys.keychain);
  assert.deepEqual(keys.toSorted(), ["created", "pending", "pending"]);
  const first = Object.values(devices)[keys.indexOf("created")];
  for (const d of Object.values(devices)) {
    if (d !== first) await first.tcfsJson(["device", "approve", d.name]);
  }
  const fleetList = await devices.yoga.tcfsJson<{ name: string }[]>(["device", "list"]);
  const names = fleetList.map((d) => d.name).sort();
  assert.deepEqual(names, ["petting-zoo-mini", "xoxd-bates", "yoga"]);
  await Deno.writeFile(
    join(root(devices.yoga), "paper.pdf"),
    crypto.getRandomValues(new Uint8Array(40000)),
  );
  await sync(devices.yoga);
  for (const name of ["xoxd-bates", "petting-zoo-mini"]) {
    await sync(devices[name]);
    assert.deepEqual(
      await Deno.readFile(join(root(devices[name]), "paper.pdf")),
      await Deno.readFile(join(root(devices.yoga), "paper.pdf")),
    );
  }
  const pushed = await concurrentEdit(fleet);
  assert.equal(pushed.conflicts.length, 1);
  assert.equal(
    await Deno.readTextFile(join(root(devices["xoxd-bates"]), "notes.txt")),
    "xoxd's edit\n",
  );
  const queue = await devices["xoxd-bates"].tcfsJson<QueuedConflict[]>(["conflicts"]);
  assert.deepEqual(queue.map((c) => [c.path, c.remote_authors]), [["notes.txt", ["yoga"]]]);
  // Non-conflicting changes still flow while the conflict waits.
  await sync(devices["petting-zoo-mini"]);
  assert.equal(
    await Deno.readTextFile(join(root(devices["petting-zoo-mini"]), "notes.txt")),
    "yoga's edit\n",
  );
  await Deno.remove(fleet.tmp, { recursive: true });
});

for (
  const [flag, expected] of [
    ["--keep-local", { "notes.txt": "xoxd's edit\n" }],
    ["--keep-remote", { "notes.txt": "yoga's edit\n" }],
    ["--keep-both", {
      "notes.txt": "yoga's edit\n",
      "notes.conflict-xoxd-bates-TS.txt": "xoxd's edit\n",
    }],
  ] as const
) {
  Deno.test(`resolve-conflict ${flag} gives the same files on every device`, async () => {
    const fleet = await seedFleet("interactive");
    const { devices, root, sync } = fleet;
    await concurrentEdit(fleet);
    const xoxd = devices["xoxd-bates"];
    const resolved = await xoxd.tcfs(["resolve-conflict", join(root(xoxd), "notes.txt"), flag]);
    assert.equal(resolved.code, 0, resolved.stderr);
    assert.deepEqual(await xoxd.tcfsJson<QueuedConflict[]>(["conflicts"]), []);
    for (const d of Object.values(devices)) {
      await sync(d);
      assert.deepEqual(await files(root(d)), expected, d.name);
    }
    await Deno.remove(fleet.tmp, { recursive: true });
  });
}

Deno.test("auto mode: the smaller device name wins and the loser's copy is kept and pushed", async () => {
  const fleet = await seedFleet("auto");
  const { devices, root, sync } = fleet;
  const pushed = await concurrentEdit(fleet);
  assert.deepEqual(pushed.conflicts, []);
  assert.equal(pushed.auto_resolved.length, 1);
  // "xoxd-bates" < "yoga": xoxd's edit stands, yoga's is kept as a conflict copy.
  const expected = { "notes.txt": "xoxd's edit\n", "notes.conflict-yoga-TS.txt": "yoga's edit\n" };
  for (const d of Object.values(devices)) {
    await sync(d);
    assert.deepEqual(await files(root(d)), expected, d.name);
  }
  await Deno.remove(fleet.tmp, { recursive: true });
});

Deno.test("deletion against modification: the modification wins and the delete is reported", async () => {
  const fleet = await seedFleet("interactive");
  const { devices, root, sync } = fleet;
  const yoga = devices.yoga;
  const xoxd = devices["xoxd-bates"];
  await Deno.writeTextFile(join(root(yoga), "draft.txt"), "v1");
  await sync(yoga);
  await sync(xoxd);
  await Deno.remove(join(root(yoga), "draft.txt"));
  await yoga.tcfsJson<PushSummary>(["push", root(yoga)]);
  await Deno.writeTextFile(join(root(xoxd), "draft.txt"), "v2 from xoxd");
  const pulled = await xoxd.tcfsJson<PullSummary>(["pull", fleet.everything]);
  assert.equal(pulled.kept_modified.length, 1);
  const pushed = await xoxd.tcfsJson<PushSummary>(["push", root(xoxd)]);
  assert.equal(pushed.resurrected.length, 1);
  await sync(yoga);
  assert.equal(await Deno.readTextFile(join(root(yoga), "draft.txt")), "v2 from xoxd");
  await Deno.remove(fleet.tmp, { recursive: true });
});
