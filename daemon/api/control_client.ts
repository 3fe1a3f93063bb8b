/**
 * The CLI's side of the control API: typed calls to a running daemon over its Unix socket.
 *
 * @module
 */

import { ExitCode, type ExitCodeValue, isTcfsErrorKind, TcfsError } from "../../core/errors.ts";
import type {
  ActivityLine,
  ApiErrorBody,
  ApiRoute,
  ApiRoutes,
  GcRequestBody,
  LogQuery,
  PullRequestBody,
  PushRequestBody,
  ResolveConflictRequestBody,
  RestoreRequestBody,
  SyncStatusQuery,
} from "./api_types.ts";
import { assertTrustedSocket } from "../../platform/socket_trust.ts";

/** Typed calls to the daemon; {@linkcode ControlClient.close} releases the connection. */
export interface ControlClient {
  identity(): Promise<ApiRoutes["GET /v1/identity"]["response"]>;
  status(): Promise<ApiRoutes["GET /v1/status"]["response"]>;
  mounts(): Promise<ApiRoutes["GET /v1/mounts"]["response"]>;
  push(body: PushRequestBody): Promise<ApiRoutes["POST /v1/push"]["response"]>;
  pull(body: PullRequestBody): Promise<ApiRoutes["POST /v1/pull"]["response"]>;
  syncStatus(query: SyncStatusQuery): Promise<ApiRoutes["GET /v1/sync-status"]["response"]>;
  conflicts(): Promise<ApiRoutes["GET /v1/conflicts"]["response"]>;
  resolveConflict(
    body: ResolveConflictRequestBody,
  ): Promise<ApiRoutes["POST /v1/conflicts/resolve"]["response"]>;
  log(query: LogQuery): Promise<ApiRoutes["GET /v1/log"]["response"]>;
  restore(body: RestoreRequestBody): Promise<ApiRoutes["POST /v1/restore"]["response"]>;
  gc(body: GcRequestBody): Promise<ApiRoutes["POST /v1/gc"]["response"]>;
  /** The activity stream, line by line, until `signal` aborts or the daemon stops. */
  events(signal?: AbortSignal): AsyncIterable<ActivityLine>;
  reload(): Promise<ApiRoutes["POST /v1/reload"]["response"]>;
  close(): void;
}

/**
 * Whether a daemon accepts connections on `socketPath`. Throws a `socket_untrusted`
 * `TcfsError` instead when the socket or its directory is another user's or writable by
 * others: what answers there may not be this user's daemon.
 *
 * @example
 * ```ts
 * if (await daemonAvailable(config.daemon.socket)) useTheDaemon();
 * ```
 */
export async function daemonAvailable(socketPath: string): Promise<boolean> {
  assertTrustedSocket(socketPath);
  try {
    const conn = await Deno.connect({ transport: "unix", path: socketPath });
    conn.close();
    return true;
  } catch {
    return false;
  }
}

/**
 * A client for the daemon listening on `socketPath`. Nothing connects until the first call.
 *
 * @example
 * ```ts
 * using client = createControlClient("/run/user/1000/tcfsd.sock");
 * const status = await client.status();
 * ```
 */
export function createControlClient(socketPath: string): ControlClient & Disposable {
  const http = Deno.createHttpClient({ proxy: { transport: "unix", path: socketPath } });
  const call = async <R extends ApiRoute>(
    route: R,
    body?: unknown,
    query?: Record<string, string | undefined>,
    signal?: AbortSignal,
  ): Promise<Response> => {
    const [method, path] = route.split(" ");
    const url = new URL(`http://localhost${path}`);
    for (const [name, value] of Object.entries(query ?? {})) {
      if (value !== undefined) url.searchParams.set(name, value);
    }
    let response: Response;
    try {
      response = await fetch(url, {
        method,
        client: http,
        signal,
        headers: body === undefined ? {} : { "content-type": "application/json" },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
    } catch (err) {
      if (signal?.aborted) throw err;
      throw new TcfsError(`the tcfs daemon is not answering on ${socketPath}`, {
        kind: "daemon_not_running",
        exitCode: ExitCode.daemonNotRunning,
        hint: "start it with `tcfs daemon` (or systemctl --user start tcfsd)",
        cause: err,
      });
    }
    if (!response.ok) throw await apiError(response, route);
    return response;
  };
  const json = async <R extends ApiRoute>(
    route: R,
    body?: unknown,
    query?: Record<string, string | undefined>,
  ) => (await (await call(route, body, query)).json()) as ApiRoutes[R]["response"];
  return {
    identity: () => json("GET /v1/identity"),
    status: () => json("GET /v1/status"),
    mounts: () => json("GET /v1/mounts"),
    push: (body) => json("POST /v1/push", body),
    pull: (body) => json("POST /v1/pull", body),
    syncStatus: (query) => json("GET /v1/sync-status", undefined, { path: query.path }),
    conflicts: () => json("GET /v1/conflicts"),
    resolveConflict: (body) => json("POST /v1/conflicts/resolve", body),
    log: (query) => json("GET /v1/log", undefined, { remote: query.remote }),
    restore: (body) => json("POST /v1/restore", body),
    gc: (body) => json("POST /v1/gc", body),
    reload: () => json("POST /v1/reload", {}),
    async *events(signal?: AbortSignal) {
      const response = await call("GET /v1/events", undefined, undefined, signal);
      yield* ndjsonLines<ActivityLine>(response.body!);
    },
    close: () => http.close(),
    [Symbol.dispose]: () => http.close(),
  };
}

async function apiError(response: Response, route: string): Promise<TcfsError> {
  const text = await response.text();
  let body: Partial<ApiErrorBody> = {};
  try {
    body = JSON.parse(text);
  } catch {
    // Not one of ours: reported with the status below.
  }
  const error = body.error;
  if (!error) {
    return new TcfsError(`the daemon answered ${route} with HTTP ${response.status}`, {
      kind: "daemon_error",
      hint: "check the daemon's log (journalctl --user -u tcfsd)",
    });
  }
  return new TcfsError(error.message, {
    // A daemon of another release may name a kind this client does not know.
    kind: isTcfsErrorKind(error.kind) ? error.kind : "daemon_error",
    hint: error.hint,
    exitCode: error.exit_code as ExitCodeValue,
  });
}

async function* ndjsonLines<T>(body: ReadableStream<Uint8Array>): AsyncIterable<T> {
  let pending = "";
  for await (const text of body.pipeThrough(new TextDecoderStream())) {
    pending += text;
    let newline: number;
    while ((newline = pending.indexOf("\n")) >= 0) {
      const line = pending.slice(0, newline).trim();
      pending = pending.slice(newline + 1);
      if (line !== "") yield JSON.parse(line) as T;
    }
  }
}
