import assert from "node:assert/strict";
import { relative } from "node:path";
import { leadsOutside } from "../../../core/paths/leads_outside.ts";
import { defaultRemoteRel } from "../../../core/sync/root_mapping.ts";

Deno.test("a path that leaves its folder leads outside; a name that starts with two dots does not", () => {
  const root = "/home/me/Sync";
  for (const inside of ["..notes", "..notes/a.txt", "a/..b", "...", ".hidden"]) {
    assert.equal(leadsOutside(relative(root, `${root}/${inside}`)), false, inside);
  }
  for (const outside of ["/home/me", "/home/me/other", "/etc/passwd", "/home/me/Sync2"]) {
    assert.equal(leadsOutside(relative(root, outside)), true, outside);
  }
  assert.equal(leadsOutside("/abs"), true);
});

Deno.test("a file below a folder named ..notes in the sync root pushes to its own path", () => {
  assert.equal(defaultRemoteRel("/home/me/Sync/..notes/a.txt", "/home/me/Sync"), "..notes/a.txt");
  assert.equal(defaultRemoteRel("/home/me/Sync/docs/a.txt", "/home/me/Sync"), "docs/a.txt");
  assert.equal(defaultRemoteRel("/home/me/Sync2/a.txt", "/home/me/Sync"), "a.txt");
});
