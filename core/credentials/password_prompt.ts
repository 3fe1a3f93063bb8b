/**
 * Asking for a password on the terminal without echoing it.
 *
 * @module
 */

import { TcfsError } from "../errors.ts";

const ENTER = [0x0a, 0x0d];
const CANCEL = [0x03, 0x04]; // Ctrl-C, Ctrl-D
const BACKSPACE = [0x08, 0x7f];

/**
 * Writes `message` to stderr and reads one line from stdin in raw mode, so the
 * typed characters are not shown. Only call it when `Deno.stdin.isTerminal()`.
 *
 * @throws {TcfsError} kind `prompt-cancelled` on Ctrl-C, Ctrl-D or end of input.
 * @example
 * ```ts
 * if (Deno.stdin.isTerminal()) {
 *   const password = await promptHidden("Password for /home/u/tcfs.kdbx: ");
 * }
 * ```
 */
export async function promptHidden(message: string): Promise<string> {
  await Deno.stderr.write(new TextEncoder().encode(message));
  Deno.stdin.setRaw(true);
  try {
    const typed: number[] = [];
    const buffer = new Uint8Array(64);
    while (true) {
      const count = await Deno.stdin.read(buffer);
      if (count === null) throw cancelled();
      for (const byte of buffer.subarray(0, count)) {
        if (ENTER.includes(byte)) return new TextDecoder().decode(Uint8Array.from(typed));
        if (CANCEL.includes(byte)) throw cancelled();
        if (BACKSPACE.includes(byte)) {
          // Drop a whole UTF-8 character: its continuation bytes, then its lead byte.
          while (typed.length > 0 && (typed[typed.length - 1] & 0xc0) === 0x80) typed.pop();
          typed.pop();
        } else {
          typed.push(byte);
        }
      }
    }
  } finally {
    Deno.stdin.setRaw(false);
    await Deno.stderr.write(new TextEncoder().encode("\n"));
  }
}

function cancelled(): TcfsError {
  return new TcfsError("password prompt cancelled", { kind: "prompt-cancelled" });
}
