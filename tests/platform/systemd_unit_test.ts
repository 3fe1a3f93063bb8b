import assert from "node:assert/strict";
import { join } from "node:path";
import { renderSystemdUnit } from "../../platform/systemd_unit.ts";
import type { ServiceSpec } from "../../platform/service_spec.ts";
import { TcfsError } from "../../core/errors.ts";
import { verifyUnit } from "./systemd_verify.ts";

async function executableIn(dir: string): Promise<string> {
  await Deno.mkdir(dir, { recursive: true });
  const path = join(dir, "tcfs");
  await Deno.writeTextFile(path, "#!/bin/sh\nexit 0\n", { mode: 0o755 });
  return path;
}

function spec(program: string, base: string, system = false): ServiceSpec {
  return {
    program: [program, "daemon"],
    envFile: join(base, ".config", "tcfs", "env"),
    environment: { TCFS_CONFIG: join(base, ".config", "tcfs", "config.toml") },
    system,
  };
}

Deno.test("the user unit passes systemd-analyze verify and has the settings enroll promises", async () => {
  const tmp = await Deno.makeTempDir({ prefix: "tcfs-unit-" });
  const program = await executableIn(join(tmp, "bin"));
  const text = renderSystemdUnit(spec(program, tmp));
  const result = await verifyUnit(text);
  assert.deepEqual(result.problems, [], result.problems.join("\n"));
  assert.match(text, /^Type=notify$/m);
  assert.match(text, /^NotifyAccess=all$/m);
  assert.match(text, /^After=network-online\.target$/m);
  assert.match(text, /^Wants=network-online\.target$/m);
  assert.match(text, /^Restart=on-failure$/m);
  assert.match(text, /^RestartSec=5s$/m);
  assert.match(text, /^WantedBy=default\.target$/m);
  assert.equal(result.dump.get("Command Line"), `${program} daemon`);
  assert.equal(result.dump.get("EnvironmentFile"), `-${join(tmp, ".config/tcfs/env")}`);
  await Deno.remove(tmp, { recursive: true });
});

Deno.test("the system unit passes systemd-analyze verify and is wanted by multi-user.target", async () => {
  const tmp = await Deno.makeTempDir({ prefix: "tcfs-unit-" });
  const program = await executableIn(join(tmp, "bin"));
  const text = renderSystemdUnit(spec(program, tmp, true));
  const result = await verifyUnit(text);
  assert.deepEqual(result.problems, [], result.problems.join("\n"));
  assert.match(text, /^WantedBy=multi-user\.target$/m);
  await Deno.remove(tmp, { recursive: true });
});

Deno.test("paths with spaces, % and $ survive systemd's quoting, specifiers and expansion", async () => {
  const tmp = await Deno.makeTempDir({ prefix: "tcfs-unit-" });
  const odd = join(tmp, "My Apps 100% $HOME");
  const program = await executableIn(odd);
  const unit = spec(program, odd);
  unit.environment.TCFS_CONFIG = join(odd, 'a "quoted" \\ name.toml');
  const result = await verifyUnit(renderSystemdUnit(unit));
  assert.deepEqual(result.problems, [], result.problems.join("\n"));
  // systemd's dump re-quotes the command line and escapes `$` and `"` in it.
  assert.equal(result.dump.get("Command Line"), `"${program.replaceAll("$", "\\$")}" daemon`);
  assert.equal(result.dump.get("EnvironmentFile"), `-${unit.envFile}`);
  assert.equal(result.dump.get("Environment"), `TCFS_CONFIG=${unit.environment.TCFS_CONFIG}`);
  await Deno.remove(tmp, { recursive: true });
});

Deno.test("the verify check fails on a broken unit (so the checks above can fail)", async () => {
  const tmp = await Deno.makeTempDir({ prefix: "tcfs-unit-" });
  const program = await executableIn(join(tmp, "bin"));
  const good = renderSystemdUnit(spec(program, tmp));
  const typo = await verifyUnit(good.replace("Type=notify", "Type=notifyy"));
  assert.ok(typo.problems.some((p) => p.includes("notifyy")), typo.problems.join("\n"));
  const unknownKey = await verifyUnit(good.replace("RestartSec=5s", "RestartSecs=5s"));
  assert.ok(
    unknownKey.problems.some((p) => p.includes("RestartSecs")),
    unknownKey.problems.join("\n"),
  );
  const missing = await verifyUnit(good.replace(program, join(tmp, "nowhere", "tcfs")));
  assert.ok(missing.problems.length > 0);
  await Deno.remove(tmp, { recursive: true });
});

Deno.test("what a unit cannot hold is refused with a clear error", () => {
  assert.throws(
    () => renderSystemdUnit(spec('/opt/"tcfs"/tcfs', "/home/ada")),
    (err: unknown) => err instanceof TcfsError && /quotes or backslashes/.test(err.message),
  );
  assert.throws(
    () => renderSystemdUnit(spec("/opt/tcfs\n[Service]/tcfs", "/home/ada")),
    (err: unknown) => err instanceof TcfsError && err.kind === "service_invalid",
  );
});
