/**
 * The S3 backend, on `@aws-sdk/client-s3` v3, shaped for SeaweedFS: path-style
 * URLs, checksums only where S3 requires them, and no SDK retries (the
 * `withRetry` decorator in `retrying_store.ts` owns retrying). Every SDK failure becomes a
 * {@linkcode TcfsError} that names the endpoint and bucket and says what to check.
 *
 * @module
 */

import {
  CreateBucketCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  type GetObjectCommandOutput,
  HeadBucketCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
} from "@aws-sdk/client-s3";
import { TcfsError } from "../errors.ts";
import { tcfsVersion } from "../version.ts";
import { compareKeys } from "./key_order.ts";
import type {
  GetOptions,
  ListOptions,
  ObjectInfo,
  ObjectStore,
  ObjectWithEtag,
  PutCondition,
  PutOptions,
} from "./object_store.ts";
import { oversizedObject } from "./oversized_object.ts";
import { readBody } from "../io/read_body.ts";
import { FetchHttpHandler } from "@smithy/fetch-http-handler";

/** An S3 access key pair. */
export interface S3Credentials {
  accessKeyId: string;
  secretAccessKey: string;
}

/** Where an S3 store lives and how to sign in to it. */
export interface S3StoreOptions {
  /** Base URL, for example `http://127.0.0.1:8333`. */
  endpoint: string;
  bucket: string;
  region: string;
  /** Fixed keys, or a provider the SDK calls when it needs them. */
  credentials: S3Credentials | (() => Promise<S3Credentials>);
}

/**
 * Connections kept open to the endpoint. Uploads run about this many requests
 * at once; more sockets than requests would only idle.
 */
export const S3_MAX_SOCKETS = 32;
/** A connection that cannot be opened in this time counts as unreachable. */
const CONNECT_TIMEOUT_MS = 5_000;
/** How often, and how far apart, a new bucket is asked whether it takes requests yet. */
const BUCKET_READY_ATTEMPTS = 50;
const BUCKET_READY_DELAY_MS = 100;
/** Keys per listing page: S3's own maximum, and all a page may hold. */
const LIST_PAGE_KEYS = 1000;
/** A socket silent for this long is a hung server, not a slow link. */
const SOCKET_IDLE_TIMEOUT_MS = 30_000;
/**
 * The SDK's default user agent asks the OS for its release on every request
 * (a syscall each time); tcfs's own name and version never change.
 */
const USER_AGENT: [string, string][] = [["tcfs", tcfsVersion()]];

/**
 * Opens an S3 bucket as an {@linkcode ObjectStore}. No request is made until
 * the first call; {@linkcode ObjectStore.ensureReady} creates the bucket if needed.
 *
 * @example
 * ```ts
 * const store = createS3Store({
 *   endpoint: "http://127.0.0.1:8333",
 *   bucket: "tcfs",
 *   region: "us-east-1",
 *   credentials: { accessKeyId: "…", secretAccessKey: "…" },
 * });
 * await store.ensureReady();
 * const bytes = await store.get("tcfs-meta/devices.json");
 * ```
 */
