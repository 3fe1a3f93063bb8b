import assert from "node:assert/strict";
import { TcfsError } from "../../../core/errors.ts";
import { natsConnectOptions } from "../../../core/events/nats_connect_options.ts";
import { createNatsCreds } from "../../daemon/nats/nats_creds_fixture.ts";

Deno.test("plain nats:// URL: the server, forever reconnecting, no TLS, no credentials", async () => {
  const options = await natsConnectOptions("nats://yoga.local:4222", {});
  assert.deepEqual(options.servers, ["yoga.local:4222"]);
  assert.equal(options.reconnect, true);
  assert.equal(options.maxReconnectAttempts, -1);
  assert.equal(options.tls, undefined);
  assert.equal(options.user, undefined);
  assert.equal(options.token, undefined);
  assert.deepEqual((await natsConnectOptions("tls://yoga.local", {})).servers, [
    "yoga.local:4222",
  ]);
});

Deno.test("a cluster's URLs: every server, in the order given, discovered ones kept", async () => {
  const options = await natsConnectOptions(
    "nats://a.lab:4222, nats://b.lab:4223,nats://10.0.0.3",
    {},
  );
  assert.deepEqual(options.servers, ["a.lab:4222", "b.lab:4223", "10.0.0.3:4222"]);
  assert.equal(options.noRandomize, true);
  assert.equal(options.ignoreClusterUpdates, undefined);
  assert.equal(options.maxReconnectAttempts, -1);
});

Deno.test("a cluster's URLs share the credentials of the first URL that carries any", async () => {
  const options = await natsConnectOptions("nats://a:4222,nats://tcfs:pw@b:4222,nats://c", {});
  assert.deepEqual([options.user, options.pass], ["tcfs", "pw"]);
});

Deno.test("TLS for a cluster: any tls:// URL requires it; IP SAN checks only for a lone server", async () => {
  assert.deepEqual((await natsConnectOptions("nats://10.0.0.1,tls://10.0.0.2", {})).tls, {});
});

Deno.test("credentials in the URL become options; [nats] settings win over them", async () => {
  const fromUrl = await natsConnectOptions("nats://tcfs:p%40ss@host:4222", {});
  assert.deepEqual([fromUrl.user, fromUrl.pass, fromUrl.servers], ["tcfs", "p@ss", [
    "host:4222",
  ]]);
  const token = await natsConnectOptions("nats://s3cr3t@host:4222", {});
  assert.equal(token.token, "s3cr3t");
  const configured = await natsConnectOptions("nats://tcfs:old@host:4222", {
    user: "tcfs",
    password: "new",
  });
  assert.equal(configured.pass, "new");
});

Deno.test("tls:// or a CA file require TLS; an IP address is checked against the IP SAN", async () => {
  assert.deepEqual((await natsConnectOptions("tls://nats.example:4222", {})).tls, {});
  assert.deepEqual(
    (await natsConnectOptions("nats://nats.example:4222", { tlsCaFile: "/etc/ca.pem" })).tls,
    { caFile: "/etc/ca.pem" },
  );
  assert.deepEqual((await natsConnectOptions("tls://10.0.0.1:4222", {})).tls, { host: "10.0.0.1" });
});

Deno.test("a bad URL or an unusable creds file is a TcfsError that names the problem", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const cases: [string, string | undefined, RegExp][] = [
      ["http://host:4222", undefined, /the URL, "http:\/\/host:4222", is not valid/],
      ["nats://user:hunter2@", undefined, /"nats:\/\/user:<redacted>@", is not valid/],
      ["nats://a:4222,nats//b:4222", undefined, /entry 2 of 2, "nats\/\/b:4222", is not valid/],
      ["nats://host", `${dir}/missing.creds`, /cannot read the NATS credentials file/],
    ];
    await Deno.writeTextFile(`${dir}/bad.creds`, "hello", { mode: 0o600 });
    cases.push(["nats://host", `${dir}/bad.creds`, /is not a valid NATS \.creds file/]);
    for (const [url, credsFile, reason] of cases) {
      await assert.rejects(
        natsConnectOptions(url, { credsFile }),
        (err) =>
          err instanceof TcfsError && reason.test(err.message) && !/hunter2/.test(err.message),
      );
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a valid creds file gives an authenticator that signs the server's nonce", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await Deno.writeTextFile(`${dir}/tcfs.creds`, createNatsCreds().credsFile, {
      mode: 0o600,
    });
    const options = await natsConnectOptions("nats://host", { credsFile: `${dir}/tcfs.creds` });
    const authenticator = options.authenticator;
    assert.ok(typeof authenticator === "function");
    const auth = authenticator("nonce") as { jwt?: string; sig?: string };
    assert.ok(auth.jwt && auth.sig, "the JWT and a signature are sent");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
