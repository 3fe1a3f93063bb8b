import assert from "node:assert/strict";

const child = new URL("./malloc_arenas_child.ts", import.meta.url).pathname;

/** Runs malloc_arenas_child.ts in a new process; its thread arenas before and after. */
async function arenasOfChild(
  ...args: string[]
): Promise<{ limited: boolean; before: number; after: number }> {
  const { code, stdout, stderr } = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", child, ...args],
    stdout: "piped",
    stderr: "piped",
  }).output();
  assert.equal(code, 0, new TextDecoder().decode(stderr));
  return JSON.parse(new TextDecoder().decode(stdout));
}

Deno.test({
  name: "with glibc's arenas limited, new threads that allocate make no arena of their own",
  ignore: Deno.build.os !== "linux",
  async fn() {
    const free = await arenasOfChild();
    const limited = await arenasOfChild("limit");
    assert.equal(limited.limited, true);
    // The one arena the other threads share may be made only once the workers allocate.
    const made = (arenas: { before: number; after: number }) => arenas.after - arenas.before;
    assert.ok(made(limited) <= 1, JSON.stringify(limited));
    assert.ok(made(free) > made(limited), `without the limit: ${JSON.stringify(free)}`);
  },
});
