// The declarations use Node's types (Buffer, node:net, …): a project whose tsconfig has
// "types": [] loads them through this (kept in dist/ by preserve), else Buffer is any.
/// <reference types="node" preserve="true" />
/**
 * httplib-ts: the public surface (shared/API.md), and nothing else.
 *
 * Python 2.7's `httplib` with the safety fixes of Python 3's `http.client`, for Node.js.
 * `import * as httplib from 'httplib-ts'` gives the module as Python has it.
 *
 * The names are Python's; keyword arguments become a trailing options object, `None` is
 * `null`, bodies are `Buffer`s, every call that waits for the network returns a promise,
 * `ValueError` is `TypeError` and `socket.timeout` is {@link TimeoutError}. Where this
 * package is deliberately stricter than CPython 2.7, the README's "Differences from
 * Python" lists it.
 *
 * @example
 * ```ts
 * import * as httplib from 'httplib-ts';
 *
 * const conn = new httplib.HTTPConnection('www.python.org');
 * await conn.request('GET', '/index.html');
 * const response = await conn.getresponse();
 * console.log(response.status, response.reason); // 200 OK
 * const body = await response.read();
 * conn.close();
 * ```
 *
 * @packageDocumentation
 */

export type { DebugOutput } from './client/debug.ts';
export {
  type GetResponseOptions,
  HTTPConnection,
  type HTTPConnectionOptions,
  type RequestOptions,
} from './client/http-connection.ts';
export { HTTPResponse, type ReadOptions } from './client/http-response.ts';
export { HTTPSConnection, type HTTPSConnectionOptions } from './client/https-connection.ts';
export { HTTP, HTTPS, type HTTPSOptions } from './client/legacy.ts';
/**
 * The `ssl` helpers that httplib's documentation names (Python's `ssl` module, client
 * side): {@link ssl.SSLContext}, {@link ssl.create_default_context},
 * {@link ssl._create_unverified_context}, the `CERT_*` and `PROTOCOL_*` constants,
 * {@link ssl.TLSVersion}, and the errors a failed handshake rejects with
 * ({@link ssl.SSLError} ⊃ {@link ssl.SSLCertVerificationError}).
 *
 * Differs from Python: built on `node:tls` (Node's CA store and OpenSSL), client side
 * only, no socket wrapping of its own. The constants have Python's values.
 *
 * @example
 * ```ts
 * const context = new httplib.ssl.SSLContext(httplib.ssl.PROTOCOL_TLS_CLIENT);
 * console.log(context.verify_mode === httplib.ssl.CERT_REQUIRED); // true
 * context.load_default_certs();
 * const conn = new httplib.HTTPSConnection('www.python.org', 443, { context });
 * ```
 */
export * as ssl from './client/ssl.ts';
export type { RequestBody } from './io/body-source.ts';
export { getdefaulttimeout, setdefaulttimeout } from './io/deadline.ts';
export type { ConnectParams, CreateConnection } from './io/transport.ts';
export { BodyLengthMismatch, FramingError } from './protocol/body-errors.ts';
export {
  AbortError,
  BadStatusLine,
  CannotSendHeader,
  CannotSendRequest,
  type ConnectionPhase,
  error,
  HTTPException,
  ImproperConnectionState,
  IncompleteRead,
  InvalidURL,
  LineTooLong,
  NotConnected,
  RemoteDisconnected,
  ResponseNotReady,
  type TimeoutDetails,
  TimeoutError,
  TunnelError,
  UnimplementedFileMode,
  UnknownProtocol,
  UnknownTransferEncoding,
} from './protocol/errors.ts';
export { HTTP_PORT, HTTPS_PORT } from './protocol/limits.ts';
export { HTTPMessage } from './protocol/message.ts';
export type {
  HeaderFields,
  HeadersInput,
  HeaderValue,
  PutRequestOptions,
} from './protocol/request-writer.ts';
export * from './protocol/status.ts';
