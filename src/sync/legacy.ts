/**
 * `HTTP` and `HTTPS` of `httplib-ts/sync`: twins of the main entry's Python 1.5.2
 * compatibility classes. The worker runs the main entry's own `HTTP`/`HTTPS`; `_conn` is
 * the twin of the connection inside it, and `file` / `headers` mirror its own.
 *
 * If the worker fails, the object is made again in the next worker on its next call (or
 * its connection's), as a connection is: as if it had been closed.
 */
import { OPTION_NAMES, optionsOf } from '../client/connection-options.ts';
import { contextOption } from '../client/https-connection.ts';
import * as httplib from '../index.ts';
import { encodeBody } from './bodies.ts';
import { type CallScope, currentGeneration } from './channel.ts';
import { connectionTarget, HTTPConnection, HTTPSConnection } from './connection.ts';
import { BIND, type Bound, type Created, create, type Recipe, sendContext } from './recipe.ts';
import { invoke, type ResponseHead } from './remote.ts';
import { makeResponse } from './response.ts';
import type * as T from './types.ts';
import type { Decoder, Encoder, Json } from './wire.ts';

/**
 * Python 2.7's `httplib.HTTP` (the 1.5.2 compatibility class), blocking: see the main
 * entry's `HTTP`.
 *
 * @example
 * ```ts
 * import * as httplib from 'httplib-ts/sync';
 *
 * const h = new httplib.HTTP('localhost', 8080);
 * h.putrequest('GET', '/');
 * h.endheaders();
 * const [errcode, errmsg] = h.getreply();
 * const body = h.getfile()?.read();
 * ```
 */
export class HTTP implements T.Blocking<httplib.HTTP> {
  /** The wrapped connection (Python's `_conn`). */
  readonly _conn: HTTPConnection;
  /** The last reply's response (Python's `file`), or null. */
  file: T.Blocking<httplib.HTTPResponse> | null = null;
  /** The last reply's headers, or null after a bad status line. */
  headers: httplib.HTTPMessage | null = null;

  #id = 0;
  #generation = -1;
  readonly #recipe: Recipe;

  /** Python: `HTTP(host='', port=None, strict=None)`. */
  constructor(host = '', port?: number | null, strict?: boolean | null) {
    // Not a parameter (the main entry's has none either), refused from JavaScript: the
    // connection is made in the worker.
    // biome-ignore lint/complexity/noArguments: a fourth argument is no parameter
    if (arguments[3] !== undefined) {
      throw new TypeError('httplib-ts/sync: HTTP takes no connection of its own');
    }
    const https = this instanceof HTTPS;
    const options = https ? ((strict as unknown as httplib.HTTPSOptions | undefined) ?? {}) : null;
    const context = options === null ? null : contextOption(options.context);
    const args: unknown[] = https
      ? [host, port, { ...options, context: undefined }]
      : [host, port, strict];
    this.#recipe = { cls: https ? 'HTTPS' : 'HTTP', args, context };
    const created = this.#make(context);
    const Conn = https ? HTTPSConnection : HTTPConnection;
    const bound: Bound = {
      created,
      // (The connection's SSL context, which the caller may have changed since, goes on.)
      remake: () => this.#make(this._conn instanceof HTTPSConnection ? this._conn._context : null),
    };
    this._conn = new Conn(
      BIND as unknown as string,
      null,
      bound as unknown as T.HTTPConnectionOptions,
    );
    // Made in the worker, whose default timeout is its own: the connection takes this
    // thread's (setdefaulttimeout), as Python's HTTP builds its connection with the global
    // default. Sent to the worker with the next call, as any changed attribute.
    this._conn.timeout = httplib.getdefaulttimeout();
  }

