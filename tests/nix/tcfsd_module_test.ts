import assert from "node:assert/strict";
import { renderSystemdUnit } from "../../platform/systemd_unit.ts";

const REPO = new URL("../../", import.meta.url).pathname;
const PACKAGE = "/nix/store/00000000000000000000000000000000-tcfs-0.7.0";

async function nixInstantiate(
  args: string[],
): Promise<{ code: number; stdout: string; stderr: string }> {
  let output: Deno.CommandOutput;
  try {
    output = await new Deno.Command("nix-instantiate", { args, cwd: REPO }).output();
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) {
      throw new Error(
        "nix-instantiate is not installed (Debian package nix-bin); run scripts/setup.sh",
      );
    }
    throw err;
  }
  const decoder = new TextDecoder();
  return {
    code: output.code,
    stdout: decoder.decode(output.stdout),
    stderr: decoder.decode(output.stderr),
  };
}

interface ModuleEvaluation {
  optionNames: string[];
  defaults: Record<string, unknown>;
  conflictModes: string[];
  typeErrors: string[];
  deviceNameChecks: boolean[];
  enabled: boolean;
  unit: {
    description: string;
    after: string[];
    wants: string[];
    wantedBy: string[];
    serviceConfig: Record<string, string>;
    environment: Record<string, string>;
  };
  settings: Record<string, Record<string, unknown>>;
}

/** Evaluates the module with `cfg` as `services.tcfsd` (see eval_tcfsd_module.nix). */
async function evaluate(cfg: string): Promise<ModuleEvaluation> {
  const result = await nixInstantiate([
    "--read-write-mode",
    "--eval",
    "--strict",
    "--json",
    "-E",
    `import ./tests/nix/eval_tcfsd_module.nix { cfg = ${cfg}; }`,
  ]);
  assert.equal(result.code, 0, result.stderr);
  return JSON.parse(result.stdout);
}

/** A unit file as section → key → value. */
function unitSettings(text: string): Record<string, Record<string, string>> {
  const sections: Record<string, Record<string, string>> = {};
  let current: Record<string, string> = {};
  for (const line of text.split("\n")) {
    const header = /^\[(\w+)\]$/.exec(line);
    if (header) sections[header[1]] = current = {};
    const setting = /^(\w+)=(.*)$/.exec(line);
    if (setting) current[setting[1]] = setting[2];
  }
  return sections;
}

Deno.test("nix/tcfsd.nix parses", async () => {
  const result = await nixInstantiate(["--parse", "nix/tcfsd.nix"]);
  assert.equal(result.code, 0, result.stderr);
});

Deno.test("the NixOS module declares the seed's options and produces the unit enroll writes", async () => {
  const evaluation = await evaluate(`{
    enable = true;
    package = "${PACKAGE}";
    deviceName = "yoga";
    conflictMode = "interactive";
    natsUrl = "nats://yoga.local:4222";
    settings = { storage.bucket = "tcfs"; sync = { device_name = "ignored"; sync_root = "/srv/sync"; }; };
  }`);
  assert.deepEqual(evaluation.optionNames, [
    "conflictMode",
    "deviceName",
    "enable",
    "environmentFile",
    "mounts",
    "natsUrl",
    "package",
    "settings",
  ]);
  assert.deepEqual(evaluation.typeErrors, []);
  assert.equal(evaluation.enabled, true);
  assert.deepEqual(evaluation.conflictModes, ["interactive", "auto", "defer"]);
  assert.deepEqual(evaluation.defaults, {
    enable: false,
    deviceName: "stub-host",
    conflictMode: "interactive",
    natsUrl: null,
    environmentFile: "/root/.config/tcfs/env",
  });
  assert.deepEqual(evaluation.deviceNameChecks, [true, true, false, false]);
  // The typed options win over `settings`; other settings pass through.
  assert.deepEqual(evaluation.settings, {
    storage: { bucket: "tcfs" },
    sync: {
      device_name: "yoga",
      sync_root: "/srv/sync",
      conflict_mode: "interactive",
      nats_url: "nats://yoga.local:4222",
    },
  });

  const enrolled = unitSettings(renderSystemdUnit({
    program: [`${PACKAGE}/bin/tcfs`, "daemon"],
    envFile: "/root/.config/tcfs/env",
    environment: { HOME: "/root" },
    system: true,
  }));
  const { unit } = evaluation;
  assert.deepEqual(
    {
      Unit: {
        Description: unit.description,
        After: unit.after.join(" "),
        Wants: unit.wants.join(" "),
      },
      Service: { ...unit.serviceConfig, Environment: `HOME=${unit.environment.HOME}` },
      Install: { WantedBy: unit.wantedBy.join(" ") },
    },
    enrolled,
  );
});

Deno.test("a value outside an option's type is caught (so the check above can fail)", async () => {
  const evaluation = await evaluate(
    `{ enable = true; package = "${PACKAGE}"; conflictMode = "sometimes"; }`,
  );
  assert.deepEqual(evaluation.typeErrors, ["conflictMode"]);
});

Deno.test("the NixOS module takes a NATS cluster's servers as a list", async () => {
  const evaluation = await evaluate(`{
    enable = true;
    package = "${PACKAGE}";
    natsUrl = [ "nats://n1.lab:4222" "nats://n2.lab:4222" ];
  }`);
  assert.deepEqual(evaluation.typeErrors, []);
  assert.equal(evaluation.settings.sync.nats_url, "nats://n1.lab:4222,nats://n2.lab:4222");
});

Deno.test("the NixOS module writes its mounts into [mount] mounts", async () => {
  const evaluation = await evaluate(`{
    enable = true;
    package = "${PACKAGE}";
    mounts = [ "/srv/fleet" "/srv/papers=tcfs/default/papers" ];
    settings.mount.cache_size = "50GiB";
  }`);
  assert.deepEqual(evaluation.typeErrors, []);
  assert.deepEqual(evaluation.settings.mount, {
    cache_size: "50GiB",
    mounts: ["/srv/fleet", "/srv/papers=tcfs/default/papers"],
  });
  const relative = await evaluate(
    `{ enable = true; package = "${PACKAGE}"; mounts = [ "fleet" ]; }`,
  );
  assert.deepEqual(relative.typeErrors, ["mounts"]);
});
