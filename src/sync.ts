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
import type { HTTPConnection, HTTPSConnection } from './sync/connection.ts';
import type { HTTP, HTTPS } from './sync/legacy.ts';
import { HTTPResponse as SyncHTTPResponse } from './sync/response.ts';
import type * as T from './sync/types.ts';

export * from './index.ts';

// The connection classes are exported as the classes they are, so that a subclass
// overrides their methods as methods (`override connect(): void { super.connect(); … }`).
export { HTTPConnection, HTTPSConnection } from './sync/connection.ts';
export { HTTP, HTTPS } from './sync/legacy.ts';

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

// Checked here, at compile time: each blocking class has exactly the main entry's members,
// turned blocking (`Blocking`), constructor parameters (`CtorParams`) and statics. A member
// added to the main entry and not here, or one typed otherwise, names itself in the error.
type Check<Names extends never> = Names;
// biome-ignore lint/correctness/noUnusedVariables: a check, compiled and not used
type Checked = [
  Check<T.Differing<HTTPConnection, httplib.HTTPConnection>>,
  Check<T.Differing<HTTPSConnection, httplib.HTTPSConnection>>,
  Check<T.Differing<HTTP, httplib.HTTP>>,
  Check<T.Differing<HTTPS, httplib.HTTPS>>,
  Check<T.DifferingClass<typeof HTTPConnection, typeof httplib.HTTPConnection>>,
  Check<T.DifferingClass<typeof HTTPSConnection, typeof httplib.HTTPSConnection>>,
  Check<T.DifferingClass<typeof HTTP, typeof httplib.HTTP>>,
  Check<T.DifferingClass<typeof HTTPS, typeof httplib.HTTPS>>,
];

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
