/**
 * The request-side checks of httplib: host/port parsing, and the validation of hosts,
 * URLs, methods, header names and header values, each with Python's exception class and
 * message text (written with `pyrepr`, Python 2.7's `repr()` of a byte string, from
 * pytext.ts).
 *
 * Strings here stand for bytes: one char code per byte (latin1), as the request head is
 * written with `socket.write(head, 'latin1')`. So every check also makes sure that no
 * char code above 0xFF can reach that encoder, which would silently truncate it
 * (CVE-2018-12116 in Node's own `http`).
 *
 * Where this is stricter than CPython 2.7 (API.md, "deliberately stricter"): methods and
 * header names must be RFC 9110 tokens, header values may hold no NUL and no CR/LF
 * except a fold (CRLF + SP/HTAB), and port text must be plain ASCII digits.
 *
 * This file must not do I/O: no node:net/tls, no timers, no process, no promises.
 */
import { InvalidURL } from './errors.ts';
import { isPort, MAX_PORT, pyrepr, TOKEN } from './pytext.ts';

// ---------------------------------------------------------------------------------------
// host and port

const ASCII_DIGITS = /^[0-9]+$/;
/** A scheme and `//`: a URL where a host name was wanted. */
const URL_LIKE = /^[A-Za-z][A-Za-z0-9+.-]*:\/\//;

/**
 * Python's `HTTPConnection._get_hostport(host, port)`: splits `'host:port'`.
 *
 * When `port` is null/undefined: the text after the last `:` is the port if that `:`
 * comes after the last `]` (so `'[::1]'` has no port); an empty port text (`'h:'`) means
 * `defaultPort`; any other text that is not plain ASCII digits throws
 * `InvalidURL("nonnumeric port: '<text>'")`. Python's `int()` also accepts `' 80'`,
 * `'+80'` and `'8_0'`; we don't (a port is digits, RFC 3986). A port above 65535 throws
 * `InvalidURL("port out of range 0-65535: '<text>'")` (Python fails later, at connect).
 *
 * Surrounding brackets (`'[::1]'` → `'::1'`) are always stripped, as Python 3.13 does;
 * Python 2.7 strips them only when `port` was not given, so `('[::1]', 81)` there keeps
 * the brackets and later sends `Host: [[::1]]:81`.
 *
 * A given `port` must be an integer 0..65535, else `TypeError`.
 * A bare IPv6 address without brackets mis-parses as in Python: `'::1'` → `[':', 1]`.
 */
export function parseHostPort(
  host: string,
  port: number | null | undefined,
  defaultPort: number,
): [string, number] {
  if (typeof host !== 'string') {
    throw new TypeError(`host must be a string, got ${typeof host}`);
  }
  let h = host;
  let p: number;
  if (port === null || port === undefined) {
    const i = h.lastIndexOf(':');
    const j = h.lastIndexOf(']');
    if (i > j) {
      const text = h.slice(i + 1);
      if (text === '') {
        p = defaultPort;
      } else if (!ASCII_DIGITS.test(text)) {
        // Python's message; a URL given for the host (a common first mistake) is named.
        const url = URL_LIKE.test(h)
          ? ` (${pyrepr(h)} is a URL: pass its host and port instead)`
          : '';
        throw new InvalidURL(`nonnumeric port: '${text}'${url}`);
      } else {
        p = Number(text);
        if (p > MAX_PORT) throw new InvalidURL(`port out of range 0-65535: '${text}'`);
      }
      h = h.slice(0, i);
    } else {
      p = defaultPort;
    }
  } else {
    p = checkPort(port);
  }
  if (h.length >= 2 && h.charCodeAt(0) === 0x5b && h.charCodeAt(h.length - 1) === 0x5d) {
    h = h.slice(1, -1);
  }
  return [h, p];
}

/** A given port: an integer 0..65535, else `TypeError` (Python's, at connect). */
export function checkPort(port: unknown): number {
  if (!isPort(port)) {
    throw new TypeError(`port must be an integer 0-65535, got ${describe(port)}`);
  }
  return port;
}

/** A short description of a bad argument for a TypeError message. */
function describe(v: unknown): string {
  if (typeof v === 'string') return pyrepr(v);
  if (typeof v === 'number' || typeof v === 'bigint' || typeof v === 'boolean') return String(v);
  if (v === null) return 'null';
  return typeof v;
}

