/**
 * `tcfs conflicts` and `tcfs resolve-conflict <path>`.
 *
 * @module
 */

import { Command, Option } from "@commander-js/extra-typings";
import { resolve } from "node:path";
import { openCliRuntime } from "../cli_runtime.ts";
import { listConflicts } from "../../core/conflicts/conflict_queue.ts";
import { listConflictRefs } from "../../core/git/conflict_refs.ts";
import { type Resolution, resolveConflict } from "../../core/conflicts/conflict_resolver.ts";
import { KEPT_BY_MOUNT, resolveKeptCopy } from "../../core/conflicts/kept_copy_resolution.ts";
import { defaultLocalTarget } from "../../core/sync/root_mapping.ts";
import { fileUnderStore } from "../../core/state/store_filing.ts";
import { ExitCode, TcfsError } from "../../core/errors.ts";
import { formatTable, JSON_FLAG_HELP, printJson } from "../output.ts";
import { daemonOrWriterLock } from "../daemon_connection.ts";
import { pathArgument } from "../path_argument.ts";

/** Builds `tcfs conflicts`. */
export function conflictsCommand() {
  return new Command("conflicts")
    .description("list conflicts waiting for a decision")
    .option("--json", JSON_FLAG_HELP)
    .addHelpText(
      "after",
      `
A conflict is queued when two devices changed the same path concurrently (with
conflict_mode = interactive or defer). Resolve one with tcfs resolve-conflict.

In a git repository, concurrent commits on one branch make no conflict file: the
branch follows one tip and the other is kept as refs/tcfs-conflicts/<device>/<branch>@<commit>,
listed here until you delete that ref (git update-ref -d <ref>), usually after merging it.

Examples:
  tcfs conflicts
  tcfs conflicts --json | jq -r '.[].local_path'`,
    )
    .action(async (options) => {
      const runtime = await openCliRuntime();
      try {
        const state = await runtime.state();
        const rows = listConflicts(state);
        const tips = await listConflictRefs(state);
        if (options.json) {
          // Kept tips as rows of the same shape, told apart by detected_by "git".
          return printJson([
            ...rows,
            ...tips.map((t) => ({
              namespace: t.namespace,
              path: t.path,
              local_path: t.local_path,
              detected_by: "git",
              detected_at: t.written_at,
              remote_authors: [t.device],
              git_ref: t.git_ref,
              commit: t.commit,
            })),
          ]);
        }
        if (rows.length === 0 && tips.length === 0) return console.log("no conflicts");
        if (rows.length > 0) {
          console.log(formatTable([
            ["PATH", "LOCAL", "OTHER DEVICES", "SINCE"],
            ...rows.map((c) => [
              `${runtime.config.storage.bucket}/${c.namespace}/${c.path}`,
              c.local_path,
              c.remote_authors.join(","),
              c.detected_at.slice(0, 19).replace("T", " "),
            ]),
          ]));
        }
        if (rows.some((c) => c.detected_by === KEPT_BY_MOUNT)) {
          console.log(
            "\nedits made through a mount over a version they had not seen are kept as the\n" +
              "copies listed (LOCAL is where a copy shows in the mount): tcfs resolve-conflict\n" +
              "<copy> --keep-local puts it over its original, --keep-remote deletes it,\n" +
              "--keep-both keeps both files",
          );
        }
        if (tips.length > 0) {
          if (rows.length > 0) console.log("");
          console.log("git tips kept beside their branch after concurrent commits:");
          console.log(formatTable([
            ["REPOSITORY", "REF", "COMMIT", "DEVICE"],
            ...tips.map((t) => [
              gitRepositoryOf(t.local_path),
              t.git_ref,
              t.commit.slice(0, 12),
              t.device,
            ]),
          ]));
          console.log(
            "merge each into its branch (git merge <ref>) or drop it, then: git update-ref -d <ref>",
          );
        }
      } finally {
        runtime.close();
      }
    });
}

