/**
 * `tcfs mount [remote] <mountpoint>` and `tcfs unmount <mountpoint>`.
 *
 * @module
 */

import { Command } from "@commander-js/extra-typings";
import { resolve } from "node:path";
import { openCliRuntime } from "../cli_runtime.ts";
import { remoteSpecOrRoot } from "../../core/remote/remote_spec.ts";
import { mountSettings, runMount } from "../../core/mount/mount_runner.ts";
import { describeError, ExitCode, TcfsError } from "../../core/errors.ts";
import { serveFuse } from "../../platform/fuse/fuse_session.ts";
import { detachFuse } from "../../platform/fuse/fuse_mount.ts";
import { formatBytes, JSON_FLAG_HELP } from "../output.ts";
import { watchChangeHints } from "../../core/events/change_hints.ts";

/** Builds `tcfs mount`. */
export function mountCommand() {
  return new Command("mount")
    .description(
      "show the remote tree in a folder through FUSE; file content is fetched only when read",
    )
    .argument("[remote]", "remote prefix <bucket>/<namespace>/<path>; default: the namespace")
    .argument("[mountpoint]", "an empty directory to mount on")
    .option("--read-only", "refuse every change (EROFS)")
    .option("--json", `${JSON_FLAG_HELP}: one line once mounted, one once unmounted`)
    .addHelpText(
      "after",
      `
It runs until the folder is unmounted (tcfs unmount, or Ctrl-C / SIGTERM here).
Listing and stat come from the versions alone: \`ls -lR\` reads no file content. A read fetches
only the chunks it covers, verifies them, and keeps them in $XDG_CACHE_HOME/tcfs/chunks
(bounded by [mount] cache_size, default 10GiB; least recently used go first), so what was read
once reads again offline. A read the store does not answer within [mount] read_timeout_secs
(default 10) fails with EIO. Remote changes show within [sync] poll_interval_secs (default 30),
and within a second of another device announcing them when [sync] nats_url is set.

Changes are pushed as new versions: a file written is staged whole in $XDG_CACHE_HOME/tcfs/staging
and pushed when it is closed (close(2) waits for the push), or after [mount] write_quiet_secs
(default 30) without a write while it stays open. An edit made on a version another device has
since replaced is kept as a conflict copy beside it (name.conflict-<device>-<time>.ext) and listed
by tcfs conflicts (in conflict_mode = auto, the smallest device name wins instead);
deletions, renames, links, chmod and touch are pushed at once. Empty folders exist in the mount
alone (the remote holds files), and folders cannot be renamed (EXDEV: mv copies instead).
--read-only refuses every change with EROFS.

As root it mounts with mount(2); other users need fusermount3 (Debian: apt-get install fuse3).

Examples:
  tcfs mount ~/fleet                       # the whole namespace
  tcfs mount tcfs/default/papers ~/papers
  tcfs unmount ~/papers`,
    )
    .action(async (first, second, options) => {
      const [remote, mountpoint] = second === undefined ? [undefined, first] : [first, second];
      if (mountpoint === undefined) {
        throw new TcfsError("tcfs mount needs a mount point", {
          kind: "usage",
          exitCode: ExitCode.usage,
          hint: "tcfs mount [remote] <mountpoint>, e.g. tcfs mount ~/fleet",
        });
      }
      const target = resolve(mountpoint);
      const runtime = await openCliRuntime();
      try {
        const { config } = runtime;
        const spec = remoteSpecOrRoot(remote, config.storage.bucket, config.sync.namespace);
        const ctx = await runtime.syncContext(spec.namespace);
        const mount = await runMount(
          ctx,
          {
            ...mountSettings(config),
            mountpoint: target,
            prefix: spec.rel,
            readOnly: options.readOnly ?? false,
            log: (message) => console.error(`tcfs mount: ${message}`),
          },
          serveFuse,
        );
        const natsUrl = config.sync.natsUrl;
        const hints = natsUrl
          ? watchChangeHints({
            natsUrl,
            nats: config.nats,
            deviceId: ctx.device.id,
            onChange: () => mount.refreshSoon(),
            log: (message) => console.error(`tcfs mount: ${message}`),
          })
          : undefined;
        const stop = () => {
          mount.unmount().catch((err) => console.error(`tcfs mount: ${describeError(err)}`));
        };
        Deno.addSignalListener("SIGINT", stop);
        Deno.addSignalListener("SIGTERM", stop);
        const started = mount.status();
        if (options.json) {
          console.log(JSON.stringify({ event: "mounted", pid: Deno.pid, ...started }));
        } else {
          console.log(
            `mounted ${started.remote} at ${target} (${started.files} files, ` +
              `${formatBytes(started.bytes)}); stop with: tcfs unmount ${target}`,
          );
        }
        await mount.closed;
        await hints?.close();
        Deno.removeSignalListener("SIGINT", stop);
        Deno.removeSignalListener("SIGTERM", stop);
        const ended = mount.status();
        if (options.json) console.log(JSON.stringify({ event: "unmounted", ...ended }));
        else {
          console.log(
            `unmounted ${target}: fetched ${formatBytes(ended.bytes_downloaded)} ` +
              `(${ended.chunks_downloaded} chunks); cache holds ${formatBytes(ended.cache_bytes)}`,
          );
        }
      } finally {
        runtime.close();
      }
    });
}

/** Builds `tcfs unmount`. */
export function unmountCommand() {
  return new Command("unmount")
    .description("unmount a folder tcfs mounted (also after its process was killed)")
    .argument("<mountpoint>", "the mounted folder")
    .option("--lazy", "detach now even if files are open under it; they finish first")
    .option("--json", JSON_FLAG_HELP)
    .addHelpText(
      "after",
      `
A mount whose tcfs process died (kill -9) answers "Transport endpoint is not connected";
tcfs unmount clears it. Busy mounts (a shell's cwd, an open file) need --lazy.

Examples:
  tcfs unmount ~/fleet
  tcfs unmount --lazy ~/fleet`,
    )
    .action(async (mountpoint, options) => {
      const target = resolve(mountpoint);
      await detachFuse(target, { lazy: options.lazy ?? false });
      if (options.json) console.log(JSON.stringify({ unmounted: target }));
      else console.log(`unmounted ${target}`);
    });
}
