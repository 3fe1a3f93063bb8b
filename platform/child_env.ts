/**
 * The environment a helper program (systemd-notify, systemctl, launchctl) is started
 * with: only the variables it needs, named one by one. The daemon's own environment
 * holds its secrets (S3 keys, passphrases, NATS credentials), which no child needs.
 *
 * @module
 */

/**
 * The variables of `env` named in `names`, for `new Deno.Command(…, { env, clearEnv: true })`.
 *
 * @example
 * ```ts
 * childEnv({ PATH: "/usr/bin", TCFS_S3_SECRET: "…" }, ["PATH"]); // { PATH: "/usr/bin" }
 * ```
 */
export function childEnv(
  env: Record<string, string | undefined>,
  names: readonly string[],
): Record<string, string> {
  const picked: Record<string, string> = {};
  for (const name of names) {
    const value = env[name];
    if (value !== undefined) picked[name] = value;
  }
  return picked;
}
