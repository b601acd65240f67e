/**
 * The exception tree of httplib, with Python's attributes and message texts, and the
 * stable `code` of each error, so that callers (and the CLI) never match messages.
 *
 * ```
 * Error                                 code                                  fields
 *  ├─ HTTPException (also `error`)       ERR_HTTPLIB_HTTP_EXCEPTION (*)
 *  │   ├─ NotConnected                   ERR_HTTPLIB_NOT_CONNECTED
 *  │   ├─ InvalidURL                     ERR_HTTPLIB_INVALID_URL
 *  │   ├─ UnknownProtocol                ERR_HTTPLIB_UNKNOWN_PROTOCOL          version
 *  │   ├─ UnknownTransferEncoding        ERR_HTTPLIB_UNKNOWN_TRANSFER_ENCODING
 *  │   ├─ UnimplementedFileMode          ERR_HTTPLIB_UNIMPLEMENTED_FILE_MODE
 *  │   ├─ IncompleteRead                 ERR_HTTPLIB_INCOMPLETE_READ           partial, expected
 *  │   ├─ ImproperConnectionState        ERR_HTTPLIB_IMPROPER_CONNECTION_STATE
 *  │   │   ├─ CannotSendRequest          ERR_HTTPLIB_CANNOT_SEND_REQUEST
 *  │   │   ├─ CannotSendHeader           ERR_HTTPLIB_CANNOT_SEND_HEADER
 *  │   │   └─ ResponseNotReady           ERR_HTTPLIB_RESPONSE_NOT_READY
 *  │   ├─ BadStatusLine                  ERR_HTTPLIB_BAD_STATUS_LINE           line
 *  │   │   └─ RemoteDisconnected         ERR_HTTPLIB_REMOTE_DISCONNECTED
 *  │   ├─ LineTooLong                    ERR_HTTPLIB_LINE_TOO_LONG             lineType
 *  │   ├─ FramingError                   ERR_HTTPLIB_FRAMING  (the `cause` of an IncompleteRead)
 *  │   └─ BodyLengthMismatch             ERR_HTTPLIB_BODY_LENGTH_MISMATCH      declared, got
 *  ├─ TimeoutError                       ETIMEDOUT  (Node's)                   phase, host, port, seconds
 *  ├─ AbortError                         ABORT_ERR  (Node's: a signal)
 *  │                                     ERR_HTTPLIB_CLOSED_BY_CALLER  (the caller's close())
 *  ├─ TunnelError                        ERR_HTTPLIB_TUNNEL                    status, reason, headers
 *  └─ ssl.SSLError                       ERR_HTTPLIB_SSL                       reason, library
 *      └─ ssl.SSLCertVerificationError   ERR_HTTPLIB_SSL_CERT_VERIFICATION     verify_code, verify_message
 * ```
 *
 * (*) A plain `HTTPException` raised by a response rule carries the rule's code
 * (`HTTP_EXCEPTION_CODES`): `ERR_HTTPLIB_TOO_MANY_HEADERS` (Python's `got more than 100
 * headers`), `ERR_HTTPLIB_TOO_MANY_INTERIM`, `ERR_HTTPLIB_TOO_MANY_TRAILERS`,
 * `ERR_HTTPLIB_BAD_HEADER_LINE` (no colon, a bare CR, a fold with nothing to fold into)
 * and `ERR_HTTPLIB_BAD_CONTENT_LENGTH` (not digits, too large, several that differ).
 *
 * Everything else is a Node system error passed through unchanged (`ECONNREFUSED`,
 * `ECONNRESET`, `ENOTFOUND`, `ENOENT` for a missing body file…), as Python passes
 * `socket.error` through, or a `TypeError` for a bad argument (Python's `ValueError`).
 * TimeoutError, AbortError and TunnelError live in connection-errors.ts (re-exported
 * here), FramingError and BodyLengthMismatch in body-errors.ts, the ssl errors in
 * client/ssl.ts (they map Node's TLS errors).
 *
 * This file only defines classes: it must not import anything that does I/O.
 */
import { MAXLINE } from './limits.ts';

