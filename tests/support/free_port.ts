/**
 * Free TCP ports on 127.0.0.1 for services a test starts itself.
 *
 * @module
 */

/** Options for {@linkcode freePorts}. */
export interface FreePortsOptions {
  /**
   * Also require `port + companionOffset` to be free for every returned port, for servers that
   * derive a second port from the first (SeaweedFS puts gRPC on HTTP port + 10000).
   */
  companionOffset?: number;
}

// Below Linux's ephemeral range (32768+), so outgoing connections never take a port between
// the check and the server binding it; above the well-known and common development ports.
const LOWEST_PORT = 10_000;
const END_OF_RANGE = 32_768;

/**
 * Returns `count` distinct ports that nothing on 127.0.0.1 listens on right now.
 *
 * @example
 * ```ts
 * const [clientPort, monitorPort] = freePorts(2);
 * const [s3Port] = freePorts(1, { companionOffset: 10_000 });
 * ```
 */
export function freePorts(count: number, options: FreePortsOptions = {}): number[] {
  const offset = options.companionOffset ?? 0;
  const span = END_OF_RANGE - offset - LOWEST_PORT;
  // Every port stays bound until all are chosen, so no two picks collide.
  const held: Deno.Listener[] = [];
  const ports: number[] = [];
  try {
    for (let attempt = 0; ports.length < count && attempt < 1_000; attempt++) {
      const port = LOWEST_PORT + Math.floor(Math.random() * span);
      const listeners = [port, ...(offset ? [port + offset] : [])].map(tryListen);
      held.push(...listeners.filter((listener) => listener !== undefined));
      if (listeners.every((listener) => listener !== undefined)) ports.push(port);
    }
  } finally {
    for (const listener of held) listener.close();
  }
  if (ports.length < count) {
    throw new Error(`found only ${ports.length} of ${count} free ports on 127.0.0.1`);
  }
  return ports;
}

function tryListen(port: number): Deno.Listener | undefined {
  try {
    return Deno.listen({ hostname: "127.0.0.1", port });
  } catch (error) {
    if (error instanceof Deno.errors.AddrInUse) return undefined;
    throw error;
  }
}
