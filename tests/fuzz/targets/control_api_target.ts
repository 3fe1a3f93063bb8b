/**
 * Fuzz target: control API requests, sent to a real control server on a temp socket. Every
 * answer is a 200 from a handler that got checked input, or a JSON error of a known kind;
 * never `internal` (an exception the server did not expect) or a dropped connection.
 *
 * @module
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { isTcfsErrorKind, TcfsError } from "../../../core/errors.ts";
import { RESOLUTIONS } from "../../../core/conflicts/conflict_resolver.ts";
import { API_ROUTES } from "../../../daemon/api/api_types.ts";
import { type ControlServer, serveControlApi } from "../../../daemon/api/control_server.ts";
import type { ControlHandlers } from "../../../daemon/api/control_server.ts";
import type { FuzzTarget } from "../fuzz_target.ts";
import { hostileJson, hostileString, pick } from "../mutations.ts";

const SAMPLE_BODIES: Record<string, unknown> = {
  "/v1/push": { path: "/home/ada/tcfs/a.txt", remote: "docs", transfer: "t-1" },
  "/v1/pull": { remote: "docs", local: "/home/ada/tcfs", transfer: "t_2" },
  "/v1/conflicts/resolve": { path: "docs/a.txt", resolution: "keep_both" },
  "/v1/restore": { remote: "tcfs/default/docs", at: "2h", local: "/home/ada/tcfs/docs" },
  "/v1/gc": { dry_run: true, min_age_secs: 3600 },
};

interface Request {
  method: string;
  url: string;
  body?: Uint8Array;
  origin: boolean;
}

interface Fixture {
  dir: string;
  server: ControlServer;
  client: Deno.HttpClient;
  /** What a handler found wrong with the input it was given. */
  problems: string[];
}

/** Stub handlers that check the input the server passes them. */
function checkingHandlers(problems: string[]): ControlHandlers {
  const optionalText = (value: unknown, field: string) => {
    if (value !== undefined && typeof value !== "string") problems.push(`${field} is ${value}`);
  };
  const transfer = (value: unknown) => {
    if (value !== undefined && !/^[A-Za-z0-9_-]{1,64}$/.test(String(value))) {
      problems.push(`transfer ${JSON.stringify(value)} passed`);
    }
  };
  const done = <T>(value: unknown) => Promise.resolve(value as T);
  return {
    "GET /v1/status": () => done({}),
    "GET /v1/identity": () => done({}),
    "GET /v1/mounts": () => done([]),
    "POST /v1/push": (input) => {
      optionalText(input.path, "path");
      optionalText(input.remote, "remote");
      transfer(input.transfer);
      return done({});
    },
    "POST /v1/pull": (input) => {
      optionalText(input.remote, "remote");
      optionalText(input.local, "local");
      transfer(input.transfer);
      return done({});
    },
    "GET /v1/sync-status": (input) => {
      optionalText(input.path, "path");
      return done([]);
    },
    "GET /v1/conflicts": () => done({ conflicts: [] }),
    "POST /v1/conflicts/resolve": (input) => {
      if (typeof input.path !== "string" || input.path === "") problems.push("empty path passed");
      if (!RESOLUTIONS.includes(input.resolution)) problems.push("resolution passed");
      return done({});
    },
    "GET /v1/log": (input) => {
      if (typeof input.remote !== "string" || input.remote === "") {
        problems.push("empty remote passed");
      }
      return done({});
    },
    "POST /v1/restore": (input) => {
      if (typeof input.remote !== "string" || input.remote === "") {
        problems.push("empty remote passed");
      }
      for (const field of ["version", "at", "to", "local"] as const) {
        optionalText(input[field], field);
      }
      if (input.version !== undefined && input.at !== undefined) {
        problems.push("version and at passed");
      }
      if (input.dry_run !== undefined && typeof input.dry_run !== "boolean") {
        problems.push(`dry_run is ${input.dry_run}`);
      }
      return done([]);
    },
    "POST /v1/gc": (input) => {
      if (input.dry_run !== undefined && typeof input.dry_run !== "boolean") {
        problems.push(`dry_run ${JSON.stringify(input.dry_run)} passed`);
      }
      const minAge = input.min_age_secs;
      if (minAge !== undefined && !(Number.isSafeInteger(minAge) && minAge >= 0)) {
        problems.push(`min_age_secs ${JSON.stringify(minAge)} passed`);
      }
      return done({});
    },
    "GET /v1/events": () => done(new ReadableStream({ start: (c) => c.close() })),
    "POST /v1/reload": () => done({}),
  };
}

export const target: FuzzTarget<Request, Fixture> = {
  open: async () => {
    const dir = await Deno.makeTempDir({ prefix: "tcfs-fuzz-api-" });
    const path = join(dir, "tcfsd.sock");
    const problems: string[] = [];
    const server = await serveControlApi({
      path,
      handlers: checkingHandlers(problems),
      log: () => {},
    });
    const client = Deno.createHttpClient({ proxy: { transport: "unix", path } });
    return { dir, server, client, problems };
  },
  close: async ({ dir, server, client }) => {
    client.close();
    await server.shutdown();
    await Deno.remove(dir, { recursive: true });
  },
  input: (random) => {
    const [routeMethod, routePath] = pick(random, API_ROUTES).split(" ");
    const roll = random();
    const method = roll < 0.85 ? routeMethod : pick(random, ["GET", "POST", "PUT", "DELETE"]);
    let path = routePath;
    // fetch itself refuses URLs of 64 KiB; the server never sees them.
    if (random() < 0.15) {
      path = pick(random, [`${routePath}/..`, `/${hostileString(random).slice(0, 2000)}`]);
    }
    const target = new URL("http://localhost/");
    target.pathname = path;
    if (path === "/v1/sync-status" && random() < 0.5) {
      target.searchParams.set("path", hostileString(random).slice(0, 2000));
    }
    if (path === "/v1/log" && random() < 0.8) {
      target.searchParams.set("remote", hostileString(random).slice(0, 2000));
    }
    const url = target.href;
    const body = method === "GET" || method === "HEAD"
      ? undefined
      : hostileJson(random, SAMPLE_BODIES[routePath] ?? {});
    return { method, url, body, origin: random() < 0.05 };
  },
  run: async (request, { client, problems }) => {
    const response = await fetch(request.url, {
      method: request.method,
      body: request.body && new Uint8Array(request.body),
      client,
      headers: request.origin ? { origin: "https://example.com" } : {},
    });
    const text = await response.text();
    assert.deepEqual(problems.splice(0), [], "handlers got only checked input");
    if (response.status === 200) return;
    assert.ok([400, 403, 404, 405, 413].includes(response.status), `status ${response.status}`);
    const { error } = JSON.parse(text);
    assert.ok(isTcfsErrorKind(error.kind) && error.kind !== "internal", text);
    // As the client would raise it, so the run counts the kinds.
    throw new TcfsError(error.message, { kind: error.kind });
  },
};
