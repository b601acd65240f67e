/**
 * The request side of the protocol core: what `putrequest`, `putheader`, `endheaders`
 * and `request()` do to bytes, without doing any I/O.
 *
 * - `RequestBuffer` is Python's `HTTPConnection._buffer` for one request: the request
 *   line, the automatic `Host` and `Accept-Encoding` headers, the caller's headers, and
 *   `finish()`, which returns the whole head as a latin1 string for one socket write.
 * - what `request()` adds around the caller's headers is decided in request-plan.ts
 *   (re-exported here); `requestTarget` and `tunnelRequest` say where requests go.
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
import { InvalidURL } from './errors.ts';
import { isPort, pyrepr, pytruth } from './pytext.ts';
import { type AnyHeaders, type HeadersInput, normalizeHeaders } from './request-plan.ts';
import {
  checkPort,
  coerceHeaderName,
  coerceHeaderValue,
  parseHostPort,
  validateHeaderName,
  validateHeaderValue,
  validateHost,
  validateMethod,
  validatePath,
  validateTunnelHost,
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
    // Python's `url or '/'`: a false url (None, '', 0) is `/`; NaN is true there, so it
    // reaches the check below and is refused, as Python's `TypeError` refuses it.
    const path = pytruth(url) ? url : '/';
    validatePath(path);
    // Built by concatenation: cheaper than an array and a join for a handful of lines.
    let head = `${method} ${path} ${target.httpVersion === 11 ? 'HTTP/1.1' : 'HTTP/1.0'}\r\n`;
    if (target.httpVersion === 11) {
      // Python's flags are truthy values (2.7's own defaults are the ints 0 and 1).
      if (!pytruth(options?.skip_host)) head += `Host: ${hostValue(path, target)}\r\n`;
      if (!pytruth(options?.skip_accept_encoding)) head += 'Accept-Encoding: identity\r\n';
    }
    this.#head = head;
  }

  /**
   * Python's `putheader(header, *values)` minus the state check: each value is coerced
   * (`coerceHeaderValue`, Python's `str(v)`) and then validated, the name must be a token,
   * and the line is `name + ': ' + values.join('\r\n\t')` (several values become folded
   * continuation lines; no value gives `'Name: '`). Throws before buffering anything.
   * Returns the line (without its CRLF): each value converted once, here.
   */
  putheader(name: string, ...values: unknown[]): string {
    const line = headerLine(name, values);
    this.#head += `${line}\r\n`;
    return line;
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
  // The connection validated its host and port when it was built; checking again (once
  // per target) keeps a host or port assigned afterwards from smuggling CR/LF, or any text
  // that is not a port, into the head of a request on a kept-alive socket.
  validateHost(host);
  checkPort(port);
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

export {
  type AnyHeaders,
  type BodyInfo,
  checkHeaders,
  declaredLength,
  type GivenHeaders,
  type HeaderFields,
  type HeadersInput,
  type HeaderValue,
  headerNameSet,
  normalizeHeaders,
  planRequest,
  type RequestPlan,
} from './request-plan.ts';

/**
 * `previous` when it still describes where requests go, else a new `RequestTarget` (a
 * connection builds one only when one of its attributes changed, not per request).
 */
export function requestTarget(
  previous: RequestTarget | null,
  host: string,
  port: number,
  defaultPort: number,
  tunnelHost: string | null,
  tunnelPort: number | null,
  httpVersion: 10 | 11,
): RequestTarget {
  const t = previous;
  if (
    t !== null &&
    t.host === host &&
    t.port === port &&
    t.defaultPort === defaultPort &&
    t.tunnelHost === tunnelHost &&
    t.tunnelPort === tunnelPort &&
    t.httpVersion === httpVersion
  ) {
    return t;
  }
  return { host, port, defaultPort, tunnelHost, tunnelPort, httpVersion };
}

/**
 * `set_tunnel(host, port, headers)`: where the tunnel goes and its CONNECT head. The
 * headers are read, converted and checked once, here, and every CONNECT sends that copy:
 * a one-shot iterable is not found empty at connect time, and a value whose toString
 * changes cannot differ from what was checked. Python 2.7 (and 3 up to 3.11) keeps the
 * caller's dict instead, so a header added to it after a 407 goes with the next CONNECT;
 * here it does not, and set_tunnel() is called again (3.12+ copies too; README's
 * differences table, row tunnel-headers-copied).
 */
export function tunnelRequest(
  host: string,
  port: number | null,
  headers: HeadersInput | null | undefined,
  defaultPort: number,
): { readonly host: string; readonly port: number; readonly head: string } {
  const [tunnelHost, tunnelPort] = parseHostPort(host, port, defaultPort);
  // Python 2.7 takes '' for no tunnel (requests go to the proxy as they are) and sends
  // `CONNECT :80` for ':80'; either is a mistake (an unset variable), refused here.
  if (tunnelHost === '') throw new InvalidURL(`tunnel host is empty: ${pyrepr(host)}`);
  // Control characters first, with Python 3's message (connectRequest checks it too).
  validateHost(tunnelHost);
  validateTunnelHost(tunnelHost, host, port);
  const pairs: Array<[string, string]> = [];
  for (const [name, value] of normalizeHeaders(headers)) {
    pairs.push([name, coerceHeaderValue(value, name)]);
  }
  return {
    host: tunnelHost,
    port: tunnelPort,
    head: connectRequest(tunnelHost, tunnelPort, pairs),
  };
}

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
