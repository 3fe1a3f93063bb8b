import assert from "node:assert/strict";

const MODULE = new URL("../../../core/runtime/full_collection.ts", import.meta.url).href;

/** Runs `body` after importing the module, with `--expose-gc` when `exposed`; returns what it printed. */
async function run(body: string, exposed: boolean): Promise<string> {
  const script = `import { collectIfGrown, COLLECT_AFTER_GROWTH_BYTES } from "${MODULE}";\n${body}`;
  const flags = exposed ? ["--v8-flags=--expose-gc"] : [];
  const output = await new Deno.Command(Deno.execPath(), {
    args: ["eval", "--quiet", ...flags, script],
    env: { NO_COLOR: "1" },
    stdin: "null",
  }).output();
  assert.equal(output.code, 0, new TextDecoder().decode(output.stderr));
  return new TextDecoder().decode(output.stdout).trim();
}

// Holds about twice the growth in small arrays, then drops them: garbage that only a collection
// takes back (V8 promotes what survives, so they are not a young generation's to free).
const GROW = `
let held = [];
const grow = () => {
  held = [];
  for (let bytes = 0; bytes < 2 * COLLECT_AFTER_GROWTH_BYTES; bytes += 8 * 1024) {
    held.push(new Array(1024).fill(held.length));
  }
};`;

Deno.test("collectIfGrown collects once the heap has grown past its threshold, and not again until it grows as much", async () => {
  const printed = await run(
    `${GROW}
const seen = [collectIfGrown()];
grow();
held = [];
seen.push(collectIfGrown(), collectIfGrown());
grow();
held = [];
seen.push(collectIfGrown());
console.log(seen.join(" "));`,
    true,
  );
  // The first call may collect what start-up left (its baseline is an empty heap).
  assert.match(printed, /^(true|false) true false true$/);
});

Deno.test("collectIfGrown measures growth from the least it saw: memory let go meanwhile does not hide new garbage", async () => {
  const printed = await run(
    `${GROW}
// A large buffer outside the heap, live at a collection, then let go (as a checkpoint's text).
let text = new Uint8Array(4 * COLLECT_AFTER_GROWTH_BYTES).fill(1);
collectIfGrown();
grow();
held = [];
const seen = [collectIfGrown()];
text = undefined;
// V8's own collections take the buffer (its memory is counted as let go a collection later).
globalThis.gc();
await new Promise((resolve) => setTimeout(resolve, 10));
globalThis.gc();
seen.push(collectIfGrown());
grow();
held = [];
seen.push(collectIfGrown());
console.log(seen.join(" "), text);`,
    true,
  );
  assert.equal(printed, "true false true undefined");
});

Deno.test("collectIfGrown does nothing without --expose-gc", async () => {
  const printed = await run(`${GROW}\ngrow();\nheld = [];\nconsole.log(collectIfGrown());`, false);
  assert.equal(printed, "false");
});