export function createS3Store(opts: S3StoreOptions): ObjectStore {
  const endpoint = redactEndpoint(opts.endpoint);
  const { bucket } = opts;
  const config = {
    endpoint: opts.endpoint,
    region: opts.region,
    credentials: opts.credentials,
    forcePathStyle: true,
    requestChecksumCalculation: "WHEN_REQUIRED",
    responseChecksumValidation: "WHEN_REQUIRED",
    maxAttempts: 1,
    defaultUserAgentProvider: () => Promise.resolve(USER_AGENT),
    // Resolve each command's middleware stack once, not per request. tcfs adds no
    // per-command middleware, and every request of a kind goes to the same bucket.
    cacheMiddleware: true,
  } as const;
  const client = new S3Client({
    ...config,
    requestHandler: {
      connectionTimeout: CONNECT_TIMEOUT_MS,
      socketTimeout: SOCKET_IDLE_TIMEOUT_MS,
      httpAgent: { keepAlive: true, maxSockets: S3_MAX_SOCKETS },
      httpsAgent: { keepAlive: true, maxSockets: S3_MAX_SOCKETS },
    },
  });
  // Objects are read through Deno's fetch, whose client parses answers on a thread of its own:
  // Node's http parses them in JavaScript on the main thread, which a pull keeps busy (a real
  // tree's pull took 5 % less time and 37 MB less memory, docs/BENCHMARKS.md). Everything else
  // stays on Node's http: fetch's one timeout runs until the answer's headers, which an upload's
  // body counts against on a slow link, where Node's idle timeout does not.
  const reader = new S3Client({
    ...config,
    requestHandler: new FetchHttpHandler({ requestTimeout: SOCKET_IDLE_TIMEOUT_MS }),
  });
  /**
   * A GET through `reader`. The handler's timeout only stops waiting for the answer: the fetch
   * itself is aborted here, so that a request given up on holds no connection, nor a body
   * nobody reads.
   */
  const read = async (command: GetObjectCommand) => {
    const abort = new AbortController();
    try {
      return await reader.send(command, { abortSignal: abort.signal });
    } catch (err) {
      abort.abort();
      throw err;
    }
  };
  const fail = (err: unknown, action: string) => classifyS3Error(err, endpoint, bucket, action);
  // Middleware is resolved once per client (cacheMiddleware), so the per-request choice
  // rides on the key: a PUT of a key in this set is sent unsigned.
  const unsignedPayloadKeys = new Set<string>();
  client.middlewareStack.add(
    (next, context) => (args) => {
      const key = (args.input as { Key?: string }).Key;
      const request = args.request as { headers?: Record<string, string> };
      if (
        context.commandName === "PutObjectCommand" && key !== undefined &&
        unsignedPayloadKeys.has(key) && request.headers
      ) {
        // The signer takes a payload hash already in the headers as it is.
        request.headers["x-amz-content-sha256"] = "UNSIGNED-PAYLOAD";
      }
      return next(args);
    },
    { step: "build", name: "tcfsUnsignedPayload" },
  );

  async function getWithEtag(
    key: string,
    options: GetOptions = {},
  ): Promise<ObjectWithEtag | undefined> {
    let res;
    try {
      res = await read(new GetObjectCommand({ Bucket: bucket, Key: key }));
    } catch (err) {
      if (isMissingKey(err)) return undefined;
      throw fail(err, `get "${key}"`);
    }
    try {
      return { body: await bodyWithin(res, key, options.maxBytes), etag: res.ETag ?? "" };
    } catch (err) {
      throw fail(err, `get "${key}"`);
    }
  }

  return {
    location: `${endpoint}/${bucket}`,

    async ensureReady() {
      try {
        await client.send(new HeadBucketCommand({ Bucket: bucket }));
        return;
      } catch (err) {
        if (statusOf(err) !== 404) throw fail(err, "check the bucket");
      }
      try {
        await client.send(new CreateBucketCommand({ Bucket: bucket }));
      } catch (err) {
        // Another device creating it at the same moment is as good as creating it.
        const name = (err as { name?: string }).name;
        if (name !== "BucketAlreadyOwnedByYou" && name !== "BucketAlreadyExists") {
          throw fail(err, "create the bucket");
        }
      }
      // SeaweedFS can answer "already exists" to the second of two devices creating a
      // bucket before the first one's bucket takes requests (seen as NoSuchBucket on
      // the next call): wait until the bucket answers.
      for (let attempt = 1;; attempt++) {
        try {
          await client.send(new HeadBucketCommand({ Bucket: bucket }));
          return;
        } catch (err) {
          if (statusOf(err) !== 404) throw fail(err, "check the new bucket");
          if (attempt === BUCKET_READY_ATTEMPTS) {
            throw new TcfsError(
              `bucket "${bucket}" was created at S3 ${endpoint} but did not answer within ${
                BUCKET_READY_ATTEMPTS * BUCKET_READY_DELAY_MS / 1000
              } s`,
              {
                kind: "store_error",
                hint: "run the command again; if it persists, check the S3 server's logs",
              },
            );
          }
          await new Promise((resolve) => setTimeout(resolve, BUCKET_READY_DELAY_MS));
        }
      }
    },

    async get(key: string, options?: GetOptions) {
      return (await getWithEtag(key, options))?.body;
    },

    getWithEtag,

    async getRange(key: string, offset: number, length: number) {
      if (length === 0) return new Uint8Array();
      try {
        const res = await read(
          new GetObjectCommand({
            Bucket: bucket,
            Key: key,
            Range: `bytes=${offset}-${offset + length - 1}`,
          }),
        );
        return await bodyWithin(res, `${key} bytes ${offset}+${length}`, length);
      } catch (err) {
        if (err instanceof TcfsError) throw err;
        if (isMissingKey(err)) return undefined;
        // The object ends before the range starts: it is shorter than the caller thought.
        if (statusOf(err) === 416) return new Uint8Array();
        throw fail(err, `get "${key}" bytes ${offset}+${length}`);
      }
    },

    async put(key: string, body: Uint8Array, options?: PutOptions) {
      if (options?.contentVerifiedByReaders) unsignedPayloadKeys.add(key);
      try {
        await client.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body }));
      } catch (err) {
        throw fail(err, `put "${key}"`);
      } finally {
        unsignedPayloadKeys.delete(key);
      }
    },

    async putConditional(key: string, body: Uint8Array, condition: PutCondition) {
      const precondition = "ifNoneMatch" in condition
        ? { IfNoneMatch: condition.ifNoneMatch }
        : { IfMatch: condition.ifMatch };
      try {
        await client.send(
          new PutObjectCommand({ Bucket: bucket, Key: key, Body: body, ...precondition }),
        );
        return true;
      } catch (err) {
        if (isPreconditionFailure(err)) return false;
        // If-Match on a key that is gone: the object the caller saw no longer exists.
        if ("ifMatch" in condition && isMissingKey(err)) return false;
        throw fail(err, `put "${key}"`);
      }
    },

    async has(key: string) {
      try {
        await client.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
        return true;
      } catch (err) {
        // HEAD responses have no body, so a missing bucket also reads as a bare 404 here.
        if (statusOf(err) === 404) return false;
        throw fail(err, `look up "${key}"`);
      }
    },

    async *list(prefix: string, options: ListOptions = {}): AsyncIterable<ObjectInfo> {
      let token: string | undefined;
      do {
        let page;
        try {
          page = await client.send(
            new ListObjectsV2Command({
              Bucket: bucket,
              Prefix: prefix,
              ContinuationToken: token,
              StartAfter: token === undefined ? options.startAfter : undefined,
              Delimiter: options.delimiter,
              MaxKeys: LIST_PAGE_KEYS,
            }),
          );
        } catch (err) {
          throw fail(err, `list "${prefix}"`);
        }
        if ((page.Contents?.length ?? 0) > LIST_PAGE_KEYS) {
          throw new TcfsError(
            `S3 ${endpoint} answered a listing of "${prefix}" with ${
              page.Contents!.length
            } keys in one page, more than the ${LIST_PAGE_KEYS} asked for`,
            { kind: "store_error", hint: "the endpoint is not a well-behaved S3 server; check it" },
          );
        }
        const entries: ObjectInfo[] = [];
        for (const object of page.Contents ?? []) {
          if (object.Key !== undefined) entries.push({ key: object.Key, size: object.Size ?? 0 });
        }
        for (const folder of page.CommonPrefixes ?? []) {
          if (folder.Prefix !== undefined) entries.push({ key: folder.Prefix, size: 0 });
        }
        yield* entries.sort((a, b) => compareKeys(a.key, b.key));
        token = page.IsTruncated ? page.NextContinuationToken : undefined;
      } while (token);
    },

    async delete(key: string) {
      try {
        await client.send(new DeleteObjectCommand({ Bucket: bucket, Key: key }));
      } catch (err) {
        if (isMissingKey(err)) return;
        throw fail(err, `delete "${key}"`);
      }
    },

    close() {
      client.destroy();
      reader.destroy();
    },
  };
}