export {
  AbortError,
  type ConnectionPhase,
  type TimeoutDetails,
  TimeoutError,
  TunnelError,
} from './connection-errors.ts';

/**
 * The codes of plain `HTTPException`s raised by a response rule (see the tree above);
 * every subclass has its own.
 */
export const HTTP_EXCEPTION_CODES = Object.freeze({
  TOO_MANY_HEADERS: 'ERR_HTTPLIB_TOO_MANY_HEADERS',
  TOO_MANY_INTERIM: 'ERR_HTTPLIB_TOO_MANY_INTERIM',
  TOO_MANY_TRAILERS: 'ERR_HTTPLIB_TOO_MANY_TRAILERS',
  BAD_HEADER_LINE: 'ERR_HTTPLIB_BAD_HEADER_LINE',
  BAD_CONTENT_LENGTH: 'ERR_HTTPLIB_BAD_CONTENT_LENGTH',
} as const);

/**
 * Base class of every httplib exception (Python: `httplib.HTTPException`).
 *
 * As in Python, a network failure is not one: Node's system errors (`ECONNREFUSED`, …)
 * pass through unchanged, and timeouts are {@link TimeoutError}. Here it is a JavaScript
 * `Error` subclass, so `instanceof` and `name` tell the classes apart.
 *
 * @example
 * ```ts
 * try {
 *   await conn.request('GET', '/');
 *   const response = await conn.getresponse();
 * } catch (err) {
 *   if (err instanceof httplib.HTTPException) console.log(err.name, err.message);
 *   else throw err; // a socket error or a timeout
 * }
 * ```
 */
export class HTTPException extends Error {
  /** Always `'HTTPException'`, the class name (Python: `type(e).__name__`). */
  override name = 'HTTPException';
  /**
   * A stable `'ERR_HTTPLIB_…'` code: each subclass has its own; a plain `HTTPException`
   * has its rule's (`ERR_HTTPLIB_TOO_MANY_HEADERS`, …) or `'ERR_HTTPLIB_HTTP_EXCEPTION'`.
   */
  readonly code: string;
  constructor(message?: string, options?: { code?: string; cause?: unknown }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.code = options?.code ?? 'ERR_HTTPLIB_HTTP_EXCEPTION';
  }
}

/**
 * Python: `httplib.NotConnected`: `send()` with no socket while `auto_open` is off.
 *
 * Same as Python, except that the promise-returning call throws it synchronously, before
 * anything is sent.
 *
 * @example
 * ```ts
 * const conn = new httplib.HTTPConnection('localhost', 8080);
 * conn.auto_open = 0; // no implicit connect
 * try {
 *   await conn.send('ping');
 * } catch (err) {
 *   if (!(err instanceof httplib.NotConnected)) throw err;
 *   await conn.connect(); // connect explicitly, then send
 *   await conn.send('ping');
 * }
 * ```
 */
export class NotConnected extends HTTPException {
  /** Always `'NotConnected'`, the class name (Python: `type(e).__name__`). */
  override name = 'NotConnected';
  /** Always `'ERR_HTTPLIB_NOT_CONNECTED'`. */
  override readonly code: string = 'ERR_HTTPLIB_NOT_CONNECTED';
}

/**
 * Python: `httplib.InvalidURL`: a bad port, or control characters in a host or URL.
 * Stricter than Python 2.7: a port must be plain ASCII digits, and control characters
 * are refused in every host (constructor, `host` attribute, `set_tunnel`, legacy
 * `HTTP.connect`) before anything is sent.
 *
 * @example
 * ```ts
 * try {
 *   new httplib.HTTPConnection('www.python.org:http'); // the port is not a number
 * } catch (err) {
 *   if (err instanceof httplib.InvalidURL) console.log(err.message); // nonnumeric port: 'http'
 *   else throw err;
 * }
 * ```
 */
export class InvalidURL extends HTTPException {
  /** Always `'InvalidURL'`, the class name (Python: `type(e).__name__`). */
  override name = 'InvalidURL';
  /** Always `'ERR_HTTPLIB_INVALID_URL'`. */
  override readonly code: string = 'ERR_HTTPLIB_INVALID_URL';
}

