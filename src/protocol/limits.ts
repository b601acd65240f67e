/**
 * Every numeric limit of the protocol core, named once.
 *
 * The values are CPython's (2.7.18 for the line and header limits, the 2025–2026
 * http.client fixes for interim responses and trailers). Nothing here may depend on
 * I/O; the I/O shell imports these to size its buffers.
 *
 * Only the default ports, `HTTP_PORT` and `HTTPS_PORT`, are public (as in Python, where
 * the limits are private `_MAXLINE`, `_MAXHEADERS`…).
 *
 * @example
 * ```ts
 * const conn = new httplib.HTTPConnection('localhost', httplib.HTTP_PORT);
 * console.log(httplib.HTTPSConnection.default_port === httplib.HTTPS_PORT); // true
 * ```
 */

/** Default port of plain HTTP (`httplib.HTTP_PORT`): 80. Same as Python. */
export const HTTP_PORT = 80;
/** Default port of HTTPS (`httplib.HTTPS_PORT`): 443. Same as Python. */
export const HTTPS_PORT = 443;

/**
 * Longest line (status, header, chunk size, trailer, tunnel reply) in bytes,
 * terminator included: CPython reads `readline(_MAXLINE + 1)` and rejects a result
 * longer than `_MAXLINE`.
 */
export const MAXLINE = 65536;

/** Most header lines (continuation lines included) in one response head (`_MAXHEADERS`). */
export const MAXHEADERS = 100;

/** Most interim (1xx) responses before the final one (`_MAXINTERIMRESPONSES`, gh-150743). */
export const MAXINTERIM = 100;

/** Most trailer lines after the last chunk (gh-150743). */
export const MAXTRAILERS = 100;

/**
 * Largest Content-Length or chunk size accepted: lengths are JavaScript numbers, so
 * anything past 2^53 - 1 would lose precision and is rejected instead.
 */
export const MAX_SAFE_LENGTH = Number.MAX_SAFE_INTEGER;

/** Bytes per read of a file or stream request body (`blocksize` in Python 3.7+). */
export const DEFAULT_BLOCKSIZE = 8192;
