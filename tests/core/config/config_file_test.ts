import assert from "node:assert/strict";
import { decodeFileSettings, parseConfigToml } from "../../../core/config/config_file.ts";
import { TcfsError } from "../../../core/errors.ts";

const FILE = "/home/ada/.config/tcfs/config.toml";

/** Runs `fn`, expecting a config_invalid TcfsError; returns it for further checks. */
function configError(fn: () => unknown): TcfsError {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof TcfsError, String(err));
    assert.equal(err.kind, "config_invalid");
    assert.equal(err.exitCode, 2);
    return err;
  }
  assert.fail("expected a config error");
}

Deno.test("malformed TOML names the file, line and column, and never quotes the line", () => {
  const text = '[storage]\ns3_secret = "hunter2\nbucket = "tcfs"\n';
  const err = configError(() => parseConfigToml(text, FILE));
  assert.match(err.message, new RegExp(`^config file ${FILE} is not valid TOML: `));
  assert.match(err.message, /\(line 2, column \d+\)$/);
  assert.match(err.hint ?? "", new RegExp(`fix line 2 of ${FILE}`));
  assert.ok(!err.message.includes("hunter2") && !err.hint?.includes("hunter2"));
});

Deno.test("parseConfigToml returns the tables of valid TOML", () => {
  assert.deepEqual(
    JSON.parse(JSON.stringify(parseConfigToml('[sync]\nnamespace = "lab"\n', FILE))),
    { sync: { namespace: "lab" } },
  );
});

Deno.test("an unknown section suggests the closest one", () => {
  const err = configError(() => decodeFileSettings({ storag: { bucket: "tcfs" } }, FILE, "/"));
  assert.equal(err.message, `config file ${FILE}: unknown section [storag]`);
  assert.match(
    err.hint ?? "",
    /^did you mean \[storage\]\? the sections are \[storage\], \[sync\]/,
  );
});

Deno.test("an unknown section with nothing close lists the sections", () => {
  const err = configError(() => decodeFileSettings({ fuse: {} }, FILE, "/"));
  assert.match(
    err.hint ?? "",
    /^the sections are \[storage\], \[sync\], \[history\], \[mount\], \[nats\], \[daemon\], \[secrets\]$/,
  );
});

Deno.test("an unknown key suggests the closest key of its section", () => {
  const cases = [
    [{ sync: { conflict_mod: "auto" } }, "[sync] conflict_mod", "did you mean conflict_mode?"],
    [{ sync: { conflictMode: "auto" } }, "[sync] conflictMode", "did you mean conflict_mode?"],
    [{ storage: { bukcet: "x" } }, "[storage] bukcet", "did you mean bucket?"],
  ] as const;
  for (const [table, name, suggestion] of cases) {
    const err = configError(() => decodeFileSettings(table, FILE, "/"));
    assert.equal(err.message, `config file ${FILE}: unknown key ${name}`);
    assert.ok(err.hint?.startsWith(suggestion), err.hint);
  }
});

Deno.test("a key in the wrong section says where it belongs", () => {
  const err = configError(() =>
    decodeFileSettings({ storage: { nats_url: "nats://x:4222" } }, FILE, "/")
  );
  assert.equal(err.message, `config file ${FILE}: unknown key [storage] nats_url`);
  assert.equal(err.hint, "nats_url belongs in [sync]; move it there");
});

Deno.test("an unknown key with nothing close lists the section's keys", () => {
  const err = configError(() => decodeFileSettings({ daemon: { workers: 4 } }, FILE, "/"));
  assert.equal(err.hint, "the keys of [daemon] are socket, metrics_addr, log_level, log_format");
});

Deno.test("a key outside any section names the section it belongs to", () => {
  const err = configError(() => decodeFileSettings({ endpoint: "http://x:8333" }, FILE, "/"));
  assert.equal(err.message, `config file ${FILE}: endpoint is outside any section`);
  assert.match(err.hint ?? "", /did you mean \[storage\] endpoint\?/);
  const misspelt = configError(() => decodeFileSettings({ device_nme: "yoga" }, FILE, "/"));
  assert.match(misspelt.hint ?? "", /did you mean \[sync\] device_name\?/);
});

Deno.test("a section written as a value is refused", () => {
  const err = configError(() => decodeFileSettings({ sync: "lab" }, FILE, "/"));
  assert.equal(
    err.message,
    `config file ${FILE}: sync must be a section ([sync]), not a single value`,
  );
});

Deno.test("decodeFileSettings returns each checked setting", () => {
  const settings = decodeFileSettings(
    { sync: { sync_root: "~/sync", poll_interval_secs: 10 } },
    FILE,
    "/home/ada",
  );
  assert.deepEqual(
    settings.map(({ spec, value }) => [spec.field, value]),
    [["syncRoot", "/home/ada/sync"], ["pollIntervalSecs", 10]],
  );
});
