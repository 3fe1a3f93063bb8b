/**
 * Checks a unit with the real `systemd-analyze verify` (no running systemd needed) and reads
 * back how systemd parsed it.
 *
 * @module
 */

import { join } from "node:path";

/** What systemd said about a unit. */
export interface UnitVerdict {
  /** Every complaint, one per line; empty for a clean unit. */
  problems: string[];
  /** The unit's settings as systemd parsed them (its debug dump), first value per name. */
  dump: Map<string, string>;
}

/**
 * Verifies `text` as `name`. Any output of a normal run counts as a problem: systemd reports
 * an unknown key or a bad value as a warning and still exits 0.
 *
 * @example
 * ```ts
 * const { problems } = await verifyUnit(await Deno.readTextFile(unitPath));
 * ```
 */
export async function verifyUnit(text: string, name = "tcfsd.service"): Promise<UnitVerdict> {
  // verify loads every unit in the file's directory, so each check gets its own.
  const dir = await Deno.makeTempDir({ prefix: "tcfs-verify-" });
  const path = join(dir, name);
  await Deno.writeTextFile(path, text);
  try {
    const plain = await analyze(path, {});
    const problems = plain.stderr.split("\n").filter((line) => line.trim() !== "");
    if (plain.code !== 0 && problems.length === 0) problems.push(`exit code ${plain.code}`);
    const debug = await analyze(path, { SYSTEMD_LOG_LEVEL: "debug" });
    return { problems, dump: unitDump(debug.stderr, name) };
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

async function analyze(path: string, env: Record<string, string>) {
  const output = await new Deno.Command("systemd-analyze", {
    args: ["verify", path],
    env,
    stdout: "piped",
    stderr: "piped",
  }).output();
  const decoder = new TextDecoder();
  return {
    code: output.code,
    stderr: decoder.decode(output.stderr) + decoder.decode(output.stdout),
  };
}

function unitDump(debugOutput: string, name: string): Map<string, string> {
  const dump = new Map<string, string>();
  const lines = debugOutput.split("\n");
  const start = lines.findIndex((line) => line.trim() === `-> Unit ${name}:`);
  for (const line of start < 0 ? [] : lines.slice(start + 1)) {
    if (line.trim().startsWith("-> Unit ")) break;
    const match = /^\s+([A-Za-z ]+): (.*)$/.exec(line);
    if (match && !dump.has(match[1])) dump.set(match[1], match[2]);
  }
  return dump;
}
