import assert from "node:assert/strict";
import { join } from "node:path";
import { type DeviceHome, makeDeviceHome } from "../support/device_home.ts";
import { makeScopedTempDir } from "../support/module_unload.ts";

interface Check {
  name: string;
  status: "ok" | "warn" | "fail";
  detail: string;
  fix?: string;
}

async function installationCheck(device: DeviceHome) {
  const result = await device.tcfs(["doctor", "--json"]);
  const checks = (JSON.parse(result.stdout) as { checks: Check[] }).checks;
  return { code: result.code, check: checks.find((c) => c.name === "one installation")! };
}

Deno.test("doctor fails when a copy of this device's home writes as the same device", async () => {
  const tmp = await makeScopedTempDir("tcfs-doctor-clone-");
  try {
    const storeEnv = {
      TCFS_S3_ENDPOINT: `file://${tmp.path}/store`,
      TCFS_SOCKET: join(tmp.path, "no-daemon.sock"),
    };
    const original = await makeDeviceHome(tmp.path, "devA", storeEnv);
    await Deno.writeTextFile(join(original.home, "a.txt"), "from the original\n");
    const first = await original.tcfs(["push", join(original.home, "a.txt"), "tcfs/default/a.txt"]);
    assert.equal(first.code, 0, first.stderr);
    const alone = await installationCheck(original);
    assert.equal(alone.check.status, "ok", alone.check.detail);
    assert.match(alone.check.detail, /devA writes from this installation only/);

    // A copied home (as a cloned VM image carries it) used beside the original.
    const clone = await makeDeviceHome(join(tmp.path, "copy"), "devA", storeEnv);
    const copied = await new Deno.Command("cp", {
      args: ["-a", `${original.home}/.config`, `${original.home}/.local`, clone.home],
    }).output();
    assert.equal(copied.code, 0, new TextDecoder().decode(copied.stderr));
    await Deno.writeTextFile(join(clone.home, "b.txt"), "from the clone\n");
    const cloned = await clone.tcfs(["push", join(clone.home, "b.txt"), "tcfs/default/b.txt"]);
    assert.equal(cloned.code, 0, cloned.stderr);

    for (const [device, other] of [[original, clone], [clone, original]]) {
      const { code, check } = await installationCheck(device);
      assert.equal(code, 1);
      assert.equal(check.status, "fail", check.detail);
      assert.match(check.detail, /a cloned machine or a copied home/);
      assert.ok(
        check.detail.includes(join(other.home, ".local/state/tcfs/state.db")),
        check.detail,
      );
      assert.match(check.fix!, /remove .*device\.json, then run tcfs device enroll --name/);
    }
  } finally {
    await tmp.remove();
  }
});
