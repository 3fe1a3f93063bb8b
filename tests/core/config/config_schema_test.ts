import assert from "node:assert/strict";
import {
  decodeSetting,
  defaultSettings,
  findKeySpec,
  KEY_SPECS,
  redactUrlCredentials,
  SECTION_NAMES,
  settingValue,
} from "../../../core/config/config_schema.ts";
import type { SettingSource } from "../../../core/config/config_schema.ts";
import { tcfsPaths } from "../../../platform/tcfs_paths.ts";
import { TcfsError } from "../../../core/errors.ts";

const FILE = "/home/ada/.config/tcfs/config.toml";
const HOME = "/home/ada";

function decode(
  section: string,
  key: string,
  raw: unknown,
  source: SettingSource = { file: FILE },
) {
  const spec = findKeySpec(section, key);
  assert.ok(spec, `${section}.${key}`);
  return decodeSetting(spec, raw, source, HOME);
}

function decodeError(section: string, key: string, raw: unknown, source?: SettingSource) {
  try {
    decode(section, key, raw, source);
  } catch (err) {
    assert.ok(err instanceof TcfsError);
    assert.equal(err.kind, "config_invalid");
    return err;
  }
  assert.fail(`expected ${section}.${key} = ${JSON.stringify(raw)} to be refused`);
}

Deno.test("every key has a default field and every default field has a key", () => {
  const defaults = defaultSettings({
    paths: tcfsPaths({ HOME }),
    socket: "/tmp/tcfsd.sock",
    deviceName: "yoga",
  });
  for (const section of SECTION_NAMES) {
    const specFields = KEY_SPECS.filter((spec) => spec.section === section).map((spec) =>
      spec.field
    );
    assert.deepEqual(specFields.sort(), Object.keys(defaults[section]).sort(), section);
  }
  assert.equal(settingValue(defaults, findKeySpec("sync", "poll_interval_secs")!), 30);
});

