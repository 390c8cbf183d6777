/**
 * Network interface names as they may reach iptables, tcpdump and apply.sh.
 *
 * The kernel's own rule first (net/core/dev.c, dev_valid_name): 1..IFNAMSIZ-1 = 15 bytes, not "." or "..", no '/',
 * ':' or whitespace (isspace). Then what the tools downstream give a meaning to: a '+' makes iptables match every
 * name with that prefix (`eth+` also matches the LAN port, so inbound-only rules would pass the honeypots' traffic
 * unqueued), a leading '-' is read as an option by iptables and tcpdump, "!" alone is iptables' negation, and
 * iptables-restore's tokenizer takes '"' and '\' as quoting, and the kernel expands a '%' as a template
 * (creating `a%d` makes `a0`, so no interface is ever named with one). Control characters pass the kernel but would reach
 * terminals and logs raw. Everything else the kernel allows (UTF-8 included) is accepted; apply.sh quotes names.
 */

/** IFNAMSIZ - 1: the kernel keeps names in 16 bytes, NUL included. */
export const MAX_IFACE_BYTES = 15;

/**
 * The kernel's isspace() (lib/ctype.c) on each byte: space, \t \n \v \f \r and 0xa0 (Latin-1 NBSP). dev_valid_name
 * tests bytes, so a UTF-8 character with an 0xa0 byte (U+00E0 is C3 A0) is refused too.
 */
function hasKernelSpace(name: string): boolean {
  for (const b of Buffer.from(name, 'utf8')) if (b === 0x20 || (b >= 0x09 && b <= 0x0d) || b === 0xa0) return true;
  return false;
}

/** Why `name` is not usable as an interface name, or undefined when it is. Never echoes the name. */
export function ifaceNameProblem(name: string): string | undefined {
  if (name === '') return 'an interface name is required';
  const bytes = Buffer.byteLength(name, 'utf8');
  if (bytes > MAX_IFACE_BYTES) return `is ${bytes} bytes long, the kernel allows at most ${MAX_IFACE_BYTES} (IFNAMSIZ)`;
  if (name === '.' || name === '..') return "'.' and '..' are not interface names (the kernel refuses them)";
  if (name.includes('/')) return "contains '/', which the kernel refuses in interface names";
  if (name.includes(':')) return "contains ':', which the kernel refuses in interface names (alias labels are not interfaces)";
  if (name.includes('%')) return "contains '%', which the kernel takes as a name template (a%d becomes a0)";
  if (hasKernelSpace(name)) return 'contains whitespace, which the kernel refuses in interface names';
  if (name.includes('+')) return "contains '+', iptables' wildcard: the rule would match every interface with that prefix";
  if (name.startsWith('-')) return "starts with '-', which iptables and tcpdump would read as an option";
  if (name.startsWith('!')) return "starts with '!', iptables' negation";
  if (/["\\]/.test(name)) return "contains '\"' or '\\', which iptables-restore reads as quoting";
  // eslint-disable-next-line no-control-regex
  if (/[\x00-\x1f\x7f-\x9f]/.test(name)) return 'contains a control character';
  return undefined;
}

/**
 * `text` safe to print in a message: control, format (bidi overrides), separator and unassigned characters as
 * `\\xHH` / `\\u{H}` escapes, a backslash doubled, at most `max` characters (then `...`).
 */
export function printable(text: string, max = 80): string {
  let out = '';
  let n = 0;
  for (const ch of text) {
    if (n++ >= max) {
      out += '...';
      break;
    }
    const c = ch.codePointAt(0)!;
    if (c === 0x5c) out += '\\\\';
    else if (c === 0x20 || !SHOWN.test(ch)) out += c === 0x20 ? ' ' : c < 0x100 ? `\\x${c.toString(16).padStart(2, '0')}` : `\\u{${c.toString(16)}}`;
    else out += ch;
  }
  return out;
}

/** Letters, marks, numbers, punctuation and symbols: shown as they are. */
const SHOWN = /^[\p{L}\p{M}\p{N}\p{P}\p{S}]$/u;
