/**
 * An HTTP proxy that counts the requests a client sends to an S3 endpoint: put it between
 * tcfs and SeaweedFS (`TCFS_S3_ENDPOINT=<printed address>`) to see what a command costs in
 * requests, with no change to tcfs. Not a test.
 *
 * Usage: `$DENO run -A scripts/bench/request_counter.ts --upstream http://127.0.0.1:18333
 * --log FILE`. It prints its own address (`http://127.0.0.1:PORT`) on stdout once it listens,
 * then appends one line per request to FILE: the method, or `LIST` for a GET that lists a
 * bucket. `sort FILE | uniq -c` gives requests by method.
 *
 * Requests are forwarded byte for byte, Host header included, since SigV4 signs it: Deno's
 * `fetch` replaces the Host header, so both legs use `node:http`.
 *
 * @module
 */

import { Agent, createServer, type IncomingMessage, request, type ServerResponse } from "node:http";
import { parseArgs } from "node:util";

/**
 * What a request is, for counting: its method, or `LIST` for a bucket listing.
 *
 * @example
 * ```ts
 * requestKind("GET", "/tcfs?list-type=2&prefix=ns%2F"); // "LIST"
 * ```
 */
export function requestKind(method: string, url: string): string {
  const query = new URL(url, "http://any").searchParams;
  return method === "GET" && query.has("list-type") ? "LIST" : method;
}

/**
 * Serves on a free loopback port, forwarding to `upstream` and appending each request's
 * kind to `logPath`; resolves to the address it listens on.
 *
 * @example
 * ```ts
 * const address = await serveCounter(new URL("http://127.0.0.1:18333"), "/tmp/requests");
 * ```
 */
export function serveCounter(upstream: URL, logPath: string): Promise<string> {
  const log = Deno.openSync(logPath, { append: true, create: true });
  const encoder = new TextEncoder();
  // As many connections as tcfs keeps to a store, so the proxy never queues what tcfs sends.
  const agent = new Agent({ keepAlive: true, maxSockets: 64 });
  const forward = (incoming: IncomingMessage, reply: ServerResponse) => {
    const method = incoming.method ?? "GET";
    const url = incoming.url ?? "/";
    // Written before forwarding, so every request of a finished command is in the file.
    log.writeSync(encoder.encode(`${requestKind(method, url)}\n`));
    const outgoing = request({
      agent,
      hostname: upstream.hostname,
      port: upstream.port,
      method,
      path: url,
      headers: incoming.headers,
    }, (answer) => {
      reply.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(reply);
    });
    outgoing.on("error", (err) => {
      reply.writeHead(502);
      reply.end(String(err));
    });
    incoming.pipe(outgoing);
  };
  const server = createServer(forward);
  return new Promise((resolve) => {
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      if (address === null || typeof address === "string") throw new Error("no TCP address");
      resolve(`http://127.0.0.1:${address.port}`);
    });
  });
}

if (import.meta.main) {
  const args = parseArgs({
    options: { upstream: { type: "string" }, log: { type: "string" } },
  }).values;
  if (!args.upstream || !args.log) {
    console.error("usage: request_counter.ts --upstream URL --log FILE");
    Deno.exit(2);
  }
  console.log(await serveCounter(new URL(args.upstream), args.log));
}
