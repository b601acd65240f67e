/**
 * `HTTPConnection` and `HTTPSConnection` of `httplib-ts/sync`. A plain HTTP connection
 * on Node runs its HTTP in this thread (direct.ts: the worker only opens the socket and
 * fills a ring with its bytes); the others are twins of the main entry's classes whose
 * real objects live in the worker: every method runs there (so every rule, message and
 * state transition is the main entry's own) and this thread blocks until it is done;
 * misuse throws the main entry's exception classes, synchronously.
 *
 * A twin's attributes are plain fields here, sent to the worker's object before the next
 * call when they changed (Python code sets `conn.timeout`, `conn.debuglevel`,
 * `auto_open`); `sock` tells where the worker's socket is connected. `debugOutput` stays
 * here: the worker's debug output is written by this thread (remote.ts). A `signal`
 * option is refused (nothing can fire while the thread is blocked), and so is
 * `createConnection` (a function cannot run in the worker).
 *
 * A subclass's own `connect()` runs in this thread, where the caller's code is, whenever a
 * call opens a socket, as on the main entry: the direct transport runs it at its open
 * (direct.ts), the worker's client asks for it at its own (channel.ts `runConnect`); its
 * `super.connect()` opens that socket, as part of the call.
 *
 * If the worker fails, a connection is rebuilt in the next worker on its next call, as if
 * it had been closed: the next request opens a new socket (Python's `auto_open`); its
 * attributes and SSL context go on (a legacy object's connection: legacy.ts remakes both).
 */
import {
  checkDebugLevel,
  checkHooks,
  HTTPS_CONNECTION_OPTIONS,
  OPTION_NAMES,
  optionsOf,
} from '../client/connection-options.ts';
import { checkHostnameOption, contextOption } from '../client/https-connection.ts';
import { type ContextFields, setContextFields } from '../client/tls-verify.ts';
import * as httplib from '../index.ts';
import { parseHostPort } from '../protocol/validate.ts';
import { encodeBody } from './bodies.ts';
import { type CallScope, currentGeneration, enqueue, exclusive, WorkerError } from './channel.ts';
import { DirectDriver, directTransport } from './direct.ts';
import {
  BIND,
  type Bound,
  type Created,
  contextIds,
  create,
  type Recipe,
  sendContext,
} from './recipe.ts';
import {
  type ConnectionMirror,
  type ConnectionState,
  invoke,
  openingFor,
  openSocketForCall,
  type ResponseHead,
  refuseSignal,
  trackConnection,
} from './remote.ts';
import { makeResponse } from './response.ts';
import type * as T from './types.ts';
import { type Encoder, type Json, setFields } from './wire.ts';

/** Attributes mirrored in the worker's object (sent when they change). */
const SENT = [
  'host',
  'port',
  'timeout',
  'source_address',
  'strict',
  'blocksize',
  'debuglevel',
  'auto_open',
  '_http_vsn',
] as const;
type Sent = (typeof SENT)[number];

/** The options of `options` named in `names` (a subclass's own are left out). */
function ownOptions<T extends object>(options: T, names: readonly string[]): T {
  const out: Record<string, unknown> = {};
  for (const name of names)
    if (name in options) out[name] = (options as Record<string, unknown>)[name];
  return out as T;
}

/** Refuses the options only an event loop could honour. */
function checkOptions(options: object | undefined | null, what: string): void {
  // (The options' names are checked by the main entry's constructor, in the probe.)
  refuseSignal(options, what, null);
  if (
    options !== null &&
    options !== undefined &&
    (options as { createConnection?: unknown }).createConnection !== undefined
  ) {
    throw new TypeError(
      `httplib-ts/sync: ${what} takes no createConnection: a function cannot run in the worker thread`,
    );
  }
}

let targetOf: (conn: HTTPConnection) => number;

/** @internal legacy.ts: the worker's id of `conn`, its changed attributes sent first. */
export function connectionTarget(conn: HTTPConnection): number {
  return targetOf(conn);
}

