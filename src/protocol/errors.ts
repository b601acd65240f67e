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

/** Base class of every httplib exception (Python: `httplib.HTTPException`). */
export class HTTPException extends Error {
  override name = 'HTTPException';
}

/** Python: `httplib.NotConnected`: `send()` with no socket while `auto_open` is off. */
export class NotConnected extends HTTPException {
  override name = 'NotConnected';
}

/** Python: `httplib.InvalidURL`: a bad port, or control characters in a host or URL. */
export class InvalidURL extends HTTPException {
  override name = 'InvalidURL';
}

/** Python: `httplib.UnknownProtocol`: a status line with an `HTTP/` version other than 1.x. */
export class UnknownProtocol extends HTTPException {
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
  override name = 'UnknownTransferEncoding';
}

/** Python: `httplib.UnimplementedFileMode` (defined by httplib, never raised by it). */
export class UnimplementedFileMode extends HTTPException {
  override name = 'UnimplementedFileMode';
}

/**
 * Python: `httplib.IncompleteRead`: the body ended before its declared end.
 * `partial` holds the bytes that did arrive, `expected` how many more were due
 * (`null` when unknown, as after a bad chunk size). The message is Python's repr:
 * `IncompleteRead(5 bytes read, 3 more expected)`.
 */
export class IncompleteRead extends HTTPException {
  override name = 'IncompleteRead';
  readonly partial: Buffer;
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
  override name = 'ImproperConnectionState';
}

/**
 * Python: `httplib.CannotSendRequest`: `putrequest()` while a request is being built
 * or sent. The message is the connection state, as in Python 3.
 */
export class CannotSendRequest extends ImproperConnectionState {
  override name = 'CannotSendRequest';
}

/** Python: `httplib.CannotSendHeader`: `putheader()`/`endheaders()` outside a request. */
export class CannotSendHeader extends ImproperConnectionState {
  override name = 'CannotSendHeader';
}

/**
 * Python: `httplib.ResponseNotReady`: `getresponse()` before a request was sent, or
 * while the previous response is still unread. The message is the connection state.
 */
export class ResponseNotReady extends ImproperConnectionState {
  override name = 'ResponseNotReady';
}

/**
 * Python: `httplib.BadStatusLine`: the server's status line could not be parsed.
 * As in Python, an empty `line` is replaced by its repr, the two characters `''`.
 */
export class BadStatusLine extends HTTPException {
  override name = 'BadStatusLine';
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
  override name = 'RemoteDisconnected';
  constructor(message = 'Remote end closed connection without response') {
    super('');
    this.message = message;
  }
}

/** Python: `httplib.LineTooLong`: a line longer than 65536 bytes. */
export class LineTooLong extends HTTPException {
  override name = 'LineTooLong';
  /** What was being read: `'header line'`, `'chunk size'` or `'trailer line'`. */
  readonly lineType: string;
  constructor(lineType: string) {
    super(`got more than ${MAXLINE} bytes when reading ${lineType}`);
    this.lineType = lineType;
  }
}

/** Python's `error`: an alias of `HTTPException`. */
export const error = HTTPException;

/**
 * A blocking operation ran past the connection's `timeout` (Python: `socket.timeout`,
 * message `timed out`). Not an `HTTPException`, as in Python.
 */
export class TimeoutError extends Error {
  override name = 'TimeoutError';
  readonly code = 'ETIMEDOUT';
  constructor(message = 'timed out') {
    super(message);
  }
}

/** An operation was cancelled through an `AbortSignal`; `cause` is the signal's reason. */
export class AbortError extends Error {
  override name = 'AbortError';
  readonly code = 'ABORT_ERR';
  constructor(message = 'The operation was aborted', options?: { cause?: unknown }) {
    super(message, options);
  }
}
