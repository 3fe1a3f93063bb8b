import assert from "node:assert/strict";
import { createMetricsRegistry } from "../../../daemon/metrics/metrics_registry.ts";
import { serveMetrics } from "../../../daemon/metrics/metrics_server.ts";

Deno.test("the metrics endpoint refuses a Host that is not its address or localhost (DNS rebinding)", async () => {
  const registry = createMetricsRegistry();
  registry.gauge({ name: "t_secretish", help: "Something a web page must not read." }).set(1);
  const server = await serveMetrics({
    addr: "127.0.0.1:0",
    registry,
    ready: () => Promise.resolve({ ready: true }),
  });
  const port = server.addr.split(":").at(-1);
  // fetch() sends its own Host whatever it is given; a browser under DNS rebinding sends the
  // attacker's domain, so the request is written by hand.
  const get = async (path: string, host = server.addr) => {
    using conn = await Deno.connect({ hostname: "127.0.0.1", port: Number(port) });
    const request = `GET ${path} HTTP/1.1\r\nHost: ${host}\r\nConnection: close\r\n\r\n`;
    await conn.write(new TextEncoder().encode(request));
    const text = new TextDecoder().decode(await new Response(conn.readable).arrayBuffer());
    return { status: Number(text.split(" ")[1]), body: text };
  };
  try {
    for (const path of ["/metrics", "/readyz", "/healthz"]) {
      for (
        const host of ["attacker.example", `rebind.attacker.example:${port}`, "localhost.evil"]
      ) {
        const { status, body } = await get(path, host);
        assert.equal(status, 403, `${path} with Host ${host}`);
        assert.doesNotMatch(body, /t_secretish/);
      }
    }
    assert.match((await get("/metrics")).body, /t_secretish 1/);
    for (const host of [`localhost:${port}`, `127.0.0.1:${port}`, "[::1]", "LOCALHOST"]) {
      assert.equal((await get("/metrics", host)).status, 200, `Host ${host}`);
    }
  } finally {
    await server.shutdown();
  }
});