/**
 * Python 3's `_contains_disallowed_url_pchar_re` `[\x00-\x20\x7f]`, used for hosts,
 * written as its complement (printable ASCII but SP, or anything from U+0080).
 */
const HOST_DISALLOWED = /[^!-~\u0080-\u{10ffff}]/u;

/**
 * Python 2.7's `_contains_disallowed_url_pchar_re` `[\x00-\x20\x7f-\xff]` plus every
 * code point above 0xFF (which cannot be a byte of the request line at all): that is,
 * anything but `!`..`~`. The `u` flag makes a match a whole code point, for the message.
 */
const PATH_DISALLOWED = /[^!-~]/u;

function controlCharError(text: string, found: string): InvalidURL {
  return new InvalidURL(
    `URL can't contain control characters. ${pyrepr(text)} (found at least ${pyrepr(found)})`,
  );
}

/**
 * Python 3's `HTTPConnection._validate_host` (CVE-2019-18348): a host holding any char in
 * `\x00-\x20` or `\x7f` throws `InvalidURL("URL can't contain control characters.
 * '<host>' (found at least '<char>')")`.
 *
 * Non-ASCII hosts are allowed and sent IDNA-encoded (Python 3); Python 2.7.18 rejects
 * bytes `\x80-\xff` here, which makes its own IDNA branch unreachable.
 */
export function validateHost(host: string): void {
  if (typeof host !== 'string') {
    throw new TypeError(`host must be a string, got ${describe(host)}`);
  }
  const m = HOST_DISALLOWED.exec(host);
  if (m !== null) throw controlCharError(host, m[0]);
}

