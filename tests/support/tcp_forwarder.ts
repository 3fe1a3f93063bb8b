/**
 * A loopback TCP forwarder in front of a service, for tests that take the service away without
 * stopping it for everyone else: `stop()` closes the listener and every connection, so clients
 * see the service as down (connection refused) until `start()` again on the same port;
 * `stall()` keeps accepting connections but never answers (a store that hangs).
 *
 * @module
 */

/** A forwarder; see the module doc. */
export interface TcpForwarder {
  /** The forwarder's port on 127.0.0.1. */
  readonly port: number;
  start(): void;
  stop(): void;
  /** Drops the open connections; new ones are accepted and left unanswered. */
  stall(): void;
  [Symbol.dispose](): void;
}

/**
 * Forwards 127.0.0.1:<free port> to `target` (host:port), started.
 *
 * @example
 * ```ts
 * using proxy = startTcpForwarder("127.0.0.1:18333");
 * proxy.stop(); // the store is "down"
 * ```
 */
export function startTcpForwarder(target: string): TcpForwarder {
  const [hostname, targetPort] = target.split(":");
  let listener: Deno.Listener | undefined;
  let port = 0;
  let stalled = false;
  const open = new Set<Deno.Conn>();
  const pipe = async (from: Deno.Conn, to: Deno.Conn) => {
    try {
      await from.readable.pipeTo(to.writable);
    } catch {
      // Either side closed.
    }
    for (const conn of [from, to]) {
      try {
        conn.close();
      } catch {
        // already closed
      }
      open.delete(conn);
    }
  };
  const serve = async (l: Deno.Listener) => {
    for await (const client of l) {
      if (stalled) {
        open.add(client);
        continue;
      }
      try {
        const upstream = await Deno.connect({ hostname, port: Number(targetPort) });
        open.add(client).add(upstream);
        pipe(client, upstream);
        pipe(upstream, client);
      } catch {
        client.close();
      }
    }
  };
  const forwarder = {
    get port() {
      return port;
    },
    start() {
      stalled = false;
      listener = Deno.listen({ hostname: "127.0.0.1", port });
      port = (listener.addr as Deno.NetAddr).port;
      serve(listener).catch(() => {});
    },
    stop() {
      listener?.close();
      listener = undefined;
      dropConnections();
    },
    stall() {
      stalled = true;
      dropConnections();
    },
    [Symbol.dispose]() {
      forwarder.stop();
    },
  };
  function dropConnections() {
    for (const conn of open) {
      try {
        conn.close();
      } catch {
        // already closed
      }
    }
    open.clear();
  }
  forwarder.start();
  return forwarder;
}
