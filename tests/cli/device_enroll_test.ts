import assert from "node:assert/strict";
import { parse as parseToml } from "smol-toml";
import { join } from "node:path";
import { type DeviceHome, makeDeviceHome } from "../support/device_home.ts";
import { freshFleetBucket } from "../support/fleet_bucket.ts";
import { verifyUnit } from "../platform/systemd_verify.ts";
import { parsePlist } from "../platform/plist_parse.ts";
import { DEVICES_INDEX_KEY } from "../../core/remote/remote_keys.ts";
import type { DeviceIndex, DeviceRecord } from "../../core/device/device_record.ts";

/** What `device enroll --json` prints. */
interface EnrollJson {
  id: string;
  name: string;
  id_origin: string;
  replaced_device: string | null;
  index: { current: boolean; attempts: number };
  age_public_key: string;
  age_key_file: string;
  age_key_created: boolean;
  config_file: string;
  env_file: { path: string; added: string[]; changed: string[] };
  service: {
    manager: string;
    path: string;
    written: string;
    started: boolean;
    not_started_reason: string | null;
  } | null;
}

type ListedDevice = DeviceRecord & { status: string; this_device: boolean };

const LAUNCHER = new URL("../../scripts/tcfs", import.meta.url).pathname;

async function setUp(prefix: string) {
  const tmp = await Deno.makeTempDir({ prefix: `tcfs-${prefix}-` });
  const fleet = freshFleetBucket();
  const home = (name: string) => makeDeviceHome(tmp, name, fleet.env);
  return { tmp, fleet, home };
}

function enroll(device: DeviceHome, args: string[] = []) {
  return device.tcfsJson<EnrollJson>(["device", "enroll", "--name", device.name, ...args]);
}

async function readIndex(fleet: ReturnType<typeof freshFleetBucket>): Promise<DeviceIndex> {
  await using store = await fleet.openStore();
  return JSON.parse(new TextDecoder().decode(await store.get(DEVICES_INDEX_KEY)));
}

async function ageKeygenPublic(path: string): Promise<string> {
  const output = await new Deno.Command("age-keygen", { args: ["-y", path] }).output();
  assert.equal(output.code, 0, new TextDecoder().decode(output.stderr));
  return new TextDecoder().decode(output.stdout).trim();
}

Deno.test("ten devices enroll at once; device list and devices.json both hold all ten", async () => {
  const { tmp, fleet, home } = await setUp("ten");
  const devices = await Promise.all(Array.from({ length: 10 }, (_, i) => home(`host-${i}`)));
  const started = performance.now();
  const results = await Promise.all(
    devices.map((d) => d.tcfs(["device", "enroll", "--name", d.name, "--no-service", "--json"])),
  );
  const seconds = (performance.now() - started) / 1000;
  for (const r of results) assert.equal(r.code, 0, `${r.stdout}\n${r.stderr}`);
  const enrolled = results.map((r) => JSON.parse(r.stdout) as EnrollJson);
  const attempts = enrolled.map((e) => e.index.attempts);
  console.log(
    `10 concurrent enrollments: ${seconds.toFixed(2)} s; index attempts ${attempts.join(",")}`,
  );
  const expected = enrolled.map((e) => `${e.name} ${e.id}`).sort();
  assert.equal(new Set(enrolled.map((e) => e.id)).size, 10);

  const listed = await devices[3].tcfsJson<ListedDevice[]>(["device", "list"]);
  assert.deepEqual(listed.map((d) => `${d.name} ${d.id}`).sort(), expected);
  assert.deepEqual(listed.filter((d) => d.this_device).map((d) => d.name), ["host-3"]);
  assert.ok(listed.every((d) => d.status === "active" && !d.revoked));
  const index = await readIndex(fleet);
  assert.deepEqual(index.devices.map((d) => `${d.name} ${d.id}`).sort(), expected);
  assert.deepEqual(
    index.devices.map((d) => d.age_public_key).sort(),
    enrolled.map((e) => e.age_public_key).sort(),
  );
  await Deno.remove(tmp, { recursive: true });
});

Deno.test("the same device keeps its id: re-enrolling, and after deleting ~/.config/tcfs", async () => {
  const { tmp, home } = await setUp("reenroll");
  const a = await home("devA");
  const first = await enroll(a, ["--no-service"]);
  assert.equal(first.id_origin, "new");
  assert.equal(first.age_key_created, true);
  assert.equal(first.age_key_file, join(a.home, ".config/sops/age/keys.txt"));
  assert.equal((await Deno.stat(first.age_key_file)).mode! & 0o777, 0o600);
  assert.equal(await ageKeygenPublic(first.age_key_file), first.age_public_key);

  const again = await enroll(a, ["--no-service"]);
  assert.equal(again.id, first.id);
  assert.equal(again.id_origin, "device_file");
  assert.equal(again.age_public_key, first.age_public_key);

  await Deno.remove(join(a.home, ".config/tcfs"), { recursive: true });
  const recovered = await enroll(a, ["--no-service"]);
  assert.equal(recovered.id, first.id);
  assert.equal(recovered.id_origin, "age_key");
  const status = await a.tcfsJson<{ id: string; registration: { state: string } }>([
    "device",
    "status",
  ]);
  assert.equal(status.id, first.id);
  assert.equal(status.registration.state, "active");
  await Deno.remove(tmp, { recursive: true });
});

