/**
 * Honeynet-derived text made safe to show. Everything in a Sebek record (the 12-byte command name, the data, an open's
 * path) is written by the intruder: printed raw, an ESC/CSI sequence clears the operator's screen or retitles the
 * window, and a C1 control (U+0080..U+009F, which JSON.stringify leaves raw) does the same on terminals that honour
 * 8-bit controls. These are the one escaping of Sebek text for every output: text view, JSON lines, SQLite text
 * columns, alert mails (the raw bytes stay available as BLOBs).
 */

/** Bytes as text: printable ASCII kept, `\\` doubled, \n \r \t escaped, every other byte \xNN. */
export function escapeBytes(d: Uint8Array): string {
  let s = '';
  for (let i = 0; i < d.length; i++) {
    const b = d[i]!;
    if (b === 0x0a) s += '\\n';
    else if (b === 0x0d) s += '\\r';
    else if (b === 0x09) s += '\\t';
    else if (b === 0x5c) s += '\\\\';
    else if (b >= 0x20 && b < 0x7f) s += String.fromCharCode(b);
    else s += `\\x${b.toString(16).padStart(2, '0')}`;
  }
  return s;
}

/** The bytes before the first NUL (a C string: a command name, an open's path). */
export function cString(d: Uint8Array): Uint8Array {
  const nul = d.indexOf(0);
  return nul < 0 ? d : d.subarray(0, nul);
}

const CONTROLS = /[\u0000-\u001f\u007f-\u009f]/g;
const JSON_RAW = /[\u007f-\u009f\u2028\u2029]/g;

/**
 * A line for a terminal: any C0 or C1 control or DEL left in `s` becomes \xNN (a last guard at the output: the fields
 * are escaped when decoded, but a line also carries file names and other strings).
 */
export function terminalSafe(s: string): string {
  return s.replace(CONTROLS, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
}

/** JSON.stringify, with DEL, the C1 controls and U+2028/U+2029 written as \u escapes too (it escapes only C0). */
export function jsonLine(value: unknown): string {
  return JSON.stringify(value).replace(JSON_RAW, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}
