/**
 * Parses a plist with Python's plistlib, an implementation independent of ours.
 *
 * @module
 */

/**
 * Returns the plist's top-level value as JSON data; rejects when plistlib can't parse it.
 *
 * @example
 * ```ts
 * const plist = await parsePlist(await Deno.readTextFile(path));
 * ```
 */
export async function parsePlist(text: string): Promise<unknown> {
  const child = new Deno.Command("python3", {
    args: [
      "-c",
      "import json, plistlib, sys; print(json.dumps(plistlib.loads(sys.stdin.buffer.read())))",
    ],
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const writer = child.stdin.getWriter();
  await writer.write(new TextEncoder().encode(text));
  await writer.close();
  const output = await child.output();
  if (!output.success) {
    throw new Error(
      `plistlib could not parse the plist: ${new TextDecoder().decode(output.stderr)}`,
    );
  }
  return JSON.parse(new TextDecoder().decode(output.stdout));
}
