// The declarations use Node's types (Buffer, node:net, …): a project whose tsconfig has
// "types": [] loads them through this (kept in dist/ by preserve), else Buffer is any.
/// <reference types="node" preserve="true" />
/**
 * httplib-ts/sync: the blocking API. The same module as `httplib-ts` (every class,
 * function, constant and exception, with the same names and options), where every call
 * that returns a promise in the main entry blocks and returns its value, as in Python:
 * `conn.request(...)` returns once the request is sent, `conn.getresponse()` returns the
 * response, `response.read()` returns a `Buffer`, `for (const chunk of response)` iterates
 * synchronously. For line-by-line ports of Python code, scripts, CLIs and build steps.
 *
 * It blocks the calling thread: not for a server's request handlers, nor for code whose
 * event loop has other work to do (its timers, sockets and servers wait while a call
 * blocks; a server in the same thread cannot answer the request at all).
 *
 * How it works: one worker thread per process (started by the first call, never keeping
 * the process alive) opens the sockets. For plain HTTP on Node, the calling thread does
 * the HTTP itself with the main entry's protocol core: it writes requests on the socket's
 * descriptor and parses responses out of a ring of shared memory the worker's socket reads
 * into, waiting (`Atomics.wait`) only for bytes that have not arrived. HTTPS, tunnels,
 * Deno and Windows run the main entry's async client in the worker, and the calling
 * thread waits for each call's result. Exceptions are the main entry's classes
 * (`instanceof` holds across both entries), thrown synchronously. `timeout` works as in
 * the main entry; `signal` options are refused with a `TypeError`. Request bodies:
 * strings, bytes, `Blob`s, `FileHandle`s, `fs.ReadStream`s, file descriptors and
 * synchronous iterables; async iterables, other `Readable`s and file-backed `Blob`s
 * (`fs.openAsBlob`) are refused with a `TypeError`. `set_debuglevel` output is written by the calling thread, in order,
 * before the call returns. The `diagnostics_channel` messages and the `NODE_DEBUG`
 * log are the worker thread's (they are not seen by subscribers in the calling thread).
 * Close every connection: CPython closes a dropped connection's socket at once, but a
 * library hears of a collected object only from the event loop, which a blocking script
 * may never reach (a dropped connection keeps its socket until its server closes it).
 *
 * @example
 * ```ts
 * import * as httplib from 'httplib-ts/sync';
 *
 * const conn = new httplib.HTTPConnection('www.python.org');
 * conn.request('GET', '/index.html');
 * const response = conn.getresponse();
 * console.log(response.status, response.reason); // 200 OK
 * const body = response.read(); // a Buffer
 * conn.close();
 * ```
 *
 * @packageDocumentation
 */
import type * as httplib from './index.ts';
import {
  HTTPConnection as SyncHTTPConnection,
  HTTPSConnection as SyncHTTPSConnection,
} from './sync/connection.ts';
import { HTTP as SyncHTTP, HTTPS as SyncHTTPS } from './sync/legacy.ts';
import { HTTPResponse as SyncHTTPResponse } from './sync/response.ts';
import type * as T from './sync/types.ts';

export * from './index.ts';

/**
 * Python's `httplib.HTTPConnection`, blocking. The main entry's `HTTPConnection`, with
 * every promise-returning method blocking and returning its value.
 *
 * @example
 * ```ts
 * import * as httplib from 'httplib-ts/sync';
 *
 * const conn = new httplib.HTTPConnection('localhost', 8080, { timeout: 10 });
 * conn.request('POST', '/form', 'a=1', { 'Content-Type': 'application/x-www-form-urlencoded' });
 * const response = conn.getresponse();
 * console.log(response.status); // 200
 * conn.close();
 * ```
 */
export const HTTPConnection: T.BlockingClass<typeof httplib.HTTPConnection> = SyncHTTPConnection;
/** The blocking `HTTPConnection`'s instances: the main entry's, blocking (see {@link Blocking}). */
export type HTTPConnection = T.Blocking<httplib.HTTPConnection>;

/**
 * Python's `httplib.HTTPSConnection`, blocking: the main entry's `HTTPSConnection`
 * (certificate and host-name checks on by default, `context`), with blocking calls.
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
export const HTTPSConnection: T.BlockingClass<typeof httplib.HTTPSConnection> = SyncHTTPSConnection;
/** The blocking `HTTPSConnection`'s instances: the main entry's, blocking (see {@link Blocking}). */
export type HTTPSConnection = T.Blocking<httplib.HTTPSConnection>;

/**
 * Python's `httplib.HTTPResponse`, blocking: `read()` returns a `Buffer`, iteration is
 * synchronous. Made by `getresponse()`, never by users.
 *
 * @example
 * ```ts
 * import * as httplib from 'httplib-ts/sync';
 *
 * const conn = new httplib.HTTPConnection('localhost', 8080);
 * conn.request('GET', '/big');
 * const response = conn.getresponse();
 * for (const chunk of response) process.stdout.write(chunk);
 * console.log(response instanceof httplib.HTTPResponse); // true
 * ```
 */
export const HTTPResponse =
  SyncHTTPResponse as unknown as T.UnconstructibleClass<httplib.HTTPResponse>;
/** The blocking `HTTPResponse`'s instances: the main entry's, blocking (see {@link Blocking}). */
export type HTTPResponse = T.Blocking<httplib.HTTPResponse>;

/**
 * Python 2.7's `httplib.HTTP` (the 1.5.2 compatibility class), blocking.
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
export const HTTP: T.BlockingClass<typeof httplib.HTTP> = SyncHTTP;
/** The blocking `HTTP`'s instances: the main entry's, blocking (see {@link Blocking}). */
export type HTTP = T.Blocking<httplib.HTTP>;

/**
 * Python 2.7's `httplib.HTTPS`, blocking.
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
export const HTTPS: T.BlockingClass<typeof httplib.HTTPS> = SyncHTTPS;
/** The blocking `HTTPS`'s instances: the main entry's, blocking (see {@link Blocking}). */
export type HTTPS = T.Blocking<httplib.HTTPS>;

export type {
  Blocking,
  BlockingClass,
  BlockingMethod,
  BlockingRequest,
  Changes,
  ClassTwin,
  CtorParam,
  CtorParams,
  GetResponseOptions,
  HTTPConnectionOptions,
  HTTPSConnectionOptions,
  InternalMember,
  NoSignal,
  Param,
  Params,
  ReadOptions,
  RequestBody,
  RequestOptions,
  Same,
  SignalRefused,
  SocketInfo,
  Twin,
  UnconstructibleClass,
} from './sync/types.ts';
