/**
 * HTTPConnection: Python 2.7's `httplib.HTTPConnection` on Node sockets. It composes the
 * protocol core (state machine, request buffer, response parser) with the I/O shell
 * (transport, byte reader, body sources); it parses and formats nothing itself.
 *
 * Synchronous where Python only buffers or inspects (`putrequest`, `putheader`,
 * `set_tunnel`, `set_debuglevel`, `close`): misuse throws, as in Python. Promise-returning
 * where Python blocks on the socket (`connect`, `request`, `endheaders`, `send`,
 * `getresponse`): misuse and bad input reject, before a byte is sent and with the state
 * unchanged; they never throw. This file checks arguments and speaks Python; the
 * lifecycle is client-connection.ts's state machine, driven by connection-driver.ts.
 *
 * Deliberate differences from 2.7 (shared/API.md): any failure inside `getresponse()`
 * or while sending closes the connection, so the next request reconnects (2.7 stays in
 * Request-sent until `close()`); bytes that arrive while no request is outstanding make
 * the connection unusable, and so does the server closing it while idle: the next
 * request opens a new one; idle sockets do not keep the process alive (as node:http's
 * agent).
 */
import type * as net from 'node:net';
import type * as tls from 'node:tls';
import {
  checkSendData,
  type PreparedBody,
  prepareBody,
  type RequestBody,
} from '../io/body-source.ts';
import { checkTimeout, getdefaulttimeout } from '../io/deadline.ts';
import { CannotSendHeader, CannotSendRequest, NotConnected } from '../protocol/errors.ts';
import { DEFAULT_BLOCKSIZE, HTTP_PORT } from '../protocol/limits.ts';
import { pytruth } from '../protocol/pytext.ts';
import {
  checkHeaders,
  declaredLength,
  type GivenHeaders,
  type HeadersInput,
  type HeaderValue,
  type PutRequestOptions,
  RequestBuffer,
  type RequestTarget,
  requestTarget,
  tunnelRequest,
} from '../protocol/request-writer.ts';
import { parseHostPort, validateHost } from '../protocol/validate.ts';
import { releaseBody } from './calls-behind-head.ts';
import { ConnectionDriver, type TlsFactory } from './connection-driver.ts';
import {
  callSignal,
  checkDebugLevel,
  checkHooks,
  checkSourceAddress,
  classOptions,
  type GetResponseOptions,
  type HTTPConnectionOptions,
  OPTION_NAMES,
  optionsOf,
  type RequestOptions,
} from './connection-options.ts';
import type { DebugOutput } from './debug.ts';
import type { HTTPResponse } from './http-response.ts';

/** The bodies `request()`, `endheaders()` and `send()` accept (see API.md). */
export type { RequestBody } from '../io/body-source.ts';
export type {
  GetResponseOptions,
  HTTPConnectionOptions,
  RequestOptions,
} from './connection-options.ts';

let driverOf: (conn: HTTPConnection) => ConnectionDriver;

/** @internal HTTPS: the connection speaks TLS, made by `tls` for its server (or tunnel). */
export function secureWith(conn: HTTPConnection, tls: TlsFactory): void {
  driverOf(conn).tls = tls;
}

/**
 * Python's `httplib.HTTPConnection`: one connection to one HTTP server, one request at
 * a time, kept alive between requests when the server allows it.
 *
 * The constructor takes Python's arguments: `new HTTPConnection(host, port?, { strict,
 * timeout, source_address, blocksize })`. `host` may be `'h'`, `'h:port'`, `'[v6]'` or
 * `'[v6]:port'`; a non-numeric port or control characters throw {@link InvalidURL}.
 * Nothing is connected until the first request (or `connect()`).
 *
 * How this differs from Python 2.7: calls that block on the socket return promises,
 * which reject (never throw) on misuse, take effect in call order (a request made while
 * a `getresponse()` not awaited reads the head waits for it), and settle with
 * `AbortError` when `close()` comes; any failure inside `getresponse()` or while sending
 * closes the connection, so the next request reconnects (so does one that finds its
 * idle connection closed by the server); bytes that arrive while no request is
 * outstanding make the connection unusable (the next request opens a new one); an idle
 * kept-alive socket does not keep the process alive. The stricter request checks and
 * response rules are listed in the README's "Differences from Python".
 *
 * @example
 * ```ts
 * import * as httplib from 'httplib-ts';
 *
 * const conn = new httplib.HTTPConnection('www.python.org');
 * await conn.request('GET', '/index.html');
 * const response = await conn.getresponse();
 * console.log(response.status, response.reason); // 200 OK
 * const body = await response.read(); // a Buffer
 * conn.close();
 * ```
 */
