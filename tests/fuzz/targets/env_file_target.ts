/**
 * Fuzz target: env files (`~/.config/tcfs/env`, systemd `EnvironmentFile=`). Damaged files
 * parse or fail as `env_file_invalid`; and any variables tcfs writes read back exactly.
 *
 * @module
 */

import assert from "node:assert/strict";
import { formatEnvAssignment, parseEnvFile } from "../../../platform/env_file.ts";
import type { FuzzTarget } from "../fuzz_target.ts";
import { below, hostileString, hostileText, pick } from "../mutations.ts";

const SAMPLE = `# tcfs credentials
export TCFS_S3_BUCKET="tcfs"
TCFS_S3_ACCESS_KEY_ID=AKIAEXAMPLE
TCFS_S3_SECRET_ACCESS_KEY='wJalr/K7MDENG+bPxRfiCY'
TCFS_SYNC_ROOT="/home/ada/My Files"   # trailing comment
; old style comment
TCFS_NATS_URL=nats://127.0.0.1:4222
`;

const NAMES = [
  "TCFS_S3_BUCKET",
  "A",
  "_",
  "__proto__",
  "constructor",
  "toString",
  "hasOwnProperty",
];

type EnvInput = { text: string } | { variables: [string, string][] };

export const target: FuzzTarget<EnvInput> = {
  input: (random) => {
    if (random() < 0.7) return { text: hostileText(random, SAMPLE) };
    const variables: [string, string][] = [];
    for (let n = 1 + below(random, 4); n > 0; n--) {
      const name = random() < 0.8 ? pick(random, NAMES) : hostileString(random);
      variables.push([name, hostileString(random)]);
    }
    return { variables };
  },
  run: (input) => {
    if ("text" in input) {
      parseEnvFile(input.text, "env");
      return;
    }
    const lines = input.variables.map(([name, value]) => formatEnvAssignment(name, value));
    const expected: Record<string, string> = {};
    for (const [name, value] of input.variables) {
      Object.defineProperty(expected, name, {
        value,
        enumerable: true,
        writable: true,
        configurable: true,
      });
    }
    assert.deepEqual(parseEnvFile(lines.join("\n"), "env"), expected, "what tcfs wrote reads back");
  },
};
