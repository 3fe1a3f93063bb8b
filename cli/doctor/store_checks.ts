/**
 * `tcfs doctor`: the store. Is S3 reachable, does the bucket exist, can this device write to
 * it, and does this machine's clock agree with the server's (SigV4 signatures are refused once
 * clocks differ by 15 minutes)?
 *
 * @module
 */

import type { TcfsConfig } from "../../core/config/config_schema.ts";
import type { ResolvedCredentials } from "../../core/credentials/credential_chain.ts";
import { TcfsError } from "../../core/errors.ts";
import { configuredEndpoint, embeddedStoreRefusal } from "../../core/runtime/device_setup.ts";
import type { ObjectStore } from "../../core/store/object_store.ts";
import { openStore } from "../../core/store/open_store.ts";
import { type CheckResult, checkResult } from "./doctor_check.ts";

/** How long the reachability probe waits for an answer. */
const PROBE_TIMEOUT_MS = 5_000;
/** Clock skew that deserves a warning. */
const SKEW_WARN_SECONDS = 30;
/** Clock skew that fails the check: well before SigV4's 15 minutes. */
const SKEW_FAIL_SECONDS = 5 * 60;
/** Where probe objects go; each is deleted right after it is written. */
const PROBE_PREFIX = "tcfs-meta/doctor/";

/** What {@linkcode storeChecks} needs. */
export interface StoreCheckInput {
  config: TcfsConfig;
  credentials: ResolvedCredentials;
  /** Names the probe object, so a leftover says whose it is. */
  deviceName: string;
}

/** The names of the checks, in report order. */
const NAMES = {
  reachable: "store reachable",
  bucket: "bucket exists",
  writable: "bucket writable",
  clock: "clock skew",
} as const;

/**
 * Four results: `store reachable`, `bucket exists`, `bucket writable` (a put, read-back and
 * delete of `tcfs-meta/doctor/<device>-<random>`) and `clock skew` (against the S3 `Date`
 * response header). For a local directory store the S3-only checks say they do not apply.
 *
 * @example
 * ```ts
 * const results = await storeChecks({ config, credentials, deviceName: "yoga" });
 * ```
 */
export function storeChecks(input: StoreCheckInput): Promise<CheckResult[]> {
  const endpoint = configuredEndpoint(input.config, input.credentials);
  return /^https?:/.test(endpoint) ? s3Checks(input, endpoint) : localStoreChecks(input, endpoint);
}

async function s3Checks(input: StoreCheckInput, endpoint: string): Promise<CheckResult[]> {
  const server = await askServer(endpoint);
  if ("error" in server) {
    return [
      checkResult(
        NAMES.reachable,
        "fail",
        `cannot reach S3 at ${endpoint}: ${server.error}`,
        "check [storage] endpoint (or TCFS_S3_ENDPOINT), that SeaweedFS runs there, and that " +
          "this machine can reach its port",
      ),
      notChecked(NAMES.bucket, "S3 is not reachable"),
      notChecked(NAMES.writable, "S3 is not reachable"),
      notChecked(NAMES.clock, "S3 is not reachable"),
    ];
  }
  const reachable = checkResult(
    NAMES.reachable,
    "ok",
    `S3 at ${endpoint} answers (HTTP ${server.status})`,
  );
  const s3 = input.credentials.s3;
  if (!s3) {
    return [
      reachable,
      notChecked(NAMES.bucket, "there are no S3 credentials"),
      notChecked(NAMES.writable, "there are no S3 credentials"),
      clockCheck(server),
    ];
  }
  const store = openStore({
    endpoint,
    bucket: input.config.storage.bucket,
    region: input.config.storage.region,
    defaultStoreDir: input.config.paths.storeDir,
    credentials: {
      accessKeyId: s3.accessKeyId.reveal(),
      secretAccessKey: s3.secretAccessKey.reveal(),
    },
    retry: { attempts: 2 },
  });
  try {
    const bucket = await bucketCheck(store, input.config.storage.bucket);
    const writable = bucket.status === "fail"
      ? notChecked(NAMES.writable, "the bucket cannot be used")
      : await writableCheck(store, input.deviceName);
    return [reachable, bucket, writable, clockCheck(server)];
  } finally {
    store.close();
  }
}

async function localStoreChecks(input: StoreCheckInput, endpoint: string): Promise<CheckResult[]> {
  let store: ObjectStore;
  try {
    // The local store must not look fine when it would stand in for a remote.
    const refusal = embeddedStoreRefusal(input.config, input.credentials);
    if (refusal) throw refusal;
    store = openStore({
      endpoint,
      bucket: input.config.storage.bucket,
      region: input.config.storage.region,
      defaultStoreDir: input.config.paths.storeDir,
    });
    await store.ensureReady();
  } catch (err) {
    return [
      failure(NAMES.reachable, err),
      notChecked(NAMES.bucket, "the store cannot be opened"),
      notChecked(NAMES.writable, "the store cannot be opened"),
      checkResult(NAMES.clock, "ok", "not applicable: the store is a local directory"),
    ];
  }
  try {
    return [
      checkResult(NAMES.reachable, "ok", `local directory store at ${store.location}`),
      checkResult(NAMES.bucket, "ok", "not applicable: a local directory store has no bucket"),
      await writableCheck(store, input.deviceName),
      checkResult(NAMES.clock, "ok", "not applicable: the store is a local directory"),
    ];
  } finally {
    store.close();
  }
}

