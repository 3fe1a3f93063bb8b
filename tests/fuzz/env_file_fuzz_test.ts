import { fuzzTest } from "./fuzz_test_runner.ts";

fuzzTest("env files", new URL("./targets/env_file_target.ts", import.meta.url));
