/**
 * Showing URLs without the credentials their user info may hold.
 *
 * @module
 */

/** What secret values are shown as. */
export const REDACTED = "<redacted>";

/**
 * The user info of each URL in a text: from `//` to the last `@` before the next URL
 * (`scheme://`) starts. A password may hold `@`, spaces or anything else, so when unsure
 * this hides more (up to an `@` later in the text), never less.
 */
const URL_USER_INFO = /\/\/((?:(?![a-z][a-z0-9+.-]*:\/\/)[\s\S])*)@/gi;

/**
 * Hides credentials in a URL's user info, so a URL can be shown safely: the password of
 * `user:password@`, and a lone `token@` (NATS's token form) entirely.
 *
 * @example
 * ```ts
 * redactUrlCredentials("nats://tcfs:hunter2@yoga.local:4222");
 * // "nats://tcfs:<redacted>@yoga.local:4222"
 * redactUrlCredentials("nats://s3cr3t-token@yoga.local:4222"); // "nats://<redacted>@yoga.local:4222"
 * ```
 */
export function redactUrlCredentials(text: string): string {
  return text.replace(URL_USER_INFO, (_, userInfo: string) => {
    const colon = userInfo.indexOf(":");
    return colon < 0 ? `//${REDACTED}@` : `//${userInfo.slice(0, colon)}:${REDACTED}@`;
  });
}
