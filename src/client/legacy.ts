/**
 * `HTTP` and `HTTPS`: the Python 1.5.2 compatibility classes that Python 2.7's httplib
 * keeps ("It should not be used in new code"). They wrap a connection that speaks
 * HTTP/1.0 (so no automatic `Host` or `Accept-Encoding`), and read the answer with
 * `getreply()` → `[errcode, errmsg, headers]` and `getfile()`.
 *
 * Everything is delegated to `HTTPConnection`/`HTTPSConnection`; nothing is parsed here.
 */

import type { RequestBody } from '../io/body-source.ts';
import { BadStatusLine, RemoteDisconnected } from '../protocol/errors.ts';
import type { HTTPMessage } from '../protocol/message.ts';
import type { HeaderValue, PutRequestOptions } from '../protocol/request-writer.ts';
import { parseHostPort, validateHost } from '../protocol/validate.ts';
import { OPTION_NAMES, optionsOf } from './connection-options.ts';
import { HTTPConnection } from './http-connection.ts';
import type { HTTPResponse } from './http-response.ts';
import { HTTPSConnection, type HTTPSConnectionOptions } from './https-connection.ts';

/**
 * The connection `HTTPS` gives `HTTP`'s constructor to wrap (Python's `_setup(conn)`),
 * set just before its `super()` call. Not a constructor parameter: Python's `HTTP` takes
 * none (API.md: `new HTTP(host, port?, strict?)`), and the blocking entry's refuses one.
 */
let handedConnection: HTTPConnection | null = null;

/**
 * Python 2.7's `httplib.HTTP`: the Python 1.5.2 compatibility class ("should not be
 * used in new code"). It speaks HTTP/1.0 and adds no `Host` header, as in Python;
 * `getreply()` gives `[errcode, errmsg, headers]` and `getfile()` the body.
 *
 * Differs from Python 2.7: `getfile()` returns the response, whose `read()` decodes a
 * chunked body (2.7 returns the raw socket file, framing included), `connect()`
 * checks a new host as the constructor does, and `close()` closes that response (2.7
 * drops its reference, which closes the file unless the caller kept one).
 *
 * @example
 * ```ts
 * const h = new httplib.HTTP('www.python.org');
 * h.putrequest('GET', '/index.html');
 * h.putheader('Host', 'www.python.org');
 * await h.endheaders();
 * const [errcode, errmsg] = await h.getreply();
 * const body = await h.getfile()?.read();
 * ```
 */
export class HTTP {
  /** The wrapped connection (Python's `_conn`). */
  readonly _conn: HTTPConnection;
  /** The last reply's response (Python's `file`), or null. */
  file: HTTPResponse | null = null;
  /** The last reply's headers, or null after a bad status line. */
  headers: HTTPMessage | null = null;

  /**
   * Python: `HTTP(host='', port=None, strict=None)`. An empty host may be given now and
   * the real one to `connect()`. Port 0 means the default port.
   */
  constructor(host = '', port?: number | null, strict?: boolean | null) {
    // Python's `_setup(conn)`: `HTTPS` hands over its own connection.
    const given = handedConnection;
    handedConnection = null;
    this._conn = given ?? new HTTPConnection(host, legacyPort(port), { strict: strict ?? null });
    this._conn._http_vsn = 10;
  }

  /**
   * Python: `connect(host=None, port=None)`: optionally re-target, then connect. A bad
   * host rejects (a promise method never throws).
   */
  connect(host?: string | null, port?: number | null): Promise<void> {
    if (host !== undefined && host !== null) {
      const ctor = this._conn.constructor as typeof HTTPConnection;
      try {
        const [h, p] = parseHostPort(host, port ?? null, ctor.default_port);
        // Checked as the constructor checks its host (CVE-2019-18348): control
        // characters are InvalidURL, before any lookup or connection (2.7 checks nothing).
        validateHost(h);
        this._conn.host = h;
        this._conn.port = p;
      } catch (err) {
        return Promise.reject(err);
      }
    }
    return this._conn.connect();
  }

  /**
   * Python: `putrequest(method, url, …)`, the wrapped connection's own method
   * ({@link HTTPConnection.putrequest}); the request line says HTTP/1.0, and no `Host`
   * is added.
   */
  putrequest(method: string, url: string, options?: PutRequestOptions | null): void {
    this._conn.putrequest(method, url, options);
  }

  /** Python: the wrapped connection's `putheader(header, *values)`: {@link HTTPConnection.putheader}. */
  putheader(header: string, ...values: HeaderValue[]): void {
    this._conn.putheader(header, ...values);
  }

  /** Python: the wrapped connection's `endheaders(message_body=None)`: {@link HTTPConnection.endheaders}. */
  endheaders(messageBody?: RequestBody): Promise<void> {
    return this._conn.endheaders(messageBody);
  }

