/**
 * The request side of the protocol core: what `putrequest`, `putheader`, `endheaders`
 * and `request()` do to bytes, without doing any I/O.
 *
 * - `RequestBuffer` is Python's `HTTPConnection._buffer` for one request: the request
 *   line, the automatic `Host` and `Accept-Encoding` headers, the caller's headers, and
 *   `finish()`, which returns the whole head as a latin1 string for one socket write.
 * - `normalizeHeaders`, `headerNameSet` and `planRequest` decide what `request()` adds
 *   (Python 3's `_send_request`: `Content-Length`, or `Transfer-Encoding: chunked` with
 *   chunk framing for a body of unknown length).
 * - `chunkHeader`, `CHUNK_TRAILER`, `LAST_CHUNK`: chunk framing of a request body.
 * - `connectRequest`: the head of the CONNECT request that opens a tunnel.
 *
 * The connection class keeps the state machine (`CannotSendRequest`, …); this file only
 * validates and formats. Every method validates everything first and changes its buffer
 * only when nothing threw, so a rejected call leaves no half-written line behind.
 *
 * This is on the hot path of every request: no regex per character, no string growing
 * in a loop (lines are collected in an array and joined once).
 *
 * This file must not do I/O: no node:net/tls, no timers, no process, no promises.
 */
import { domainToASCII } from 'node:url';
import { asciiLower, isPort, pyrepr } from './pytext.ts';
import {
  coerceHeaderName,
  coerceHeaderValue,
  validateHeaderName,
  validateHeaderValue,
  validateHost,
  validateMethod,
  validatePath,
} from './validate.ts';

/** Where a request goes: what `putrequest` needs to write the `Host` header. */
export interface RequestTarget {
  /** The connection's host, already parsed by `parseHostPort` (no brackets). */
  readonly host: string;
  /** The connection's port. */
  readonly port: number;
  /** The class's `default_port` (80, or 443 for HTTPS): that port is left out of `Host`. */
  readonly defaultPort: number;
  /** `set_tunnel()`'s host (parsed); when set and non-empty it replaces `host` in `Host`. */
  readonly tunnelHost?: string | null | undefined;
  /** `set_tunnel()`'s port, used with `tunnelHost`. */
  readonly tunnelPort?: number | null | undefined;
  /** 11 for `HTTPConnection` (`HTTP/1.1`), 10 for the legacy `HTTP` class (`HTTP/1.0`). */
  readonly httpVersion: 10 | 11;
}

/** The keyword arguments of `putrequest`. */
export interface PutRequestOptions {
  /** Python's `skip_host`: add no automatic `Host` header (the caller sends its own). */
  readonly skip_host?: boolean | undefined;
  /** Python's `skip_accept_encoding`: add no automatic `Accept-Encoding: identity`. */
  readonly skip_accept_encoding?: boolean | undefined;
}

const CRLF = '\r\n';
/** Any char outside ASCII (tested instead of `^[\x00-\x7f]*$`: Biome rejects control chars). */
const NON_ASCII = /[\u0080-\uffff]/;

/**
 * The netloc that Python 2.7's `urlparse.urlsplit(url)` finds in a URL starting with
 * `http` (which `putrequest` uses as `Host` for absolute-form requests through a proxy),
 * or `''` when it finds none. `url` has passed `validatePath`, so it is printable ASCII.
 *
 * 2.7's rules: the scheme is the text before the first `:` if it is exactly `http`, or if
 * it is all scheme chars (`[A-Za-z0-9+.-]`) and the rest is empty or not all digits
 * (`'httpx:80'` is a path); the netloc follows a `//` right after the scheme and ends at
 * the first `/`, `?` or `#`. A netloc with a `[` and no `]`, or the reverse, throws
 * `ValueError('Invalid IPv6 URL')` in Python: a `TypeError` here.
 */
export function absoluteUrlNetloc(url: string): string {
  const i = url.indexOf(':');
  if (i <= 0) return '';
  const scheme = url.slice(0, i);
  // 2.7 takes any other all-scheme-chars prefix as a scheme too, unless the rest is all
  // digits (`'httpx:80'` is a path), which cannot start with the `//` required below anyway.
  if (scheme !== 'http' && !/^[A-Za-z0-9+.-]+$/.test(scheme)) return '';
  if (url.charCodeAt(i + 1) !== 0x2f || url.charCodeAt(i + 2) !== 0x2f) return '';
  const start = i + 3;
  let end = url.length;
  for (const delim of ['/', '?', '#']) {
    const at = url.indexOf(delim, start);
    if (at !== -1 && at < end) end = at;
  }
  const netloc = url.slice(start, end);
  if (netloc.includes('[') !== netloc.includes(']')) throw new TypeError('Invalid IPv6 URL');
  return netloc;
}

