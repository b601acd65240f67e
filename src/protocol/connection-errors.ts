/**
 * The errors of a connection that are not `HTTPException`s, as in Python: a timeout
 * (`socket.timeout`), a cancellation (no Python counterpart) and a refused CONNECT tunnel
 * (Python 2.7's `socket.error`, Python 3's `OSError`). errors.ts re-exports them and
 * draws the whole tree.
 *
 * This file only defines classes and their messages: it must not do I/O (no node:net/tls,
 * no timers, no process, no promises). The I/O shell builds them with the facts it has.
 */
import type { HTTPMessage } from './message.ts';

/**
 * What a connection was waiting for when a timeout or a local `close()` cut it short:
 * the TCP connect, the proxy's answer to CONNECT, the TLS handshake, the sending of the
 * request (a drain), the response head, or the response body.
 */
export type ConnectionPhase = 'connect' | 'tunnel' | 'handshake' | 'send' | 'head' | 'body';

/** Each phase in words, and the preposition that leads to the peer's `host:port`. */
const PHASE_TEXT: Readonly<Record<ConnectionPhase, readonly [string, string]>> = {
  connect: ['connecting', 'to'],
  tunnel: ['waiting for the CONNECT reply', 'from'],
  handshake: ['in the TLS handshake', 'with'],
  send: ['sending the request', 'to'],
  head: ['waiting for the response head', 'from'],
  body: ['waiting for the response body', 'from'],
};

/** What a {@link TimeoutError} reports: which wait, with whom, and its limit. */
export interface TimeoutDetails {
  /** What was being waited for. */
  readonly phase: ConnectionPhase;
  /** The peer: the server, or the proxy for `connect` and `tunnel` when tunnelling. */
  readonly host: string;
  /** The peer's port. */
  readonly port: number;
  /** The connection's `timeout`, in seconds, as it was given. */
  readonly seconds: number;
}

/** `host:port`, an IPv6 address in brackets. */
function hostPort(host: string, port: number): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}

/**
 * A blocking operation ran past the connection's `timeout` (Python: `socket.timeout`,
 * message `timed out`). Not an `HTTPException`, as in Python. The timeout bounds each
 * wait (connect, CONNECT tunnel, TLS handshake, each read, each drain), as Python's does;
 * the socket is destroyed when it fires.
 * A deadline given as `signal: AbortSignal.timeout(ms)` rejects with {@link AbortError}
 * instead (its `cause` is the signal's `TimeoutError` DOMException).
 *
 * Differs from Python: a class of this package (Python 2.7's `socket.timeout` belongs to
 * the socket module and is a `socket.error`), with the `code` of Node's own timeouts,
 * and a message that says what timed out: `phase`, `host`, `port` and `seconds` are
 * also fields (all `null` for a `TimeoutError` made without them, whose message is
 * Python's `timed out`, or made with a message of its own).
 *
 * @example
 * ```ts
 * const conn = new httplib.HTTPConnection('localhost', 8080, { timeout: 2 }); // seconds
 * try {
 *   await conn.request('GET', '/slow');
 *   const response = await conn.getresponse();
 * } catch (err) {
 *   if (!(err instanceof httplib.TimeoutError)) throw err;
 *   // timed out after 2 s waiting for the response head from localhost:8080
 *   console.log(err.message, err.code, err.phase); // … ETIMEDOUT head
 * }
 * ```
 */
export class TimeoutError extends Error {
  /** Always `'TimeoutError'` (Python 2.7's class is `socket.timeout`; 3.10+ calls it `TimeoutError`). */
  override name = 'TimeoutError';
  /** `'ETIMEDOUT'`, the code Node's own timeouts carry, so `err.code` checks keep working. */
  readonly code = 'ETIMEDOUT';
  /** What was being waited for, or `null` when not known. */
  readonly phase: ConnectionPhase | null;
  /** The peer's host (the proxy's while connecting to it or waiting for its CONNECT reply). */
  readonly host: string | null;
  /** The peer's port. */
  readonly port: number | null;
  /** The timeout that ran out, in seconds. */
  readonly seconds: number | null;
  /**
   * The package's timeouts give `details`; a message of your own (as Python's
   * `socket.timeout('timed out')`, in a test double) is taken as the message.
   */
  constructor(details?: TimeoutDetails | string | null) {
    if (details === undefined || details === null || typeof details !== 'object') {
      super(details === undefined || details === null ? 'timed out' : String(details));
      this.phase = null;
      this.host = null;
      this.port = null;
      this.seconds = null;
      return;
    }
    const { phase, host, port, seconds } = details;
    const [what, preposition] = PHASE_TEXT[phase];
    super(`timed out after ${seconds} s ${what} ${preposition} ${hostPort(host, port)}`);
    this.phase = phase;
    this.host = host;
    this.port = port;
    this.seconds = seconds;
  }
}

