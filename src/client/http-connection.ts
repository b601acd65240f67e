/**
 * HTTPConnection: Python 2.7's `httplib.HTTPConnection` on Node sockets. It composes the
 * protocol core (state machine, request buffer, response parser) with the I/O shell
 * (transport, byte reader, body sources); it parses and formats nothing itself.
 *
 * Synchronous where Python only buffers or inspects (`putrequest`, `putheader`,
 * `set_tunnel`, `set_debuglevel`, `close`); promise-returning where Python blocks on the
 * socket (`connect`, `request`, `endheaders`, `send`, `getresponse`). Misuse and bad
 * input throw synchronously from the call that caused them, before a byte is sent, even
 * from the promise-returning methods; failures of the network reject.
 *
 * Deliberate differences from 2.7 (shared/API.md): any failure inside `getresponse()`
 * closes the connection, so the next request reconnects (2.7 stays in Request-sent
 * until `close()`; Python 3 does this for connection errors); bytes that arrive while no
 * request is outstanding make the connection unusable, and the next request opens a new
 * one; idle sockets do not keep the process alive (as node:http's agent).
 */
import type { Duplex } from 'node:stream';
import {
  type BodySink,
  type PreparedBody,
  prepareBody,
  type RequestBody,
  writeBody,
} from '../io/body-source.ts';
import { ByteReader, type WaitOptions } from '../io/byte-reader.ts';
import { checkTimeout, combineSignals, getdefaulttimeout, timeoutMs } from '../io/deadline.ts';
import { type CreateConnection, openSocket } from '../io/transport.ts';
import { ConnectionState } from '../protocol/connection-state.ts';
import { AbortError, type ConnectionPhase, NotConnected, TunnelError } from '../protocol/errors.ts';
import { DEFAULT_BLOCKSIZE, HTTP_PORT } from '../protocol/limits.ts';
import { HTTPMessage } from '../protocol/message.ts';
import { isPort, pyrepr } from '../protocol/pytext.ts';
import {
  connectRequest,
  type HeadersInput,
  type HeaderValue,
  headerNameSet,
  normalizeHeaders,
  type PutRequestOptions,
  planRequest,
  RequestBuffer,
  type RequestTarget,
} from '../protocol/request-writer.ts';
import { type ResponseHead, ResponseParser } from '../protocol/response-parser.ts';
import {
  coerceHeaderValue,
  parseHostPort,
  validateHeaderName,
  validateHeaderValue,
  validateHost,
} from '../protocol/validate.ts';
import {
  connectChannel,
  type DebugOutput,
  errorChannel,
  nodeDebug,
  publishFailure,
  requestHeadersChannel,
  responseHeadersChannel,
  writeDebug,
} from './debug.ts';
import { HTTPResponse, readHead } from './http-response.ts';

/** `request()` without headers: nothing to check, nothing to skip. */
const NO_PAIRS: Array<[string, string]> = [];
const NO_NAMES: ReadonlySet<string> = new Set();

/** The settled promise the fast paths hand back: nothing was waited for. */
const DONE: Promise<void> = Promise.resolve();

/** Constructor options (Python's keyword arguments, plus TypeScript-only additions). */
export interface HTTPConnectionOptions {
  /** Python's `strict`: a status line that is not HTTP/1.x raises `BadStatusLine`. */
  strict?: boolean | null | undefined;
  /** Seconds for each blocking operation; `null` waits forever. Default: `getdefaulttimeout()`. */
  timeout?: number | null | undefined;
  /** Python's `source_address`: `[host, port]` for the local end (`''`/`0` = any). */
  source_address?: readonly [string, number] | null | undefined;
  /**
   * Python 3.7+'s `blocksize`: bytes per read of a file or stream body, default 8192.
   * When given, a file (`FileHandle`, `fs.ReadStream`) or stream body is written in
   * pieces of exactly this size, as Python does; by default a file is read and written
   * 256 KiB at a time, which is faster and looks the same on the wire.
   */
  blocksize?: number | undefined;
  /** Cancels every operation of this connection when it fires. */
  signal?: AbortSignal | undefined;
  /** Replaces the TCP connect (a test seam; Python tests replace `_create_connection`). */
  createConnection?: CreateConnection | undefined;
  /** Where `set_debuglevel` output goes instead of `process.stdout`. */
  debugOutput?: DebugOutput | undefined;
}