/** Socket-level failures, by Node error code, in words a person can act on. */
const NETWORK_FAILURES: Record<string, string> = {
  ECONNREFUSED: "connection refused",
  ENOTFOUND: "host not found",
  EAI_AGAIN: "host name lookup failed",
  ETIMEDOUT: "timed out",
  ECONNRESET: "connection reset",
  ECONNABORTED: "connection aborted",
  EPIPE: "connection closed while sending",
  EHOSTUNREACH: "host unreachable",
  ENETUNREACH: "network unreachable",
};

/**
 * Failures of Deno's fetch, by what its message (or its cause's) says, in the same words. Only
 * its own messages are read: a TypeError of any other kind is a bug, not the network.
 */
const FETCH_FAILURES: [RegExp, string][] = [
  [/refused/i, "connection refused"],
  [/dns error|lookup address/i, "host not found"],
  [/timed out/i, "timed out"],
  [/reset|reading a body/i, "connection reset"],
  [
    /are blocked/i,
    "Deno's fetch refuses this port (one of the Fetch standard's bad ports); serve S3 on another",
  ],
];

function fetchFailure(err: unknown): string | undefined {
  if (!(err instanceof TypeError)) return undefined;
  const said = `${err.message} ${(err.cause as Error | undefined)?.message ?? ""}`;
  if (!/fetch failed|error sending request|reading a body|are blocked/i.test(said)) {
    return undefined;
  }
  return FETCH_FAILURES.find(([pattern]) => pattern.test(said))?.[1] ?? "network error";
}

const FORBIDDEN_CODES = new Set([
  "AccessDenied",
  "InvalidAccessKeyId",
  "SignatureDoesNotMatch",
  "InvalidToken",
  "ExpiredToken",
]);

/**
 * Turns an AWS SDK failure into a {@linkcode TcfsError} whose `kind` says what
 * went wrong: `store_unreachable` (network, DNS, timeout), `store_forbidden`
 * (403, bad keys), `bucket_missing`, `store_error` (5xx and other transient
 * server trouble) or `store_rejected` (any other 4xx). The message names the
 * endpoint and bucket; it never includes key material, so the SDK error is not
 * attached when it could carry the access key or string-to-sign.
 *
 * @example
 * ```ts
 * try {
 *   await client.send(new HeadBucketCommand({ Bucket: "tcfs" }));
 * } catch (err) {
 *   throw classifyS3Error(err, "http://127.0.0.1:8333", "tcfs");
 * }
 * ```
 */
