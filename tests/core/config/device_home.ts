/** A throwaway device home for config tests: `HOME` in a temp dir, optionally with a config file. */

import { join } from "node:path";

export interface DeviceHome extends AsyncDisposable {
  home: string;
  /** An environment holding only `HOME`, so the real environment cannot leak in. */
  env: Record<string, string>;
  configFile: string;
}

export async function deviceHome(toml?: string, mode = 0o600): Promise<DeviceHome> {
  const home = await Deno.makeTempDir({ prefix: "tcfs-config-test-" });
  const configFile = join(home, ".config", "tcfs", "config.toml");
  if (toml !== undefined) {
    await Deno.mkdir(join(home, ".config", "tcfs"), { recursive: true });
    await Deno.writeTextFile(configFile, toml, { mode });
    await Deno.chmod(configFile, mode);
  }
  return {
    home,
    env: { HOME: home },
    configFile,
    [Symbol.asyncDispose]: () => Deno.remove(home, { recursive: true }),
  };
}
