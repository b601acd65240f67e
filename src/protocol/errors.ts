/**
 * The exception tree of httplib, with Python's attributes and message texts.
 *
 * ```
 * Error
 *  ├─ HTTPException (also exported as `error`)
 *  │   ├─ NotConnected
 *  │   ├─ InvalidURL
 *  │   ├─ UnknownProtocol            .version
 *  │   ├─ UnknownTransferEncoding
 *  │   ├─ UnimplementedFileMode
 *  │   ├─ IncompleteRead             .partial (Buffer), .expected (number | null)
 *  │   ├─ ImproperConnectionState
 *  │   │   ├─ CannotSendRequest
 *  │   │   ├─ CannotSendHeader
 *  │   │   └─ ResponseNotReady
 *  │   ├─ BadStatusLine              .line
 *  │   │   └─ RemoteDisconnected
 *  │   └─ LineTooLong
 *  ├─ TimeoutError                   .code === 'ETIMEDOUT'  (Python's socket.timeout)
 *  └─ AbortError                     .code === 'ABORT_ERR'  (an AbortSignal fired)
 * ```
 *
 * This file only defines classes: it must not import anything that does I/O.
 */
import { MAXLINE } from './limits.ts';

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
}

/** Python: `httplib.NotConnected`: `send()` with no socket while `auto_open` is off. */
export class NotConnected extends HTTPException {
  /** Always `'NotConnected'`, the class name (Python: `type(e).__name__`). */
  override name = 'NotConnected';
}

/**
 * Python: `httplib.InvalidURL`: a bad port, or control characters in a host or URL.
 * Stricter than Python 2.7: a port must be plain ASCII digits, and control characters
 * are refused in every host (constructor, `host` attribute, `set_tunnel`, legacy
 * `HTTP.connect`) before anything is sent.
 */
export class InvalidURL extends HTTPException {
  /** Always `'InvalidURL'`, the class name (Python: `type(e).__name__`). */
  override name = 'InvalidURL';
}

/** Python: `httplib.UnknownProtocol`: a status line with an `HTTP/` version other than 1.x. */
export class UnknownProtocol extends HTTPException {
  /** Always `'UnknownProtocol'`, the class name (Python: `type(e).__name__`). */
  override name = 'UnknownProtocol';
  /** The version text from the status line, e.g. `'HTTP/2.0'`. */
  readonly version: string;
  constructor(version: string) {
    super(version);
    this.version = version;
  }
}

/** Python: `httplib.UnknownTransferEncoding` (defined by httplib, never raised by it). */
export class UnknownTransferEncoding extends HTTPException {
  /** Always `'UnknownTransferEncoding'`, the class name (Python: `type(e).__name__`). */
  override name = 'UnknownTransferEncoding';
}

/** Python: `httplib.UnimplementedFileMode` (defined by httplib, never raised by it). */
export class UnimplementedFileMode extends HTTPException {
  /** Always `'UnimplementedFileMode'`, the class name (Python: `type(e).__name__`). */
  override name = 'UnimplementedFileMode';
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

/** Python: `httplib.ImproperConnectionState`: a call made in the wrong connection state. */
export class ImproperConnectionState extends HTTPException {
  /** Always `'ImproperConnectionState'`, the class name (Python: `type(e).__name__`). */
  override name = 'ImproperConnectionState';
}

/**
 * Python: `httplib.CannotSendRequest`: `putrequest()` while a request is being built
 * or sent. The message is the connection state, as in Python 3.
 */
export class CannotSendRequest extends ImproperConnectionState {
  /** Always `'CannotSendRequest'`, the class name (Python: `type(e).__name__`). */
  override name = 'CannotSendRequest';
}

/** Python: `httplib.CannotSendHeader`: `putheader()`/`endheaders()` outside a request. */
export class CannotSendHeader extends ImproperConnectionState {
  /** Always `'CannotSendHeader'`, the class name (Python: `type(e).__name__`). */
  override name = 'CannotSendHeader';
}

/**
 * Python: `httplib.ResponseNotReady`: `getresponse()` before a request was sent, or
 * while the previous response is still unread. The message is the connection state.
 */
export class ResponseNotReady extends ImproperConnectionState {
  /** Always `'ResponseNotReady'`, the class name (Python: `type(e).__name__`). */
  override name = 'ResponseNotReady';
}

/**
 * Python: `httplib.BadStatusLine`: the server's status line could not be parsed.
 * As in Python, an empty `line` is replaced by its repr, the two characters `''`.
 */
export class BadStatusLine extends HTTPException {
  /** Always `'BadStatusLine'`, the class name (Python: `type(e).__name__`). */
  override name = 'BadStatusLine';
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
 * `BadStatusLine` here; this subclass keeps `instanceof BadStatusLine` true.
 */
export class RemoteDisconnected extends BadStatusLine {
  /** Always `'RemoteDisconnected'`, the class name (Python: `type(e).__name__`). */
  override name = 'RemoteDisconnected';
  constructor(message = 'Remote end closed connection without response') {
    super('');
    this.message = message;
  }
}

/** Python: `httplib.LineTooLong`: a line longer than 65536 bytes. */
export class LineTooLong extends HTTPException {
  /** Always `'LineTooLong'`, the class name (Python: `type(e).__name__`). */
  override name = 'LineTooLong';
  /** What was being read: `'header line'`, `'chunk size'` or `'trailer line'`. */
  readonly lineType: string;
  constructor(lineType: string) {
    super(`got more than ${MAXLINE} bytes when reading ${lineType}`);
    this.lineType = lineType;
  }
}

/** Python's `httplib.error`: an alias of {@link HTTPException} (the same class). */
export const error = HTTPException;

/**
 * A blocking operation ran past the connection's `timeout` (Python: `socket.timeout`,
 * message `timed out`). Not an `HTTPException`, as in Python. The timeout bounds each
 * wait (connect, TLS handshake, each read, each drain), as Python's does; the socket is
 * destroyed when it fires.
 * A deadline given as `signal: AbortSignal.timeout(ms)` rejects with {@link AbortError}
 * instead (its `cause` is the signal's `TimeoutError` DOMException).
 */
export class TimeoutError extends Error {
  /** Always `'TimeoutError'` (Python 2.7's class is `socket.timeout`; 3.10+ calls it `TimeoutError`). */
  override name = 'TimeoutError';
  /** `'ETIMEDOUT'`, the code Node's own timeouts carry, so `err.code` checks keep working. */
  readonly code = 'ETIMEDOUT';
  constructor(message = 'timed out') {
    super(message);
  }
}

/**
 * An operation was cancelled through an `AbortSignal`; `cause` is the signal's reason.
 * Python has no counterpart (its calls are cancelled by timeouts only); the signal goes
 * in the `signal` option of the constructor, `request`, `getresponse` or a read.
 */
export class AbortError extends Error {
  /** Always `'AbortError'`, as Node's own abort errors are named. */
  override name = 'AbortError';
  /** `'ABORT_ERR'`, the code of Node's own `AbortError`s. */
  readonly code = 'ABORT_ERR';
  constructor(message = 'The operation was aborted', options?: { cause?: unknown }) {
    super(message, options);
  }
}