/**
 * A host as the `Host` header and the CONNECT line carry it: ASCII as is, anything else
 * IDNA-encoded (`host.encode('idna')` in Python; here WHATWG's UTS #46 `domainToASCII`,
 * which agrees on ordinary names but follows IDNA 2008 for a few letters such as `ß`).
 */
function asciiHost(host: string): string {
  if (!NON_ASCII.test(host)) return host;
  const ascii = domainToASCII(host);
  if (ascii === '') throw new TypeError(`Invalid host ${pyrepr(host)} (cannot be IDNA-encoded)`);
  return ascii;
}

/**
 * An IPv6 literal for `Host`: wrapped in brackets if it holds a `:` and does not start
 * with `[` already (Python 3's `_wrap_ipv6`; 2.7 wraps even a bracketed one), and its zone
 * id `%…` dropped (Python 3.11+'s `_strip_ipv6_iface`: a zone means nothing to the peer).
 */
function hostForHeader(host: string): string {
  let h = asciiHost(host);
  if (h.includes(':')) {
    if (h.charCodeAt(0) !== 0x5b) h = `[${h}]`;
    const pct = h.indexOf('%');
    if (pct !== -1) {
      const close = h.indexOf(']', pct);
      h = `${h.slice(0, pct)}]${close === -1 ? '' : h.slice(close + 1)}`;
    }
  }
  return h;
}

/**
 * The zone id of a bracketed IPv6 netloc dropped: `[fe80::1%25eth0]:8080` →
 * `[fe80::1]:8080`. Python 3.11+ does this too but also loses the `:8080` (it cuts
 * everything after the `%`); 2.7 sends the netloc verbatim. Other netlocs are unchanged.
 */
function stripNetlocZone(netloc: string): string {
  if (netloc.charCodeAt(0) !== 0x5b) return netloc;
  const pct = netloc.indexOf('%');
  if (pct === -1) return netloc;
  const close = netloc.indexOf(']', pct);
  if (close === -1) return netloc;
  return netloc.slice(0, pct) + netloc.slice(close);
}

/**
 * One header line, `Name: v1\r\n\tv2…`, after coercing and validating every part
 * (Python's `putheader`, with this package's stricter name and value rules).
 */
function headerLine(name: unknown, values: readonly unknown[]): string {
  const n = coerceHeaderName(name);
  validateHeaderName(n);
  if (values.length === 1) {
    const v = coerceHeaderValue(values[0], n);
    validateHeaderValue(v);
    return `${n}: ${v}`;
  }
  const vs = new Array<string>(values.length);
  for (let k = 0; k < values.length; k++) {
    const v = coerceHeaderValue(values[k], n);
    validateHeaderValue(v);
    vs[k] = v;
  }
  return `${n}: ${vs.join('\r\n\t')}`;
}

/**
 * Python's `HTTPConnection._buffer` for one request: `putrequest` starts it, `putheader`
 * adds to it, `finish` (Python's `_send_output`) returns the whole head and empties it.
 *
 * Unlike Python, `putrequest` always starts from an empty buffer: in 2.7 lines buffered
 * before a `close()` would be sent in front of the next request line.
 */
export class RequestBuffer {
  /** The lines buffered so far, each with its CRLF ('' before `putrequest`). */
  #head = '';

