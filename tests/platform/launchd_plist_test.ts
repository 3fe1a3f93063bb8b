import assert from "node:assert/strict";
import { renderLaunchdPlist } from "../../platform/launchd_plist.ts";
import { parsePlist } from "./plist_parse.ts";

Deno.test("the plist parses back (Python's plistlib) with the keys launchd needs", async () => {
  const text = renderLaunchdPlist({
    program: ["/Users/ada/My <Apps> & 'Tools'/tcfs", "daemon"],
    envFile: "/Users/ada/.config/tcfs/env",
    environment: { TCFS_CONFIG: '/Users/ada/.config/tcfs/"odd" & config.toml' },
    system: false,
  });
  const plist = await parsePlist(text);
  assert.deepEqual(plist, {
    Label: "com.tummycrypt.tcfsd",
    ProgramArguments: ["/Users/ada/My <Apps> & 'Tools'/tcfs", "daemon"],
    RunAtLoad: true,
    KeepAlive: true,
    StandardOutPath: "/tmp/tcfsd.stdout.log",
    StandardErrorPath: "/tmp/tcfsd.stderr.log",
    EnvironmentVariables: { TCFS_CONFIG: '/Users/ada/.config/tcfs/"odd" & config.toml' },
  });
});

Deno.test("the plist parser rejects broken XML (so the check above can fail)", async () => {
  await assert.rejects(() => parsePlist("<plist><dict><key>Label</key></plist>"));
});