/**
 * Python's `httplib.HTTPConnection`, blocking. The main entry's `HTTPConnection`, with
 * every promise-returning method blocking and returning its value: `request()` returns
 * once the request is sent, `getresponse()` returns the response.
 *
 * A subclass overrides its methods as in Python (`override connect(): void { super.connect();
 * … }`): a call that opens a socket runs the subclass's `connect()`.
 *
 * @example
 * ```ts
 * import * as httplib from 'httplib-ts/sync';
 *
 * const conn = new httplib.HTTPConnection('localhost', 8080, { timeout: 10 });
 * conn.request('POST', '/form', 'a=1', { 'Content-Type': 'application/x-www-form-urlencoded' });
 * const response = conn.getresponse();
 * console.log(response.status); // 200
 * const body = response.read(); // a Buffer
 * conn.close();
 * ```
 */
export class HTTPConnection implements T.Blocking<httplib.HTTPConnection> {
  /** Python's `default_port`: 80. */
  static default_port = httplib.HTTP_PORT;

  /** Python's `host`: the server's host name or address (see the main entry). */
  host = '';
  /** Python's `port`: the server's port (`default_port` unless given). */
  port = 0;
  /** Python's `timeout`, in seconds, or `null` to wait forever (see the main entry). */
  timeout: number | null = null;
  /** Python's `source_address`: `[host, port]` the local end binds to, or `null`. */
  source_address: readonly [string, number] | null = null;
  /** Python's `strict`: a status line not starting with `HTTP/` is `BadStatusLine`. */
  strict = false;
  /** Python 3.7+'s `blocksize`: bytes per read of a file or stream body (default 8192). */
  blocksize = 8192;
  /** Python's `debuglevel`, set by `set_debuglevel`. */
  debuglevel = 0;
  /** Python's `auto_open`: a request opens the connection when there is none. */
  auto_open: boolean | number = 1;
  /** Where `set_debuglevel` output goes (default `process.stdout`), written by this thread. */
  debugOutput: httplib.DebugOutput | null = null;
  /** Python's `_http_vsn`: the HTTP version spoken, 11, or 10 for the legacy `HTTP` class. */
  _http_vsn: 10 | 11 = 11;

