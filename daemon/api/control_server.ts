/**
 * The control API's server: HTTP/1.1 with JSON on a Unix socket, as Tailscale's LocalAPI does
 * it. Only the socket's owner can connect (mode 0600; Deno has no SO_PEERCRED, so the file
 * mode is the check), and requests that carry an `Origin` or `Referer` header are refused, so
 * a web page can never drive the daemon.
 *
 * @module
 */

import { ExitCode, explainSystemError, TcfsError, type TcfsErrorKind } from "../../core/errors.ts";
import { RESOLUTIONS } from "../../core/conflicts/conflict_resolver.ts";
import type { Resolution } from "../../core/conflicts/conflict_resolver.ts";
import { claimSocketPath } from "./socket_claim.ts";
import {
  API_ROUTES,
  type ApiErrorBody,
  type ApiRoute,
  type ApiRoutes,
  NDJSON_CONTENT_TYPE,
} from "./api_types.ts";

/**
 * What the daemon does for each route. A streamed response (`/v1/events`) learns that its
 * client went away when its stream is cancelled.
 */
export type ControlHandlers = {
  [R in ApiRoute]: (request: ApiRoutes[R]["request"]) => Promise<ApiRoutes[R]["response"]>;
};

/** Options for {@linkcode serveControlApi}. */
export interface ControlServerOptions {
  /** The socket's path. */
  path: string;
  handlers: ControlHandlers;
  /** Where request failures are reported. */
  log: (level: "debug" | "warning" | "error", message: string) => void;
}

/** A running control server. */
export interface ControlServer {
  path: string;
  /** Stops listening and waits for requests in progress (close event streams first). */
  shutdown(): Promise<void>;
}

/**
 * Claims the socket path (refusing when another daemon answers on it, replacing a stale
 * socket), listens on it with mode 0600, and serves the routes.
 *
 * @throws {TcfsError} kind `daemon_running` when another daemon answers on `path`.
 *
 * @example
 * ```ts
 * const server = await serveControlApi({ path: "/run/user/1000/tcfsd.sock", handlers, log });
 * await server.shutdown();
 * ```
 */
export async function serveControlApi(options: ControlServerOptions): Promise<ControlServer> {
  await claimSocketPath(options.path);
  const server = Deno.serve(
    { path: options.path, onListen: () => {} },
    (request) => handleRequest(request, options),
  );
  // The socket is created with the umask's mode, which never grants others write access
  // (needed to connect) under the usual umasks; 0600 makes that explicit.
  await Deno.chmod(options.path, 0o600);
  return { path: options.path, shutdown: () => server.shutdown() };
}

async function handleRequest(request: Request, options: ControlServerOptions): Promise<Response> {
  const url = new URL(request.url);
  try {
    if (request.headers.has("origin") || request.headers.has("referer")) {
      throw new ApiError(403, "forbidden_origin", "requests from web pages are refused", {
        hint: "the control API is for local programs; send no Origin or Referer header",
      });
    }
    const route = findRoute(request.method, url.pathname);
    const input = await ROUTE_INPUTS[route](request, url);
    const result = await (options.handlers[route] as (input: unknown) => Promise<unknown>)(input);
    if (result instanceof ReadableStream) {
      return new Response(result, {
        headers: { "content-type": NDJSON_CONTENT_TYPE, "cache-control": "no-store" },
      });
    }
    return jsonResponse(200, result);
  } catch (err) {
    const { status, body } = errorBody(err);
    options.log(
      status >= 500 ? "error" : "debug",
      `${request.method} ${url.pathname}: ${status} ${body.error.message}`,
    );
    return jsonResponse(status, body);
  }
}

/** A transfer name goes back out on every subscriber's stream: kept short and plain. */
const TRANSFER_NAME = /^[A-Za-z0-9_-]{1,64}$/;

function transferName(body: Record<string, unknown>): string | undefined {
  const name = optionalString(body, "transfer");
  if (name !== undefined && !TRANSFER_NAME.test(name)) {
    throw badRequest(`"transfer" must be 1–64 letters, digits, "-" or "_"`);
  }
  return name;
}

function findRoute(method: string, path: string): ApiRoute {
  const route = `${method} ${path}` as ApiRoute;
  if (API_ROUTES.includes(route)) return route;
  const allowed = API_ROUTES.filter((r) => r.endsWith(` ${path}`)).map((r) => r.split(" ")[0]);
  if (allowed.length > 0) {
    throw new ApiError(405, "method_not_allowed", `${method} is not allowed on ${path}`, {
      hint: `use ${allowed.join(" or ")}`,
    });
  }
  throw new ApiError(404, "not_found", `no route ${method} ${path}`, {
    hint: `the routes are ${API_ROUTES.join(", ")}; see docs/API.md`,
  });
}

