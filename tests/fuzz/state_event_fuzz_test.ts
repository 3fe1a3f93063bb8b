import { fuzzTest } from "./fuzz_test_runner.ts";

fuzzTest("state events", new URL("./targets/state_event_target.ts", import.meta.url));