  #id = 0;
  #generation = -1;
  #sock: T.SocketInfo | null = null;
  /** The values the worker's object has, to send only what changed. */
  #sent: Record<string, unknown> = {};
  /** Whether the worker's object runs this one's `connect()` when a call opens a socket. */
  #ownSent = false;
  #recipe: Recipe | null = null;
  /** A legacy object's connection (legacy.ts): remakes the worker's objects after a failure. */
  #remake: (() => Created) | null = null;
  #tunnel: unknown[] | null = null;
  /** The direct transport (direct.ts) while this connection uses it, else null. */
  #direct: DirectDriver | null = null;
  /**
   * What remote.ts calls on this connection (the worker's state, the debug output, the
   * open of a call): an object of its own, held only by this connection, so that those
   * are no members of the public class.
   */
  readonly #mirror: ConnectionMirror = {
    mirror: (state) => this.#mirrorState(state),
    debugOutput: () => this.debugOutput,
    connect: () => this.connect(),
  };

  static {
    targetOf = (conn) => conn.#target();
  }

  constructor(host: string, port?: number | null, options: T.HTTPConnectionOptions = {}) {
    if ((host as unknown) === BIND) {
      // legacy.ts: the twin of a connection the worker made inside an HTTP object, which
      // makes both again when a worker failed.
      const bound = options as unknown as Bound;
      this.#remake = bound.remake;
      this.#adopt(bound.created);
      return;
    }
    // (checkOptions refuses options that are not an object, by the class's name.)
    checkOptions(options, (this.constructor as { name: string }).name);
    // debugOutput stays here, unchecked by the main entry's constructor: checked as it does.
    checkHooks(options ?? {});
    const { debugOutput, ...all } = (options ?? {}) as httplib.HTTPConnectionOptions;
    this.debugOutput = debugOutput ?? null;
    const isHttps = this instanceof HTTPSConnection;
    // A subclass of the caller's may take options of its own (as on the main entry): only
    // the connection's go on, to the main entry's constructor that checks their names.
    const ctor = new.target as unknown;
    const rest =
      ctor === HTTPConnection || ctor === HTTPSConnection
        ? all
        : ownOptions(all, isHttps ? HTTPS_CONNECTION_OPTIONS : OPTION_NAMES.HTTPConnection);
    const given = {
      ...rest,
      timeout: rest.timeout === undefined ? httplib.getdefaulttimeout() : rest.timeout,
    };
    let context: httplib.ssl.SSLContext | null = null;
    if (isHttps) {
      context = contextOption((given as httplib.HTTPSConnectionOptions).context);
      delete (given as httplib.HTTPSConnectionOptions).context;
    }
    this.#recipe = {
      cls: isHttps ? 'HTTPSConnection' : 'HTTPConnection',
      args: [host, port, given],
      context,
    };
    if (!isHttps && directTransport.enabled) {
      // The main entry's constructor checks the arguments (it does no I/O).
      const probe = new httplib.HTTPConnection(host, port, given);
      this.host = probe.host;
      this.port = probe.port;
      this.timeout = probe.timeout;
      this.source_address = probe.source_address;
      this.strict = probe.strict;
      this.blocksize = probe.blocksize;
      const ctor = this.constructor as unknown as { default_port: number };
      this.#direct = new DirectDriver(this, ctor.default_port, rest.blocksize !== undefined);
      this.#direct.ownConnect = () => (this.#ownConnect() ? () => this.connect() : null);
      return;
    }
    this.#adopt(create(this.#recipe));
  }

  /**
   * Moves a direct connection (with no socket: else the error set_tunnel() throws on an
   * established connection) to the worker, for what only the worker's client does (a
   * tunnel), with its attributes and the request being built.
   */
  #toWorker(): void {
    const direct = this.#direct as DirectDriver;
    // As one call: from inside another it is refused before the socket is let go (the
    // worker's object is made after, by a call of its own).
    exclusive(() => {
      if (direct.address !== null) {
        throw Object.assign(new Error("Can't setup tunnel for established connection."), {
          code: 'ERR_HTTPLIB_TUNNEL_ESTABLISHED',
        });
      }
      if (!direct.canMove()) {
        throw new TypeError(
          'httplib-ts/sync: the connection cannot move to the worker while a request or response is in progress',
        );
      }
      direct.release();
    });
    this.#direct = null;
    this.#adoptKeeping(() => create(this.#recipe as Recipe));
    if (direct.machine.request === 'started') {
      for (const [method, args] of direct.calls) this.#call(method, (e) => e.values(args));
    }
  }

  #adopt(created: Created): void {
    this.#id = created.id;
    this.#ownSent = false;
    this.#generation = currentGeneration();
    for (const [name, value] of created.attributes as Array<[string, Json]>) {
      const v = created.decoder.value(value);
      (this as unknown as Record<string, unknown>)[name] = v;
      if ((SENT as readonly string[]).includes(name)) this.#sent[name] = v;
    }
    this.#mirrorState(created.state);
    this.#adoptContext(created);
    trackConnection(created.id, this.#mirror);
  }

  /**
   * Adopts a new worker object made by `make`, keeping this twin's attributes: the worker's
   * takes them with the next call (`target()` sends what differs from its own).
   */
  #adoptKeeping(make: () => Created): void {
    const mine = SENT.map((name) => [name, this[name as Sent]] as const);
    this.#sent = {};
    this.#adopt(make());
    for (const [name, value] of mine) (this as unknown as Record<string, unknown>)[name] = value;
  }

  /** HTTPS: the connection takes the worker's context's fields, into the caller's context. */
  #adoptContext(created: Created): void {
    if (!(this instanceof HTTPSConnection)) return;
    if (created.context === null || created.contextId === undefined) return;
    const context = created.given ?? new httplib.ssl.SSLContext();
    const fields: ContextFields = {};
    setFields(fields, created.context, created.decoder);
    setContextFields(context, fields);
    contextIds.set(context, created.contextId);
    (this as { _context: httplib.ssl.SSLContext })._context = context;
  }

  /** Takes the state of the worker's object that a reply reports. */
  #mirrorState(state: ConnectionState): void {
    if (state.host !== undefined) {
      this.host = state.host;
      this.#sent.host = state.host;
    }
    if (state.port !== undefined) {
      this.port = state.port;
      this.#sent.port = state.port;
    }
    const s = state.sock;
    this.#sock =
      s === null
        ? null
        : Object.freeze({
            localAddress: s[0],
            localPort: s[1],
            remoteAddress: s[2],
            remotePort: s[3],
          });
  }

  /**
   * Python's `sock`: here, where the worker thread's socket is connected
   * (`{ localAddress, localPort, remoteAddress, remotePort }`), or null when there is none.
   */
  get sock(): T.SocketInfo | null {
    if (this.#direct !== null) return this.#direct.address;
    return this.#generation === currentGeneration() ? this.#sock : null;
  }

  /**
   * Whether this connection has a `connect()` of its own (a subclass's): Python's calls open
   * the socket by calling `self.connect()`, so a call that opens one runs it, as the main
   * entry does (its `super.connect()` opens the socket). A prototype comparison: nothing
   * for the others to pay.
   */
  #ownConnect(): boolean {
    return this.connect !== HTTPConnection.prototype.connect;
  }

  /** The worker's id of this connection, sending the attributes that changed first. */
  #target(): number {
    if (this.#generation !== currentGeneration()) this.#rebuild();
    this.#sendChanges();
    return this.#id;
  }

  /** Queues what changed since the worker's object last heard: attributes, an own connect(). */
  #sendChanges(): void {
    const own = this.#ownConnect();
    if (own !== this.#ownSent) {
      this.#ownSent = own;
      enqueue({ c: 'own', id: this.#id, a: [own] });
    }
    const changed: Array<[string, unknown]> = [];
    for (const name of SENT) {
      const value = this[name as Sent];
      if (!Object.is(value, this.#sent[name])) {
        changed.push([name, value]);
        this.#sent[name] = value;
      }
    }
    if (changed.length > 0) {
      const id = this.#id;
      enqueue((encoder) => ({ c: 'set', id, a: changed.map(([n, v]) => [n, encoder.value(v)]) }));
    }
  }

  /**
   * The worker that had this connection's object is gone: make it again, closed, with the
   * attributes the caller gave this one (sent with the next call, as any changed one).
   */
  #rebuild(): void {
    const recipe = this.#recipe;
    const remake = this.#remake;
    if (recipe === null && remake === null) {
      throw new WorkerError(
        'httplib-ts/sync: this connection belonged to a worker thread that failed and was replaced',
      );
    }
    // An HTTPS connection's context goes on (one made for it, which the caller may have
    // changed since, too: a new one would forget what the caller loaded into it).
    const context = (this as { _context?: httplib.ssl.SSLContext })._context;
    this.#adoptKeeping(() =>
      recipe !== null
        ? create({ ...recipe, context: context ?? recipe.context })
        : (remake as () => Created)(),
    );
    if (this.#tunnel !== null) this.#call('set_tunnel', (e) => e.values(this.#tunnel as unknown[]));
  }

  #call(method: string, encode: (encoder: Encoder, scope: CallScope) => Json[]): Json {
    return invoke(this.#target(), method, encode).value;
  }

  /** A call that may open the socket: an HTTPS connection sends its context's fields first. */
  #beforeConnect(): void {
    if (this instanceof HTTPSConnection && this.sock === null) sendContext(this._context);
  }

  /** Python's `set_debuglevel(level)`: see the main entry. Output is written by this thread. */
  set_debuglevel(level: number): void {
    checkDebugLevel(level);
    this.debuglevel = level;
  }

  /** Python's `_tunnel_host`: the host `set_tunnel()` named, or null (see the main entry). */
  get _tunnel_host(): string | null {
    return this.#tunnelTarget()?.[0] ?? null;
  }

  /** Python's `_tunnel_port`: the port `set_tunnel()` named, or null (see the main entry). */
  get _tunnel_port(): number | null {
    return this.#tunnelTarget()?.[1] ?? null;
  }

  #tunnelTarget(): [string, number] | null {
    const tunnel = this.#tunnel;
    if (tunnel === null) return null;
    const defaultPort = (this.constructor as unknown as { default_port: number }).default_port;
    return parseHostPort(tunnel[0] as string, (tunnel[1] as number | null) ?? null, defaultPort);
  }

  /** Python's `set_tunnel(host, port=None, headers=None)`: see the main entry. */
  set_tunnel<H extends httplib.HeadersInput<H>>(
    host: string,
    port?: number | null,
    headers?: H | null,
  ): void {
    if (this.#direct !== null) this.#toWorker();
    const args = [host, port, pairs(headers)];
    this.#call('set_tunnel', (e) => e.values(args));
    this.#tunnel = args;
  }

  /**
   * Python's `connect()`: blocks until connected (and tunnelled, and TLS is up). A call
   * that opens a socket runs a subclass's own connect(), whose `super.connect()` (this)
   * opens the socket the call goes on, as part of that call.
   */
  connect(): void {
    const direct = this.#direct;
    if (direct !== null) {
      if (direct.delegating) direct.connect();
      else exclusive(() => direct.connect());
      return;
    }
    if (openingFor(this.#mirror)) {
      // What the subclass's connect() changed first (the address it picked, its context).
      this.#sendChanges();
      this.#beforeConnect();
      openSocketForCall();
      return;
    }
    this.#beforeConnect();
    this.#call('connect', () => []);
  }

  /** Python's `close()`. */
  close(): void {
    const direct = this.#direct;
    if (direct !== null) {
      exclusive(() => direct.close());
      return;
    }
    if (this.#generation !== currentGeneration()) return;
    this.#call('close', () => []);
  }

  /** Python's `putrequest(method, url, skip_host=False, skip_accept_encoding=False)`. */
  putrequest(method: string, url: string, options?: httplib.PutRequestOptions | null): void {
    optionsOf(options, 'putrequest', OPTION_NAMES.putrequest);
    const direct = this.#direct;
    if (direct !== null) {
      exclusive(() => direct.putrequest(method, url, options));
      return;
    }
    this.#call('putrequest', (e) => [e.value(method), e.value(url), e.value(options)]);
  }

  /** Python's `putheader(header, *values)`. */
  putheader(header: string, ...values: httplib.HeaderValue[]): void {
    const direct = this.#direct;
    if (direct !== null) {
      exclusive(() => direct.putheader(header, ...values));
      return;
    }
    this.#call('putheader', (e) => [e.value(header), ...e.values(values)]);
  }

  /** Python's `endheaders(message_body=None)`: blocks until the head (and body) are sent. */
  endheaders(messageBody?: T.RequestBody, options?: T.RequestOptions): void {
    refuseSignal(options, 'endheaders()', OPTION_NAMES.endheaders);
    const direct = this.#direct;
    if (direct !== null) {
      exclusive(() => direct.endheaders(messageBody, options));
      return;
    }
    this.#sendBody('endheaders', messageBody, (e) => [e.value(options)], true);
  }

  /** Python's `send(data)`: blocks until `data` is sent. */
  send(
    data: NonNullable<T.RequestBody>,
    options?: T.NoSignal<{ signal?: AbortSignal | undefined }>,
  ): void {
    refuseSignal(options, 'send()');
    const direct = this.#direct;
    if (direct !== null) {
      exclusive(() => direct.send(data));
      return;
    }
    this.#sendBody('send', data, () => [], false);
  }

  /** Python's `request(method, url, body=None, headers={})`: returns once the request is sent. */
  request<H extends httplib.HeadersInput<H>>(
    method: string,
    url: string,
    body?: T.RequestBody,
    headers?: H | null,
    options?: T.RequestOptions,
  ): void {
    refuseSignal(options, 'request()', OPTION_NAMES.request);
    const direct = this.#direct;
    if (direct !== null) {
      exclusive(() => direct.request(method, url, body, pairs(headers), options));
      return;
    }
    const given = pairs(headers);
    this.#sendBody(
      'request',
      body,
      (e) => [e.value(given), e.value(options)],
      true,
      (e) => [e.value(method), e.value(url)],
    );
  }

  /** A call with a body: the body goes at its place among the arguments. */
  #sendBody(
    method: string,
    body: unknown,
    after: (e: Encoder) => Json[],
    trailing: boolean,
    before: (e: Encoder) => Json[] = () => [],
  ): void {
    this.#beforeConnect();
    let done: (() => void) | null = null;
    this.#call(method, (e, scope) => {
      const encoded = encodeBody(body, e, scope);
      done = encoded.done;
      const rest = trailing ? after(e) : [];
      return [...before(e), encoded.json, ...rest];
    });
    (done as (() => void) | null)?.();
  }

  /** Python's `getresponse()`: blocks until the response head is read. */
  getresponse(options?: T.GetResponseOptions): T.Blocking<httplib.HTTPResponse> {
    refuseSignal(options, 'getresponse()');
    const direct = this.#direct;
    if (direct !== null)
      return exclusive(() => direct.getresponse()) as unknown as T.Blocking<httplib.HTTPResponse>;
    const { value, reply } = invoke(this.#target(), 'getresponse', () => []);
    return makeResponse((value as unknown as { $resp: ResponseHead }).$resp, reply.decoder);
  }
}

