/**
 * `[sync] nats_url` names one NATS server or several, comma-separated as the `nats` CLI's
 * `--server` takes them (`nats://a:4222,nats://b:4222`): the servers of one cluster, tried in
 * order.
 *
 * @module
 */

import { ExitCode, TcfsError } from "../errors.ts";
import { redactUrlCredentials } from "./url_credentials.ts";

/** What a valid NATS URL list looks like, for hints. */
export const NATS_URL_FORM = "a URL like nats://host:4222 or tls://host:4222, " +
  "or several comma-separated (nats://a:4222,nats://b:4222)";

/**
 * What is wrong with a NATS URL list, naming the first bad entry (credentials redacted), or
 * `undefined` when every entry is a `nats://` or `tls://` URL with a host.
 *
 * @example
 * ```ts
 * natsUrlListProblem("nats://a:4222,nats://b:4222"); // undefined
 * natsUrlListProblem("nats://a:4222,b:4222");
 * // 'entry 2 of 2, "b:4222", is not valid: the scheme b: is not supported'
 * ```
 */
export function natsUrlListProblem(text: string): string | undefined {
  const entries = text.split(",").map((entry) => entry.trim());
  for (const [index, entry] of entries.entries()) {
    const problem = entryProblem(entry);
    if (!problem) continue;
    const which = entries.length > 1 ? `entry ${index + 1} of ${entries.length}` : "the URL";
    return entry === ""
      ? `${which} is empty`
      : `${which}, ${JSON.stringify(redactUrlCredentials(entry))}, is not valid: ${problem}`;
  }
  return undefined;
}

/**
 * The URLs of a list, in order, blanks around the commas trimmed.
 *
 * @throws {TcfsError} (kind `config_invalid`, usage exit code) naming the first bad entry.
 *
 * @example
 * ```ts
 * parseNatsUrlList("nats://a:4222, tls://b:4222").map((url) => url.host); // ["a:4222", "b:4222"]
 * ```
 */
export function parseNatsUrlList(text: string): URL[] {
  const problem = natsUrlListProblem(text);
  if (problem) {
    throw new TcfsError(`the NATS server list is not valid: ${problem}`, {
      hint: "set [sync] nats_url (or TCFS_NATS_URL, or nats_url in the credential source) to " +
        NATS_URL_FORM,
      kind: "config_invalid",
      exitCode: ExitCode.usage,
    });
  }
  return text.split(",").map((entry) => new URL(entry.trim()));
}

function entryProblem(entry: string): string | undefined {
  if (entry === "") return "it is empty";
  let url: URL;
  try {
    url = new URL(entry);
  } catch {
    return "it is not a URL";
  }
  if (url.protocol !== "nats:" && url.protocol !== "tls:") {
    return `the scheme ${url.protocol} is not supported`;
  }
  if (!url.hostname) return "it names no host";
  return undefined;
}
