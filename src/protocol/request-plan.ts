/**
 * What `request()` puts around the caller's headers (Python 3's `_send_request`): the
 * headers the caller gave, normalized from every accepted shape and checked once, and
 * the framing decisions (`Content-Length`, `Transfer-Encoding: chunked`, or nothing)
 * for a body whose length is known, unknown, or absent.
 *
 * Pure: no I/O (src/protocol/ is sans-IO). request-writer.ts turns the result into bytes.
 */
import { BodyLengthMismatch } from './body-errors.ts';
import { asciiLower } from './pytext.ts';
import type { PutRequestOptions } from './request-writer.ts';
import { coerceHeaderValue, validateHeaderName, validateHeaderValue } from './validate.ts';

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

/**
 * Headers as a plain object of type `H`: each of its properties a {@link HeaderValue}.
 * Made of `H`'s own keys, rather than an index signature, so that an object typed by an
 * `interface` is accepted (an interface has no index signature, and TypeScript refuses it
 * where one is wanted) while a property of another type is still refused.
 */
export type HeaderFields<H> = object & { readonly [K in keyof H]: HeaderValue };

/**
 * What `request()` and `set_tunnel()` accept as `headers`: a plain object, a `Map`, or
 * `[name, value]` pairs. Those methods take `H extends HeadersInput<H>`, the type of the
 * argument as the compiler infers it; alone, `HeadersInput` is any of these shapes whose
 * plain object is a record of header values.
 */
export type HeadersInput<H = Record<string, HeaderValue>> =
  | HeaderFields<H>
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

/** The headers given to `request()`, checked and converted once (what is checked is sent). */
export interface GivenHeaders {
  /** `[name, value]` in the caller's order, values converted with `String()`. */
  readonly pairs: ReadonlyArray<readonly [string, string]>;
  /** Their names, lower-cased (which automatic headers they replace). */
  readonly names: ReadonlySet<string>;
  /** `putrequest`'s options: skip `Host` / `Accept-Encoding` when given; null if neither. */
  readonly skip: PutRequestOptions | null;
}

const NO_HEADERS_GIVEN: GivenHeaders = { pairs: [], names: new Set(), skip: null };

/**
 * `request()`'s headers (a plain object, a `Map`, or `[name, value]` pairs): each name
 * must be a token, each value is converted once (`String()`, Python's `str()`) and
 * checked (no NUL, CR/LF only in a fold). Throws `TypeError` before anything is used.
 */
export function checkHeaders(headers: AnyHeaders | null | undefined): GivenHeaders {
  if (headers === null || headers === undefined) return NO_HEADERS_GIVEN;
  const given = normalizeHeaders(headers);
  const pairs: Array<[string, string]> = new Array(given.length);
  for (let i = 0; i < given.length; i++) {
    const [name, value] = given[i] as [string, unknown];
    validateHeaderName(name);
    const text = coerceHeaderValue(value, name);
    validateHeaderValue(text);
    pairs[i] = [name, text];
  }
  const names = headerNameSet(pairs);
  const skip =
    names.size === 0
      ? null
      : { skip_host: names.has('host'), skip_accept_encoding: names.has('accept-encoding') };
  return { pairs, names, skip };
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

/** Every run of digits in a value: each a length some server could read it as. */
const DIGIT_RUNS = /[0-9]+/g;

/**
 * The most a body may hold under the `Content-Length` the caller gave `request()`: the
 * smallest length its values could be read as (every run of digits: `5`, `5, 5`, a
 * lenient parser's `5abc`, a folded `5` CRLF SP), or null when they hold none (such a
 * value is sent as given, as Python sends it, for the server to refuse).
 *
 * A body of known length that is longer throws `BodyLengthMismatch` now, before a byte
 * is sent: Python sends it all, and the server reads the bytes past the declared length
 * as the start of the next request. A shorter one is Python's pattern of a body sent in
 * parts (`request()` with the first, `send()` with the rest): it goes. Returns the limit a
 * body of unknown length (an iterable, a stream) is held to as it is sent; null
 * otherwise. No body: nothing is checked.
 */
export function declaredLength(given: GivenHeaders, body: BodyInfo): number | null {
  if (body.kind === 'none' || !given.names.has('content-length')) return null;
  let limit: number | null = null;
  for (const [name, value] of given.pairs) {
    if (name.length !== 14 || asciiLower(name) !== 'content-length') continue;
    for (const digits of value.match(DIGIT_RUNS) ?? []) {
      const length = Number(digits);
      if (limit === null || length < limit) limit = length;
    }
  }
  if (limit !== null && body.kind === 'length' && body.length > limit) {
    throw new BodyLengthMismatch(limit, body.length);
  }
  return body.kind === 'unknown' ? limit : null;
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
