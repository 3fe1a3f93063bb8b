import assert from "node:assert/strict";
import { encodeFileVersion, parseFileVersion } from "../../core/remote/file_version.ts";
import type { FileVersion } from "../../core/remote/file_version.ts";
import { fuzzTest } from "./fuzz_test_runner.ts";
import { SAMPLE_VERSIONS } from "./targets/version_target.ts";

fuzzTest("versions", new URL("./targets/version_target.ts", import.meta.url));

const [chunked, inline] = SAMPLE_VERSIONS;

/**
 * Versions the parser once accepted and must refuse: modes, sizes and lengths past the caps.
 * (A mode with setuid or setgid within 0o7777 parses: pull masks it, restored_mode.ts.)
 */
const UNCAPPED: [string, FileVersion][] = [
  ["mode above 0o7777", { ...inline, mode: 0o17777 }],
  ["fractional mode", { ...inline, mode: 420.5 }],
  ["mode of 1e21", { ...inline, mode: 1e21 }],
  ["size beyond a safe integer", { ...inline, size: 2 ** 60 }],
  ["inline content whose size disagrees", { ...inline, size: 2 ** 40 }],
  ["fractional mtime", { ...inline, mtime_ms: 0.5 }],
  [
    "a chunk whose stored length is 2^40",
    {
      ...chunked,
      chunks: [{ ...chunked.chunks[0], length: 2 ** 40 }, chunked.chunks[1]],
    },
  ],
];

Deno.test({
  name: "the version parser refuses modes above 0o7777, fractional or huge modes and sizes, " +
    "and chunk lengths above the cap",
  fn() {
    for (const [what, version] of UNCAPPED) {
      assert.throws(
        () => parseFileVersion(encodeFileVersion(version), what),
        { kind: "corrupt_version" },
        what,
      );
    }
  },
});
