/**
 * httplib-ts: the public surface (shared/API.md), and nothing else.
 *
 * Python 2.7's `httplib` with the safety fixes of Python 3's `http.client`, for Node.js.
 */
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
