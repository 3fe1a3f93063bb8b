/**
 * The HTTP endpoint Prometheus scrapes: `/metrics`, plus `/healthz` (the process answers) and
 * `/readyz` (the store answers).
 *
 * Only requests naming this endpoint by its configured host, `localhost` or an IP address
 * are answered: a web page that rebinds its own domain name to 127.0.0.1 (DNS rebinding)
 * sends that name as `Host`, and gets 403 instead of the metrics.
 *
 * @module
 */

import { isIP } from "node:net";
import { TcfsError } from "../../core/errors.ts";
import { EXPOSITION_CONTENT_TYPE, type MetricsRegistry } from "./metrics_registry.ts";

/** Options for {@linkcode serveMetrics}. */
export interface MetricsServerOptions {
  /** `host:port`; port 0 picks a free port. */
  addr: string;
  registry: MetricsRegistry;
  /** Whether the daemon can do its job now (the store answers). */
  ready(): Promise<{ ready: boolean; reason?: string }>;
}

/** A running metrics endpoint. */
export interface MetricsServer {
  /** The bound `host:port` (with the real port when 0 was asked for). */
  addr: string;
  shutdown(): Promise<void>;
}

/**
 * Listens on `addr` and serves the endpoints.
 *
 * @throws {TcfsError} kind `metrics_addr_unavailable` when the address can't be bound.
 *
 * @example
 * ```ts
 * const server = await serveMetrics({ addr: "127.0.0.1:9100", registry, ready });
 * server.addr; // "127.0.0.1:9100"
 * ```
 */
export async function serveMetrics(options: MetricsServerOptions): Promise<MetricsServer> {
  const { hostname, port } = splitHostPort(options.addr);
  const bound = Promise.withResolvers<Deno.NetAddr>();
  let server: Deno.HttpServer<Deno.NetAddr>;
  try {
    server = Deno.serve(
      { hostname, port, onListen: bound.resolve },
      (request) => handle(request, options),
    );
  } catch (err) {
    throw new TcfsError(`cannot serve metrics on ${options.addr}: ${(err as Error).message}`, {
      kind: "metrics_addr_unavailable",
      cause: err,
      hint: "set [daemon] metrics_addr (or TCFS_METRICS_ADDR) to a free host:port",
    });
  }
  const addr = await bound.promise;
  const host = addr.hostname.includes(":") ? `[${addr.hostname}]` : addr.hostname;
  return { addr: `${host}:${addr.port}`, shutdown: () => server.shutdown() };
}

async function handle(request: Request, options: MetricsServerOptions): Promise<Response> {
  const host = request.headers.get("host");
  if (host !== null && !isOwnHost(host, splitHostPort(options.addr).hostname)) {
    return new Response(`forbidden: Host ${JSON.stringify(host)} is not this endpoint\n`, {
      status: 403,
    });
  }
  const { pathname } = new URL(request.url);
  if (request.method !== "GET" && request.method !== "HEAD") {
    return new Response("method not allowed\n", { status: 405 });
  }
  if (pathname === "/metrics") {
    return new Response(options.registry.render(), {
      headers: { "content-type": EXPOSITION_CONTENT_TYPE },
    });
  }
  if (pathname === "/healthz") return new Response("ok\n");
  if (pathname === "/readyz") {
    const { ready, reason } = await options.ready();
    return ready
      ? new Response("ready\n")
      : new Response(`not ready: ${reason ?? "unknown"}\n`, { status: 503 });
  }
  return new Response("not found: try /metrics, /healthz or /readyz\n", { status: 404 });
}

function splitHostPort(addr: string): { hostname: string; port: number } {
  const colon = addr.lastIndexOf(":");
  const host = addr.slice(0, colon);
  return {
    hostname: host.startsWith("[") ? host.slice(1, -1) : host,
    port: Number(addr.slice(colon + 1)),
  };
}

/** Whether a `Host` header names this endpoint rather than some other site's domain. */
function isOwnHost(header: string, configuredHost: string): boolean {
  let hostname: string;
  try {
    hostname = new URL(`http://${header}`).hostname;
  } catch {
    return false;
  }
  const bare = hostname.startsWith("[") ? hostname.slice(1, -1) : hostname;
  return bare === "localhost" || isIP(bare) !== 0 || bare === configuredHost.toLowerCase();
}
