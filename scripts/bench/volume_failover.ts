/**
 * A volume server lost mid-push, on a private SeaweedFS cluster (one master, a filer, volume
 * servers in one rack, the S3 gateway; tests/support/seaweedfs_cluster.ts). Each round writes
 * `--mib` MiB of new files on device A and pushes them; once the push's first pack has landed,
 * the volume server holding that pack's volume is killed. A failed push is run again until one
 * completes (at most `--max-pushes` per round); the killed server is restarted after the round.
 * At the end, `tcfs check --read-data` and a full pull on device B (compared byte for byte) must
 * find nothing missing. Prints per round: pushes that failed, pushes re-run, seconds from the
 * first push's start to a completed push.
 *
 * Usage: `$DENO run -A scripts/bench/volume_failover.ts [--rounds 3] [--mib 48]
 *   [--volume-servers 3] [--replication 001] [--max-pushes 5]`
 *
 * @module
 */

import { join } from "node:path";
import { parseArgs } from "node:util";
import { cliResult, type DeviceHome, makeDeviceHome } from "../../tests/support/device_home.ts";
import { makeScopedTempDir } from "../../tests/support/module_unload.ts";
import { writeRandomFile } from "../../tests/support/random_bytes.ts";
import { startSeaweedFSCluster } from "../../tests/support/seaweedfs_cluster.ts";
import { snapshotTree } from "../../tests/support/tree_compare.ts";
import { createS3Store } from "../../core/store/s3_store.ts";

const args = parseArgs({
  options: {
    rounds: { type: "string", default: "3" },
    mib: { type: "string", default: "48" },
    "volume-servers": { type: "string", default: "3" },
    replication: { type: "string", default: "001" },
    "max-pushes": { type: "string", default: "5" },
  },
}).values;
const rounds = Number(args.rounds);
const fileBytes = 4 * 1024 * 1024;
const filesPerRound = Math.max(1, Math.round(Number(args.mib) / 4));
const maxPushes = Number(args["max-pushes"]);
const REPO = new URL("../../", import.meta.url).pathname;

const tmp = await makeScopedTempDir("tcfs-bench-volume-failover-");
await using cluster = await startSeaweedFSCluster({
  volumeServers: Number(args["volume-servers"]),
  replication: args.replication,
});
const env = {
  TCFS_S3_ENDPOINT: cluster.endpoint,
  TCFS_S3_ACCESS: cluster.access,
  TCFS_S3_SECRET: cluster.secret,
  TCFS_S3_BUCKET: cluster.bucket,
};
const a = await makeDeviceHome(tmp.path, "devA", env);
const b = await makeDeviceHome(tmp.path, "devB", env);
const src = join(a.home, "lab");
const store = createS3Store({
  endpoint: cluster.endpoint,
  bucket: cluster.bucket,
  region: "us-east-1",
  credentials: { accessKeyId: cluster.access, secretAccessKey: cluster.secret },
});

/** The packs in the store now. */
async function packKeys(): Promise<Set<string>> {
  return new Set((await Array.fromAsync(store.list("packs/"))).map((info) => info.key));
}

/** Waits for a pack not in `before`, or for the push to end first (then undefined). */
async function newPack(before: Set<string>, ended: () => boolean): Promise<string | undefined> {
  while (!ended()) {
    for (const key of await packKeys()) if (!before.has(key)) return key;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

function pushCommand(device: DeviceHome): Deno.ChildProcess {
  return new Deno.Command(join(REPO, "scripts/tcfs"), {
    args: ["push", src],
    env: device.env,
    clearEnv: true,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
}

console.log(
  `volume failover: ${cluster.volumeServers.length} volume servers, replication ${args.replication}, ` +
    `${rounds} rounds of ${filesPerRound} x 4 MiB`,
);
console.log("round | killed | first push | failed pushes | re-runs | s to completion");
let totalFailed = 0;
let totalReruns = 0;
let failures: string[] = [];
for (let round = 1; round <= rounds; round++) {
  const dir = join(src, `round-${round}`);
  await Deno.mkdir(dir, { recursive: true });
  for (let i = 0; i < filesPerRound; i++) {
    await writeRandomFile(join(dir, `f-${i}.bin`), fileBytes, round * 1000 + i);
  }
  const before = await packKeys();
  const start = performance.now();
  const child = pushCommand(a);
  let ended = false;
  const output = child.output().finally(() => ended = true);
  const pack = await newPack(before, () => ended);
  const [holder] = pack ? await cluster.volumeServersHolding(pack) : [];
  if (holder !== undefined) await cluster.killVolumeServer(holder);
  const killed = holder === undefined ? "none (push ended first)" : `volume-${holder}`;
  let result = cliResult(await output);
  const firstCode = result.code;
  let failed = 0;
  let reruns = 0;
  while (result.code !== 0 && reruns < maxPushes - 1) {
    failed++;
    failures.push(result.stderr.trim().split("\n")[0]);
    reruns++;
    result = await a.tcfs(["push", src]);
  }
  if (result.code !== 0) {
    failed++;
    failures.push(result.stderr.trim().split("\n")[0]);
  }
  const seconds = ((performance.now() - start) / 1000).toFixed(1);
  totalFailed += failed;
  totalReruns += reruns;
  console.log(
    `${round} | ${killed} | exit ${firstCode} | ${failed} | ${reruns} | ${
      result.code === 0 ? seconds : "never"
    }`,
  );
  if (holder !== undefined) await cluster.restartVolumeServer(holder);
}
failures = [...new Set(failures)];
if (failures.length > 0) console.log(`push errors seen:\n  ${failures.join("\n  ")}`);

const check = await b.tcfs(["check", "--read-data", "--json"]);
const report = JSON.parse(check.stdout || "{}");
const pulled = await b.tcfs(["pull", "tcfs/default/lab", join(b.home, "lab")]);
const same = pulled.code === 0 &&
  JSON.stringify([...await snapshotTree(join(b.home, "lab"))].sort()) ===
    JSON.stringify([...await snapshotTree(src)].sort());
console.log(
  `total: ${totalFailed} failed pushes, ${totalReruns} re-runs; check --read-data: exit ${check.code}, ` +
    `${report.versions_checked ?? "?"} versions, ${report.problems?.length ?? "?"} problems; ` +
    `full pull on B byte for byte: ${same ? "identical" : "DIFFERENT"}`,
);
store.close();
await tmp.remove();
if (check.code !== 0 || !same) Deno.exit(1);