export class HTTPConnection {
  /** Python's `default_port`: 80. */
  static default_port = HTTP_PORT;

  /** Python's `host`: the server's host name or address (brackets of an IPv6 address removed). */
  host: string;
  /** Python's `port`: the server's port (`default_port` unless given). */
  port: number;
  /**
   * Python's `timeout`, in seconds (fractions allowed): the bound on each blocking
   * operation (the connect, the TLS handshake, each wait for bytes or for the socket to
   * drain), or `null` to wait forever. Read when an operation starts.
   */
  timeout: number | null;
  /** Python's `source_address`: `[host, port]` the local end binds to, or `null`. */
  source_address: readonly [string, number] | null;
  /**
   * Python's `strict`: when true, a status line that does not start with `HTTP/` is
   * `BadStatusLine` instead of an HTTP/0.9 response.
   */
  strict: boolean;
  /**
   * Python 3.7+'s `blocksize`: bytes per read of a file or stream body (default 8192).
   * Honoured exactly (one write per piece) when given to the constructor or changed.
   */
  blocksize: number;
  /** Python's `debuglevel`, set by {@link HTTPConnection.set_debuglevel}. */
  debuglevel = 0;
  /** Python's `auto_open`: `send()` opens the connection when there is none. */
  auto_open: boolean | number = 1;
  /** Where `set_debuglevel` output goes (default `process.stdout`). */
  debugOutput: DebugOutput | null;

  /**
   * Python's `_http_vsn`: the HTTP version spoken, 11 (`HTTP/1.1`), or 10 for the
   * legacy `HTTP` class, which sets it as Python's `HTTP._setup` does.
   */
  _http_vsn: 10 | 11 = 11;

  readonly #driver: ConnectionDriver;
  readonly #buffer = new RequestBuffer();
  /** The constructor was given a `blocksize`: file and stream bodies use it exactly. */
  readonly #blocksizeGiven: boolean;
  #target: RequestTarget | null = null;

  static {
    driverOf = (conn) => conn.#driver;
  }

