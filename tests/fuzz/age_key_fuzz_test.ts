import { fuzzTest } from "./fuzz_test_runner.ts";

fuzzTest("age key files", new URL("./targets/age_key_target.ts", import.meta.url));