  /**
   * Python's `putrequest(method, url, skip_host, skip_accept_encoding)` minus the state
   * check: validates `method` (`validateMethod`) and `url` (`''` means `/`;
   * `validatePath`), then buffers `METHOD URL HTTP/1.x` and, for HTTP/1.1 only:
   *
   * - `Host`, unless `skip_host`: the netloc of an absolute URL starting with `http`
   *   (as Python 2.7's `urlsplit` finds it, zone id dropped); else the tunnel's host and
   *   port if `tunnelHost` is set, else the connection's; a non-ASCII host IDNA-encoded;
   *   a host holding `:` wrapped in `[...]` unless it starts with `[`; an IPv6 zone id
   *   dropped; `:port` only when the port is not `defaultPort`.
   * - `Accept-Encoding: identity`, unless `skip_accept_encoding`.
   *
   * HTTP/1.0 (the legacy `HTTP` class) adds neither, as in Python.
   * Throws (`InvalidURL`, `TypeError`) before changing anything.
   */
  putrequest(
    method: string,
    url: string,
    options: PutRequestOptions | null | undefined,
    target: RequestTarget,
  ): void {
    validateMethod(method);
    const path = url || '/';
    validatePath(path);
    // Built by concatenation: cheaper than an array and a join for a handful of lines.
    let head = `${method} ${path} ${target.httpVersion === 11 ? 'HTTP/1.1' : 'HTTP/1.0'}\r\n`;
    if (target.httpVersion === 11) {
      if (options?.skip_host !== true) head += `Host: ${hostValue(path, target)}\r\n`;
      if (options?.skip_accept_encoding !== true) head += 'Accept-Encoding: identity\r\n';
    }
    this.#head = head;
  }

  /**
   * Python's `putheader(header, *values)` minus the state check: each value is coerced
   * (`coerceHeaderValue`, Python's `str(v)`) and then validated, the name must be a token,
   * and the line is `name + ': ' + values.join('\r\n\t')` (several values become folded
   * continuation lines; no value gives `'Name: '`). Throws before buffering anything.
   */
  putheader(name: string, ...values: unknown[]): void {
    this.#head += `${headerLine(name, values)}\r\n`;
  }

  /**
   * Python's `_send_output` head: the buffered lines joined by CRLF, then the blank line,
   * as a latin1 string (every char code is a byte; validation kept them all <= 0xFF),
   * ready for `socket.write(head, 'latin1')`. Empties the buffer.
   */
  finish(): string {
    const head = `${this.#head}\r\n`;
    this.#head = '';
    return head;
  }

  /** Drops whatever is buffered (a connection's `close()`). */
  reset(): void {
    this.#head = '';
  }
}

/** The value of the automatic `Host` header (see `RequestBuffer.putrequest`). */
function hostValue(path: string, target: RequestTarget): string {
  // `startsWith('http')` is case-sensitive in Python too: 'HTTP://x/' uses the connection.
  if (path.startsWith('http')) {
    const netloc = absoluteUrlNetloc(path);
    if (netloc !== '') return stripNetlocZone(netloc);
  }
  const cached = hostValues.get(target);
  if (cached !== undefined) return cached;
  let host = target.host;
  let port = target.port;
  if (target.tunnelHost) {
    host = target.tunnelHost;
    port = target.tunnelPort ?? target.defaultPort;
  }
  // The connection validated its host when it was built; checking again costs one regex
  // and keeps a host assigned afterwards from smuggling CR/LF into the head.
  validateHost(host);
  const h = hostForHeader(host);
  const value = port === target.defaultPort ? h : `${h}:${port}`;
  hostValues.set(target, value);
  return value;
}

// The Host value of each target (immutable; a connection builds a new one when its host,
// port or tunnel changes): requests on one connection compute it once.
const hostValues = new WeakMap<RequestTarget, string>();

// ---------------------------------------------------------------------------------------
// request(): headers and framing

/**
 * A header value, as `putheader()`, `request()`'s headers and `set_tunnel()`'s headers
 * take it: a string, a number or a bigint (in decimal), or bytes (a `Buffer` or
 * `Uint8Array`, each byte one character of the value).
 *
 * Python 2.7 sends `str(value)` of anything. Here `undefined`, `null`, arrays and objects
 * with no string form of their own (`[object Object]`) are refused with a `TypeError`
 * before anything is sent, so `{ Authorization: maybeToken }` cannot send
 * `Authorization: undefined`. (From JavaScript, booleans and objects with their own
 * `toString` or `Symbol.toPrimitive`, such as a `URL`, are converted with `String()`.)
 *
 * @example
 * ```ts
 * await conn.request('GET', '/', null, { Accept: 'text/plain', 'X-Request-Id': 42n });
 * conn.putrequest('PUT', '/file');
 * conn.putheader('Content-Length', 18);
 * conn.putheader('X-Trace', Buffer.from('caf\xe9', 'latin1')); // bytes: one character each
 * ```
 */
