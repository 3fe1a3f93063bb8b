/**
 * A stand-in for systemd's notification socket: a Unix datagram socket that records every
 * message sent to it. Deno can listen on Unix datagrams only with `--unstable-net`, so the
 * receiver is a child Deno process started with that flag, printing one JSON line per message.
 *
 * @module
 */

import { join } from "node:path";
import { trueWithin } from "../support/deadlines.ts";

/** A listening notification socket. */
export interface NotifyReceiver extends AsyncDisposable {
  /** The value for `NOTIFY_SOCKET`. */
  path: string;
  /** Every message received so far, e.g. `"READY=1\nSTATUS=serving"`. */
  messages: string[];
  /** Messages received so far that have a line equal to `line`. */
  count(line: string): number;
  /** Waits until `times` (1) received messages have a line equal to `line`. */
  waitFor(line: string, options?: { times?: number; timeoutMs?: number }): Promise<void>;
}

const RECEIVER = `
const socket = Deno.listenDatagram({ transport: "unixpacket", path: Deno.args[0] });
console.log(JSON.stringify("listening"));
for await (const [data] of socket) console.log(JSON.stringify(new TextDecoder().decode(data)));
`;

/**
 * Starts a receiver on a fresh socket in `dir`.
 *
 * @example
 * ```ts
 * await using notify = await startNotifyReceiver(tmp);
 * await notifier.ready("serving");
 * await notify.waitFor("READY=1");
 * ```
 */
export async function startNotifyReceiver(dir: string): Promise<NotifyReceiver> {
  const path = join(dir, `notify-${crypto.randomUUID().slice(0, 8)}.sock`);
  const child = new Deno.Command(Deno.execPath(), {
    args: ["eval", "--unstable-net", RECEIVER, path],
    stdin: "null",
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  const messages: string[] = [];
  const listening = Promise.withResolvers<void>();
  const reading = (async () => {
    let pending = "";
    for await (const text of child.stdout.pipeThrough(new TextDecoderStream())) {
      pending += text;
      let newline: number;
      while ((newline = pending.indexOf("\n")) >= 0) {
        const message = JSON.parse(pending.slice(0, newline)) as string;
        pending = pending.slice(newline + 1);
        if (message === "listening") listening.resolve();
        else messages.push(message);
      }
    }
  })();
  await listening.promise;
  const count = (line: string) => messages.filter((m) => m.split("\n").includes(line)).length;
  return {
    path,
    messages,
    count,
    waitFor: (line, { times = 1, timeoutMs = 10_000 } = {}) =>
      trueWithin(
        () => count(line) >= times,
        timeoutMs,
        () => `${times} ${line}, got ${count(line)} in ${JSON.stringify(messages)}`,
      ),
    async [Symbol.asyncDispose]() {
      child.kill("SIGTERM");
      await child.status;
      await reading;
      await Deno.remove(path).catch(() => {});
    },
  };
}