export function classifyS3Error(
  err: unknown,
  endpoint: string,
  bucket: string,
  action?: string,
): TcfsError {
  if (err instanceof TcfsError) return err;
  const where = `S3 at ${endpoint} (bucket "${bucket}")`;
  const doing = action ? ` to ${action}` : "";
  const { name = "Error", code, message = String(err) } = err as {
    name?: string;
    code?: string;
    message?: string;
  };
  const network = (code && NETWORK_FAILURES[code]) ??
    (name === "TimeoutError" ? "timed out" : undefined) ?? fetchFailure(err);
  if (network) {
    return new TcfsError(`cannot reach S3 at ${endpoint}: ${network}`, {
      kind: "store_unreachable",
      hint:
        `check the endpoint ([storage] endpoint or TCFS_S3_ENDPOINT) and that SeaweedFS is running and reachable there`,
      cause: err,
    });
  }
  const status = statusOf(err);
  if (status === 403 || FORBIDDEN_CODES.has(name)) {
    // HEAD answers carry no body, so the SDK can only call them "Unknown".
    const label = name === "Unknown" ? "" : ` ${name}`;
    return new TcfsError(`${where} refused access${doing}: HTTP ${status ?? 403}${label}`, {
      kind: "store_forbidden",
      hint:
        "check the S3 access key and secret (TCFS_S3_ACCESS/TCFS_S3_SECRET or the credential source tcfs reported) and that they may use this bucket",
    });
  }
  if (name === "NoSuchBucket") {
    return new TcfsError(`bucket "${bucket}" does not exist at S3 ${endpoint}`, {
      kind: "bucket_missing",
      hint:
        "check the bucket name ([storage] bucket or TCFS_S3_BUCKET); tcfs creates it on first use when the credentials may create buckets",
    });
  }
  const detail = `${status ?? "no status"} ${name}: ${message}`;
  if (status === undefined || status >= 500 || status === 429) {
    return new TcfsError(`${where} failed${doing}: ${detail}`, {
      kind: "store_error",
      hint: "the server had trouble; check SeaweedFS's log and free disk space, then retry",
      cause: err,
    });
  }
  return new TcfsError(`${where} rejected the request${doing}: ${detail}`, {
    kind: "store_rejected",
    hint: "this looks like a tcfs bug or an S3 server tcfs does not support; please report it",
    cause: err,
  });
}

/**
 * The body of `res` (the object or range named `where`), refused when it holds more than
 * `maxBytes`, and given up on when it goes silent (fetch's own timeout ends at the headers).
 */
async function bodyWithin(
  res: GetObjectCommandOutput,
  where: string,
  maxBytes: number | undefined,
): Promise<Uint8Array> {
  const size = res.ContentLength;
  if (maxBytes !== undefined && size !== undefined && size > maxBytes) {
    // The body is left unread: cancelling it closes the connection instead of draining it.
    await res.Body?.transformToWebStream().cancel().catch(() => {});
    throw oversizedObject(where, size, maxBytes);
  }
  if (!res.Body) return new Uint8Array();
  try {
    return await readBody(res.Body.transformToWebStream() as ReadableStream<Uint8Array>, size, {
      idleMs: SOCKET_IDLE_TIMEOUT_MS,
      maxBytes,
    });
  } catch (err) {
    // Only a body of unknown length can run past the limit.
    if (err instanceof RangeError && size === undefined && maxBytes !== undefined) {
      throw oversizedObject(where, undefined, maxBytes);
    }
    throw err;
  }
}

function statusOf(err: unknown): number | undefined {
  return (err as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
}

/** A 404 about the key; a missing bucket is an error, not an absent object. */
function isMissingKey(err: unknown): boolean {
  const name = (err as { name?: string }).name;
  return name === "NoSuchKey" || (statusOf(err) === 404 && name !== "NoSuchBucket");
}

/**
 * 412 is the answer to a failed If-None-Match/If-Match. 409
 * ConditionalRequestConflict means another conditional write to the key was in
 * flight, which for the caller is the same: someone else got there first.
 */
function isPreconditionFailure(err: unknown): boolean {
  const status = statusOf(err);
  return status === 412 ||
    (status === 409 && (err as { name?: string }).name === "ConditionalRequestConflict");
}

/** The endpoint as it may appear in messages: without user info in the URL. */
function redactEndpoint(endpoint: string): string {
  try {
    const url = new URL(endpoint);
    url.username = "";
    url.password = "";
    return url.href.replace(/\/$/, "");
  } catch {
    return endpoint;
  }
}
