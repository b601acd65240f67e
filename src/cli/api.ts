/**
 * The part of the package's public API the command uses for every request: the same
 * classes and constants `../index.ts` exports (a test checks they are the very same
 * objects), imported from the modules index.ts re-exports them from.
 *
 * Not from index.ts itself, for the start-up (issue 14): the command is one bundled file
 * (scripts/bundle-cli.mjs), and importing index.ts would run and compile its TLS half —
 * `ssl`, `HTTPSConnection`, the CA store, X.509 parsing — before an http:// download
 * could start. That half is in tls.ts, imported only for an https:// URL.
 */
export type { DebugOutput } from '../client/debug.ts';
export { HTTPConnection } from '../client/http-connection.ts';
export type { HTTPResponse } from '../client/http-response.ts';
export { SSLCertVerificationError, SSLError } from '../client/ssl-errors.ts';
export { BodyLengthMismatch, FramingError } from '../protocol/body-errors.ts';
export { AbortError, TimeoutError, TunnelError } from '../protocol/connection-errors.ts';
export { HTTPException, IncompleteRead } from '../protocol/errors.ts';
export { HTTP_PORT, HTTPS_PORT } from '../protocol/limits.ts';
