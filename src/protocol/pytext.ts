/**
 * Python's text and value rules, written once: `repr()` of a byte string, the whitespace
 * of `str.strip()`/`str.split()`, ASCII-only lower case, the RFC 9110 token, the port
 * range and the seconds → milliseconds conversion of a timeout.
 *
 * Strings here stand for bytes: one char code per byte (latin1), as the head of a request
 * or a response is text in that encoding. Every other file (protocol, client, CLI) uses
 * these instead of its own copy, so that a message or a comparison cannot differ from one
 * place to the next.
 *
 * This file must not do I/O: no node:net/tls, no timers, no process, no promises.
 */

// ---------------------------------------------------------------------------------------
// repr

/**
 * The escaped form of each byte 0..255 inside a Python 2.7 byte-string repr, quotes
 * aside (the quote character depends on the whole string, see `pyrepr`).
 * Python 2.7 `string_repr` (Objects/stringobject.c): `\\`, `\t`, `\n`, `\r`, then
 * `\xNN` (lowercase hex) for bytes < 0x20 and >= 0x7f, else the byte itself.
 */
const BYTE_REPR: readonly string[] = (() => {
  const table: string[] = [];
  for (let c = 0; c < 256; c++) {
    if (c === 0x5c) table.push('\\\\');
    else if (c === 0x09) table.push('\\t');
    else if (c === 0x0a) table.push('\\n');
    else if (c === 0x0d) table.push('\\r');
    else if (c < 0x20 || c >= 0x7f) table.push(`\\x${c.toString(16).padStart(2, '0')}`);
    else table.push(String.fromCharCode(c));
  }
  return table;
})();

/**
 * Characters that need more than copying in a repr (quotes are handled apart): anything
 * but printable ASCII, and the backslash. Written as a negated class because Biome
 * rejects control characters in regular expressions.
 */
const REPR_SPECIAL = /[^ -[\]-~]/;

/**
 * Python 2.7's `repr()` of the byte string whose bytes are the char codes of `s`
 * (latin1), or of the bytes of a `Buffer`: single quotes unless the text contains `'`
 * and no `"`; backslash, TAB, LF and CR escaped as `\\`, `\t`, `\n`, `\r`; other bytes
 * below 0x20 or from 0x7f as `\xNN` (lowercase hex); the chosen quote character escaped.
 *
 * A JavaScript string can also hold code points above 0xFF, which no byte string can;
 * they are shown as Python 2.7 shows them in a `unicode` repr (`\u20ac`, `\U0001f600`,
 * lone surrogates as `\udXXX`), without the `u` prefix, so that error messages about
 * such text stay readable and ASCII-only.
 */
export function pyrepr(value: string | Uint8Array): string {
  const s = typeof value === 'string' ? value : Buffer.from(value).toString('latin1');
  const hasSingle = s.includes("'");
  const quote = hasSingle && !s.includes('"') ? '"' : "'";
  if (!REPR_SPECIAL.test(s) && !(hasSingle && quote === "'")) return quote + s + quote;
  const out: string[] = [quote];
  for (const ch of s) {
    const c = ch.codePointAt(0) as number;
    if (c < 256) {
      out.push(ch === quote ? `\\${quote}` : (BYTE_REPR[c] as string));
    } else if (c <= 0xffff) {
      out.push(`\\u${c.toString(16).padStart(4, '0')}`);
    } else {
      out.push(`\\U${c.toString(16).padStart(8, '0')}`);
    }
  }
  out.push(quote);
  return out.join('');
}

// ---------------------------------------------------------------------------------------
// whitespace and case

/**
 * Python 2's whitespace for `str.strip()` and `str.split()` on byte strings: SP, HTAB,
 * LF, VT, FF, CR (not NBSP, unlike `String#trim`).
 */
export function isPyWhitespace(c: number): boolean {
  return c === 0x20 || (c >= 0x09 && c <= 0x0d);
}

/** `s[from:].strip()` in Python 2.7 terms, with a single slice (none when nothing is cut). */
export function pystrip(s: string, from = 0): string {
  let start = from;
  let end = s.length;
  while (start < end && isPyWhitespace(s.charCodeAt(start))) start++;
  while (end > start && isPyWhitespace(s.charCodeAt(end - 1))) end--;
  return start === 0 && end === s.length ? s : s.slice(start, end);
}

/** Any char code above ASCII (one UTF-16 code unit is enough). */
const NON_ASCII = /[\u0080-\uffff]/;

/**
 * ASCII-only lower case, as Python 2.7's `str.lower()` does on byte strings.
 * `String#toLowerCase` would also fold Latin-1 letters (`À` → `à`) and a few non-Latin-1
 * ones onto ASCII (KELVIN SIGN → `k`), letting a lookup match a name Python would not.
 */
export function asciiLower(s: string): string {
  return NON_ASCII.test(s) ? s.replace(/[A-Z]+/g, lowerRun) : s.toLowerCase();
}

function lowerRun(run: string): string {
  return run.toLowerCase();
}

// ---------------------------------------------------------------------------------------
// tokens, ports, seconds

/** An RFC 9110 `token`: one or more tchar (what a method and a header name must be). */
export const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

/** Whether `s` is an RFC 9110 token (`tchar`s only, non-empty). */
export function isToken(s: string): boolean {
  return TOKEN.test(s);
}

/** Highest TCP port. */
export const MAX_PORT = 65535;

/**
 * Python's truth value (`bool(x)`) of a value given where Python tests truthiness, such
 * as `check_hostname`: JavaScript's, except NaN, which is true in Python (only a zero is
 * a false number). Objects are true, as Python's are unless they define a length.
 */
export function pytruth(value: unknown): boolean {
  return typeof value === 'number' ? value !== 0 : Boolean(value);
}

/** Whether `port` is a TCP port number: an integer 0..65535. */
export function isPort(port: unknown): port is number {
  return Number.isInteger(port) && (port as number) >= 0 && (port as number) <= MAX_PORT;
}

/** The longest delay a Node timer holds (2^31 - 1 ms); a longer one would fire at once. */
export const MAX_TIMER_MS = 2 ** 31 - 1;

/**
 * A Python timeout (seconds, fractions allowed; `null` or Infinity for none) as whole
 * milliseconds for a timer, rounded up so that it never fires early, and clamped to
 * `MAX_TIMER_MS` so that it cannot overflow into "fire now". `null` means no timer.
 * Pure arithmetic: the timers themselves belong to the I/O shell.
 */
export function timeoutMs(seconds: number | null | undefined): number | null {
  // undefined is null (no timeout) here as everywhere (API.md); the attribute may be set so.
  if (seconds === null || seconds === undefined || seconds === Number.POSITIVE_INFINITY) {
    return null;
  }
  return Math.min(Math.ceil(seconds * 1000), MAX_TIMER_MS);
}