/** Options of `request()` and `endheaders()`. */
export interface RequestOptions {
  /** Python 3's `encode_chunked`: frame the body in chunks (when `Transfer-Encoding` was given). */
  encode_chunked?: boolean | undefined;
  /** Cancels this call: the socket is destroyed and the call rejects with `AbortError`. */
  signal?: AbortSignal | undefined;
}

/** Options of `getresponse()` (Python's takes none). */
export interface GetResponseOptions {
  /** Cancels this call: the socket is destroyed and the call rejects with `AbortError`. */
  signal?: AbortSignal | undefined;
}

/** The bodies `request()`, `endheaders()` and `send()` accept (see API.md). */
export type { RequestBody } from '../io/body-source.ts';

/**
 * Python's `httplib.HTTPConnection`: one connection to one HTTP server, one request at
 * a time, kept alive between requests when the server allows it.
 *
 * The constructor takes Python's arguments: `new HTTPConnection(host, port?, { strict,
 * timeout, source_address, blocksize })`. `host` may be `'h'`, `'h:port'`, `'[v6]'` or
 * `'[v6]:port'`; a non-numeric port or control characters throw {@link InvalidURL}.
 * Nothing is connected until the first request (or `connect()`).
 *
 * How this differs from Python 2.7: calls that block on the socket return promises;
 * misuse still throws synchronously; any failure inside `getresponse()` closes the
 * connection, so the next request reconnects; bytes that arrive while no request is
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

  /** @internal HTTP version spoken: 11, or 10 for the legacy `HTTP` class. */
  _http_vsn: 10 | 11 = 11;

  /** The constructor's `signal`: cancels every operation of this connection. */
  protected readonly signal: AbortSignal | null;
  /** The constructor's `createConnection`, or null for a plain TCP connect. */
  protected readonly createConnection: CreateConnection | null;
  /** @internal The connected socket's reader (Python's `sock`), or null. */
  protected reader: ByteReader | null = null;
  /** Python's `_tunnel_host`: the host `set_tunnel()` named, or null. */
  protected _tunnel_host: string | null = null;
  /** Python's `_tunnel_port`: the port `set_tunnel()` named, or null. */
  protected _tunnel_port: number | null = null;
  /** Python's `_tunnel_headers`: the CONNECT request's extra headers, or null. */
  protected _tunnel_headers: HeadersInput | null = null;

  private readonly machine = new ConnectionState();
  private readonly buffer = new RequestBuffer();
  private method: string | null = null;
  /** The URL of the request being sent (for the `httplib:request:headers` message). */
  private url: string | null = null;
  /** A request line was buffered and nothing of it written yet. */
  private freshRequest = false;
  private connecting: Promise<void> | null = null;
  private target: RequestTarget | null = null;
  /** The wait options of calls without a signal of their own, per phase (built once). */
  private readonly defaultWaits = new Map<ConnectionPhase, DefaultWait>();
  private readonly onResponseDone = (reader: ByteReader, complete: boolean): void =>
    this.responseDone(reader, complete);
  /** Aborted by `close()` while a connect is under way, so that it does not live on. */
  private closing: AbortController | null = null;
  /** The constructor was given a `blocksize`: file and stream bodies use it exactly. */
  private readonly blocksizeGiven: boolean;

  constructor(host: string, port?: number | null, options: HTTPConnectionOptions = {}) {
    const ctor = this.constructor as typeof HTTPConnection;
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
    this.blocksizeGiven = options.blocksize !== undefined;
    this.signal = options.signal ?? null;
    this.createConnection = options.createConnection ?? null;
    this.debugOutput = options.debugOutput ?? null;
  }

  /**
   * Python's `sock`: the connected socket (a `net.Socket`, or a `tls.TLSSocket` for
   * HTTPS), or null. Python's is settable; here it is read-only.
   */
  get sock(): Duplex | null {
    return this.reader?.socket ?? null;
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
    this.debuglevel = level;
  }

  /**
   * Python's `set_tunnel(host, port=None, headers=None)`: send requests through the
   * proxy given to the constructor, with `CONNECT host:port HTTP/1.0`. Must be called
   * before connecting (else an `Error`). A non-200 answer rejects the connect with a
   * `TunnelError` (`Tunnel connection failed: <code> <reason>`; Python's `socket.error`),
   * which keeps the proxy's `status`, `reason` and `headers`, and closes the connection.
   *
   * Differs from Python 2.7: the host and headers are checked now, as Python's later
   * gh-146211 fix does (`InvalidURL`/`TypeError`), and an IPv6 host is bracketed in the
   * CONNECT line.
   *
   * @example
   * ```ts
   * const conn = new httplib.HTTPSConnection('proxy.example', 3128);
   * conn.set_tunnel('www.python.org', 443, { 'Proxy-Authorization': 'Basic dXNlcjpwYXNz' });
   * await conn.request('GET', '/');
   * ```
   */
  set_tunnel(host: string, port?: number | null, headers?: HeadersInput | null): void {
    if (this.reader !== null) {
      // Python 2.7: RuntimeError, which maps to a plain Error (with a code, as Node's have).
      throw Object.assign(new Error("Can't setup tunnel for established connection."), {
        code: 'ERR_HTTPLIB_TUNNEL_ESTABLISHED',
      });
    }
    const [tunnelHost, tunnelPort] = parseHostPort(
      host,
      port ?? null,
      (this.constructor as typeof HTTPConnection).default_port,
    );
    // The headers are read, converted and checked once, here, and every CONNECT sends
    // that copy (Python 3 copies them too): a one-shot iterable is not found empty at
    // connect time, and a value whose toString changes cannot differ from what was checked.
    const pairs: Array<[string, string]> = [];
    for (const [name, value] of normalizeHeaders(headers)) {
      pairs.push([name, coerceHeaderValue(value, name)]);
    }
    connectRequest(tunnelHost, tunnelPort, pairs);
    this._tunnel_host = tunnelHost;
    this._tunnel_port = tunnelPort;
    this._tunnel_headers = pairs;
  }

  /**
   * Python's `connect()`: open the connection (and the tunnel, if one is set). Requests
   * call it when needed (`auto_open`), so it rarely needs calling. Rejects with Node's
   * system error (`ECONNREFUSED`, …), `TimeoutError`, or `AbortError`.
   */
  connect(): Promise<void> {
    return this.open(undefined);
  }

  /** `connect()` for a call that needs the socket: its own `signal` cancels it too. */
  private open(signal: AbortSignal | undefined): Promise<void> {
    if (this.connecting !== null) return this.connecting;
    const promise = this.doConnect(signal).finally(() => {
      if (this.connecting === promise) this.connecting = null;
    });
    this.connecting = promise;
    return promise;
  }

  /**
   * Python's `close()`: close the socket and forget the response being read.
   * Synchronous and idempotent; the next request opens a new connection. A response
   * that already took over the socket (it will close it) keeps reading.
   */
  close(): void {
    this.buffer.reset();
    const response = this.machine.reset();
    const reader = this.reader;
    this.reader = null;
    this.freshRequest = false;
    this.closing?.abort(new Error('close() was called while connecting'));
    this.closing = null;
    this.connecting = null;
    if (reader !== null) {
      nodeDebug('close %s:%d', this.host, this.port);
      reader.destroy();
    }
    (response as HTTPResponse | null)?.close();
  }

  /**
   * Python's `putrequest(method, url, skip_host=False, skip_accept_encoding=False)`:
   * start a request (buffered; nothing is sent until `endheaders()`). `''` means `/`.
   * Adds `Host` and `Accept-Encoding: identity` unless skipped. Throws
   * `CannotSendRequest` while another is being built or sent, `InvalidURL`/`TypeError`
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
    this.machine.startRequest();
    this.method = method;
    this.url = url;
    this.buffer.putrequest(method, url, options, this.requestTarget());
    this.freshRequest = true;
  }

  /** Where requests go, for the `Host` header; rebuilt only when an attribute changed. */
  private requestTarget(): RequestTarget {
    const t = this.target;
    const defaultPort = (this.constructor as typeof HTTPConnection).default_port;
    if (
      t !== null &&
      t.host === this.host &&
      t.port === this.port &&
      t.defaultPort === defaultPort &&
      t.tunnelHost === this._tunnel_host &&
      t.tunnelPort === this._tunnel_port &&
      t.httpVersion === this._http_vsn
    ) {
      return t;
    }
    this.target = {
      host: this.host,
      port: this.port,
      defaultPort,
      tunnelHost: this._tunnel_host,
      tunnelPort: this._tunnel_port,
      httpVersion: this._http_vsn,
    };
    return this.target;
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
    this.machine.checkPutHeader();
    this.buffer.putheader(header, ...values);
  }

  /**
   * Python's `endheaders(message_body=None)`: send the head, and the body if given (in
   * the same write when it is a string or bytes). `encode_chunked` frames the body in
   * chunks (Python 3.6+). Connects first if needed. The body may be any
   * {@link RequestBody}; a string is sent as UTF-8.
   */
  endheaders(messageBody?: RequestBody, options?: RequestOptions): Promise<void> {
    this.machine.endHeaders();
    const head = this.buffer.finish();
    this.checkAutoOpen();
    if (messageBody === undefined || messageBody === null) {
      return this.sendOutput(head, null, false, options?.signal);
    }
    const prepared = this.prepare(messageBody);
    const chunked = options?.encode_chunked === true && this._http_vsn === 11;
    if (prepared instanceof Promise) {
      return prepared.then((body) => this.sendOutput(head, body, chunked, options?.signal));
    }
    return this.sendOutput(head, prepared, chunked, options?.signal);
  }

  /**
   * Python's `send(data)`: write raw bytes (a string as UTF-8, bytes, or any
   * {@link RequestBody} kind), opening the connection first if needed (`auto_open`; with
   * it off and no socket, `NotConnected`). Nothing is framed: a body after
   * `endheaders()` must match the `Content-Length` or `Transfer-Encoding` sent.
   */
  send(data: RequestBody, options?: { signal?: AbortSignal | undefined }): Promise<void> {
    this.checkAutoOpen();
    const prepared = this.prepare(data);
    if (prepared instanceof Promise) {
      return prepared.then((body) => this.sendBody(body, options?.signal));
    }
    return this.sendBody(prepared, options?.signal);
  }

  /**
   * Python's `request(method, url, body=None, headers={})`: `putrequest`, the automatic
   * and given headers, `endheaders(body)`. `Content-Length` is added when the body's
   * length is known (0 for POST/PUT/PATCH without one); a body of unknown length goes
   * chunked unless the caller set `Content-Length` or `Transfer-Encoding`.
   *
   * `headers` is a plain object, a `Map` or `[name, value]` pairs, sent in that order;
   * a given `Host` or `Accept-Encoding` replaces the automatic one. Every header is
   * checked before the state moves or a byte is sent: a value that is not a
   * {@link HeaderValue} (`undefined`, `null`, an object with no string form of its own)
   * is a `TypeError` naming the header.
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
  request(
    method: string,
    url: string,
    body?: RequestBody,
    headers?: HeadersInput | null,
    options?: RequestOptions,
  ): Promise<void> {
    // Everything that can be refused is checked before the state moves and before a
    // byte is sent; header values are coerced once (toString runs once).
    let pairs = NO_PAIRS;
    let names: ReadonlySet<string> = NO_NAMES;
    if (headers !== undefined && headers !== null) {
      const given = normalizeHeaders(headers);
      pairs = new Array(given.length);
      for (let i = 0; i < given.length; i++) {
        const [name, value] = given[i] as [string, unknown];
        validateHeaderName(name);
        const text = coerceHeaderValue(value, name);
        validateHeaderValue(text);
        pairs[i] = [name, text];
      }
      names = headerNameSet(pairs);
    }
    const prepared = body === undefined || body === null ? null : this.prepare(body);
    const encodeChunked = options?.encode_chunked === true;
    this.putrequest(
      method,
      url,
      names.size === 0
        ? null
        : { skip_host: names.has('host'), skip_accept_encoding: names.has('accept-encoding') },
    );
    const finish = (p: PreparedBody | null): Promise<void> => {
      const plan = planRequest(
        method,
        p === null ? { kind: 'none' } : p.info,
        names,
        encodeChunked,
        this._http_vsn,
      );
      for (const [name, value] of plan.headers) this.buffer.putheader(name, value);
      for (const [name, value] of pairs) this.buffer.putheader(name, value);
      this.machine.endHeaders();
      const head = this.buffer.finish();
      this.checkAutoOpen();
      return this.sendOutput(head, p, plan.encodeChunked, options?.signal);
    };
    if (prepared instanceof Promise) return prepared.then(finish);
    return finish(prepared);
  }

  /**
   * Python's `getresponse()`: read the response head. The previous response must have
   * been read to its end first (else `ResponseNotReady`). A response that will close
   * the connection takes the socket with it; the next request opens a new connection.
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
    this.machine.checkGetResponse();
    const reader = this.reader;
    if (reader === null) {
      // Either nothing was sent, or the connection it was sent on is gone (closing a
      // response before its end discards the connection, and the requests sent on it).
      return Promise.reject(
        new NotConnected(
          'no connection: the request was never sent, or the connection it was sent on was closed',
        ),
      );
    }
    const response = new HTTPResponse({
      reader,
      method: this.method,
      strict: this.strict,
      debuglevel: this.debuglevel,
      debugOutput: this.debugOutput,
      signal: this.signal,
      wait: this.waitOptions(undefined, 'head'),
      onDone: this.onResponseDone,
      connection: this,
    });
    return response.readHeadOnly(options?.signal, this.onResponseHead, this.onResponseError);
  }

  /** The head of `response` was read (bound once: no closure per response). */
  private readonly onResponseHead = (head: ResponseHead, response: HTTPResponse): HTTPResponse => {
    response.applyHead(head);
    this.machine.responseStarted(response, response.will_close);
    if (response.will_close) {
      // Python: "this effectively passes the connection to the response".
      response.takeOwnership();
      this.reader = null;
      this.machine.reset();
    }
    if (responseHeadersChannel.hasSubscribers) {
      responseHeadersChannel.publish({ connection: this, response });
    }
    return response;
  };

  /** Reading the head of `response` failed: nothing of this connection can be trusted. */
  private readonly onResponseError = (err: unknown, response: HTTPResponse): unknown => {
    response.close();
    this.close();
    if (errorChannel.hasSubscribers) errorChannel.publish({ connection: this, error: err });
    return err;
  };

  // --- internals ----------------------------------------------------------------------

  /** @internal Open the socket and, if set, the tunnel. HTTPS adds TLS on top. */
  protected async doConnect(callSignal?: AbortSignal): Promise<void> {
    if (this.reader !== null) {
      // Python overwrites `sock`; do not leak the old socket (a response reading it
      // keeps its own reference and finishes with it).
      if (this.machine.response === null) this.reader.destroy();
      this.reader = null;
    }
    const tunnel = this._tunnel_host !== null;
    const signal = combineSignals(callSignal, this.signal);
    const closing = new AbortController();
    this.closing = closing;
    // A socket we open ourselves reads into the reader's buffer (onread) unless a layer
    // on top (TLS) must take the socket's stream over.
    const staticReader =
      this.createConnection === null && this.staticBufferReads() ? new ByteReader() : null;
    let socket: Duplex;
    try {
      socket = await openSocket(
        {
          host: this.host,
          port: this.port,
          timeout: this.timeout,
          source_address: this.source_address,
          signal: combineSignals(signal, closing.signal),
        },
        this.createConnection,
        staticReader?.onreadOptions() ?? null,
      );
    } finally {
      if (this.closing === closing) this.closing = null;
    }
    if (closing.signal.aborted) {
      // close() came after the socket connected but before this went on.
      socket.destroy();
      throw new AbortError('The operation was aborted', { cause: closing.signal.reason });
    }
    let reader: ByteReader;
    if (staticReader !== null) {
      staticReader.attach(socket);
      reader = staticReader;
    } else {
      reader = new ByteReader(socket);
    }
    this.reader = reader;
    nodeDebug('connect %s:%d', this.host, this.port);
    if (connectChannel.hasSubscribers) {
      connectChannel.publish({ connection: this, host: this.host, port: this.port, socket });
    }
    if (tunnel) await this.tunnel(reader, callSignal);
    const secured = await this.secure(reader, signal);
    if (secured !== reader) this.reader = secured;
  }

  /**
   * @internal Whether sockets opened here read into one reused buffer (net's `onread`).
   * HTTPS says no: TLS takes the socket's stream over.
   */
  protected staticBufferReads(): boolean {
    return true;
  }

  /**
   * @internal Hook for HTTPS: turn the connected (and tunnelled) socket into the one
   * requests go over. Plain HTTP uses it as it is.
   */
  protected secure(
    reader: ByteReader,
    _signal: AbortSignal | null,
  ): Promise<ByteReader> | ByteReader {
    return reader;
  }

  /** Python 2.7's `_tunnel()`: CONNECT through the proxy and read its answer. */
  private async tunnel(reader: ByteReader, signal: AbortSignal | undefined): Promise<void> {
    const host = this._tunnel_host as string;
    const port = this._tunnel_port as number;
    const head = connectRequest(host, port, this._tunnel_headers);
    if (this.debuglevel > 0) {
      // Python 2.7 sends the CONNECT line, each header and the blank line separately,
      // and prints each of them; here they go out in one write.
      for (const line of head.split(/(?<=\r\n)/)) this.debug(`send: ${pyrepr(line)}\n`);
    }
    reader.active = true;
    const wait = this.waitOptions(signal, 'tunnel');
    await reader.write(head, 'latin1', wait);
    const parser = new ResponseParser({ method: 'CONNECT', strict: this.strict });
    let reply: ResponseHead;
    try {
      reply = await readHead(reader, parser, wait);
    } catch (err) {
      throw this.abandon(err);
    }
    reader.active = false;
    if (reply.version === 9) throw this.abandon(new TunnelError(null));
    if (reply.status !== 200) {
      const headers = new HTTPMessage(reply.lines);
      throw this.abandon(new TunnelError(reply.status, reply.reason, headers));
    }
  }

  private abandon(err: unknown): unknown {
    this.close();
    return err;
  }

  /** Python's `_send_output`; a failure is published on `httplib:error`. */
  private sendOutput(
    head: string,
    body: PreparedBody | null,
    chunked: boolean,
    signal: AbortSignal | undefined,
  ): Promise<void> {
    return publishFailure(this.writeRequest(head, body, chunked, signal), this);
  }

  /** The head, then the body (one write when it is bytes). */
  private writeRequest(
    head: string,
    body: PreparedBody | null,
    chunked: boolean,
    signal: AbortSignal | undefined,
  ): Promise<void> {
    const ready = signal === undefined && this.signal === null ? this.readyReader() : null;
    if (ready === null) return this.writeRequestAfterConnect(head, body, chunked, signal);
    // Fast path (connected, no signal): write now; a promise only when waiting for drain.
    try {
      return this.writeRequestOn(ready, head, body, chunked, signal) ?? DONE;
    } catch (err) {
      return Promise.reject(err);
    }
  }

  private async writeRequestAfterConnect(
    head: string,
    body: PreparedBody | null,
    chunked: boolean,
    signal: AbortSignal | undefined,
  ): Promise<void> {
    const reader = await this.ensureConnected(signal);
    await this.writeRequestOn(reader, head, body, chunked, signal);
  }

  /** Write the request on `reader`; undefined when it all went out without waiting. */
  private writeRequestOn(
    reader: ByteReader,
    head: string,
    body: PreparedBody | null,
    chunked: boolean,
    signal: AbortSignal | undefined,
  ): Promise<void> | undefined {
    reader.active = true;
    reader.ref();
    if (requestHeadersChannel.hasSubscribers) {
      requestHeadersChannel.publish({
        connection: this,
        method: this.method,
        url: this.url,
        head,
      });
    }
    const wait = this.waitOptions(signal);
    if (body !== null && body.bytes !== null && !chunked) {
      // Python 2.7 appends a string body to the head and sends both at once.
      const bytes = body.bytes;
      if (this.debuglevel > 0) this.debug(`send: ${pyrepr(head + bytes.toString('latin1'))}\n`);
      return this.writeHeadAndBody(reader, head, bytes, wait);
    }
    if (this.debuglevel > 0) this.debug(`send: ${pyrepr(head)}\n`);
    const written = reader.write(head, 'latin1', wait);
    if (body === null) return written;
    return (written ?? DONE).then(() => this.writeBodyTo(reader, body, chunked, wait));
  }

  /** Python's `send(data)` for a body already prepared. */
  /** `prepareBody` with this connection's `blocksize`, exact unless it is the default. */
  private prepare(body: unknown): PreparedBody | Promise<PreparedBody> {
    const exact = this.blocksizeGiven || this.blocksize !== DEFAULT_BLOCKSIZE;
    return prepareBody(body, this.blocksize, exact);
  }

  private sendBody(body: PreparedBody, signal: AbortSignal | undefined): Promise<void> {
    const sent = this.ensureConnected(signal).then((reader) => {
      reader.active = true;
      return this.writeBodyTo(reader, body, false, this.waitOptions(signal));
    });
    return publishFailure(sent, this);
  }

  private async writeBodyTo(
    reader: ByteReader,
    body: PreparedBody,
    chunked: boolean,
    wait: WaitOptions,
  ): Promise<void> {
    if (this.debuglevel > 0) {
      if (body.bytes !== null && !chunked) {
        this.debug(`send: ${pyrepr(body.bytes.toString('latin1'))}\n`);
      } else {
        this.debug(`send: ${body.label}\n`);
        this.debug('sendIng a read()able\n');
      }
    }
    const sink: BodySink = {
      write: (chunk, encoding) => reader.write(chunk, encoding, wait),
    };
    try {
      await writeBody(sink, body, chunked);
    } catch (err) {
      // A body that failed half-way leaves the server waiting for the rest: the
      // connection cannot be used again.
      reader.fail(err instanceof Error ? err : new Error(String(err)));
      throw err;
    }
  }

  private writeHeadAndBody(
    reader: ByteReader,
    head: string,
    bytes: Buffer,
    wait: WaitOptions,
  ): Promise<void> | undefined {
    if (bytes.length <= 16384) {
      const out = Buffer.allocUnsafe(head.length + bytes.length);
      out.write(head, 0, 'latin1');
      bytes.copy(out, head.length);
      return reader.write(out, undefined, wait);
    }
    return this.writeHeadThenBody(reader, head, bytes, wait);
  }

  private async writeHeadThenBody(
    reader: ByteReader,
    head: string,
    bytes: Buffer,
    wait: WaitOptions,
  ): Promise<void> {
    const socket = reader.socket as Duplex;
    socket.cork();
    const first = reader.write(head, 'latin1', wait);
    if (first !== undefined) {
      // The head alone filled the socket's buffer (or the write failed): the reader
      // waits for one drain at a time, so send the head and wait before the body.
      socket.uncork();
      await first;
      await reader.write(bytes, undefined, wait);
      return;
    }
    const second = reader.write(bytes, undefined, wait);
    process.nextTick(() => socket.uncork());
    await second;
  }

  /**
   * The socket for the next write: Python's `auto_open`. At the start of a request, a
   * socket that failed, was poisoned by unexpected bytes or was closed while idle is
   * replaced by a new connection (nothing of this request was sent on it).
   */
  private async ensureConnected(signal: AbortSignal | undefined): Promise<ByteReader> {
    const ready = this.readyReader();
    if (ready !== null) return ready;
    if (!this.auto_open) throw new NotConnected();
    await this.open(signal);
    return this.reader as unknown as ByteReader;
  }

  /**
   * The socket to write on without waiting, or null when one must be opened first. At
   * the start of a request, a socket that failed, was poisoned by unexpected bytes or
   * was closed while idle is dropped here (nothing of this request was sent on it).
   */
  private readyReader(): ByteReader | null {
    const reader = this.reader;
    if (this.freshRequest) {
      this.freshRequest = false;
      if (reader !== null && (reader.poisoned || reader.error !== null || reader.closed)) {
        nodeDebug('discard unusable idle connection to %s:%d', this.host, this.port);
        this.reader = null;
        reader.destroy();
        return null;
      }
    }
    return this.connecting === null ? reader : null;
  }

  /**
   * Python's `NotConnected` when `auto_open` is off and there is no socket: misuse, known
   * without any I/O, so the call throws it synchronously (after the state moved, as in
   * Python, where `endheaders()` leaves the connection in Request-sent).
   */
  private checkAutoOpen(): void {
    if (this.reader === null && !this.auto_open) throw new NotConnected();
  }

  /** A kept-alive response finished with the socket (`complete`: read to its end). */
  private responseDone(reader: ByteReader, complete: boolean): void {
    if (
      complete &&
      reader === this.reader &&
      this.machine.state === 'Request-sent' &&
      !reader.poisoned &&
      reader.error === null
    ) {
      // Python lets the next request be sent before this response was read: the bytes
      // queued after this body, and those still to come, are that request's response.
      return;
    }
    if (reader !== this.reader || !complete || !reader.usable || reader.buffered > 0) {
      reader.destroy();
      if (reader === this.reader) this.reader = null;
      return;
    }
    // Like node:http's agent: an idle kept-alive socket does not keep the process alive.
    reader.idle();
  }

  /**
   * The timeout, the signals and what a timeout in `phase` reports: the proxy while
   * tunnelling, else the server (the tunnel's host, when there is one).
   */
  private waitOptions(
    signal: AbortSignal | undefined,
    phase: ConnectionPhase = 'send',
  ): WaitOptions {
    const seconds = this.timeout;
    const proxied = phase !== 'tunnel' && this._tunnel_host !== null;
    const host = proxied ? (this._tunnel_host as string) : this.host;
    const port = proxied ? (this._tunnel_port as number) : this.port;
    if (signal === undefined) {
      // The common case, built once per phase and timeout value (not per request).
      const cached = this.defaultWaits.get(phase);
      if (
        cached !== undefined &&
        cached.seconds === seconds &&
        cached.signal === this.signal &&
        cached.host === host &&
        cached.port === port
      ) {
        return cached;
      }
      const built = { ...buildWait(phase, host, port, seconds, this.signal), host, port, seconds };
      this.defaultWaits.set(phase, built);
      return built;
    }
    return buildWait(phase, host, port, seconds, combineSignals(signal, this.signal));
  }

  private debug(text: string): void {
    writeDebug(this.debugOutput, text);
  }
}

/** A cached `WaitOptions` with what it was built from. */
interface DefaultWait extends WaitOptions {
  readonly host: string;
  readonly port: number;
  readonly seconds: number | null;
}

function buildWait(
  phase: ConnectionPhase,
  host: string,
  port: number,
  seconds: number | null,
  signal: AbortSignal | null,
): WaitOptions {
  const timeout = seconds === null ? null : { phase, host, port, seconds };
  return { timeoutMs: timeoutMs(seconds), signal, timeout };
}

function checkSourceAddress(value: unknown): readonly [string, number] | null {
  if (value === null || value === undefined) return null;
  if (
    !Array.isArray(value) ||
    value.length !== 2 ||
    typeof value[0] !== 'string' ||
    !isPort(value[1])
  ) {
    throw new TypeError('source_address must be [host, port]');
  }
  return [value[0], value[1]];
}