/** How each route's input is read from the request, checked. */
const ROUTE_INPUTS: {
  [R in ApiRoute]: (request: Request, url: URL) => Promise<ApiRoutes[R]["request"]>;
} = {
  "GET /v1/identity": () => Promise.resolve(undefined),
  "GET /v1/status": () => Promise.resolve(undefined),
  "GET /v1/mounts": () => Promise.resolve(undefined),
  "POST /v1/push": async (request) => {
    const body = await jsonObject(request);
    return {
      path: optionalString(body, "path"),
      remote: optionalString(body, "remote"),
      transfer: transferName(body),
      dry_run: optionalBoolean(body, "dry_run"),
      allow_mass_delete: optionalBoolean(body, "allow_mass_delete"),
    };
  },
  "POST /v1/pull": async (request) => {
    const body = await jsonObject(request);
    return {
      remote: optionalString(body, "remote"),
      local: optionalString(body, "local"),
      transfer: transferName(body),
      dry_run: optionalBoolean(body, "dry_run"),
    };
  },
  "GET /v1/sync-status": (_, url) =>
    Promise.resolve({ path: url.searchParams.get("path") || undefined }),
  "GET /v1/conflicts": () => Promise.resolve(undefined),
  "POST /v1/conflicts/resolve": async (request) => {
    const body = await jsonObject(request);
    const path = optionalString(body, "path");
    const resolution = optionalString(body, "resolution");
    if (!path) throw badRequest(`"path" is required`);
    if (!RESOLUTIONS.includes(resolution as Resolution)) {
      throw badRequest(`"resolution" must be one of ${RESOLUTIONS.join(", ")}`);
    }
    return { path, resolution: resolution as Resolution, local: optionalString(body, "local") };
  },
  "GET /v1/log": (_, url) => {
    const remote = url.searchParams.get("remote");
    if (!remote) throw badRequest(`the query needs "remote", e.g. ?remote=tcfs/default/notes.txt`);
    return Promise.resolve({ remote });
  },
  "POST /v1/restore": async (request) => {
    const body = await jsonObject(request);
    const remote = optionalString(body, "remote");
    if (!remote) throw badRequest(`"remote" is required`);
    const version = optionalString(body, "version");
    const at = optionalString(body, "at");
    if (version !== undefined && at !== undefined) {
      throw badRequest(`give "version" or "at", not both`);
    }
    return {
      remote,
      version,
      at,
      to: optionalString(body, "to"),
      local: optionalString(body, "local"),
      dry_run: optionalBoolean(body, "dry_run"),
    };
  },
  "POST /v1/gc": async (request) => {
    const body = await jsonObject(request);
    return {
      dry_run: optionalBoolean(body, "dry_run"),
      min_age_secs: optionalCount(body, "min_age_secs"),
    };
  },
  "GET /v1/events": () => Promise.resolve(undefined),
  "POST /v1/reload": () => Promise.resolve(undefined),
};

/** Far above any real request body (a few hundred bytes). */
const MAX_BODY_BYTES = 64 * 1024;

async function jsonObject(request: Request): Promise<Record<string, unknown>> {
  const text = await boundedText(request);
  if (text.trim() === "") return {};
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw badRequest("the request body is not JSON");
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw badRequest("the request body must be a JSON object");
  }
  return value as Record<string, unknown>;
}

/** The request's body, refused once it passes {@linkcode MAX_BODY_BYTES}, read or announced. */
async function boundedText(request: Request): Promise<string> {
  const tooLarge = () =>
    new ApiError(413, "bad_request", `the request body is larger than ${MAX_BODY_BYTES} bytes`, {
      hint: "see docs/API.md for the shapes",
    });
  if (Number(request.headers.get("content-length")) > MAX_BODY_BYTES) throw tooLarge();
  if (request.body === null) return "";
  const decoder = new TextDecoder();
  let text = "";
  let size = 0;
  for await (const chunk of request.body) {
    size += chunk.length;
    if (size > MAX_BODY_BYTES) throw tooLarge();
    text += decoder.decode(chunk, { stream: true });
  }
  return text + decoder.decode();
}

function optionalString(body: Record<string, unknown>, field: string): string | undefined {
  const value = body[field];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== "string") throw badRequest(`"${field}" must be a string`);
  return value;
}

function optionalBoolean(body: Record<string, unknown>, field: string): boolean | undefined {
  const value = body[field];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== "boolean") throw badRequest(`"${field}" must be true or false`);
  return value;
}

function optionalCount(body: Record<string, unknown>, field: string): number | undefined {
  const value = body[field];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== "number" || !Number.isSafeInteger(value) || value < 0) {
    throw badRequest(`"${field}" must be a whole number, 0 or more`);
  }
  return value;
}

/** An error with an HTTP status, for problems with the request itself. */
class ApiError extends TcfsError {
  readonly status: number;
  constructor(
    status: number,
    kind: TcfsErrorKind,
    message: string,
    options: { hint?: string } = {},
  ) {
    super(message, { kind, hint: options.hint, exitCode: ExitCode.usage });
    this.status = status;
  }
}

function badRequest(message: string): ApiError {
  return new ApiError(400, "bad_request", message, { hint: "see docs/API.md for the shapes" });
}

/** Statuses for errors the handlers throw, by kind; anything else is a 500. */
const STATUS_BY_KIND: Partial<Record<TcfsErrorKind, number>> = {
  invalid_argument: 400,
  not_found: 404,
  deleted: 409,
  history_gone: 410,
  no_conflict: 409,
  conflict_changed: 409,
  local_changed: 409,
  mass_delete: 409,
  gc_lease_held: 409,
  root_marker_missing: 409,
  daemon_stopping: 503,
  disk_full: 507,
};

function errorBody(thrown: unknown): { status: number; body: ApiErrorBody } {
  const err = explainSystemError(thrown);
  if (err instanceof TcfsError) {
    const status = err instanceof ApiError
      ? err.status
      : STATUS_BY_KIND[err.kind] ?? (err.exitCode === ExitCode.usage ? 400 : 500);
    return {
      status,
      body: {
        error: { kind: err.kind, message: err.message, hint: err.hint, exit_code: err.exitCode },
      },
    };
  }
  return {
    status: 500,
    body: {
      error: {
        kind: "internal",
        message: err instanceof Error ? err.message : String(err),
        exit_code: ExitCode.error,
      },
    },
  };
}

function jsonResponse(status: number, body: unknown): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: { "content-type": "application/json" },
  });
}
