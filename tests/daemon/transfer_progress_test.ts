import assert from "node:assert/strict";
import { join } from "node:path";
import { makeDaemonDevice } from "./daemon_device.ts";
import { makeScopedTempDir } from "../support/module_unload.ts";
import { writeRandomFile } from "../support/random_bytes.ts";
import { createControlClient } from "../../daemon/api/control_client.ts";
import { createActivityFeed } from "../../daemon/activity_feed.ts";
import { withPublishedProgress } from "../../daemon/transfer_progress.ts";
import type { ActivityLine, TransferProgressLine } from "../../daemon/api/api_types.ts";
import { TcfsError } from "../../core/errors.ts";

/** A device whose daemon runs on a store folder of its own, started. */
async function startedDevice(prefix: string) {
  const tmp = await makeScopedTempDir(prefix);
  const device = await makeDaemonDevice(tmp.path, "devA", {
    TCFS_S3_ENDPOINT: `file://${tmp.path}/store`,
  });
  await device.start();
  return { tmp: tmp.path, a: device, activity: await device.recordEvents() };
}

const progressOf = (lines: ActivityLine[], transfer: string) =>
  lines.filter((l): l is TransferProgressLine => l.kind === "progress" && l.transfer === transfer);

Deno.test("a push or pull named in its request reports its progress on the event stream", async () => {
  const { tmp, a, activity } = await startedDevice("tcfs-daemon-progress-");
  using client = createControlClient(a.socket);
  try {
    const folder = join(tmp, "outside");
    await Deno.mkdir(folder);
    for (let i = 0; i < 3; i++) await writeRandomFile(join(folder, `run-${i}.bin`), 8e6, 40 + i);
    const pushed = await client.push({
      path: folder,
      remote: "tcfs/default/runs",
      transfer: "p-1",
    });
    assert.equal(pushed.files, 3);
    const pulled = await client.pull({
      remote: "tcfs/default/runs",
      local: join(tmp, "back"),
      transfer: "q_2",
    });
    assert.equal(pulled.files, 3);
    await client.push({ path: folder, remote: "tcfs/default/runs" }); // no name, no lines
    await activity.stop();

    for (const [transfer, operation] of [["p-1", "push"], ["q_2", "pull"]] as const) {
      const lines = progressOf(activity.lines, transfer);
      assert.ok(lines.length > 0, `progress lines for ${transfer}`);
      assert.ok(lines.every((l) => l.operation === operation));
      const done = lines.map((l) => l.bytes_done);
      assert.deepEqual(done, [...done].sort((x, y) => x - y), "bytes only go up");
      const last = lines.at(-1)!;
      assert.deepEqual(
        [last.files_done, last.files_total, last.bytes_done, last.bytes_total],
        [3, 3, 24e6, 24e6],
        "the last line is the finished transfer",
      );
    }
    assert.equal(
      activity.lines.filter((l) => l.kind === "progress").length,
      progressOf(activity.lines, "p-1").length + progressOf(activity.lines, "q_2").length,
    );
    await assert.rejects(
      client.push({ path: folder, transfer: "../../etc" }),
      (err: unknown) => err instanceof TcfsError && /"transfer" must be/.test(err.message),
    );
  } finally {
    await a.stop();
  }
});

Deno.test("progress lines are throttled, and the last one always goes out", async () => {
  const feed = createActivityFeed();
  const stream = feed.subscribe();
  await withPublishedProgress(feed, "t", "push", (onProgress) => {
    const state = { filesDone: 0, filesTotal: 1, bytesDone: 0, bytesTotal: 1000 };
    for (let i = 1; i <= 1000; i++) {
      state.bytesDone = i;
      onProgress!(state);
    }
    state.filesDone = 1;
    onProgress!(state);
    return Promise.resolve();
  });
  // Unnamed: no onProgress, nothing published.
  await withPublishedProgress(feed, undefined, "pull", (onProgress) => {
    assert.equal(onProgress, undefined);
    return Promise.resolve();
  });
  feed.close();
  const text = await new Response(stream).text();
  const lines = text.trim().split("\n").map((l) => JSON.parse(l) as ActivityLine);
  const sent = lines.filter((l): l is TransferProgressLine => l.kind === "progress");
  assert.ok(sent.length >= 2 && sent.length <= 3, `${sent.length} lines for 1,001 updates`);
  assert.deepEqual([sent[0].bytes_done, sent.at(-1)!.bytes_done, sent.at(-1)!.files_done], [
    1,
    1000,
    1,
  ]);
});

Deno.test("on a terminal, a push run through the daemon draws the progress bar", async () => {
  const { tmp, a, activity } = await startedDevice("tcfs-daemon-bar-");
  try {
    const folder = join(tmp, "outside");
    await Deno.mkdir(folder);
    // Long enough (about a second here) for the bar, which waits half a second to appear.
    await writeRandomFile(join(folder, "big.bin"), 400e6, 77);
    const tcfs = new URL("../../scripts/tcfs", import.meta.url).pathname;
    // script(1) gives the CLI a terminal, as a person running it has.
    const { code, stdout } = await new Deno.Command("script", {
      args: ["-qec", `${tcfs} push ${folder} tcfs/default/big`, "/dev/null"],
      env: a.env,
      clearEnv: true,
      stdout: "piped",
      stderr: "piped",
    }).output();
    const shown = new TextDecoder().decode(stdout);
    assert.equal(code, 0, shown);
    assert.match(shown, /push \[#*-*\] \d+% /, "the bar was drawn");
    assert.match(shown, /pushed 1 files/);
    await activity.stop();
    const lines = activity.lines.filter((l) => l.kind === "progress");
    assert.ok(lines.length > 0, "the daemon did the push, and sent the CLI its progress");
  } finally {
    await a.stop();
  }
});
