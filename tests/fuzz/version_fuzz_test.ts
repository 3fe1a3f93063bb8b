import { fuzzTest } from "./fuzz_test_runner.ts";

fuzzTest("versions", new URL("./targets/version_target.ts", import.meta.url));