function notChecked(name: string, why: string): CheckResult {
  return checkResult(name, "warn", `not checked: ${why}`, "fix the failures above first");
}

/** What the S3 server answered to an unsigned request, with when it was asked. */
type ServerAnswer =
  | { status: number; date: string | null; sentAt: number; receivedAt: number }
  | { error: string };

/** Any HTTP answer means the server is reachable; its `Date` header gives its clock. */
async function askServer(endpoint: string): Promise<ServerAnswer> {
  const sentAt = Date.now();
  try {
    const response = await fetch(new URL("/", endpoint), {
      method: "HEAD",
      signal: AbortSignal.timeout(PROBE_TIMEOUT_MS),
    });
    await response.body?.cancel();
    return {
      status: response.status,
      date: response.headers.get("date"),
      sentAt,
      receivedAt: Date.now(),
    };
  } catch (err) {
    const cause = (err as { cause?: unknown }).cause;
    const reason = err instanceof DOMException && err.name === "TimeoutError"
      ? `no answer within ${PROBE_TIMEOUT_MS / 1000} s`
      : cause instanceof Error
      ? cause.message
      : (err as Error).message;
    return { error: reason };
  }
}

async function bucketCheck(store: ObjectStore, bucket: string): Promise<CheckResult> {
  try {
    for await (const _ of store.list(PROBE_PREFIX)) break;
    return checkResult(NAMES.bucket, "ok", `bucket "${bucket}" exists at ${store.location}`);
  } catch (err) {
    if (err instanceof TcfsError && err.kind === "bucket_missing") {
      return checkResult(
        NAMES.bucket,
        "fail",
        err.message,
        "tcfs creates it on first use when its keys may create buckets (run `tcfs push` once); " +
          "otherwise create it on the server, or fix [storage] bucket",
      );
    }
    return failure(NAMES.bucket, err);
  }
}

async function writableCheck(store: ObjectStore, deviceName: string): Promise<CheckResult> {
  const suffix = Array.from(
    crypto.getRandomValues(new Uint8Array(6)),
    (b) => b.toString(16).padStart(2, "0"),
  )
    .join("");
  const key = `${PROBE_PREFIX}${deviceName}-${suffix}`;
  const body = new TextEncoder().encode(`tcfs doctor probe from ${deviceName}\n`);
  try {
    await store.put(key, body);
    const back = await store.get(key);
    await store.delete(key);
    if (!back || back.length !== body.length || back.some((byte, i) => byte !== body[i])) {
      return checkResult(
        NAMES.writable,
        "fail",
        `wrote ${key}, but reading it back gave different bytes`,
        "the store is not consistent; check the server's log",
      );
    }
    return checkResult(NAMES.writable, "ok", `wrote, read back and deleted ${key}`);
  } catch (err) {
    await store.delete(key).catch(() => {});
    return failure(NAMES.writable, err);
  }
}

function clockCheck(answer: Extract<ServerAnswer, { status: number }>): CheckResult {
  const serverTime = answer.date ? Date.parse(answer.date) : NaN;
  if (Number.isNaN(serverTime)) {
    return checkResult(
      NAMES.clock,
      "warn",
      "the S3 server sent no usable Date header, so the clocks cannot be compared",
      "check this machine's clock against the server's by hand",
    );
  }
  // The header has whole seconds and was stamped while the request was in flight.
  const localTime = (answer.sentAt + answer.receivedAt) / 2;
  const skew = Math.round((localTime - serverTime) / 1000);
  const size = Math.abs(skew);
  const detail = size <= 1
    ? "this machine and the S3 server agree to within a second"
    : `this machine's clock is ${size} s ${skew > 0 ? "ahead of" : "behind"} the S3 server's`;
  const fix = "synchronise the clocks with NTP (`timedatectl set-ntp true`, chrony or sntp); " +
    "S3 refuses signed requests once clocks differ by 15 minutes";
  if (size > SKEW_FAIL_SECONDS) return checkResult(NAMES.clock, "fail", detail, fix);
  if (size > SKEW_WARN_SECONDS) return checkResult(NAMES.clock, "warn", detail, fix);
  return checkResult(NAMES.clock, "ok", detail);
}

function failure(name: string, err: unknown): CheckResult {
  if (err instanceof TcfsError) return checkResult(name, "fail", err.message, err.hint);
  return checkResult(name, "fail", err instanceof Error ? err.message : String(err));
}