Deno.test("another machine can't take a live device's name without --replace", async () => {
  const { tmp, home } = await setUp("replace");
  const a = await home("devA");
  const original = await enroll(a, ["--no-service"]);
  const b = await home("devB");
  const refused = await b.tcfs(["device", "enroll", "--name", "devA", "--no-service"]);
  assert.equal(refused.code, 1);
  assert.match(refused.stderr, /the name "devA" belongs to another device/);
  assert.match(refused.stderr, /--replace/);
  assert.equal(await Deno.stat(join(b.home, ".config/tcfs/config.toml")).catch(() => null), null);

  const taken = await b.tcfsJson<EnrollJson>([
    "device",
    "enroll",
    "--name",
    "devA",
    "--no-service",
    "--replace",
  ]);
  assert.notEqual(taken.id, original.id);
  assert.equal(taken.replaced_device, original.id);
  const listed = await b.tcfsJson<ListedDevice[]>(["device", "list"]);
  const byId = new Map(listed.map((d) => [d.id, d]));
  assert.equal(byId.get(original.id)?.status, "replaced");
  assert.equal(byId.get(taken.id)?.status, "active");
  await Deno.remove(tmp, { recursive: true });
});

Deno.test("an existing ~/.config/sops/age/keys.txt is reused as it is", async () => {
  const { tmp, home } = await setUp("agekey");
  const a = await home("devA");
  const keyFile = join(a.home, ".config/sops/age/keys.txt");
  await Deno.mkdir(join(a.home, ".config/sops/age"), { recursive: true });
  const made = await new Deno.Command("age-keygen", { args: ["-o", keyFile], stderr: "null" })
    .output();
  assert.equal(made.code, 0);
  const before = await Deno.readTextFile(keyFile);
  const enrolled = await enroll(a, ["--no-service"]);
  assert.equal(enrolled.age_key_created, false);
  assert.equal(enrolled.age_public_key, await ageKeygenPublic(keyFile));
  assert.equal(await Deno.readTextFile(keyFile), before);
  await Deno.remove(tmp, { recursive: true });
});

Deno.test("a corrupt devices.json is rebuilt by the next list and the next enroll", async () => {
  const { tmp, fleet, home } = await setUp("corrupt");
  const a = await home("devA");
  const enrolledA = await enroll(a, ["--no-service"]);
  const garbage = new TextEncoder().encode("\u0000{not json at all");
  {
    await using store = await fleet.openStore();
    await store.put(DEVICES_INDEX_KEY, garbage);
  }
  const listed = await a.tcfsJson<ListedDevice[]>(["device", "list"]);
  assert.deepEqual(listed.map((d) => d.id), [enrolledA.id]);
  assert.deepEqual((await readIndex(fleet)).devices.map((d) => d.id), [enrolledA.id]);

  {
    await using store = await fleet.openStore();
    await store.put(DEVICES_INDEX_KEY, garbage);
  }
  const b = await home("devB");
  const enrolledB = await enroll(b, ["--no-service"]);
  assert.deepEqual(
    (await readIndex(fleet)).devices.map((d) => d.id).sort(),
    [enrolledA.id, enrolledB.id].sort(),
  );
  await Deno.remove(tmp, { recursive: true });
});

Deno.test("bad names and bad flags are refused (exit 2) before anything is written", async () => {
  const { tmp, home } = await setUp("badname");
  const a = await home("devA");
  const cases: [string[], RegExp][] = [
    [["--name", "../x"], /invalid device name "\.\.\/x"/],
    [["--name", ""], /invalid device name "": it is empty/],
    [["--name", "x".repeat(300)], /longer than 64/],
    [["--name", "two words"], /invalid device name/],
    [["--name", "ok", "--conflict-mode", "sometimes"], /--conflict-mode "sometimes" is not valid/],
    [["--name", "ok", "--bucket", "Not_A_Bucket"], /--bucket "Not_A_Bucket" is not valid/],
    [["--name", "ok", "--start", "--no-service"], /contradict/],
    [
      ["--name", "ok", "--nats-url", "nats://a:4222,b.lab:4222"],
      /--nats-url .* is not valid: entry 2 of 2, "b\.lab:4222", is not valid/,
    ],
    [["--name", "ok", "--mount", "/srv/x=nonsense"], /--mount "\/srv\/x=nonsense" is not valid/],
  ];
  for (const [args, message] of cases) {
    const result = await a.tcfs(["device", "enroll", ...args]);
    assert.equal(result.code, 2, `${args.join(" ")}: ${result.stderr}`);
    assert.match(result.stderr, message);
    assert.match(result.stderr, /hint:/);
  }
  const json = await a.tcfs(["device", "enroll", "--name", "../x", "--json"]);
  assert.equal(JSON.parse(json.stdout).error.kind, "invalid_device_name");
  for (const written of [".config/tcfs", ".config/sops"]) {
    assert.equal(await Deno.stat(join(a.home, written)).catch(() => null), null, written);
  }
  await Deno.remove(tmp, { recursive: true });
});

