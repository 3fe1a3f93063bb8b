/**
 * A throwaway certificate authority and a server certificate for 127.0.0.1,
 * made with `openssl`, for TLS tests.
 *
 * @module
 */

/** Paths of the generated PEM files. */
export interface TestCertificates extends AsyncDisposable {
  caFile: string;
  certFile: string;
  keyFile: string;
}

/**
 * Creates a CA and a server certificate (SAN IP 127.0.0.1) signed by it.
 *
 * @example
 * ```ts
 * await using certs = await createTestCertificates();
 * const config = `tls { cert_file: "${certs.certFile}", key_file: "${certs.keyFile}" }`;
 * ```
 */
export async function createTestCertificates(): Promise<TestCertificates> {
  const dir = await Deno.makeTempDir({ prefix: "tcfs-test-tls-" });
  const caFile = `${dir}/ca.pem`;
  const caKey = `${dir}/ca-key.pem`;
  const certFile = `${dir}/server.pem`;
  const keyFile = `${dir}/server-key.pem`;
  const request = `${dir}/server.csr`;
  const extensions = `${dir}/server.ext`;
  await Deno.writeTextFile(extensions, "subjectAltName = IP:127.0.0.1\n");
  const key = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"];
  await openssl(
    "req",
    "-x509",
    ...key,
    "-keyout",
    caKey,
    "-out",
    caFile,
    "-days",
    "1",
    "-subj",
    "/CN=tcfs test CA",
  );
  await openssl("req", ...key, "-keyout", keyFile, "-out", request, "-subj", "/CN=127.0.0.1");
  await openssl(
    "x509",
    "-req",
    "-in",
    request,
    "-CA",
    caFile,
    "-CAkey",
    caKey,
    "-CAcreateserial",
    "-out",
    certFile,
    "-days",
    "1",
    "-extfile",
    extensions,
  );
  return {
    caFile,
    certFile,
    keyFile,
    [Symbol.asyncDispose]: () => Deno.remove(dir, { recursive: true }),
  };
}

async function openssl(...args: string[]): Promise<void> {
  const result = await new Deno.Command("openssl", { args, stdout: "null", stderr: "piped" })
    .output();
  if (!result.success) {
    throw new Error(`openssl ${args[0]} failed: ${new TextDecoder().decode(result.stderr)}`);
  }
}
