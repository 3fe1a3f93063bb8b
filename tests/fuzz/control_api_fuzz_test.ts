import { fuzzTest } from "./fuzz_test_runner.ts";

fuzzTest("control API", new URL("./targets/control_api_target.ts", import.meta.url));
