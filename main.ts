/**
 * tcfs: the CLI and, as `tcfs daemon`, the service.
 *
 * @module
 */

import { runTcfs } from "./cli/tcfs_program.ts";
import { useFilesystemFlusher } from "./core/io/restore_durability.ts";
import { linuxSyncfs } from "./platform/linux_syncfs.ts";
import { limitMallocArenas } from "./platform/glibc_malloc.ts";

if (import.meta.main) {
  limitMallocArenas();
  useFilesystemFlusher(linuxSyncfs());
  Deno.exit(await runTcfs(Deno.args));
}
