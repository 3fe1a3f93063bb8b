/**
 * A fuzz target that misbehaves on purpose, so the harness's own test can check that each kind
 * of finding is reported. The misbehaviour is the module URL's `mode` parameter; it starts at
 * case 3, after three good cases.
 *
 * @module
 */

import { TcfsError } from "../../../core/errors.ts";
import type { FuzzTarget } from "../fuzz_target.ts";
import { below } from "../mutations.ts";

const mode = new URL(import.meta.url).searchParams.get("mode");
let cases = 0;

export const target: FuzzTarget<number> = {
  input: (random) => below(random, 1000),
  run: async (input) => {
    if (cases++ < 3) throw new TcfsError("a known failure", { kind: "corrupt_version" });
    switch (mode) {
      case "type-error":
        return (undefined as unknown as { x: number }).x;
      case "unknown-kind":
        // @ts-expect-error: a kind outside the union, as a careless caller could make one.
        throw new TcfsError("an unknown kind", { kind: "made_up" });
      case "async-hang":
        await new Promise(() => {});
        return;
      case "sync-hang":
        for (;;) Math.sqrt(input);
    }
  },
};
