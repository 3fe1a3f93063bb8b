import assert from "node:assert/strict";
import { xdgDirs } from "../../platform/xdg_dirs.ts";
import { TcfsError } from "../../core/errors.ts";

Deno.test("xdgDirs derives every directory from HOME when no XDG variable is set", () => {
  assert.deepEqual(xdgDirs({ HOME: "/tmp/devA" }), {
    home: "/tmp/devA",
    configHome: "/tmp/devA/.config",
    dataHome: "/tmp/devA/.local/share",
    stateHome: "/tmp/devA/.local/state",
    cacheHome: "/tmp/devA/.cache",
    runtimeDir: undefined,
  });
});

Deno.test("xdgDirs takes absolute XDG_* variables", () => {
  assert.deepEqual(
    xdgDirs({
      HOME: "/home/ada",
      XDG_CONFIG_HOME: "/cfg",
      XDG_DATA_HOME: "/data",
      XDG_STATE_HOME: "/state",
      XDG_CACHE_HOME: "/cache",
      XDG_RUNTIME_DIR: "/run/user/1000",
    }),
    {
      home: "/home/ada",
      configHome: "/cfg",
      dataHome: "/data",
      stateHome: "/state",
      cacheHome: "/cache",
      runtimeDir: "/run/user/1000",
    },
  );
});

Deno.test("xdgDirs ignores relative and empty XDG_* variables, as the spec requires", () => {
  const dirs = xdgDirs({
    HOME: "/home/ada",
    XDG_CONFIG_HOME: "relative/cfg",
    XDG_DATA_HOME: "",
    XDG_RUNTIME_DIR: "run",
  });
  assert.equal(dirs.configHome, "/home/ada/.config");
  assert.equal(dirs.dataHome, "/home/ada/.local/share");
  assert.equal(dirs.runtimeDir, undefined);
});

Deno.test("xdgDirs refuses a missing or relative HOME with a hint", () => {
  for (const env of [{}, { HOME: "" }, { HOME: "home/ada" }]) {
    assert.throws(() => xdgDirs(env), (err: unknown) => {
      assert.ok(err instanceof TcfsError);
      assert.match(err.message, /HOME/);
      assert.match(err.hint ?? "", /set HOME/);
      return true;
    });
  }
});

Deno.test("xdgDirs reads the process environment by default", () => {
  assert.equal(xdgDirs().home, Deno.env.get("HOME"));
});