  /**
   * Makes the worker's object (again, after a worker failed: as if closed, the last reply's
   * `file` gone with its worker); what it gives, for the wrapped connection's twin.
   */
  #make(context: httplib.ssl.SSLContext | null): Created {
    const created = create({ ...this.#recipe, context });
    this.#id = created.id;
    this.#generation = currentGeneration();
    this.file = null;
    this.#response = null;
    return { ...created, id: created.conn as number };
  }

  #call(method: string, encode: (e: Encoder, scope: CallScope) => Json[]): Json {
    // The wrapped connection's changed attributes go first (after a worker failed, its
    // twin makes this object again first: `#make`).
    connectionTarget(this._conn);
    const { value, reply } = invoke(this.#id, method, encode);
    const st = reply.json.st as { file?: Json; headers?: string[] | null } | undefined;
    if (st !== undefined && 'file' in st) {
      const file = st.file as { $resp: ResponseHead } | null;
      this.file = file === null ? null : this.#responseFor(file.$resp, reply.decoder);
      // Python's `self.headers = response.msg`: the reply's own object, not a copy.
      this.headers =
        st.headers === null || st.headers === undefined
          ? null
          : ((this.file?.msg as httplib.HTTPMessage | undefined) ??
            new httplib.HTTPMessage(st.headers));
    }
    return value;
  }

  #response: T.Blocking<httplib.HTTPResponse> | null = null;
  #responseId = -1;
  #responseFor(head: ResponseHead, decoder: Decoder): T.Blocking<httplib.HTTPResponse> {
    if (this.#response === null || this.#responseId !== head.id) {
      this.#response = makeResponse(head, decoder);
      this.#responseId = head.id;
    }
    return this.#response;
  }

  /** Python: `connect(host=None, port=None)`. */
  connect(host?: string | null, port?: number | null): void {
    if (this._conn instanceof HTTPSConnection && this._conn.sock === null)
      sendContext(this._conn._context);
    this.#call('connect', (e) => [e.value(host), e.value(port)]);
  }

  /** Python: `putrequest(method, url, …)`. */
  putrequest(method: string, url: string, options?: httplib.PutRequestOptions | null): void {
    this.#call('putrequest', (e) => [e.value(method), e.value(url), e.value(options)]);
  }

  /** Python: `putheader(header, *values)`. */
  putheader(header: string, ...values: httplib.HeaderValue[]): void {
    this.#call('putheader', (e) => [e.value(header), ...e.values(values)]);
  }

  /** Python: `endheaders(message_body=None)`. */
  endheaders(messageBody?: T.RequestBody): void {
    this.#withBody('endheaders', messageBody);
  }

  /** Python: `send(data)`. */
  send(data: NonNullable<T.RequestBody>): void {
    this.#withBody('send', data);
  }

  #withBody(method: string, body: unknown): void {
    if (this._conn instanceof HTTPSConnection && this._conn.sock === null)
      sendContext(this._conn._context);
    let done: (() => void) | null = null;
    this.#call(method, (e, scope) => {
      const encoded = encodeBody(body, e, scope);
      done = encoded.done;
      return [encoded.json];
    });
    (done as (() => void) | null)?.();
  }

  /** Python: `set_debuglevel(level)`. */
  set_debuglevel(level: number): void {
    this._conn.set_debuglevel(level);
  }

  /** Python: `getreply()` → `[status, reason, headers]`; `[-1, line, null]` on a bad status line. */
  getreply(): [number, string, httplib.HTTPMessage | null] {
    const value = this.#call('getreply', () => []) as { $a: Json[] };
    const [status, reason] = value.$a as [number, string];
    return [status, reason, this.headers];
  }

  /** Python: `getfile()`: the reply's body as a file (`getfile().read()`). */
  getfile(): T.Blocking<httplib.HTTPResponse> | null {
    return this.file;
  }

  /** Python: `close()`. */
  close(): void {
    if (this.#generation !== currentGeneration()) {
      this.file = null;
      return;
    }
    this.#call('close', () => []);
    this.file = null;
  }
}

/**
 * Python 2.7's `httplib.HTTPS`, blocking: see the main entry's `HTTPS`.
 *
 * @example
 * ```ts
 * import * as httplib from 'httplib-ts/sync';
 *
 * const h = new httplib.HTTPS('localhost', 8443, { context: httplib.ssl.create_default_context() });
 * h.putrequest('GET', '/');
 * h.endheaders();
 * const [errcode] = h.getreply();
 * ```
 */
export class HTTPS extends HTTP implements T.Blocking<httplib.HTTPS> {
  /** Python's `key_file`: the client key file given, or null. */
  declare key_file: string | null;
  /** Python's `cert_file`: the client certificate file given, or null. */
  declare cert_file: string | null;

  /** Python: `HTTPS(host='', port=None, key_file=None, cert_file=None, strict=None, context=None)`. */
  constructor(host = '', port?: number | null, given: httplib.HTTPSOptions = {}) {
    const options = optionsOf<httplib.HTTPSOptions>(given, 'HTTPS', OPTION_NAMES.HTTPS) ?? {};
    super(host, port, options as unknown as boolean);
    this.key_file = options.key_file ?? null;
    this.cert_file = options.cert_file ?? null;
  }
}