/**
 * Python: `httplib.UnknownProtocol`: a status line with an `HTTP/` version other than
 * 1.x; `version` is the version text. Same as Python.
 *
 * @example
 * ```ts
 * await conn.request('GET', '/');
 * try {
 *   const response = await conn.getresponse(); // the server answered 'HTTP/2.0 200 OK'
 * } catch (err) {
 *   if (err instanceof httplib.UnknownProtocol) console.log(err.version); // HTTP/2.0
 *   else throw err;
 * }
 * ```
 */
export class UnknownProtocol extends HTTPException {
  /** Always `'UnknownProtocol'`, the class name (Python: `type(e).__name__`). */
  override name = 'UnknownProtocol';
  /** Always `'ERR_HTTPLIB_UNKNOWN_PROTOCOL'`. */
  override readonly code: string = 'ERR_HTTPLIB_UNKNOWN_PROTOCOL';
  /** The version text from the status line, e.g. `'HTTP/2.0'`. */
  readonly version: string;
  constructor(version: string) {
    super(version);
    this.version = version;
  }
}

/**
 * Python: `httplib.UnknownTransferEncoding` (defined by httplib, never raised by it).
 * Same as Python: kept so that code which names it still runs.
 *
 * @example
 * ```ts
 * const err = new httplib.UnknownTransferEncoding('gzip, chunked');
 * console.log(err instanceof httplib.HTTPException, err.name); // true UnknownTransferEncoding
 * ```
 */
export class UnknownTransferEncoding extends HTTPException {
  /** Always `'UnknownTransferEncoding'`, the class name (Python: `type(e).__name__`). */
  override name = 'UnknownTransferEncoding';
  /** Always `'ERR_HTTPLIB_UNKNOWN_TRANSFER_ENCODING'`. */
  override readonly code: string = 'ERR_HTTPLIB_UNKNOWN_TRANSFER_ENCODING';
}

/**
 * Python: `httplib.UnimplementedFileMode` (defined by httplib, never raised by it).
 * Same as Python: kept so that code which names it still runs.
 *
 * @example
 * ```ts
 * const err = new httplib.UnimplementedFileMode();
 * console.log(err instanceof httplib.HTTPException, err.name); // true UnimplementedFileMode
 * ```
 */
export class UnimplementedFileMode extends HTTPException {
  /** Always `'UnimplementedFileMode'`, the class name (Python: `type(e).__name__`). */
  override name = 'UnimplementedFileMode';
  /** Always `'ERR_HTTPLIB_UNIMPLEMENTED_FILE_MODE'`. */
  override readonly code: string = 'ERR_HTTPLIB_UNIMPLEMENTED_FILE_MODE';
}

/**
 * Python: `httplib.IncompleteRead`: the body ended before its declared end.
 * `partial` holds the bytes that did arrive, `expected` how many more were due
 * (`null` when unknown, as after a bad chunk size). The message is Python's repr:
 * `IncompleteRead(5 bytes read, 3 more expected)`.
 *
 * Differs from Python 2.7: `read(amt)` raises it too (2.7 returns the short data
 * silently), and for a broken chunked body `partial` holds every byte of the call, not
 * only the last chunk's; `cause` says what broke.
 *
 * @example
 * ```ts
 * let body: Buffer;
 * try {
 *   body = await response.read();
 * } catch (err) {
 *   if (!(err instanceof httplib.IncompleteRead)) throw err;
 *   body = err.partial; // what did arrive
 * }
 * ```
 */
export class IncompleteRead extends HTTPException {
  /** Always `'IncompleteRead'`, the class name (Python: `type(e).__name__`). */
  override name = 'IncompleteRead';
  /** Always `'ERR_HTTPLIB_INCOMPLETE_READ'`. */
  override readonly code: string = 'ERR_HTTPLIB_INCOMPLETE_READ';
  /** Python's `partial`: the body bytes that did arrive (Python 2.7: a `str`; here a `Buffer`). */
  readonly partial: Buffer;
  /** Python's `expected`: how many more bytes were due, or `null` when that is unknown. */
  readonly expected: number | null;
  constructor(partial: Buffer, expected: number | null = null, options?: { cause?: unknown }) {
    const more = expected === null ? '' : `, ${expected} more expected`;
    super(`IncompleteRead(${partial.length} bytes read${more})`, options);
    this.partial = partial;
    this.expected = expected;
  }
}

