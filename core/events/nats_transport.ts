/**
 * Connecting with nats.js's Node transport, minus one crash: the transport
 * removes a socket's listeners (`removeAllListeners()`) before destroying it,
 * and a reset that arrives just then (typically right after the server
 * refused the credentials and hung up) is emitted as an `error` event nobody
 * listens to, which kills the process ("Uncaught Error: read ECONNRESET";
 * seen about once in 300 refused connects under Deno 2.9). Here every
 * transport socket keeps a listener that ignores such late errors; the
 * connection failure itself still reaches nats.js through its own listeners.
 *
 * @module
 */

import type { Socket } from "node:net";
import {
  type NatsConnection,
  NatsConnectionImpl,
  type NodeConnectionOptions,
  setTransportFactory,
} from "@nats-io/transport-node";
import { nodeResolveHost, NodeTransport } from "@nats-io/transport-node/lib/node_transport.js";

/**
 * Connects like `connect` from `@nats-io/transport-node`, with sockets that can't crash the
 * process after the transport let go of them.
 *
 * @example
 * ```ts
 * const nc = await connectNats({ servers: "127.0.0.1:4222" });
 * await nc.close();
 * ```
 */
export function connectNats(options: NodeConnectionOptions): Promise<NatsConnection> {
  setTransportFactory({
    factory: () => new LateErrorSafeTransport(),
    dnsResolveFn: nodeResolveHost,
  });
  return NatsConnectionImpl.connect(options);
}

class LateErrorSafeTransport extends NodeTransport {
  constructor() {
    super();
    // `socket` is a field nats.js assigns for every dial and TLS upgrade; an accessor in its
    // place guards each socket as it is assigned.
    let current: Socket | undefined;
    Object.defineProperty(this, "socket", {
      get: () => current,
      set: (socket: Socket | undefined) => {
        current = socket;
        if (socket) keepIgnoringLateErrors(socket);
      },
    });
  }
}

const guarded = new WeakSet<Socket>();

function ignoreLateError(): void {}

function keepIgnoringLateErrors(socket: Socket): void {
  if (guarded.has(socket)) return;
  guarded.add(socket);
  socket.on("error", ignoreLateError);
  const removeAllListeners = socket.removeAllListeners.bind(socket);
  socket.removeAllListeners = (...event: Parameters<Socket["removeAllListeners"]>) => {
    removeAllListeners(...event);
    if (event.length === 0 || event[0] === "error") socket.on("error", ignoreLateError);
    return socket;
  };
}
