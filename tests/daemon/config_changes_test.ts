import assert from "node:assert/strict";
import { loadTestConfig } from "../support/test_config.ts";
import { configChanges } from "../../daemon/config_changes.ts";

Deno.test("a reload names the settings that changed, secrets included by name only, and those needing a restart", async () => {
  const before = await loadTestConfig({ env: { HOME: "/nonexistent-home" } });
  const after = await loadTestConfig({
    env: {
      HOME: "/nonexistent-home",
      TCFS_EXCLUDE_PATTERNS: "*.skip",
      TCFS_METRICS_ADDR: "127.0.0.1:9200",
    },
  });
  after.nats.password = "hunter2";
  assert.deepEqual(configChanges(before, after), {
    changed: ["sync.exclude_patterns", "nats.password", "daemon.metrics_addr"],
    needsRestart: ["daemon.metrics_addr"],
  });
  assert.deepEqual(configChanges(before, before), { changed: [], needsRestart: [] });
});
