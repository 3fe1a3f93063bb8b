import assert from "node:assert/strict";
import { join } from "node:path";
import { createSdNotifier, watchdogIntervalMs } from "../../platform/sd_notify.ts";
import { startNotifyReceiver } from "./notify_receiver.ts";

Deno.test("READY, STOPPING and watchdog pings reach the socket NOTIFY_SOCKET names", async () => {
  const tmp = await Deno.makeTempDir();
  try {
    await using notify = await startNotifyReceiver(tmp);
    const warnings: string[] = [];
    const notifier = createSdNotifier({
      env: { NOTIFY_SOCKET: notify.path, WATCHDOG_USEC: "200000" },
      warn: (message) => warnings.push(message),
    });
    assert.equal(notifier.enabled, true);
    await notifier.ready("serving on /run/user/1000/tcfsd.sock");
    await notify.waitFor("READY=1");
    assert.ok(
      notify.messages.some((m) =>
        m === `MAINPID=${Deno.pid}\nREADY=1\nSTATUS=serving on /run/user/1000/tcfsd.sock`
      ),
      JSON.stringify(notify.messages),
    );
    const started = Date.now();
    const stop = notifier.startWatchdog();
    // Each ping is a systemd-notify process, relayed by the receiver's: on a loaded machine
    // they arrive late, never early.
    await notify.waitFor("WATCHDOG=1", { times: 3 });
    stop();
    const elapsed = Date.now() - started;
    assert.ok(
      notify.count("WATCHDOG=1") <= elapsed / 100 + 1,
      `a ping every 100 ms: ${notify.count("WATCHDOG=1")} in ${elapsed} ms`,
    );
    await notifier.stopping("stopping on SIGTERM");
    await notify.waitFor("STOPPING=1");
    assert.deepEqual(warnings, []);
  } finally {
    await Deno.remove(tmp, { recursive: true });
  }
});

Deno.test("without NOTIFY_SOCKET nothing is sent and nothing is spawned", async () => {
  const notifier = createSdNotifier({
    env: {},
    warn: () => assert.fail("no warning expected"),
    command: "/nonexistent",
  });
  assert.equal(notifier.enabled, false);
  await notifier.ready("serving");
  notifier.startWatchdog()();
  await notifier.stopping("stopping");
});

Deno.test("a notifier that can't run says so instead of failing the daemon", async () => {
  const warnings: string[] = [];
  const notifier = createSdNotifier({
    env: { NOTIFY_SOCKET: "/nonexistent/notify.sock" },
    warn: (message) => warnings.push(message),
  });
  await notifier.ready("serving");
  assert.equal(warnings.length, 1);
  assert.match(warnings[0], /READY=1/);
});

Deno.test("the watchdog interval is half of WATCHDOG_USEC, and only for this process", () => {
  assert.equal(watchdogIntervalMs({ WATCHDOG_USEC: "30000000" }, 42), 15_000);
  assert.equal(watchdogIntervalMs({ WATCHDOG_USEC: "30000000", WATCHDOG_PID: "42" }, 42), 15_000);
  assert.equal(watchdogIntervalMs({ WATCHDOG_USEC: "30000000", WATCHDOG_PID: "7" }, 42), undefined);
  assert.equal(watchdogIntervalMs({}, 42), undefined);
  assert.equal(watchdogIntervalMs({ WATCHDOG_USEC: "nonsense" }, 42), undefined);
});

Deno.test("systemd-notify gets NOTIFY_SOCKET and PATH, none of the service's secrets", async () => {
  const tmp = await Deno.makeTempDir();
  Deno.env.set("TCFS_S3_SECRET", "s3-secret-in-the-service-env");
  try {
    const dump = join(tmp, "env.txt");
    const command = join(tmp, "fake-notify");
    await Deno.writeTextFile(command, `#!/bin/sh\nenv > '${dump}'\n`);
    await Deno.chmod(command, 0o755);
    const notifier = createSdNotifier({
      env: { ...Deno.env.toObject(), NOTIFY_SOCKET: join(tmp, "notify.sock") },
      warn: (message) => assert.fail(message),
      command,
    });
    await notifier.ready("serving");
    const names = (await Deno.readTextFile(dump)).split("\n").map((line) => line.split("=")[0]);
    assert.ok(!names.includes("TCFS_S3_SECRET"), names.join(" "));
    assert.ok(names.includes("NOTIFY_SOCKET"));
    assert.ok(!names.includes("HOME"), names.join(" "));
  } finally {
    Deno.env.delete("TCFS_S3_SECRET");
    await Deno.remove(tmp, { recursive: true });
  }
});