export type HeaderValue = string | number | bigint | Uint8Array;

/** What `request()` accepts as `headers`: a plain object, a `Map`, or `[name, value]` pairs. */
export type HeadersInput =
  | Readonly<Record<string, HeaderValue>>
  | ReadonlyMap<string, HeaderValue>
  | Iterable<readonly [string, HeaderValue]>;

/**
 * Headers as JavaScript callers may pass them, whatever the types say: every value is
 * checked at run time (`coerceHeaderValue`), so the functions here take any value.
 */
export type AnyHeaders =
  | Readonly<Record<string, unknown>>
  | ReadonlyMap<string, unknown>
  | Iterable<readonly [string, unknown]>;

/**
 * `request()`'s `headers` as a list of `[name, value]`, in the caller's order:
 * a plain object (own enumerable string keys, in JavaScript's property order, which
 * puts integer-like keys first; an own `__proto__` key is an ordinary name), a `Map`, or
 * any iterable of two-element `[name, value]` arrays. `null`/`undefined` give `[]`.
 * Names must be strings; values are left as they are (`putheader` coerces them once).
 * Anything else throws `TypeError`.
 */
export function normalizeHeaders(headers: AnyHeaders | null | undefined): Array<[string, unknown]> {
  if (headers === null || headers === undefined) return [];
  if (typeof headers !== 'object') {
    throw new TypeError(
      `headers must be an object, a Map or [name, value] pairs, got ${typeof headers}`,
    );
  }
  const out: Array<[string, unknown]> = [];
  if (headers instanceof Map) {
    for (const [name, value] of headers) out.push([checkName(name), value]);
    return out;
  }
  if (Symbol.iterator in headers) {
    for (const pair of headers as Iterable<unknown>) {
      if (!Array.isArray(pair) || pair.length !== 2) {
        throw new TypeError('headers must be [name, value] pairs');
      }
      out.push([checkName(pair[0]), pair[1]]);
    }
    return out;
  }
  const proto: unknown = Object.getPrototypeOf(headers);
  if (proto !== Object.prototype && proto !== null) {
    throw new TypeError('headers must be a plain object, a Map or [name, value] pairs');
  }
  const record = headers as Readonly<Record<string, unknown>>;
  for (const name of Object.keys(record)) out.push([name, record[name]]);
  return out;
}

function checkName(name: unknown): string {
  if (typeof name !== 'string') {
    throw new TypeError(`header names must be strings, got ${typeof name}`);
  }
  return name;
}

/**
 * The lower-cased names of `request()`'s headers, for `planRequest`. ASCII-only lower
 * case, as Python 2.7's `str.lower()`: `toLowerCase` would fold KELVIN SIGN onto `k`.
 */
export function headerNameSet(headers: ReadonlyArray<readonly [string, unknown]>): Set<string> {
  const names = new Set<string>();
  for (const [name] of headers) {
    names.add(asciiLower(name));
  }
  return names;
}

/** What the I/O layer knows about a request body's length. */
export type BodyInfo =
  | { readonly kind: 'none' }
  | { readonly kind: 'length'; readonly length: number }
  | { readonly kind: 'unknown' };

/** What `request()` does around the caller's headers. */
export interface RequestPlan {
  /** `putrequest`'s options: skip what the caller gave. */
  readonly skip_host: boolean;
  readonly skip_accept_encoding: boolean;
  /** Automatic headers to `putheader` right after `putrequest`, before the caller's. */
  readonly headers: ReadonlyArray<readonly [string, string]>;
  /** Whether the body must be sent chunk-framed (`chunkHeader` … `LAST_CHUNK`). */
  readonly encodeChunked: boolean;
}

/** Methods that get `Content-Length: 0` without a body (Python's `_METHODS_EXPECTING_BODY`). */
const METHODS_EXPECTING_BODY = new Set(['PATCH', 'POST', 'PUT']);

const NO_HEADERS: ReadonlyArray<readonly [string, string]> = [];
const CONTENT_LENGTH_0: ReadonlyArray<readonly [string, string]> = [['Content-Length', '0']];
const TE_CHUNKED: ReadonlyArray<readonly [string, string]> = [['Transfer-Encoding', 'chunked']];

