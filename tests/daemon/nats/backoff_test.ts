import assert from "node:assert/strict";
import { backoffDelayMs, MIN_BACKOFF_MS } from "../../../daemon/nats/backoff.ts";

Deno.test("backoff grows with the outage, never below the minimum nor above the cap", () => {
  for (let i = 0; i < 200; i++) {
    const first = backoffDelayMs(0, 10_000);
    assert.ok(first >= MIN_BACKOFF_MS * 0.8 && first <= MIN_BACKOFF_MS * 1.2, `${first}`);
    const later = backoffDelayMs(8_000, 10_000);
    assert.ok(later >= 3_200 && later <= 4_800, `${later}`);
    assert.ok(backoffDelayMs(3_600_000, 10_000) <= 10_000);
    assert.ok(backoffDelayMs(3_600_000, 10_000) >= 8_000);
  }
});
