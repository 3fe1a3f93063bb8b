/**
 * Turns the `[sync] nats_url` and `[nats]` settings into nats.js connection
 * options: servers (one, or a cluster's, tried in order), credentials and TLS.
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
import { parseNatsUrlList } from "../config/nats_url_list.ts";
import { readPrivateFile } from "../credentials/private_file.ts";
import { TcfsError } from "../errors.ts";

/**
 * Connection options for `natsUrl` (one URL, or several comma-separated) with the `[nats]`
 * settings.
 *
 * - The servers are tried in the order given; once connected, nats.js also learns the
 *   cluster's other servers from the server it reached (gossip) and fails over to them.
 * - Credentials come from `nats.credsFile` (read now, so a rotated file is picked up on the
 *   next connect), `nats.user`/`nats.password` or `nats.token`. nats.js ignores user info in a
 *   URL, so `nats://user:password@host` and `nats://token@host` are turned into options here
 *   (from the first URL that has user info); `[nats]` settings win over the URL.
 * - A `tls://` URL or a `nats.tlsCaFile` makes TLS required (never silently plain text), with
 *   the server's certificate checked against `nats.tlsCaFile` (else the system CAs).
 * - Reconnection is forever; the caller sets the delay (`reconnectDelayHandler`).
 *
 * @example
 * ```ts
 * const options = await natsConnectOptions("tls://yoga.local:4222", { tlsCaFile: "/etc/nats/ca.pem" });
 * const nc = await connect({ ...options, name: "tcfs" });
 * ```
 * @throws {TcfsError} when a URL is malformed or the creds file can't be used.
 */
export async function natsConnectOptions(
  natsUrl: string,
  nats: NatsConfig,
): Promise<NodeConnectionOptions> {
  const urls = parseNatsUrlList(natsUrl);
  const options: NodeConnectionOptions = {
    servers: urls.map((url) => `${url.hostname}:${url.port || 4222}`),
    // In the order given, as the `nats` CLI does: the first is the preferred server.
    noRandomize: true,
    reconnect: true,
    maxReconnectAttempts: -1,
    // The caller retries a failed first connect itself, so it can report why and be stopped.
    waitOnFirstConnect: false,
  };
  if (urls.some((url) => url.protocol === "tls:") || nats.tlsCaFile) {
    options.tls = tlsOptions(urls, nats.tlsCaFile);
  }
  // One set of credentials serves the whole cluster: the first entry that carries any.
  const withUserInfo = urls.find((url) => url.username !== "");
  const urlUser = decodeURIComponent(withUserInfo?.username ?? "");
  const urlPassword = decodeURIComponent(withUserInfo?.password ?? "");
  const user = nats.user ?? (urlPassword ? urlUser : undefined);
  const password = nats.password ?? (urlPassword || undefined);
  const token = nats.token ?? (urlUser && !urlPassword ? urlUser : undefined);
  if (user !== undefined) Object.assign(options, { user, pass: password });
  else if (token !== undefined) options.token = token;
  if (nats.credsFile) options.authenticator = await readCredsFile(nats.credsFile);
  return options;
}

function tlsOptions(
  urls: URL[],
  caFile: string | undefined,
): NonNullable<NodeConnectionOptions["tls"]> {
  const tls: NonNullable<NodeConnectionOptions["tls"]> & { host?: string } = caFile
    ? { caFile }
    : {};
  // nats.js sends no TLS server name for an IP address (SNI forbids IPs), and Node then checks
  // the certificate against "localhost"; `host` makes it check the address's IP SAN instead.
  // It applies to every server, so only a lone server gets it.
  const host = urls[0].hostname.replace(/^\[(.*)\]$/, "$1");
  if (urls.length === 1 && isIP(host)) tls.host = host;
  return tls;
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