/** `headers` as given, or, for an iterable that is not an array or a Map, its pairs (read once, here). */
function pairs(headers: unknown): unknown {
  if (
    headers !== null &&
    typeof headers === 'object' &&
    !Array.isArray(headers) &&
    !(headers instanceof Map) &&
    Symbol.iterator in headers
  ) {
    return [...(headers as Iterable<unknown>)];
  }
  return headers;
}

/**
 * Python's `httplib.HTTPSConnection`, blocking: the main entry's `HTTPSConnection`
 * (certificate and host-name checks on by default, `context`), with blocking calls.
 * The `context` is the caller's `ssl.SSLContext`: its settings are sent to the worker
 * each time a connection is opened (a certificate chain the constructor loads into it,
 * from `key_file`/`cert_file`, is loaded into the caller's context too, as in the main
 * entry).
 *
 * @example
 * ```ts
 * import * as httplib from 'httplib-ts/sync';
 *
 * const context = httplib.ssl.create_default_context({ cafile: 'ca.pem' });
 * const conn = new httplib.HTTPSConnection('localhost', 8443, { context });
 * conn.request('GET', '/');
 * console.log(conn.getresponse().status); // 200
 * ```
 */
export class HTTPSConnection extends HTTPConnection implements T.Blocking<httplib.HTTPSConnection> {
  /** Python's `default_port`: 443. */
  static override default_port = httplib.HTTPS_PORT;