/**
 * Python: `httplib.ImproperConnectionState`: a call made in the wrong connection state;
 * the base of {@link CannotSendRequest}, {@link CannotSendHeader} and
 * {@link ResponseNotReady}. Same as Python.
 *
 * @example
 * ```ts
 * try {
 *   await conn.getresponse();
 * } catch (err) {
 *   if (!(err instanceof httplib.ImproperConnectionState)) throw err;
 *   console.log(err.name, err.message); // ResponseNotReady Idle
 *   conn.close(); // back to Idle, ready for a new request
 * }
 * ```
 */
export class ImproperConnectionState extends HTTPException {
  /** Always `'ImproperConnectionState'`, the class name (Python: `type(e).__name__`). */
  override name = 'ImproperConnectionState';
  /** Always `'ERR_HTTPLIB_IMPROPER_CONNECTION_STATE'`. */
  override readonly code: string = 'ERR_HTTPLIB_IMPROPER_CONNECTION_STATE';
}

/**
 * Python: `httplib.CannotSendRequest`: `putrequest()` while a request is being built
 * or sent. The message is the connection state, as in Python 3 (Python 2.7's has no
 * message).
 *
 * @example
 * ```ts
 * conn.putrequest('GET', '/a');
 * try {
 *   conn.putrequest('GET', '/b'); // the first request was never sent
 * } catch (err) {
 *   if (err instanceof httplib.CannotSendRequest) console.log(err.message); // Request-started
 *   else throw err;
 * }
 * ```
 */
export class CannotSendRequest extends ImproperConnectionState {
  /** Always `'CannotSendRequest'`, the class name (Python: `type(e).__name__`). */
  override name = 'CannotSendRequest';
  /** Always `'ERR_HTTPLIB_CANNOT_SEND_REQUEST'`. */
  override readonly code: string = 'ERR_HTTPLIB_CANNOT_SEND_REQUEST';
}

/**
 * Python: `httplib.CannotSendHeader`: `putheader()`/`endheaders()` outside a request.
 * Same as Python.
 *
 * @example
 * ```ts
 * const conn = new httplib.HTTPConnection('localhost', 8080);
 * try {
 *   conn.putheader('Accept', 'text/plain'); // no putrequest() yet
 * } catch (err) {
 *   if (err instanceof httplib.CannotSendHeader) console.log(err.name); // CannotSendHeader
 *   else throw err;
 * }
 * ```
 */
export class CannotSendHeader extends ImproperConnectionState {
  /** Always `'CannotSendHeader'`, the class name (Python: `type(e).__name__`). */
  override name = 'CannotSendHeader';
  /** Always `'ERR_HTTPLIB_CANNOT_SEND_HEADER'`. */
  override readonly code: string = 'ERR_HTTPLIB_CANNOT_SEND_HEADER';
}

/**
 * Python: `httplib.ResponseNotReady`: `getresponse()` before a request was sent, or
 * while the previous response is still unread. The message is the connection state, as
 * in Python 3 (Python 2.7's has no message).
 *
 * @example
 * ```ts
 * const conn = new httplib.HTTPConnection('localhost', 8080);
 * try {
 *   await conn.getresponse(); // no request was sent
 * } catch (err) {
 *   if (err instanceof httplib.ResponseNotReady) console.log(err.message); // Idle
 *   else throw err;
 * }
 * ```
 */
export class ResponseNotReady extends ImproperConnectionState {
  /** Always `'ResponseNotReady'`, the class name (Python: `type(e).__name__`). */
  override name = 'ResponseNotReady';
  /** Always `'ERR_HTTPLIB_RESPONSE_NOT_READY'`. */
  override readonly code: string = 'ERR_HTTPLIB_RESPONSE_NOT_READY';
}