Deno.test("bad file values name the file, key, value, problem and the accepted values", () => {
  const cases: [string, string, unknown, RegExp, RegExp][] = [
    [
      "sync",
      "conflict_mode",
      "sometimes",
      /= "sometimes" is not valid/,
      /"interactive", "auto" or "defer"/,
    ],
    ["sync", "links", "follow", /= "follow" is not valid/, /"keep" or "skip"/],
    ["sync", "poll_interval_secs", -5, /= -5 is not valid: it is less than 1/, /at least 1/],
    ["sync", "poll_interval_secs", "30", /expected a whole number, not a string/, /whole number/],
    ["sync", "debounce_ms", 1.5, /not a float/, /at least 0/],
    ["sync", "mass_delete_ratio", 1.5, /it is not between 0 and 1/, /from 0 to 1/],
    ["sync", "mass_delete_ratio", "half", /expected a number, not a string/, /from 0 to 1/],
    ["sync", "mass_delete_min_files", 0, /it is less than 1/, /at least 1/],
    ["sync", "sync_root", "sync", /= "sync" is not valid: it is a relative path/, /absolute path/],
    ["sync", "exclude_patterns", "*.swp", /expected an array, not a string/, /array of strings/],
    ["sync", "exclude_patterns", ["*.swp", 3], /expected strings only, found an integer/, /array/],
    ["sync", "namespace", "../x", /it is not a valid name/, /letters, digits/],
    ["sync", "device_name", "", /it is not a valid name/, /1 to 128/],
    ["sync", "device_name", "x".repeat(300), /…/, /1 to 128/],
    ["sync", "nats_url", "http://yoga:4222", /the scheme http: is not supported/, /nats:\/\//],
    [
      "sync",
      "nats_url",
      "nats://a:4222,tls//b:4222",
      /entry 2 of 2, "tls\/\/b:4222", is not valid: it is not a URL/,
      /several comma-separated \(nats:\/\/a:4222,nats:\/\/b:4222\)/,
    ],
    ["sync", "nats_url", "nats://a:4222,", /entry 2 of 2 is empty/, /comma-separated/],
    ["history", "keep_days", -1, /= -1 is not valid: it is less than 0/, /at least 0/],
    ["history", "keep_days", 1.5, /expected a whole number, not a float/, /at least 0/],
    ["history", "keep_last", 0, /= 0 is not valid: it is less than 1/, /at least 1/],
    ["history", "staggered", "yes", /expected true or false, not a string/, /true or false/],
    ["history", "staggered", 1, /expected true or false, not an integer/, /true or false/],
    ["history", "gc_interval_secs", "24h", /expected a whole number, not a string/, /at least 0/],
    ["history", "gc_min_age_secs", -60, /it is less than 0/, /at least 0/],
    ["storage", "endpoint", "ftp://host/dir", /the scheme ftp: is not supported/, /file:\/\/\//],
    ["storage", "endpoint", "localhost:8333", /not supported/, /http\(s\):\/\/host:port/],
    ["storage", "endpoint", "file://host/dir", /a file: URL has no host/, /file:\/\//],
    ["storage", "endpoint", "not a url", /it is not a URL/, /embedded local store/],
    ["storage", "bucket", "Bad_Bucket", /not a valid bucket name/, /3 to 63 lowercase/],
    ["storage", "region", "", /it is empty/, /non-empty/],
    ["storage", "bucket", true, /expected a string, not a boolean/, /bucket name/],
    ["daemon", "metrics_addr", "9100", /it is not host:port/, /127\.0\.0\.1:9100/],
    ["daemon", "metrics_addr", "localhost:99999", /it is not host:port/, /host:port/],
    [
      "daemon",
      "log_level",
      "warn",
      /not one of the choices/,
      /"debug", "info", "warning" or "error"/,
    ],
    ["daemon", "log_format", "xml", /not one of the choices/, /"text" or "json"/],
    ["secrets", "kdbx_entry", { a: 1 }, /expected a string, not a table/, /non-empty/],
  ];
  for (const [section, key, raw, message, accepted] of cases) {
    const err = decodeError(section, key, raw);
    assert.ok(err.message.startsWith(`config file ${FILE}: [${section}] ${key} = `), err.message);
    assert.match(err.message, message);
    assert.match(err.hint ?? "", new RegExp(`^set \\[${section}\\] ${key} to `));
    assert.match(err.hint ?? "", accepted);
    assert.ok(err.hint?.endsWith(` in ${FILE}`));
  }
});

Deno.test("bad secret values are reported without the value", () => {
  for (
    const [section, key] of [["storage", "s3_secret"], ["storage", "s3_access"], [
      "nats",
      "password",
    ], ["nats", "token"]]
  ) {
    const err = decodeError(section, key, 12345678);
    assert.equal(
      err.message,
      `config file ${FILE}: [${section}] ${key} is not valid: expected a string, not an integer`,
    );
    assert.ok(!err.message.includes("12345678"));
  }
});

Deno.test("passwords in URLs are hidden in error messages", () => {
  const err = decodeError("sync", "nats_url", "http://tcfs:hunter2@yoga:4222");
  assert.ok(!err.message.includes("hunter2"), err.message);
  assert.match(err.message, /tcfs:<redacted>@yoga/);
});

Deno.test("bad environment values name the variable instead of the file", () => {
  const err = decodeError("sync", "conflict_mode", "sometimes", { envVar: "TCFS_CONFLICT_MODE" });
  assert.equal(
    err.message,
    'environment variable TCFS_CONFLICT_MODE="sometimes" is not valid for [sync] conflict_mode: ' +
      "it is not one of the choices",
  );
  assert.equal(err.hint, 'set TCFS_CONFLICT_MODE to "interactive", "auto" or "defer", or unset it');
  assert.ok(!err.message.includes(FILE));
  const interval = decodeError("sync", "poll_interval_secs", "soon", {
    envVar: "TCFS_POLL_INTERVAL_SECS",
  });
  assert.match(
    interval.message,
    /TCFS_POLL_INTERVAL_SECS="soon" is not valid .*whole number, not a string/,
  );
  const staggered = decodeError("history", "staggered", "maybe", {
    envVar: "TCFS_HISTORY_STAGGERED",
  });
  assert.equal(
    staggered.message,
    'environment variable TCFS_HISTORY_STAGGERED="maybe" is not valid for [history] staggered: ' +
      "expected true or false, not a string",
  );
  assert.equal(
    staggered.hint,
    "set TCFS_HISTORY_STAGGERED to true or false (in the environment also 1 or 0), or unset it",
  );
});

Deno.test("good values are normalised", () => {
  assert.equal(decode("sync", "sync_root", "~"), HOME);
  assert.equal(decode("sync", "sync_root", "~/a/../sync/"), `${HOME}/sync`);
  assert.equal(decode("sync", "sync_root", "/srv//sync"), "/srv/sync");
  assert.equal(decode("storage", "endpoint", ""), "");
  assert.equal(
    decode("storage", "endpoint", "file:///mnt/shared/store"),
    "file:///mnt/shared/store",
  );
  assert.equal(decode("storage", "endpoint", "https://s3.lab:8333"), "https://s3.lab:8333");
  assert.equal(decode("sync", "nats_url", "tls://hub:4222"), "tls://hub:4222");
  assert.equal(
    decode("sync", "nats_url", " nats://a:4222, nats://b:4222 ", { envVar: "TCFS_NATS_URL" }),
    "nats://a:4222,nats://b:4222",
  );
  assert.equal(decode("daemon", "metrics_addr", "127.0.0.1:0"), "127.0.0.1:0");
  assert.deepEqual(
    decode("sync", "exclude_patterns", " *.swp, ,.direnv ", { envVar: "TCFS_EXCLUDE_PATTERNS" }),
    ["*.swp", ".direnv"],
  );
  assert.equal(
    decode("sync", "poll_interval_secs", "12", { envVar: "TCFS_POLL_INTERVAL_SECS" }),
    12,
  );
  const staggered = { envVar: "TCFS_HISTORY_STAGGERED" };
  const booleans: [string, boolean][] = [["true", true], [" TRUE ", true], ["1", true], [
    "False",
    false,
  ], ["0", false]];
  for (const [text, value] of booleans) {
    assert.equal(decode("history", "staggered", text, staggered), value, text);
  }
  assert.equal(decode("history", "staggered", true), true);
});

Deno.test("redactUrlCredentials hides passwords and tokens, nothing else", () => {
  assert.equal(
    redactUrlCredentials("nats://tcfs:s3cr3t@yoga:4222"),
    "nats://tcfs:<redacted>@yoga:4222",
  );
  assert.equal(redactUrlCredentials("nats://yoga:4222"), "nats://yoga:4222");
  assert.equal(redactUrlCredentials("nats://s3cr3t@yoga:4222"), "nats://<redacted>@yoga:4222");
  assert.equal(
    redactUrlCredentials("see http://a:b@x:1 and nats://c@y:2/"),
    "see http://a:<redacted>@x:1 and nats://<redacted>@y:2/",
  );
});

Deno.test("redactUrlCredentials hides any password or token: with @, spaces, colons, in lists", () => {
  // Seeded, so a failure is repeatable; every printable ASCII character but "/" can be in one.
  let seed = 12;
  const random = () => (seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31;
  const alphabet = " !\"#$%&'()*+,-.0123456789:;<=>?@ABCXYZ[\\]^_`abcxyz{|}~\t";
  const secretText = () =>
    "Q" + Array.from({ length: 1 + Math.floor(random() * 20) }, () =>
      alphabet[Math.floor(random() * alphabet.length)]).join("") +
    "Q";
  for (let i = 0; i < 500; i++) {
    const password = secretText();
    // A token has no ":" (before one, it would be a user name).
    const token = password.replaceAll(":", "");
    const cases = [
      `nats://tcfs:${password}@yoga.local:4222`,
      `nats://${token}@yoga.local:4222`,
      `nats://tcfs:${password}@a:4222,nats://tcfs:${password}@b:4222`,
      `tls://u:${password}@yoga/`,
    ];
    for (const url of cases) {
      const shown = redactUrlCredentials(url);
      const leaked = [...password.matchAll(/[^@: \t]{3,}/g)].map((m) => m[0])
        .filter((part) => shown.includes(part) && !"tcfs yoga.local nats tls".includes(part));
      assert.ok(
        !shown.includes(password) && !shown.includes(token) && !leaked.length,
        `${url} -> ${shown}`,
      );
      assert.match(shown, /yoga|@b:4222/);
    }
  }
  assert.equal(
    redactUrlCredentials("nats://tcfs:p@ss w0rd@yoga:4222"),
    "nats://tcfs:<redacted>@yoga:4222",
  );
});

Deno.test("[mount] cache_size takes bytes or a size with a binary unit", () => {
  assert.equal(decode("mount", "cache_size", 1_000_000), 1_000_000);
  assert.equal(decode("mount", "cache_size", "10GiB"), 10 * 2 ** 30);
  assert.equal(decode("mount", "cache_size", "500M"), 500 * 2 ** 20);
  assert.equal(decode("mount", "cache_size", "1.5 GB"), 1.5 * 2 ** 30);
  for (const bad of ["lots", "0", 0, -5, "10 XB", true]) {
    assert.match(decodeError("mount", "cache_size", bad).message, /cache_size/);
  }
});
