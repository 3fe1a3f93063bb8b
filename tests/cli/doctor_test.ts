import assert from "node:assert/strict";
import { join } from "node:path";
import { jetstreamManager } from "@nats-io/jetstream";
import { ensureStateStream } from "../../daemon/nats/state_stream.ts";
import { connectNats } from "../../core/events/nats_transport.ts";
import { type DeviceHome, makeDeviceHome } from "../support/device_home.ts";
import { freePorts } from "../support/free_port.ts";
import { makeScopedTempDir } from "../support/module_unload.ts";
import { startNatsServer } from "../support/nats_process.ts";
import { startNatsCluster } from "../support/nats_cluster.ts";
import { servicesEnv, servicesStoreEnv } from "../support/services_env.ts";
import { servicesStore } from "../support/services_store.ts";

interface Check {
  name: string;
  status: "ok" | "warn" | "fail";
  detail: string;
  fix?: string;
}

interface Report {
  ok: boolean;
  summary: { ok: number; warn: number; fail: number };
  checks: Check[];
}

const CHECK_NAMES = [
  "credentials",
  "store reachable",
  "bucket exists",
  "bucket writable",
  "clock skew",
  "nats reachable",
  "jetstream stream",
  "daemon",
  "one installation",
  "keys",
  "service unit",
];

/** A device using the services SeaweedFS and `natsUrl`, with its own (unused) socket. */
async function servicesDevice(parent: string, natsUrl: string): Promise<DeviceHome> {
  return await makeDeviceHome(parent, "doctor-dev", {
    ...servicesStoreEnv(),
    TCFS_NATS_URL: natsUrl,
    TCFS_SOCKET: join(parent, "doctor-dev", "run", "tcfsd.sock"),
  });
}

async function doctorJson(device: DeviceHome, env: Record<string, string> = {}) {
  const result = await device.tcfs(["doctor", "--json"], { env });
  assert.ok(!result.stdout.includes(servicesEnv().s3Secret), "the secret key was shown");
  return { code: result.code, report: JSON.parse(result.stdout) as Report };
}

function byName(report: Report): Record<string, Check> {
  return Object.fromEntries(report.checks.map((check) => [check.name, check]));
}

