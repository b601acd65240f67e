/**
 * httplib-ts: the public surface (shared/API.md), and nothing else.
 *
 * Python 2.7's `httplib` with the safety fixes of Python 3's `http.client`, for Node.js.
 * `import * as httplib from 'httplib-ts'` gives the module as Python has it.
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
export * as ssl from './client/ssl.ts';
export type { RequestBody } from './io/body-source.ts';
export { getdefaulttimeout, setdefaulttimeout } from './io/deadline.ts';
export type { ConnectParams, CreateConnection } from './io/transport.ts';
export {
  AbortError,
  BadStatusLine,
  CannotSendHeader,
  CannotSendRequest,
  error,
  HTTPException,
  ImproperConnectionState,
  IncompleteRead,
  InvalidURL,
  LineTooLong,
  NotConnected,
  RemoteDisconnected,
  ResponseNotReady,
  TimeoutError,
  UnimplementedFileMode,
  UnknownProtocol,
  UnknownTransferEncoding,
} from './protocol/errors.ts';
export { HTTP_PORT, HTTPS_PORT } from './protocol/limits.ts';
export { HTTPMessage } from './protocol/message.ts';
export type { HeadersInput, PutRequestOptions } from './protocol/request-writer.ts';
export * from './protocol/status.ts';
