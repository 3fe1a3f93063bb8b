import assert from "node:assert/strict";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { checkpointOffThread } from "../../../core/state/log_checkpoint.ts";

Deno.test("a checkpoint off the main thread copies the log into the database while a connection keeps it open", async () => {
  const dir = await Deno.makeTempDir({ prefix: "tcfs-checkpoint-" });
  const path = join(dir, "db");
  const db = new DatabaseSync(path);
  try {
    db.exec("PRAGMA journal_mode=WAL; PRAGMA wal_autocheckpoint=0;");
    db.exec("CREATE TABLE notes (body BLOB)");
    const insert = db.prepare("INSERT INTO notes (body) VALUES (?)");
    for (let i = 0; i < 200; i++) insert.run(new Uint8Array(4096).fill(i));

    const result = await checkpointOffThread(path, 1000);
    assert.equal(result.busy, false);
    assert.ok(result.logFrames > 0);
    assert.equal(result.checkpointedFrames, result.logFrames);

    const copy = join(dir, "copy");
    await Deno.copyFile(path, copy); // the file alone, its log left behind
    const reader = new DatabaseSync(copy);
    try {
      const row = reader.prepare("SELECT count(*) AS n FROM notes").get() as { n: number };
      assert.equal(row.n, 200);
    } finally {
      reader.close();
    }
  } finally {
    db.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a checkpoint of a database that cannot be opened says so", async () => {
  const dir = await Deno.makeTempDir({ prefix: "tcfs-checkpoint-" });
  try {
    await assert.rejects(
      checkpointOffThread(join(dir, "missing", "db"), 1000),
      /checkpointing the state database's log failed: .*unable to open/,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
