// Opens the state db given, writes, closes, again and again: one of the processes
// concurrent_open_test.ts starts at once.
import { StateDb } from "../../../core/state/state_db.ts";

const [path, who] = Deno.args;
for (let round = 0; round < 60; round++) {
  const state = await StateDb.open(path);
  state.setMeta(`opener:${who}`, String(round));
  state.close();
}
