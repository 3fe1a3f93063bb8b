/**
 * tcfs: the CLI and, as `tcfs daemon`, the service.
 *
 * @module
 */

import { runTcfs } from "./cli/tcfs_program.ts";

if (import.meta.main) {
  Deno.exit(await runTcfs(Deno.args));
}
