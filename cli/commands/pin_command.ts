/**
 * `tcfs pin <remote>` and `tcfs unpin <remote>`.
 *
 * @module
 */

import { Command } from "@commander-js/extra-typings";
import { openCliRuntime } from "../cli_runtime.ts";
import { parseRemoteSpec } from "../../core/remote/remote_spec.ts";
import { namespaceHeads, remoteDisplayPath } from "../../core/sync/sync_context.ts";
import { hydrate, pinnedContent, pinsFile, readPins, setPin } from "../../core/mount/pins.ts";
import { openDeviceChunkCache, savePinnedChunks } from "../../core/cache/device_chunk_cache.ts";
import { createRangeReader } from "../../core/mount/range_reader.ts";
import { ExitCode, TcfsError } from "../../core/errors.ts";
import { formatBytes, JSON_FLAG_HELP, printJson } from "../output.ts";

/** Builds `tcfs pin`. */
export function pinCommand() {
  return new Command("pin")
    .description("keep a remote file or folder always in the chunk cache: it reads offline")
    .argument("<remote>", "remote path <bucket>/<namespace>/<path>")
    .option("--json", JSON_FLAG_HELP)
    .addHelpText(
      "after",
      `
Fetches (and verifies) every chunk of the files under it into $XDG_CACHE_HOME/tcfs/chunks now,
and keeps them there whatever [mount] cache_size says; mounts fetch new versions of pinned files
as they see them. tcfs unpin lets the cache evict them again.

Examples:
  tcfs pin tcfs/default/papers
  tcfs unpin tcfs/default/papers`,
    )
    .action(async (remote, options) => {
      const runtime = await openCliRuntime();
      try {
        const { config } = runtime;
        const spec = parseRemoteSpec(remote, config.storage.bucket);
        const ctx = await runtime.syncContext(spec.namespace);
        const file = pinsFile(config.paths.cacheDir);
        await Deno.mkdir(config.paths.cacheDir, { recursive: true });
        await setPin(file, spec, true);
        const { byPath } = await namespaceHeads(ctx, () => true);
        const all = pinnedContent(byPath.values(), ctx.namespace, await readPins(file));
        const mine = pinnedContent(byPath.values(), ctx.namespace, [spec]);
        await savePinnedChunks(config.paths.cacheDir, ctx.namespace, all.chunkIds);
        const cache = await openDeviceChunkCache(config.paths.cacheDir, config.mount.cacheSize);
        const counters = { chunksDownloaded: 0, bytesDownloaded: 0 };
        const reader = createRangeReader(ctx.store, cache, {
          keys: ctx.keys,
          timeoutMs: config.mount.readTimeoutSecs * 1000,
          counters,
        });
        const failed = await hydrate(reader, mine.files);
        const report = {
          pinned: remoteDisplayPath(ctx, spec.rel),
          files: mine.files.length,
          bytes: mine.bytes,
          bytes_downloaded: counters.bytesDownloaded,
          pinned_bytes: all.bytes,
          failed,
        };
        if (options.json) printJson(report);
        else {
          console.log(
            `pinned ${report.pinned}: ${report.files} files, ${formatBytes(report.bytes)} ` +
              `(fetched ${formatBytes(report.bytes_downloaded)}); ` +
              `${formatBytes(report.pinned_bytes)} pinned in all`,
          );
          for (const { path, error } of failed) console.error(`not cached: ${path}: ${error}`);
        }
        if (failed.length > 0) {
          throw new TcfsError(`${failed.length} pinned files could not be fetched`, {
            exitCode: ExitCode.error,
            hint:
              "they stay pinned: a mount fetches them once the store answers, or run tcfs pin again",
          });
        }
      } finally {
        runtime.close();
      }
    });
}

/** Builds `tcfs unpin`. */
export function unpinCommand() {
  return new Command("unpin")
    .description("let the chunk cache evict a pinned file or folder again")
    .argument("<remote>", "remote path <bucket>/<namespace>/<path>, as pinned")
    .option("--json", JSON_FLAG_HELP)
    .addHelpText("after", "\nExample:\n  tcfs unpin tcfs/default/papers")
    .action(async (remote, options) => {
      const runtime = await openCliRuntime();
      try {
        const { config } = runtime;
        const spec = parseRemoteSpec(remote, config.storage.bucket);
        const file = pinsFile(config.paths.cacheDir);
        const changed = await setPin(file, spec, false);
        if (!changed) {
          throw new TcfsError(`${remote} is not pinned`, {
            kind: "not_found",
            hint: "tcfs pin <remote> pins; the pins are in $XDG_CACHE_HOME/tcfs/pins.json",
          });
        }
        // The namespace's other pins' chunks are known again once a mount reads its heads.
        if (!(await readPins(file)).some((p) => p.namespace === spec.namespace)) {
          await savePinnedChunks(config.paths.cacheDir, spec.namespace, new Set());
        }
        if (options.json) printJson({ unpinned: remote });
        else console.log(`unpinned ${remote}: the cache may evict it again`);
      } finally {
        runtime.close();
      }
    });
}
