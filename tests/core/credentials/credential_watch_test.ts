import assert from "node:assert/strict";
import { join } from "node:path";
import { watchCredentialFiles } from "../../../core/credentials/credential_watch.ts";
import { makeScopedTempDir } from "../../support/module_unload.ts";

/** Collects `onChange` calls; `next()` waits for the next one. */
function recorder() {
  const calls: string[][] = [];
  let waiting: ((changed: string[]) => void) | undefined;
  return {
    calls,
    onChange(changed: string[]) {
      calls.push([...changed].sort());
      waiting?.(changed);
      waiting = undefined;
    },
    next(timeoutMs = 5_000): Promise<string[]> {
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error("no change reported")), timeoutMs);
        waiting = (changed) => {
          clearTimeout(timer);
          resolve(changed);
        };
      });
    },
  };
}

const settle = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Replaces `path` the way sops, editors and `tcfs creds rotate` do: a temp file renamed over it. */
async function replaceAtomically(path: string, text: string): Promise<void> {
  const temp = `${path}.tmp-${crypto.randomUUID().slice(0, 8)}`;
  await Deno.writeTextFile(temp, text);
  await Deno.rename(temp, path);
}

Deno.test("a burst of changes to a watched file is reported once, after it settles", async () => {
  const tmp = await makeScopedTempDir("tcfs-watch-");
  const secrets = join(tmp.path, "secrets.yaml");
  await Deno.writeTextFile(secrets, "v0");
  const seen = recorder();
  using _watch = watchCredentialFiles({
    files: [secrets],
    onChange: seen.onChange,
    // Far longer than the burst's gaps (50 ms), even on a loaded machine.
    debounceMs: 1_000,
  });
  try {
    const next = seen.next();
    for (let i = 1; i <= 5; i++) {
      await replaceAtomically(secrets, `v${i}`);
      await settle(50);
    }
    assert.deepEqual(await next, [secrets]);
    await settle(1_500);
    assert.deepEqual(seen.calls, [[secrets]]);
  } finally {
    await tmp.remove();
  }
});

Deno.test("other files in a watched directory are ignored; each watched file is named", async () => {
  const tmp = await makeScopedTempDir("tcfs-watch-");
  const secrets = join(tmp.path, "secrets.yaml");
  const envFile = join(tmp.path, "env");
  const seen = recorder();
  using _watch = watchCredentialFiles({
    files: [secrets, envFile],
    onChange: seen.onChange,
    // Both files written within it, even on a loaded machine.
    debounceMs: 1_000,
  });
  try {
    await Deno.writeTextFile(join(tmp.path, "config.toml"), "[sync]\n");
    await Deno.writeTextFile(join(tmp.path, "secrets.yaml.swp"), "editor swap file");
    await settle(500);
    assert.deepEqual(seen.calls, []);
    const next = seen.next();
    await Deno.writeTextFile(envFile, "TCFS_S3_ACCESS=AK2\n");
    await replaceAtomically(secrets, "s3_access: AK2\n");
    assert.deepEqual([...await next].sort(), [envFile, secrets].sort());
  } finally {
    await tmp.remove();
  }
});

Deno.test("a file whose directory does not exist yet is picked up when it appears", async () => {
  const tmp = await makeScopedTempDir("tcfs-watch-");
  const kdbx = join(tmp.path, "later", "keepass", "tcfs.kdbx");
  const seen = recorder();
  const watch = watchCredentialFiles({
    files: [kdbx],
    onChange: seen.onChange,
    debounceMs: 100,
    missingDirPollMs: 100,
  });
  try {
    assert.deepEqual(watch.watching, []);
    const created = seen.next();
    await Deno.mkdir(join(tmp.path, "later", "keepass"), { recursive: true });
    await Deno.writeTextFile(kdbx, "database");
    assert.deepEqual(await created, [kdbx]);
    assert.deepEqual(watch.watching, [join(tmp.path, "later", "keepass")]);
    const changed = seen.next();
    await replaceAtomically(kdbx, "database, saved again");
    assert.deepEqual(await changed, [kdbx]);
  } finally {
    watch.close();
    await tmp.remove();
  }
});

Deno.test("changes during a slow onChange lead to exactly one more call after it", async () => {
  const tmp = await makeScopedTempDir("tcfs-watch-");
  const secrets = join(tmp.path, "secrets.yaml");
  let active = 0;
  let overlapped = false;
  const calls: number[] = [];
  const firstStarted = Promise.withResolvers<void>();
  const watch = watchCredentialFiles({
    files: [secrets],
    debounceMs: 50,
    onChange: async () => {
      overlapped ||= active > 0;
      active++;
      calls.push(Date.now());
      firstStarted.resolve();
      await settle(500);
      active--;
    },
  });
  try {
    await Deno.writeTextFile(secrets, "v1");
    await firstStarted.promise;
    for (let i = 2; i <= 4; i++) {
      await replaceAtomically(secrets, `v${i}`);
      await settle(60);
    }
    await settle(1_500);
    assert.equal(calls.length, 2);
    assert.equal(overlapped, false);
  } finally {
    watch.close();
    await tmp.remove();
  }
});

Deno.test("after close, changes are not reported", async () => {
  const tmp = await makeScopedTempDir("tcfs-watch-");
  const secrets = join(tmp.path, "secrets.yaml");
  const seen = recorder();
  const watch = watchCredentialFiles({ files: [secrets], onChange: seen.onChange, debounceMs: 50 });
  watch.close();
  try {
    await Deno.writeTextFile(secrets, "v1");
    await settle(300);
    assert.deepEqual(seen.calls, []);
  } finally {
    await tmp.remove();
  }
});
