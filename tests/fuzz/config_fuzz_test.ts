import { fuzzTest } from "./fuzz_test_runner.ts";

fuzzTest("config", new URL("./targets/config_target.ts", import.meta.url));