  /** Python: the wrapped connection's `send(data)`: {@link HTTPConnection.send}. */
  send(data: NonNullable<RequestBody>): Promise<void> {
    return this._conn.send(data);
  }

  /** Python: the wrapped connection's `set_debuglevel(level)`: {@link HTTPConnection.set_debuglevel}. */
  set_debuglevel(level: number): void {
    this._conn.set_debuglevel(level);
  }

  /**
   * Python: `getreply()` → `(status, reason, headers)`; on a bad status line
   * `(-1, line, None)` and the connection is closed.
   */
  async getreply(): Promise<[number, string, HTTPMessage | null]> {
    let response: HTTPResponse;
    try {
      response = await this._conn.getresponse();
    } catch (err) {
      if (!(err instanceof BadStatusLine)) throw err;
      this.close();
      this.headers = null;
      return [-1, legacyLine(err), null];
    }
    this.headers = response.msg;
    this.file = response;
    return [response.status, response.reason, response.msg];
  }

  /** Python: `getfile()`: the reply's body as a file (`await getfile().read()`). */
  getfile(): HTTPResponse | null {
    return this.file;
  }

  /**
   * Python: `close()`: the connection, and the reply's response with it. Python drops
   * its reference to the reply's file, and the last reference gone closes it; JavaScript
   * closes nothing it drops, so the response (which owns the socket of an HTTP/1.0
   * reply) is closed here, or each reply left unread kept its socket open.
   */
  close(): void {
    this._conn.close();
    this.file?.close();
    this.file = null;
  }
}

/** Options of the legacy `HTTPS` class (Python's keyword arguments). */
export interface HTTPSOptions {
  /** Deprecated (Python too): a PEM private key file for a client certificate. */
  key_file?: string | null | undefined;
  /** Deprecated (Python too): a PEM client certificate file. */
  cert_file?: string | null | undefined;
  /** Python's `strict`: see {@link HTTPConnectionOptions.strict}. */
  strict?: boolean | null | undefined;
  /** Python 2.7.9+'s `context`: an `ssl.SSLContext`; default `ssl.create_default_context()`. */
  context?: HTTPSConnectionOptions['context'];
}

/**
 * Python 2.7's `httplib.HTTPS`: {@link HTTP} over {@link HTTPSConnection}, with the
 * same certificate checks (on by default).
 *
 * Differs from Python 2.7 as {@link HTTP} does; the keyword arguments (`key_file`,
 * `cert_file`, `strict`, `context`) are a trailing options object.
 *
 * @example
 * ```ts
 * const context = httplib.ssl.create_default_context({ cafile: 'ca.pem' });
 * const h = new httplib.HTTPS('localhost', 8443, { context });
 * h.putrequest('GET', '/');
 * h.putheader('Host', 'localhost');
 * await h.endheaders();
 * const [errcode, errmsg, headers] = await h.getreply();
 * const body = await h.getfile()?.read();
 * h.close();
 * ```
 */
export class HTTPS extends HTTP {
  /** Python's `key_file`: the client key file given, or null. */
  key_file: string | null;
  /** Python's `cert_file`: the client certificate file given, or null. */
  cert_file: string | null;

  /** Python: `HTTPS(host='', port=None, key_file=None, cert_file=None, strict=None, context=None)`. */
  constructor(host = '', port?: number | null, given: HTTPSOptions = {}) {
    const options = optionsOf<HTTPSOptions>(given, 'HTTPS', OPTION_NAMES.HTTPS) ?? {};
    const strict = options.strict ?? null;
    handedConnection = new HTTPSConnection(host, legacyPort(port), {
      strict,
      key_file: options.key_file,
      cert_file: options.cert_file,
      context: options.context,
    });
    super(host, port, strict);
    this.key_file = options.key_file ?? null;
    this.cert_file = options.cert_file ?? null;
  }
}

/** Python 2.7's `BadStatusLine` message when the server closed before any status line. */
const NO_STATUS_LINE = 'No status line received - the server has closed the connection';

/**
 * The `line` Python 2.7 puts in `getreply()`'s `[-1, line, None]`: the bad line itself,
 * or, when the server closed before sending one, its message (Python 3's
 * `RemoteDisconnected`, which this package raises then, carries the line `''`).
 */
function legacyLine(err: BadStatusLine): string {
  if (!(err instanceof RemoteDisconnected)) return err.line;
  return err.message === new RemoteDisconnected().message ? NO_STATUS_LINE : err.message;
}

/** Python: "some joker passed 0 explicitly, meaning default port". */
function legacyPort(port: number | null | undefined): number | null {
  return port === 0 || port === undefined ? null : port;
}
