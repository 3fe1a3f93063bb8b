import assert from "node:assert/strict";
import { join } from "node:path";
import { unsafePathReason } from "../../../core/paths/remote_path.ts";
import { confinedPath } from "../../../core/paths/confined_path.ts";
import { TcfsError } from "../../../core/errors.ts";

Deno.test("hostile relative paths are refused with a reason", () => {
  for (
    const bad of [
      "",
      "../x",
      "../../x",
      "a/../../x",
      "/etc/passwd",
      "a//b",
      "a/./b",
      "a/",
      "C:/x",
      "a\\..\\b",
      "a\0b",
      "x".repeat(300),
    ]
  ) {
    assert.ok(unsafePathReason(bad), `should refuse ${JSON.stringify(bad)}`);
  }
  for (const good of ["a", "a/b.txt", ".hidden/x", "..foo", "a/b c/d"]) {
    assert.equal(unsafePathReason(good), undefined, good);
  }
});

Deno.test("random paths built from hostile segments never resolve outside the root", async () => {
  const root = await Deno.makeTempDir();
  const segments = ["a", "..", ".", "", "b", "/", "c.."];
  let x = 99;
  for (let i = 0; i < 3000; i++) {
    const parts: string[] = [];
    const n = 1 + (i % 5);
    for (let j = 0; j < n; j++) {
      x = (x * 1103515245 + 12345) >>> 0;
      parts.push(segments[x % segments.length]);
    }
    const rel = parts.join("/");
    try {
      const resolved = await confinedPath(root, rel, "test");
      assert.ok(resolved.startsWith(root + "/"), `${rel} → ${resolved}`);
    } catch (err) {
      assert.ok(err instanceof TcfsError && err.kind === "unsafe_path", String(err));
    }
  }
  await Deno.remove(root, { recursive: true });
});

Deno.test("a symlinked parent directory is refused", async () => {
  const root = await Deno.makeTempDir();
  const outside = await Deno.makeTempDir();
  await Deno.symlink(outside, join(root, "escape"));
  await assert.rejects(() => confinedPath(root, "escape/x.txt", "test"), /symlink/);
  await Deno.remove(root, { recursive: true });
  await Deno.remove(outside, { recursive: true });
});