Deno.test("flags go to the config, shell credentials to a 0600 env file, and the unit verifies", async () => {
  const { tmp, fleet, home } = await setUp("flags");
  const a = await home("devA");
  const syncRoot = join(a.home, "My Sync");
  const result = await a.tcfs([
    "device",
    "enroll",
    "--name",
    "devA",
    "--namespace",
    "lab",
    "--nats-url",
    "nats://127.0.0.1:14222",
    "--sync-root",
    syncRoot,
    "--conflict-mode",
    "auto",
    "--mount",
    join(a.home, "fleet"),
    "--mount",
    `${join(a.home, "papers")}=${fleet.bucket}/lab/papers`,
    "--start",
  ]);
  assert.equal(result.code, 0, result.stderr);
  // No systemd user manager runs here: enrollment succeeds and says so plainly.
  assert.match(result.stdout, /not started: no systemd user manager is running for this user/);
  const config = await Deno.readTextFile(join(a.home, ".config/tcfs/config.toml"));
  for (const line of ['device_name = "devA"', 'namespace = "lab"', 'conflict_mode = "auto"']) {
    assert.ok(config.includes(line), config);
  }
  assert.ok(config.includes(`sync_root = ${JSON.stringify(syncRoot)}`), config);
  const mounts = [join(a.home, "fleet"), `${join(a.home, "papers")}=${fleet.bucket}/lab/papers`];
  assert.deepEqual((parseToml(config).mount as { mounts: string[] }).mounts, mounts);
  assert.match(result.stdout, new RegExp(`mount +${join(a.home, "fleet")} \\(by the daemon\\)`));
  const envFile = join(a.home, ".config/tcfs/env");
  assert.equal((await Deno.stat(envFile)).mode! & 0o777, 0o600);
  const envText = await Deno.readTextFile(envFile);
  assert.ok(envText.includes(`TCFS_S3_BUCKET="${fleet.bucket}"`));
  assert.match(envText, /^TCFS_S3_SECRET=/m);
  assert.ok(!result.stdout.includes(fleet.env.TCFS_S3_SECRET), "the secret is never printed");

  const unitPath = join(a.home, ".config/systemd/user/tcfsd.service");
  const unit = await Deno.readTextFile(unitPath);
  assert.match(unit, new RegExp(`^ExecStart=${LAUNCHER} daemon$`, "m"));
  assert.match(unit, new RegExp(`^EnvironmentFile=-${envFile}$`, "m"));
  const verdict = await verifyUnit(unit);
  assert.deepEqual(verdict.problems, [], verdict.problems.join("\n"));

  const status = await a.tcfsJson<{ service: { path: string; installed: boolean } }>([
    "device",
    "status",
  ]);
  assert.deepEqual([status.service.path, status.service.installed], [unitPath, true]);
  await Deno.remove(tmp, { recursive: true });
});

Deno.test("on macOS enroll writes the launchd agent the deployment guide describes", async () => {
  const { tmp, home } = await setUp("plist");
  const a = await home("devA");
  const result = await a.tcfs(["device", "enroll", "--name", "devA", "--json"], {
    env: { TCFS_SERVICE_PLATFORM: "darwin" },
  });
  assert.equal(result.code, 0, result.stderr);
  const enrolled = JSON.parse(result.stdout) as EnrollJson;
  assert.equal(
    enrolled.service?.path,
    join(a.home, "Library/LaunchAgents/com.tummycrypt.tcfsd.plist"),
  );
  const plist = await parsePlist(await Deno.readTextFile(enrolled.service!.path)) as Record<
    string,
    unknown
  >;
  assert.equal(plist.Label, "com.tummycrypt.tcfsd");
  assert.deepEqual(plist.ProgramArguments, [LAUNCHER, "daemon"]);
  assert.equal(plist.RunAtLoad, true);
  assert.equal(plist.KeepAlive, true);
  assert.equal(plist.StandardOutPath, "/tmp/tcfsd.stdout.log");
  assert.equal(plist.StandardErrorPath, "/tmp/tcfsd.stderr.log");
  assert.deepEqual(plist.EnvironmentVariables, { TCFS_CONFIG: enrolled.config_file });
  await Deno.remove(tmp, { recursive: true });
});