  // Set from the worker's object while the base constructor runs: `declare`, so that no
  // field initializer of this class overwrites them afterwards.
  /** Python's `key_file` (deprecated, as in Python): the client key file given, or null. */
  declare key_file: string | null;
  /** Python's `cert_file` (deprecated, as in Python): the client certificate file given, or null. */
  declare cert_file: string | null;
  /** Python's `_context`: the `SSLContext` this connection uses (the caller's, if given). */
  declare readonly _context: httplib.ssl.SSLContext;
  /** The constructor's `check_hostname`, or null to follow the context's. */
  readonly #checkHostname: boolean | null;

  constructor(host: string, port?: number | null, options: T.HTTPSConnectionOptions = {}) {
    super(host, port, options);
    // (A legacy HTTPS object's connection, made with BIND, was given none.)
    this.#checkHostname =
      (host as unknown) === BIND
        ? null
        : checkHostnameOption((options as T.HTTPSConnectionOptions | null)?.check_hostname);
  }

  /**
   * Whether the host name is checked: the constructor's `check_hostname`, else the
   * context's, read now, as the main entry's getter (a copy made by the constructor
   * missed a later `context.check_hostname = false`, which the connect does follow).
   */
  get check_hostname(): boolean {
    return this.#checkHostname ?? this._context.check_hostname;
  }
}
