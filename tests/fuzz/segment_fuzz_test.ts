import { fuzzTest } from "./fuzz_test_runner.ts";

fuzzTest("journal segments", new URL("./targets/segment_target.ts", import.meta.url));