  constructor(host: string, port?: number | null, given: HTTPConnectionOptions = {}) {
    const ctor = this.constructor as typeof HTTPConnection;
    // (null, from JavaScript, is "no options" as undefined is.)
    const options =
      optionsOf<HTTPConnectionOptions>(given, ctor.name, classOptions.get(ctor)) ?? {};
    if (typeof host !== 'string') throw new TypeError('host must be a string');
    [this.host, this.port] = parseHostPort(host, port ?? null, ctor.default_port);
    validateHost(this.host);
    this.timeout =
      options.timeout === undefined ? getdefaulttimeout() : checkTimeout(options.timeout);
    this.source_address = checkSourceAddress(options.source_address);
    this.strict = options.strict ?? false;
    const blocksize = options.blocksize ?? DEFAULT_BLOCKSIZE;
    if (!Number.isInteger(blocksize) || blocksize <= 0) {
      throw new TypeError(`blocksize must be a positive integer, got ${String(blocksize)}`);
    }
    this.blocksize = blocksize;
    this.#blocksizeGiven = options.blocksize !== undefined;
    checkHooks(options);
    this.debugOutput = options.debugOutput ?? null;
    this.#driver = new ConnectionDriver(
      this,
      options.signal ?? null,
      options.createConnection ?? null,
    );
    this.#driver.ownConnect = () =>
      this.connect === HTTPConnection.prototype.connect ? null : () => this.connect();
  }

  /**
   * Python's `sock`: the connected socket (a `net.Socket`, or a `tls.TLSSocket` for
   * HTTPS), or null. Python's is settable; here it is read-only. With a
   * `createConnection` hook it is the stream the hook returned (typed as a socket, as
   * Node types `ClientRequest.socket` whatever its agent's `createConnection` returns).
   */
  get sock(): net.Socket | tls.TLSSocket | null {
    return this.#driver.socket as net.Socket | null;
  }

  /** Python's `_tunnel_host`: the host `set_tunnel()` named, or null. Read-only here. */
  get _tunnel_host(): string | null {
    return this.#driver.tunnel?.host ?? null;
  }

  /** Python's `_tunnel_port`: the port `set_tunnel()` named, or null. Read-only here. */
  get _tunnel_port(): number | null {
    return this.#driver.tunnel?.port ?? null;
  }

  /**
   * Python's `set_debuglevel(level)`: above 0, print what is sent and received as
   * CPython 2.7 does (`send:`, `reply:`, `header:` lines), to `process.stdout` or to
   * {@link HTTPConnection.debugOutput}. Responses take the level the connection had
   * when `getresponse()` was called.
   *
   * @example
   * ```ts
   * conn.set_debuglevel(1);
   * await conn.request('GET', '/');
   * // send: 'GET / HTTP/1.1\r\nHost: www.python.org\r\nAccept-Encoding: identity\r\n\r\n'
   * ```
   */
  set_debuglevel(level: number): void {
    checkDebugLevel(level);
    this.debuglevel = level;
  }

  /**
   * Python's `set_tunnel(host, port=None, headers=None)`: send requests through the
   * proxy given to the constructor, with `CONNECT host:port HTTP/1.0`. Must be called
   * before connecting (else an `Error`, also while a connect is under way). A non-200
   * answer rejects the connect with a `TunnelError` (`Tunnel connection failed: <code>
   * <reason>`; Python's `socket.error`), which keeps the proxy's `status`, `reason` and
   * `headers`, and closes the connection.
   *
   * Differs from Python 2.7: the host and headers are checked now, as Python's later
   * gh-146211 fix does (`InvalidURL`/`TypeError`); the host must be a host name or an IP
   * address, its port given once (`InvalidURL` for `'user@host'`, `'host/x'` or
   * `('host:8080', 9090)`, which Python sends); an IPv6 host is bracketed in the CONNECT
   * line. The headers are copied (Python 3.12+; 2.7 keeps the caller's dict): one added
   * to the object later is not sent, so after a 407 call `set_tunnel()` again with it.
   *
   * @example
   * ```ts
   * const conn = new httplib.HTTPSConnection('proxy.example', 3128);
   * conn.set_tunnel('www.python.org', 443, { 'Proxy-Authorization': 'Basic dXNlcjpwYXNz' });
   * await conn.request('GET', '/');
   * ```
   */
  set_tunnel<H extends HeadersInput<H>>(
    host: string,
    port?: number | null,
    headers?: H | null,
  ): void {
    const driver = this.#driver;
    // Also while the socket is being opened (Python's connect() blocks, so it cannot be
    // asked then): the connect under way goes to the proxy directly, and its requests
    // would carry the tunnel's Host without a CONNECT.
    if (driver.opened) {
      // Python 2.7: RuntimeError, which maps to a plain Error (with a code, as Node's have).
      throw Object.assign(new Error("Can't setup tunnel for established connection."), {
        code: 'ERR_HTTPLIB_TUNNEL_ESTABLISHED',
      });
    }
    const defaultPort = (this.constructor as typeof HTTPConnection).default_port;
    driver.tunnel = tunnelRequest(host, port ?? null, headers, defaultPort);
  }

  /**
   * Python's `connect()`: open the connection (and the tunnel, if one is set). Requests
   * call it when needed (`auto_open`), so it rarely needs calling. Rejects with Node's
   * system error (`ECONNREFUSED`, …), `TimeoutError`, or `AbortError`.
   */
  connect(): Promise<void> {
    try {
      // A bad timeout attribute (Python code sets conn.timeout) fails the call, as it
      // fails request(), with what is wrong with it.
      checkTimeout(this.timeout);
      return this.#driver.connect();
    } catch (err) {
      return Promise.reject(err);
    }
  }

  /**
   * Python's `close()`: close the socket and forget the response being read.
   * Synchronous and idempotent; the next request opens a new connection. Whatever is
   * pending (connect, tunnel, handshake, send, `getresponse()`, a read of the kept
   * response) settles at once with `AbortError` saying the caller closed it. A response
   * that already took over the socket (it will close it) keeps reading.
   */
  close(): void {
    this.#buffer.reset();
    this.#driver.close();
  }

  /**
   * Python's `putrequest(method, url, skip_host=False, skip_accept_encoding=False)`:
   * start a request (buffered; nothing is sent until `endheaders()`). `''` means `/`.
   * Adds `Host` and `Accept-Encoding: identity` unless skipped. Throws
   * `CannotSendRequest` while another is being built or sent — also while a
   * `getresponse()` not awaited reads the head: being synchronous it cannot wait for it
   * as `request()` does — and `InvalidURL`/`TypeError`
   * for a bad URL or method (as in Python, the state has moved on by then: `close()`
   * before the next request).
   *
   * Differs from Python 2.7: the method must be an RFC 9110 token; the `Host` header
   * drops IPv6 brackets and zone ids and IDNA-encodes a non-ASCII host (Python 3.13).
   *
   * @example
   * ```ts
   * conn.putrequest('PUT', '/file');
   * conn.putheader('Content-Length', 18);
   * await conn.endheaders('***filecontents***');
   * ```
   */
  putrequest(method: string, url: string, options?: PutRequestOptions | null): void {
    const flags = optionsOf(options, 'putrequest', OPTION_NAMES.putrequest);
    const driver = this.#driver;
    // Python moves the state before it checks the URL: a bad one leaves Request-started.
    driver.machine.handle('putrequest');
    driver.method = method;
    driver.url = url;
    this.#buffer.putrequest(method, url, flags, this.#requestTarget());
  }

  /**
   * Python's `putheader(header, *values)`: buffer one header line. Each value is a
   * {@link HeaderValue} (a string, a number, a bigint or bytes), written as its text
   * (Python: `str()`); several values are joined with `\r\n\t` (continuation lines, as
   * in Python; many servers refuse them). Throws `CannotSendHeader` outside a request.
   *
   * Differs from Python 2.7: the name must be an RFC 9110 token; a value may hold no NUL
   * and no CR/LF except a fold (CRLF + SP/HT); `undefined`, `null`, arrays and objects
   * with no string form of their own are refused: `TypeError`, and nothing is buffered.
   */
  putheader(header: string, ...values: HeaderValue[]): void {
    this.#driver.machine.handle('putheader');
    this.#buffer.putheader(header, ...values);
  }

  /**
   * Python's `endheaders(message_body=None)`: send the head, and the body if given (in
   * the same write when it is a string or bytes). `encode_chunked` frames the body in
   * chunks (Python 3.6+). Connects first if needed. The body may be any
   * {@link RequestBody}; a string is sent as UTF-8.
   */
  endheaders(messageBody?: RequestBody, options?: RequestOptions): Promise<void> {
    let signal: AbortSignal | undefined;
    let chunked: boolean;
    try {
      signal = callSignal(options, 'endheaders', OPTION_NAMES.endheaders);
      chunked = pytruth(options?.encode_chunked) && this._http_vsn === 11;
    } catch (err) {
      return Promise.reject(err);
    }
    const driver = this.#driver;
    if (driver.machine.handle('call') === 'after-head') {
      // Made while getresponse() reads the head: made afresh once it is in (Python's
      // state is Idle then: CannotSendHeader, unless a request was started since).
      const again = (): Promise<void> => this.endheaders(messageBody, options);
      return driver.afterHead(null, signal, noop, again);
    }
    let prepared: PreparedBody | Promise<PreparedBody> | null = null;
    try {
      if (driver.machine.request !== 'started') throw new CannotSendHeader();
      if (messageBody !== undefined && messageBody !== null) {
        prepared = this.#prepare(messageBody);
      }
      this.#checkAutoOpen();
    } catch (err) {
      // Refused after the body was taken: our listeners come off the caller's stream.
      releaseBody(prepared);
      return Promise.reject(err);
    }
    const head = this.#buffer.finish();
    const action = driver.machine.handle('endheaders');
    return driver.sendPrepared(action, head, prepared, chunked, signal);
  }

  /**
   * Python's `send(data)`: write raw bytes (a string as UTF-8, bytes, or any
   * {@link RequestBody} kind), opening the connection first if needed (`auto_open`; with
   * it off and no socket, `NotConnected`). Nothing is framed: a body after
   * `endheaders()` must match the `Content-Length` or `Transfer-Encoding` sent. `null`
   * and `undefined` are refused with a `TypeError`, as Python refuses `None`.
   */
  send(
    data: NonNullable<RequestBody>,
    options?: { signal?: AbortSignal | undefined },
  ): Promise<void> {
    let prepared: PreparedBody | Promise<PreparedBody> | null = null;
    let later: boolean;
    let signal: AbortSignal | undefined;
    try {
      signal = callSignal(options, 'send');
      checkSendData(data);
      prepared = this.#prepare(data);
      later = this.#driver.machine.handle('call') === 'after-head';
      if (!later) this.#checkAutoOpen();
    } catch (err) {
      releaseBody(prepared);
      return Promise.reject(err);
    }
    const driver = this.#driver;
    const body = prepared;
    const go = (): Promise<void> => driver.sendPrepared(null, null, body, false, signal);
    if (!later) return go();
    // Made while getresponse() reads the head: sent once it is in (see request()).
    return driver.afterHead(body, signal, () => this.#checkAutoOpen(), go);
  }

  /**
   * Python's `request(method, url, body=None, headers={})`: `putrequest`, the automatic
   * and given headers, `endheaders(body)`. `Content-Length` is added when the body's
   * length is known (0 for POST/PUT/PATCH without one); a body of unknown length goes
   * chunked unless the caller set `Content-Length` or `Transfer-Encoding`.
   *
   * `headers` is a plain object, a `Map` or `[name, value]` pairs, sent in that order;
   * a given `Host` or `Accept-Encoding` replaces the automatic one. Every argument is
   * checked before the state moves or a byte is sent: bad input (a value that is not a
   * {@link HeaderValue} — `undefined`, `null`, an object with no string form of its own
   * — is a `TypeError` naming the header) rejects the promise and leaves the connection
   * as it was (unlike `putrequest()`). Made while a `getresponse()` not awaited reads the
   * head, it waits for it (as `endheaders()` and `send()` do), then goes as if made then.
   *
   * Differs from Python 2.7: bodies may be any {@link RequestBody} (files, streams,
   * iterables, sent chunked when their length is unknown: Python 3's rules); strings
   * are sent as UTF-8 with their byte length; a given `Transfer-Encoding` suppresses
   * `Content-Length`.
   *
   * @example
   * ```ts
   * const form = new URLSearchParams({ q: 'parrot' }).toString();
   * await conn.request('POST', '/search', form, {
   *   'Content-Type': 'application/x-www-form-urlencoded',
   * });
   * const response = await conn.getresponse();
   * ```
   */
  request<H extends HeadersInput<H>>(
    method: string,
    url: string,
    body?: RequestBody,
    headers?: H | null,
    options?: RequestOptions,
  ): Promise<void> {
    const driver = this.#driver;
    // Everything that can be refused is checked before the state moves and before a
    // byte is sent (and before a body is touched); header values are coerced once.
    let given: GivenHeaders;
    let prepared: PreparedBody | Promise<PreparedBody> | null = null;
    let later = false;
    let buffer = this.#buffer;
    const target = this.#requestTarget();
    let signal: AbortSignal | undefined;
    let chunked: boolean;
    try {
      signal = callSignal(options, 'request', OPTION_NAMES.request);
      chunked = pytruth(options?.encode_chunked);
      given = checkHeaders(headers);
      later = driver.machine.handle('call') === 'after-head';
      if (later) buffer = new RequestBuffer();
      else if (driver.machine.request !== 'idle') {
        throw new CannotSendRequest(driver.machine.python);
      }
      buffer.putrequest(method, url, given.skip, target);
      if (body !== undefined && body !== null) prepared = this.#prepare(body);
      // A Content-Length of the caller's that its body's known length belies (a file's
      // is known once its stat is in: checked then, still before a byte is sent).
      if (prepared !== null && !(prepared instanceof Promise)) declaredLength(given, prepared.info);
      if (!later) this.#checkAutoOpen();
    } catch (err) {
      if (!later) this.#buffer.reset();
      releaseBody(prepared);
      return Promise.reject(err);
    }
    const version = this._http_vsn;
    if (later) {
      // Made while getresponse() reads the head (a forgotten await): its arguments are
      // checked now, in a buffer of its own; the call takes effect once the head is in.
      const own = buffer;
      const body = prepared;
      const check = (): void => {
        if (driver.machine.request !== 'idle') throw new CannotSendRequest(driver.machine.python);
        this.#checkAutoOpen();
      };
      // Printed at the level of this call, whenever it goes (Python's would print now).
      const debug = driver.debugNow();
      const go = (): Promise<void> =>
        driver.sendRequest(own, method, url, given, body, chunked, version, signal, debug);
      return driver.afterHead(body, signal, check, go);
    }
    if (prepared instanceof Promise) {
      // The head waits for the body's length (a file's stat): it is built in a buffer of
      // its own, so that nothing done to the connection meanwhile can touch it.
      this.#buffer.reset();
      buffer = new RequestBuffer();
      buffer.putrequest(method, url, given.skip, target);
    }
    return driver.sendRequest(buffer, method, url, given, prepared, chunked, version, signal);
  }

  /**
   * Python's `getresponse()`: read the response head. The previous response must have
   * been read to its end first (else `ResponseNotReady`, also for a second
   * `getresponse()` while one reads). Called while the request is still being sent, it
   * waits for the send (a forgotten `await` works as in Python); a `request()` made while
   * it reads the head waits for it. A response that will close the connection takes the
   * socket with it; the next request opens a new one.
   *
   * Differs from Python 2.7: every interim (1xx) response except 101 is skipped (2.7
   * skips only 100); a server that closed before the head is `RemoteDisconnected`; any
   * failure closes the connection, so the next request reconnects.
   *
   * @example
   * ```ts
   * await conn.request('GET', '/');
   * const response = await conn.getresponse();
   * console.log(response.status, response.getheader('Content-Type'));
   * const body = await response.read();
   * ```
   */
  getresponse(options?: GetResponseOptions): Promise<HTTPResponse> {
    try {
      const signal = callSignal(options, 'getresponse');
      checkTimeout(this.timeout);
      return this.#driver.getresponse(signal);
    } catch (err) {
      return Promise.reject(err);
    }
  }

  /** `prepareBody` with this connection's `blocksize`, exact unless it is the default. */
  #prepare(body: unknown): PreparedBody | Promise<PreparedBody> {
    const exact = this.#blocksizeGiven || this.blocksize !== DEFAULT_BLOCKSIZE;
    return prepareBody(body, this.blocksize, exact);
  }

  /** Where requests go, for the `Host` header; rebuilt only when an attribute changed. */
  #requestTarget(): RequestTarget {
    const tunnel = this.#driver.tunnel;
    this.#target = requestTarget(
      this.#target,
      this.host,
      this.port,
      (this.constructor as typeof HTTPConnection).default_port,
      tunnel?.host ?? null,
      tunnel?.port ?? null,
      this._http_vsn,
    );
    return this.#target;
  }

  /**
   * Python's `NotConnected` when `auto_open` is off and there is no socket, and a
   * `timeout` attribute that is no timeout: misuse, known without any I/O (the call
   * rejects, the state unchanged).
   */
  #checkAutoOpen(): void {
    if (!this.auto_open && this.#driver.machine.socket === 'closed') throw new NotConnected();
    // The attribute may have been set to anything since the constructor: every wait of
    // the call would take it (a bad one timed them out at once, "after NaN s"), so it is
    // refused here, as a connect refuses it, before the state moves or a byte is sent.
    checkTimeout(this.timeout);
  }
}
classOptions.set(HTTPConnection, OPTION_NAMES.HTTPConnection);

function noop(): void {}
