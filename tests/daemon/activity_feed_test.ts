import assert from "node:assert/strict";
import { createActivityFeed } from "../../daemon/activity_feed.ts";
import type { ActivityLine } from "../../daemon/api/api_types.ts";

/** Reads `count` lines, then cancels the subscription as a client going away does. */
async function readLines(
  stream: ReadableStream<Uint8Array>,
  count: number,
): Promise<ActivityLine[]> {
  const reader = stream.getReader();
  const decoder = new TextDecoder();
  let text = "";
  while (text.split("\n").length <= count) {
    const { value, done } = await reader.read();
    if (done) break;
    text += decoder.decode(value, { stream: true });
  }
  await reader.cancel();
  return text.trim().split("\n").map((line) => JSON.parse(line));
}

Deno.test("every subscriber gets a subscribed line, then each published line, as NDJSON", async () => {
  const feed = createActivityFeed();
  const first = feed.subscribe();
  const second = feed.subscribe();
  assert.equal(feed.subscribers(), 2);
  const line: ActivityLine = {
    kind: "sync",
    at: "2026-11-26T00:00:00.000Z",
    operation: "push",
    outcome: "ok",
    paths: ["a.txt"],
  };
  feed.publish(line);
  const [subscribed, published] = await readLines(first, 2);
  assert.equal(subscribed.kind, "subscribed");
  assert.deepEqual(published, line);
  assert.equal(feed.subscribers(), 1, "a cancelled subscription is dropped");
  feed.publish({ ...line, paths: ["b.txt"] });
  feed.close();
  assert.equal(feed.subscribers(), 0);
  const all = await readLines(second, 4);
  assert.deepEqual(all.map((l) => l.kind === "sync" ? l.paths : l.kind), [
    "subscribed",
    ["a.txt"],
    ["b.txt"],
  ]);
});
