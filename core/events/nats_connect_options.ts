/**
 * Turns the `[sync] nats_url` and `[nats]` settings into nats.js connection
 * options: servers, credentials and TLS.
 *
 * @module
 */

import {
  type Authenticator,
  credsAuthenticator,
  type NodeConnectionOptions,
} from "@nats-io/transport-node";
import { isIP } from "node:net";
import type { NatsConfig } from "../config/config_schema.ts";
import { redactUrlCredentials } from "../config/config_schema.ts";
import { readPrivateFile } from "../credentials/private_file.ts";
import { TcfsError } from "../errors.ts";

/**
 * Connection options for `natsUrl` with the `[nats]` settings.
 *
 * - Credentials come from `nats.credsFile` (read now, so a rotated file is picked up on the
 *   next connect), `nats.user`/`nats.password` or `nats.token`. nats.js ignores user info in a
 *   URL, so `nats://user:password@host` and `nats://token@host` are turned into options here;
 *   `[nats]` settings win over the URL.
 * - A `tls://` URL or a `nats.tlsCaFile` makes TLS required (never silently plain text), with
 *   the server's certificate checked against `nats.tlsCaFile` (else the system CAs).
 * - Reconnection is forever; the caller sets the delay (`reconnectDelayHandler`).
 *
 * @example
 * ```ts
 * const options = await natsConnectOptions("tls://yoga.local:4222", { tlsCaFile: "/etc/nats/ca.pem" });
 * const nc = await connect({ ...options, name: "tcfs" });
 * ```
 * @throws {TcfsError} when the URL is malformed or the creds file can't be used.
 */
export async function natsConnectOptions(
  natsUrl: string,
  nats: NatsConfig,
): Promise<NodeConnectionOptions> {
  const url = parseNatsUrl(natsUrl);
  const options: NodeConnectionOptions = {
    servers: `${url.hostname}:${url.port || 4222}`,
    reconnect: true,
    maxReconnectAttempts: -1,
    // The caller retries a failed first connect itself, so it can report why and be stopped.
    waitOnFirstConnect: false,
  };
  if (url.protocol === "tls:" || nats.tlsCaFile) options.tls = tlsOptions(url, nats.tlsCaFile);
  const urlUser = decodeURIComponent(url.username);
  const urlPassword = decodeURIComponent(url.password);
  const user = nats.user ?? (urlPassword ? urlUser : undefined);
  const password = nats.password ?? (urlPassword || undefined);
  const token = nats.token ?? (urlUser && !urlPassword ? urlUser : undefined);
  if (user !== undefined) Object.assign(options, { user, pass: password });
  else if (token !== undefined) options.token = token;
  if (nats.credsFile) options.authenticator = await readCredsFile(nats.credsFile);
  return options;
}

function tlsOptions(
  url: URL,
  caFile: string | undefined,
): NonNullable<NodeConnectionOptions["tls"]> {
  const tls: NonNullable<NodeConnectionOptions["tls"]> & { host?: string } = caFile
    ? { caFile }
    : {};
  // nats.js sends no TLS server name for an IP address (SNI forbids IPs), and Node then checks
  // the certificate against "localhost"; `host` makes it check the address's IP SAN instead.
  const host = url.hostname.replace(/^\[(.*)\]$/, "$1");
  if (isIP(host)) tls.host = host;
  return tls;
}

function parseNatsUrl(natsUrl: string): URL {
  let url: URL;
  try {
    url = new URL(natsUrl);
  } catch {
    url = new URL("invalid:");
  }
  if ((url.protocol !== "nats:" && url.protocol !== "tls:") || !url.hostname) {
    throw new TcfsError(`the NATS URL ${redactUrlCredentials(natsUrl)} is not valid`, {
      hint: "set [sync] nats_url to a URL like nats://host:4222 or tls://host:4222",
      kind: "config_invalid",
    });
  }
  return url;
}

async function readCredsFile(path: string): Promise<Authenticator> {
  let creds: Uint8Array;
  try {
    creds = await readPrivateFile({
      what: "NATS credentials file",
      path,
      holds: "NATS credentials",
    });
  } catch (err) {
    if (err instanceof TcfsError) throw err;
    throw new TcfsError(`cannot read the NATS credentials file ${path}: ${errorText(err)}`, {
      hint: "check [nats] creds_file, and that the daemon's user may read it",
      kind: "nats_creds_unreadable",
      cause: err,
    });
  }
  const authenticator = credsAuthenticator(creds);
  try {
    // Signing a nonce parses the JWT and the seed, so a damaged file is reported here,
    // not as an obscure failure inside the connection handshake.
    authenticator("tcfs-creds-check");
  } catch (err) {
    throw new TcfsError(`${path} is not a valid NATS .creds file (${errorText(err)})`, {
      hint: "use the .creds file nsc or your NATS operator generated for this user",
      kind: "nats_creds_invalid",
      cause: err,
    });
  }
  return authenticator;
}

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
