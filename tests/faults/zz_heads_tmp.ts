import { openFleetBucket } from "../support/fleet_bucket.ts";
import { storeHeads } from "../support/journal_store.ts";
await using store = await openFleetBucket(Deno.args[0]);
const { byPath } = await storeHeads(store);
for (const [path, h] of byPath) {
  if (!path.includes(Deno.args[1])) continue;
  const show = (v: any) => ({ kind: v.version.kind, size: v.version.size, at: v.version.written_at, by: v.version.author_name, vc: JSON.stringify(v.version.vclock), b3: v.version.blake3?.slice(0, 8) });
  console.log(path, "heads", h.heads.map(show), "kept", h.kept.map(show));
}