/** What a host name or an IP address never holds: the delimiters around an authority. */
const AUTHORITY_DELIMITER = /[@/?#\\[\]]/;
/** What the address of an IPv6 literal is made of (its zone id, after `%`, aside). */
const IPV6_CHARS = /^[0-9A-Fa-f:.]+$/;
/** A port at the end of a host, as in `'localhost:8080'` or `'[::1]:8080'`. */
const PORT_SUFFIX = /:[0-9]+$/;

/**
 * An IPv6 address, with an optional zone id (`fe80::1%eth0`), as the connection's own
 * host may have one. The address is checked by the URL parser (WHATWG's IPv6 grammar, what
 * a proxy reads from the CONNECT line), which node:net's `isIPv6` would also do but is
 * out of bounds in src/protocol.
 */
function isIPv6Literal(host: string): boolean {
  const pct = host.indexOf('%');
  const address = pct === -1 ? host : host.slice(0, pct);
  if (pct === host.length - 1 || !IPV6_CHARS.test(address) || !address.includes(':')) {
    return false;
  }
  return URL.canParse(`http://[${address}]/`);
}

/**
 * `set_tunnel(host, port)`: the tunnel's host (`host`, as `parseHostPort` left it, after
 * `validateHost`) must be a host name or an IP address, else `InvalidURL` naming what the
 * caller gave (`given`). CONNECT's target is authority-form, `host:port` (RFC 9112
 * §3.2.3), which the proxy splits at its last `:`: a `:` may only be part of an IPv6
 * address (which `connectRequest` brackets), and `@`, `/`, `?`, `#`, `\` or a bracket
 * left over make a target that proxies read as something else (userinfo, a path) or
 * refuse. A port both in the host and as `port` is refused too: Python 2.7 sends
 * `CONNECT localhost:8080:9090` for `('localhost:8080', 9090)`.
 *
 * Python 2.7 (and 3) send any of these as they are; the connection's own host is not
 * checked so (a bad one fails at connect, in the name lookup, as in Python).
 */
export function validateTunnelHost(host: string, given: string, port: number | null): void {
  const ipv6 = isIPv6Literal(host);
  if (port !== null && !ipv6 && hasPort(host)) {
    throw new InvalidURL(`tunnel host has a port, and port ${port} is given too: ${pyrepr(given)}`);
  }
  if (AUTHORITY_DELIMITER.test(host) || (!ipv6 && host.includes(':'))) {
    // `'::1'` without a port parses as host ':' and port 1, as in Python: say why.
    const hint =
      port === null && isIPv6Literal(given)
        ? ` (an IPv6 address takes brackets: ${pyrepr(`[${given}]`)})`
        : '';
    throw new InvalidURL(`tunnel host is not a host name or IP address: ${pyrepr(given)}${hint}`);
  }
}

/** `'name:80'` or `'[v6]:80'`: a host, then a port (not a bad IPv6 address ending in digits). */
function hasPort(host: string): boolean {
  const m = PORT_SUFFIX.exec(host);
  if (m === null) return false;
  const rest = host.slice(0, m.index);
  if (rest.charCodeAt(0) === 0x5b && rest.charCodeAt(rest.length - 1) === 0x5d) {
    return isIPv6Literal(rest.slice(1, -1));
  }
  return rest !== '' && !rest.includes(':');
}

/**
 * Python 2.7's `HTTPConnection._validate_path` (CVE-2019-9740, CVE-2019-9947): a URL
 * holding any char in `\x00-\x20` or `\x7f-\xff` throws `InvalidURL` with the same
 * message shape as `validateHost`. So do chars above 0xFF, which a Python 2.7 byte
 * string cannot hold and which must never reach the latin1 encoder (CVE-2018-12116).
 */
export function validatePath(url: string): void {
  if (typeof url !== 'string') throw new TypeError(`url must be a string, got ${describe(url)}`);
  const m = PATH_DISALLOWED.exec(url);
  if (m !== null) throw controlCharError(url, m[0]);
}

// ---------------------------------------------------------------------------------------
// method and headers

/** Control characters in a method: Python 3's `[\x00-\x1f]`, plus DEL (as a complement). */
const METHOD_CONTROL = /[^ -~\u0080-\u{10ffff}]/u;

/**
 * The request method must be an RFC 9110 token, else `TypeError` (Python's ValueError).
 * A method with a control character gets Python 3's message (CVE-2020-26116):
 * `method can't contain control characters. '<method>' (found at least '<char>')`;
 * any other non-token (empty, a space, a separator, non-ASCII) gets
 * `Invalid method '<method>' (not an HTTP token)`. Python 2.7.18 checks nothing here
 * and sends `'GET\r\nX: y'` verbatim; Python 3 still lets spaces and DEL through.
 */
export function validateMethod(method: string): void {
  // Python 3's check is a regex search, which refuses what is not text (TypeError).
  if (typeof method !== 'string') {
    throw new TypeError(`method must be a string, got ${describe(method)}`);
  }
  if (TOKEN.test(method)) return;
  const m = METHOD_CONTROL.exec(method);
  if (m !== null) {
    throw new TypeError(
      `method can't contain control characters. ${pyrepr(method)} (found at least ${pyrepr(m[0])})`,
    );
  }
  throw new TypeError(`Invalid method ${pyrepr(method)} (not an HTTP token)`);
}

/**
 * A header name must be an RFC 9110 token, else `TypeError('Invalid header name
 * <repr>')` — Python's message; Python itself only requires `[^:\s][^:\r\n]*`, which
 * lets `'Key Space'`, `'a"b'` or bytes above 0x7f through.
 */
export function validateHeaderName(name: string): void {
  if (!TOKEN.test(name)) throw new TypeError(`Invalid header name ${pyrepr(name)}`);
}

/**
 * What a header value must not contain, NUL aside (tested with `includes`, as Biome
 * rejects a NUL in a regular expression): a CR not starting a fold `\r\n` + SP/HTAB; an LF
 * not ending such a CR; any code point above 0xFF (one UTF-16 code unit above is enough).
 */
const VALUE_ILLEGAL = /\r(?!\n[ \t])|(?<!\r)\n|[\u0100-\uffff]/;

/**
 * A header value may hold no NUL, no CR or LF except in a fold (CRLF followed by SP or
 * HTAB) and no code point above 0xFF, else `TypeError('Invalid header value <repr>')`.
 * Python's `_is_illegal_header_value` (`\n(?![ \t])|\r(?![ \t\n])`) also accepts a bare
 * `'\r '` or `'\n '` and a NUL; this check doesn't.
 */
export function validateHeaderValue(value: string): void {
  if (VALUE_ILLEGAL.test(value) || value.includes('\0')) {
    throw new TypeError(`Invalid header value ${pyrepr(value)}`);
  }
}

/**
 * Python 2.7's `str(v)` for a header value, in JavaScript terms: strings as they are,
 * `Buffer`/`Uint8Array` as the latin1 text of their bytes, numbers and bigints in
 * decimal (integers from 1e21 up too, where `String()` would switch to exponent form;
 * NaN and ±Infinity as Python writes a float's: `nan`, `inf`, `-inf`),
 * booleans as `true`/`false`, and an object with a string form of its own (a
 * `Symbol.toPrimitive` method, or a `toString` other than `Object.prototype`'s: a `URL`,
 * a `String` object, a class of the caller's) through `String(v)`, which runs it exactly
 * once. Validation must run on the result, never on the input.
 *
 * Refused with a `TypeError` that names the header (`name`, when given): `undefined`,
 * `null`, a symbol, a function, an array, and an object with no string form of its own,
 * whose text would be `[object Object]`. Python 2.7 would send `None` or a repr, and
 * node:http sends `null` and `[object Object]` (it refuses only `undefined`): each is
 * almost always a bug of the caller (`{ Authorization: maybeToken }`), never a value a
 * server expects.
 */
export function coerceHeaderValue(v: unknown, name?: string): string {
  if (typeof v === 'string') return v;
  const text = coerceOther(v);
  if (text !== null) return text;
  const what =
    name === undefined ? 'Invalid header value' : `Invalid value for header ${pyrepr(name)}`;
  throw new TypeError(
    `${what}: ${notText(v)}; a header value is a string, a number, a bigint or bytes`,
  );
}

/**
 * A header name given as something else than a string (by JavaScript callers), converted
 * as `coerceHeaderValue` converts values; the same values are refused, with
 * `TypeError('Invalid header name: …')`. The result must still pass `validateHeaderName`.
 */
export function coerceHeaderName(v: unknown): string {
  if (typeof v === 'string') return v;
  const text = coerceOther(v);
  if (text !== null) return text;
  throw new TypeError(`Invalid header name: ${notText(v)}; a header name is a string`);
}

/** `coerceHeaderValue` for everything but strings; null when `v` is refused. */
function coerceOther(v: unknown): string | null {
  if (typeof v === 'number') {
    // NaN and the infinities as Python's str() of a float writes them.
    if (!Number.isFinite(v)) return Number.isNaN(v) ? 'nan' : v > 0 ? 'inf' : '-inf';
    return Number.isInteger(v) && Math.abs(v) >= 1e21 ? BigInt(v).toString() : String(v);
  }
  if (typeof v === 'bigint') return v.toString();
  if (typeof v === 'boolean') return v ? 'true' : 'false';
  if (ArrayBuffer.isView(v)) {
    // Bytes are bytes; other typed arrays (whose toString joins their numbers: '65,66')
    // and DataViews are not text, and refused.
    if (!(v instanceof Uint8Array || v instanceof Uint8ClampedArray)) return null;
    return Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString('latin1');
  }
  if (typeof v === 'object' && v !== null && !Array.isArray(v) && hasStringForm(v)) {
    return String(v);
  }
  return null;
}

/** Whether `String(o)` gives a text of `o`'s own rather than `[object …]`. */
function hasStringForm(o: object): boolean {
  if (typeof (o as { [Symbol.toPrimitive]?: unknown })[Symbol.toPrimitive] === 'function') {
    return true;
  }
  const str = (o as { toString?: unknown }).toString;
  return typeof str === 'function' && str !== Object.prototype.toString;
}

/** What a refused header name or value is, for the message. */
function notText(v: unknown): string {
  if (v === undefined || v === null) return String(v);
  if (typeof v === 'symbol') return 'a symbol';
  if (typeof v === 'function') return 'a function';
  if (Array.isArray(v)) {
    return 'an array (join the values, or give them to putheader() as separate arguments)';
  }
  const ctor: unknown = Object.getPrototypeOf(v)?.constructor;
  const name = typeof ctor === 'function' && ctor.name !== '' ? ctor.name : 'Object';
  if (ArrayBuffer.isView(v)) {
    return `${/^[AEIO]/.test(name) ? 'an' : 'a'} ${name}, not bytes (bytes are a Uint8Array or a Buffer)`;
  }
  return `an object with no string form of its own (${name})`;
}