/**
 * An operation was cancelled: an `AbortSignal` fired (`cause` is the signal's reason), or
 * the caller closed the connection or the response while it waited (the message says so).
 * Python has no counterpart (its calls are cancelled by timeouts only); the signal goes
 * in the `signal` option of the constructor, `request`, `getresponse` or a read.
 *
 * `name` is `'AbortError'`, as on the errors of Node's own cancellable APIs. `code` says
 * which of the two it was: `'ABORT_ERR'` for a signal, as Node's own (`fs`,
 * `timers/promises`, `stream`), so code written for those recognises it; and
 * `'ERR_HTTPLIB_CLOSED_BY_CALLER'` for the caller's own `close()`, the package's code.
 *
 * @example
 * ```ts
 * await conn.request('GET', '/slow');
 * try {
 *   const response = await conn.getresponse({ signal: AbortSignal.timeout(5000) });
 * } catch (err) {
 *   if (!(err instanceof httplib.AbortError)) throw err;
 *   console.log(err.code, (err.cause as Error).name); // ABORT_ERR TimeoutError
 * }
 * ```
 */
export class AbortError extends Error {
  /** Always `'AbortError'`, as Node's own abort errors are named. */
  override name = 'AbortError';
  /**
   * `'ABORT_ERR'` (a signal fired), the code of Node's own `AbortError`s, or
   * `'ERR_HTTPLIB_CLOSED_BY_CALLER'` (`closedByCaller`: the caller's `close()`).
   */
  readonly code: 'ABORT_ERR' | 'ERR_HTTPLIB_CLOSED_BY_CALLER' = 'ABORT_ERR';
  constructor(message = 'The operation was aborted', options?: { cause?: unknown }) {
    super(message, options);
  }

  /**
   * The error of an operation that `close()` (of the connection or of the response) cut
   * short: `The connection was closed by the caller`, and what was pending if known; its
   * `code` is `'ERR_HTTPLIB_CLOSED_BY_CALLER'`.
   *
   * @example
   * ```ts
   * const err = httplib.AbortError.closedByCaller('head');
   * console.log(err.message); // The connection was closed by the caller while waiting for the response head
   * ```
   */
  static closedByCaller(phase?: ConnectionPhase, options?: { cause?: unknown }): AbortError {
    const during = phase === undefined ? '' : ` while ${PHASE_TEXT[phase][0]}`;
    const err = new AbortError(`The connection was closed by the caller${during}`, options);
    (err as { code: string }).code = 'ERR_HTTPLIB_CLOSED_BY_CALLER';
    return err;
  }
}

/**
 * The proxy refused the CONNECT tunnel (`status` other than 200), or its answer was not
 * HTTP at all (`status` is then `null`: Python's `Invalid response from tunnel
 * request`). The message is Python's: `Tunnel connection failed: 407 Proxy
 * Authentication Required`. The connection is closed; the next request tries again.
 *
 * Python 2.7 raises a plain `socket.error` here and Python 3 an `OSError`, so this is not
 * an `HTTPException` either; the proxy's answer is kept (`status`, `reason`, and its
 * `headers`, e.g. `Proxy-Authenticate`), which Python drops.
 *
 * @example
 * ```ts
 * const conn = new httplib.HTTPConnection('proxy.example', 3128);
 * conn.set_tunnel('www.python.org', 443);
 * try {
 *   await conn.request('GET', '/');
 * } catch (err) {
 *   if (!(err instanceof httplib.TunnelError)) throw err;
 *   console.log(err.status, err.headers?.getheader('Proxy-Authenticate')); // 407 Basic realm="proxy"
 * }
 * ```
 */
export class TunnelError extends Error {
  /** Always `'TunnelError'`, the class name. */
  override name = 'TunnelError';
  /** Always `'ERR_HTTPLIB_TUNNEL'`. */
  readonly code = 'ERR_HTTPLIB_TUNNEL';
  /** The proxy's status code, or `null` when its answer had no HTTP status line. */
  readonly status: number | null;
  /** The proxy's reason phrase (stripped; `''` when there was none). */
  readonly reason: string;
  /** The headers of the proxy's answer, or `null` when its answer was not HTTP. */
  readonly headers: HTTPMessage | null;
  constructor(status: number | null, reason = '', headers: HTTPMessage | null = null) {
    super(
      status === null
        ? 'Invalid response from tunnel request'
        : `Tunnel connection failed: ${status} ${reason}`,
    );
    this.status = status;
    this.reason = reason;
    this.headers = headers;
  }
}