/**
 * Python 3's `_send_request` decisions for `request(method, url, body, headers,
 * encode_chunked)`; `headerNames` are the caller's header names, lower-cased
 * (`headerNameSet`). The resulting order of the head is Python's: request line, `Host`,
 * `Accept-Encoding`, the automatic `Content-Length`/`Transfer-Encoding`, then the
 * caller's headers in their order.
 *
 * If the caller gave neither `content-length` nor `transfer-encoding`: no body →
 * `Content-Length: 0` for POST/PUT/PATCH (any case) and nothing for other methods; a known
 * length → `Content-Length: n` (an empty string body too: `GET` with `''` gets
 * `Content-Length: 0`); an unknown length → `Transfer-Encoding: chunked`, chunk-framed.
 * If the caller gave `content-length` → never framed. If only `transfer-encoding` →
 * framed when the caller's `encode_chunked` says so.
 *
 * HTTP/1.0 never frames a body in chunks (Python 3 neither, but it still adds
 * `Transfer-Encoding: chunked` to the unframed body, a lie; we add no such header).
 * Python 2.7 has no chunked requests at all: it sends no length header for a body whose
 * length it cannot find, and it adds `Content-Length` even when the caller gave
 * `Transfer-Encoding`.
 */
export function planRequest(
  method: string,
  body: BodyInfo,
  headerNames: ReadonlySet<string>,
  encodeChunked: boolean,
  httpVersion: 10 | 11 = 11,
): RequestPlan {
  const skip_host = headerNames.has('host');
  const skip_accept_encoding = headerNames.has('accept-encoding');
  let headers = NO_HEADERS;
  let framed = false;
  if (headerNames.has('content-length')) {
    framed = false;
  } else if (headerNames.has('transfer-encoding')) {
    framed = encodeChunked;
  } else if (body.kind === 'none') {
    if (METHODS_EXPECTING_BODY.has(method.toUpperCase())) headers = CONTENT_LENGTH_0;
  } else if (body.kind === 'length') {
    headers = [['Content-Length', String(body.length)]];
  } else if (httpVersion === 11) {
    headers = TE_CHUNKED;
    framed = true;
  }
  return {
    skip_host,
    skip_accept_encoding,
    headers,
    encodeChunked: framed && httpVersion === 11,
  };
}

// ---------------------------------------------------------------------------------------
// chunk framing

/**
 * The size line of one chunk: upper-case hex and CRLF (Python 3: `f'{len:X}\r\n'`).
 * The caller skips empty chunks (as Python does): a zero size would end the body, so
 * `length` must be a positive integer, else `RangeError`.
 */
export function chunkHeader(length: number): string {
  if (!Number.isSafeInteger(length) || length <= 0) {
    throw new RangeError(`chunk length must be a positive integer, got ${length}`);
  }
  return `${length.toString(16).toUpperCase()}\r\n`;
}

/** What follows the data of each chunk. */
export const CHUNK_TRAILER = '\r\n';

/** The last chunk and the empty trailer section that end a chunked body. */
export const LAST_CHUNK = '0\r\n\r\n';

// ---------------------------------------------------------------------------------------
// tunnel

/**
 * The head of the CONNECT request that opens a tunnel (Python 2.7's `_tunnel`):
 * `CONNECT host:port HTTP/1.0\r\n`, `Name: value\r\n` per header, then `\r\n`, as one
 * latin1 string (Python 3.9+ also sends it in one write).
 *
 * Beyond 2.7: the host is checked like the connection's (`validateHost`) and IDNA-encoded
 * when not ASCII, an IPv6 host is bracketed (Python 3.12+; 2.7 writes `CONNECT ::1:443`)
 * and every header passes `putheader`'s rules (gh-146211), all before anything is built.
 */
export function connectRequest(
  tunnelHost: string,
  tunnelPort: number,
  headers?: AnyHeaders | null,
): string {
  validateHost(tunnelHost);
  if (!isPort(tunnelPort)) {
    throw new TypeError(`port must be an integer 0-65535, got ${String(tunnelPort)}`);
  }
  let host = asciiHost(tunnelHost);
  if (host.includes(':') && host.charCodeAt(0) !== 0x5b) host = `[${host}]`;
  const lines = [`CONNECT ${host}:${tunnelPort} HTTP/1.0`];
  for (const [name, value] of normalizeHeaders(headers)) lines.push(headerLine(name, [value]));
  lines.push('', '');
  return lines.join(CRLF);
}
