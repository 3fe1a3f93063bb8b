/**
 * Decentralised NATS auth for tests, without `nsc`: an operator, a system
 * account, an account with JetStream and a user, as signed JWTs; the server
 * config that trusts them; and the user's `.creds` file.
 *
 * @module
 */

import { nkeys } from "@nats-io/nats-core";
import { encodeBase64 } from "../../../core/encoding/base64.ts";

/** What {@linkcode createNatsCreds} makes. */
export interface NatsCreds {
  /** nats-server config text: trusted operator and a preloaded account. */
  serverConfig: string;
  /** The user's `.creds` file content (JWT and NKey seed). */
  credsFile: string;
}

type KeyPair = ReturnType<typeof nkeys.createUser>;

const UNLIMITED = -1;

/**
 * An operator, its system account, an account with unlimited JetStream and one user of it.
 *
 * @example
 * ```ts
 * const creds = createNatsCreds();
 * await using nats = await startNatsServer({ config: creds.serverConfig });
 * await Deno.writeTextFile(path, creds.credsFile, { mode: 0o600 });
 * ```
 */
export function createNatsCreds(): NatsCreds {
  const operator = nkeys.createOperator();
  const system = nkeys.createAccount();
  const account = nkeys.createAccount();
  const user = nkeys.createUser();
  const operatorJwt = signJwt(operator, operator, "test-operator", { type: "operator" });
  // JetStream needs a system account for its internal subscriptions.
  const systemJwt = signJwt(operator, system, "SYS", { type: "account" });
  const accountJwt = signJwt(operator, account, "tcfs", {
    type: "account",
    limits: {
      subs: UNLIMITED,
      data: UNLIMITED,
      payload: UNLIMITED,
      imports: UNLIMITED,
      exports: UNLIMITED,
      wildcards: true,
      conn: UNLIMITED,
      leaf: UNLIMITED,
      mem_storage: UNLIMITED,
      disk_storage: UNLIMITED,
      streams: UNLIMITED,
      consumer: UNLIMITED,
    },
  });
  const userJwt = signJwt(account, user, "tcfs-device", {
    type: "user",
    pub: {},
    sub: {},
    subs: UNLIMITED,
    data: UNLIMITED,
    payload: UNLIMITED,
  });
  return {
    serverConfig: [
      `operator: ${operatorJwt}`,
      `system_account: ${system.getPublicKey()}`,
      "resolver: MEMORY",
      `resolver_preload: { ${system.getPublicKey()}: ${systemJwt}, ` +
      `${account.getPublicKey()}: ${accountJwt} }`,
    ].join("\n"),
    credsFile: [
      "-----BEGIN NATS USER JWT-----",
      userJwt,
      "------END NATS USER JWT------",
      "",
      "-----BEGIN USER NKEY SEED-----",
      new TextDecoder().decode(user.getSeed()),
      "------END USER NKEY SEED------",
      "",
    ].join("\n"),
  };
}

function signJwt(
  issuer: KeyPair,
  subject: KeyPair,
  name: string,
  nats: Record<string, unknown>,
): string {
  const header = base64Url(JSON.stringify({ typ: "JWT", alg: "ed25519-nkey" }));
  const claims = base64Url(JSON.stringify({
    jti: crypto.randomUUID(),
    iat: Math.floor(Date.now() / 1000),
    iss: issuer.getPublicKey(),
    name,
    sub: subject.getPublicKey(),
    nats: { ...nats, version: 2 },
  }));
  const signature = issuer.sign(new TextEncoder().encode(`${header}.${claims}`));
  return `${header}.${claims}.${base64Url(signature)}`;
}

function base64Url(data: string | Uint8Array): string {
  const bytes = typeof data === "string" ? new TextEncoder().encode(data) : data;
  return encodeBase64(bytes).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}