async function ensureServicesStream(natsUrl: string): Promise<void> {
  const nc = await connectNats({ servers: natsUrl.replace(/^nats:\/\//, "") });
  try {
    await ensureStateStream(await jetstreamManager(nc), 1, () => {});
  } finally {
    await nc.close();
  }
}

Deno.test("doctor against the services SeaweedFS and NATS: every connectivity check is ok", async () => {
  const tmp = await makeScopedTempDir("tcfs-doctor-");
  try {
    const { natsUrl } = servicesEnv();
    await ensureServicesStream(natsUrl);
    const device = await servicesDevice(tmp.path, natsUrl);
    const { code, report } = await doctorJson(device);
    assert.equal(code, 0, JSON.stringify(report, null, 2));
    assert.deepEqual(report.checks.map((check) => check.name), CHECK_NAMES);
    const checks = byName(report);
    for (const name of CHECK_NAMES.slice(0, 7)) {
      assert.equal(checks[name].status, "ok", `${name}: ${checks[name].detail}`);
      assert.equal(checks[name].fix, undefined);
    }
    assert.match(checks.credentials.detail, /S3 keys from env:TCFS_S3_ACCESS/);
    assert.match(checks["bucket writable"].detail, /tcfs-meta\/doctor\/doctor-dev-[0-9a-f]{12}/);
    assert.match(checks["jetstream stream"].detail, /STATE_UPDATES/);
    // Nothing runs in this home: these two say what to do.
    assert.equal(checks.daemon.status, "warn");
    assert.match(checks.daemon.fix!, /systemctl --user start tcfsd|tcfs daemon/);
    assert.equal(checks["service unit"].status, "warn");
    assert.match(checks["service unit"].fix!, /tcfs device enroll/);
    assert.deepEqual(report.summary, { ok: 9, warn: 2, fail: 0 });
    assert.equal(report.ok, true);

    const unit = join(device.home, ".config", "systemd", "user", "tcfsd.service");
    await Deno.mkdir(join(unit, ".."), { recursive: true });
    await Deno.writeTextFile(unit, "[Unit]\nDescription=tcfs\n");
    assert.equal(byName((await doctorJson(device)).report)["service unit"].status, "ok");

    using store = servicesStore();
    const probes = await Array.fromAsync(store.list("tcfs-meta/doctor/doctor-dev-"));
    assert.deepEqual(probes, [], "the probe objects were deleted");
  } finally {
    await tmp.remove();
  }
});

Deno.test("doctor with S3's port closed fails that line with the fix and exits 1", async () => {
  const tmp = await makeScopedTempDir("tcfs-doctor-");
  try {
    const device = await servicesDevice(tmp.path, servicesEnv().natsUrl);
    const [closed] = freePorts(1);
    const env = { TCFS_S3_ENDPOINT: `http://127.0.0.1:${closed}` };
    const text = await device.tcfs(["doctor"], { env });
    assert.equal(text.code, 1, text.stdout + text.stderr);
    const lines = text.stdout.split("\n");
    const failed = lines.findIndex((line) =>
      /^fail +store reachable +cannot reach S3 at/.test(line)
    );
    assert.ok(failed >= 0, text.stdout);
    assert.match(lines[failed + 1], /^ +fix: check \[storage\] endpoint \(or TCFS_S3_ENDPOINT\)/);
    assert.match(text.stdout, /\d+ ok, \d+ warn, 1 fail$/m);

    const { code, report } = await doctorJson(device, env);
    assert.equal(code, 1);
    assert.equal(report.ok, false);
    const checks = byName(report);
    assert.equal(checks["store reachable"].status, "fail");
    assert.match(checks["store reachable"].detail, new RegExp(`127\\.0\\.0\\.1:${closed}`));
    assert.ok(checks["store reachable"].fix);
    for (const name of ["bucket exists", "bucket writable", "clock skew"]) {
      assert.equal(checks[name].status, "warn");
      assert.match(checks[name].detail, /^not checked: S3 is not reachable/);
    }
    assert.equal(checks["nats reachable"].status, "ok");
  } finally {
    await tmp.remove();
  }
});

Deno.test("doctor: NATS down fails, a missing stream warns, no NATS configured is ok", async () => {
  const tmp = await makeScopedTempDir("tcfs-doctor-");
  try {
    await using nats = await startNatsServer();
    const device = await servicesDevice(tmp.path, nats.url);
    const fresh = byName((await doctorJson(device)).report);
    assert.equal(fresh["nats reachable"].status, "ok");
    assert.equal(fresh["jetstream stream"].status, "warn");
    assert.match(fresh["jetstream stream"].detail, /STATE_UPDATES does not exist yet/);
    assert.match(fresh["jetstream stream"].fix!, /it creates the stream/);

    await nats.stop();
    const { code, report } = await doctorJson(device);
    assert.equal(code, 1);
    const down = byName(report);
    assert.equal(down["nats reachable"].status, "fail");
    assert.match(
      down["nats reachable"].detail,
      new RegExp(`cannot connect to NATS at ${nats.url}`),
    );
    assert.match(down["nats reachable"].fix!, /nats_url/);

    const none = byName((await doctorJson(device, { TCFS_NATS_URL: "" })).report);
    assert.equal(none["nats reachable"].status, "ok");
    assert.match(none["nats reachable"].detail, /^not configured: .*polls the store/);
  } finally {
    await tmp.remove();
  }
});

Deno.test("doctor on a NATS cluster: names the server that answered, warns of a 1-replica stream", async () => {
  const tmp = await makeScopedTempDir("tcfs-doctor-cluster-");
  await using cluster = await startNatsCluster();
  try {
    const [deadPort] = freePorts(1);
    const natsUrl = `nats://127.0.0.1:${deadPort},${cluster.urls}`;
    const nc = await connectNats({ servers: cluster.nodes[0].url.replace("nats://", "") });
    try {
      await ensureStateStream(await jetstreamManager(nc), 1, () => {});
    } finally {
      await nc.close();
    }
    const device = await servicesDevice(tmp.path, natsUrl);
    const checks = byName((await doctorJson(device)).report);
    assert.equal(checks["nats reachable"].status, "ok", checks["nats reachable"].detail);
    assert.match(
      checks["nats reachable"].detail,
      new RegExp(
        `^connected to ${cluster.nodes[0].url} \\(server ${cluster.nodes[0].serverName}; ` +
          "first to answer of nats://",
      ),
    );
    const stream = checks["jetstream stream"];
    assert.equal(stream.status, "warn", stream.detail);
    assert.match(stream.detail, /1 replica, leader on .*not the 3 wanted/);
    assert.match(stream.fix!, /nats stream edit STATE_UPDATES --replicas 3/);

    const invalid = await device.tcfs(["doctor"], { env: { TCFS_NATS_URL: `${natsUrl},nats//x` } });
    assert.equal(invalid.code, 2, invalid.stderr);
    assert.match(invalid.stderr, /TCFS_NATS_URL.*entry 5 of 5, "nats\/\/x", is not valid/);
  } finally {
    await tmp.remove();
  }
});