/** The working tree of the git directory a ref file (or packed-refs) lies in. */
function gitRepositoryOf(refFile: string): string {
  const at = refFile.lastIndexOf("/.git/");
  return at < 0 ? refFile : refFile.slice(0, at);
}

/** Builds `tcfs resolve-conflict`. */
export function resolveConflictCommand() {
  return new Command("resolve-conflict")
    .description("settle a conflict; the result propagates to every device")
    .argument("<path>", "the local file, or its remote path <bucket>/<namespace>/<path>")
    .addOption(
      new Option("--keep-local", "keep this device's version").conflicts([
        "keepRemote",
        "keepBoth",
      ]),
    )
    .addOption(
      new Option("--keep-remote", "take the other device's version").conflicts(["keepBoth"]),
    )
    .option(
      "--keep-both",
      "take the other version and keep this one as name.conflict-<device>-<time>.ext",
    )
    .option("--json", JSON_FLAG_HELP)
    .addHelpText(
      "after",
      `
Examples:
  tcfs resolve-conflict ~/Sync/notes.txt --keep-both
  tcfs resolve-conflict tcfs/default/notes.txt --keep-remote`,
    )
    .action(async (path, options) => {
      const resolution: Resolution | undefined = options.keepLocal
        ? "keep_local"
        : options.keepRemote
        ? "keep_remote"
        : options.keepBoth
        ? "keep_both"
        : undefined;
      if (!resolution) {
        throw new TcfsError("say which side to keep", {
          exitCode: ExitCode.usage,
          kind: "usage",
          hint: "add --keep-local, --keep-remote or --keep-both",
        });
      }
      const runtime = await openCliRuntime();
      try {
        const { config } = runtime;
        const state = await runtime.state();
        const queue = listConflicts(state);
        let queued = queue.find((c) => c.local_path === resolve(path));
        let site: { namespace: string; rel: string; localPath: string };
        if (queued) {
          site = { namespace: queued.namespace, rel: queued.path, localPath: queued.local_path };
        } else {
          const { namespace, rel, local } = pathArgument(path, config);
          queued = queue.find((c) => c.namespace === namespace && c.path === rel);
          // A remote path's file is where the conflict was met, or where it was synced (rows are
          // filed under the store): a name in the working folder may be another file altogether.
          const synced = local || queued
            ? undefined
            : state.getTracked(fileUnderStore((await runtime.store()).location, namespace), rel);
          site = {
            namespace,
            rel,
            localPath: local ?? queued?.local_path ?? synced?.localPath ??
              defaultLocalTarget(rel, config.sync.syncRoot, Deno.cwd()),
          };
        }
        using work = await daemonOrWriterLock(runtime, "tcfs resolve-conflict");
        if (work.daemon && site.namespace !== config.sync.namespace) {
          throw new TcfsError(
            `the daemon resolves conflicts in namespace ${config.sync.namespace} only, not ${site.namespace}`,
            { hint: "stop the daemon while you resolve this one, then start it again" },
          );
        }
        const outcome = work.daemon
          ? await work.daemon.resolveConflict({ path: site.rel, resolution, local: site.localPath })
          : queued?.detected_by === KEPT_BY_MOUNT
          ? await resolveKeptCopy(await runtime.syncContext(site.namespace), site.rel, resolution)
          : await resolveConflict(
            await runtime.syncContext(site.namespace),
            { rel: site.rel, localPath: site.localPath },
            resolution,
          );
        if (options.json) return printJson(outcome);
        console.log(`resolved ${site.rel}: kept ${outcome.winner}'s version`);
        for (const copy of outcome.copies) console.log(`  kept the other side as ${copy}`);
        for (const copy of outcome.copies_deleted) {
          console.log(`  deleted the older copy ${copy} ([sync] max_conflicts)`);
        }
      } finally {
        runtime.close();
      }
    });
}