/**
 * Python: `httplib.BadStatusLine`: the server's status line could not be parsed.
 * As in Python, an empty `line` is replaced by its repr, the two characters `''`.
 * Same as Python, except that a server closing before any status line raises the
 * subclass {@link RemoteDisconnected} (Python 3's).
 *
 * @example
 * ```ts
 * const conn = new httplib.HTTPConnection('localhost', 8080, { strict: true });
 * await conn.request('GET', '/');
 * try {
 *   const response = await conn.getresponse(); // the server answered 'ICY 200 OK'
 * } catch (err) {
 *   if (!(err instanceof httplib.BadStatusLine)) throw err;
 *   console.log(JSON.stringify(err.line)); // "ICY 200 OK\r\n"
 * }
 * ```
 */
export class BadStatusLine extends HTTPException {
  /** Always `'BadStatusLine'`, the class name (Python: `type(e).__name__`). */
  override name = 'BadStatusLine';
  /** Always `'ERR_HTTPLIB_BAD_STATUS_LINE'`. */
  override readonly code: string = 'ERR_HTTPLIB_BAD_STATUS_LINE';
  /** Python's `line`: the status line as received (`"''"` for an empty one). */
  readonly line: string;
  constructor(line: string) {
    const shown = line === '' ? "''" : line;
    super(shown);
    this.line = shown;
  }
}

/**
 * Python 3: `http.client.RemoteDisconnected`: the server closed the connection
 * without sending a (complete) response head. Python 2.7 raises a plain
 * `BadStatusLine` here; this subclass keeps `instanceof BadStatusLine` true. Python 3's
 * is also a `ConnectionResetError`; this one is not.
 *
 * @example
 * ```ts
 * await conn.request('GET', '/');
 * let response: httplib.HTTPResponse;
 * try {
 *   response = await conn.getresponse();
 * } catch (err) {
 *   if (!(err instanceof httplib.RemoteDisconnected)) throw err;
 *   // The server dropped the kept-alive connection; the connection is closed: retry once.
 *   await conn.request('GET', '/');
 *   response = await conn.getresponse();
 * }
 * ```
 */
export class RemoteDisconnected extends BadStatusLine {
  /** Always `'RemoteDisconnected'`, the class name (Python: `type(e).__name__`). */
  override name = 'RemoteDisconnected';
  /** Always `'ERR_HTTPLIB_REMOTE_DISCONNECTED'`. */
  override readonly code: string = 'ERR_HTTPLIB_REMOTE_DISCONNECTED';
  constructor(message = 'Remote end closed connection without response') {
    super('');
    this.message = message;
  }
}

/**
 * Python: `httplib.LineTooLong`: a line longer than 65536 bytes, with Python's message.
 * Differs from Python: the kind of line is also kept, as `lineType`.
 *
 * @example
 * ```ts
 * await conn.request('GET', '/');
 * try {
 *   const response = await conn.getresponse(); // a header line of 100,000 bytes
 * } catch (err) {
 *   if (!(err instanceof httplib.LineTooLong)) throw err;
 *   console.log(err.message); // got more than 65536 bytes when reading header line
 * }
 * ```
 */
export class LineTooLong extends HTTPException {
  /** Always `'LineTooLong'`, the class name (Python: `type(e).__name__`). */
  override name = 'LineTooLong';
  /** Always `'ERR_HTTPLIB_LINE_TOO_LONG'`. */
  override readonly code: string = 'ERR_HTTPLIB_LINE_TOO_LONG';
  /** What was being read: `'header line'`, `'chunk size'` or `'trailer line'`. */
  readonly lineType: string;
  constructor(lineType: string) {
    super(`got more than ${MAXLINE} bytes when reading ${lineType}`);
    this.lineType = lineType;
  }
}

/**
 * Python's `httplib.error`: an alias of {@link HTTPException} (the same class). Same as
 * Python.
 *
 * @example
 * ```ts
 * console.log(httplib.error === httplib.HTTPException); // true
 * try {
 *   conn.putheader('Accept', 'text/plain'); // no request started
 * } catch (err) {
 *   if (err instanceof httplib.error) console.log(err.name); // CannotSendHeader
 *   else throw err;
 * }
 * ```
 */
export const error = HTTPException;
