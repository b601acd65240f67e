/**
 * Python's timeouts: the module-wide default (`socket.setdefaulttimeout`) and the
 * conversion of a connection's `timeout` (seconds, fractions allowed, `null` = wait
 * forever) into the milliseconds the I/O shell arms its timers with.
 *
 * The timers themselves live with the socket (byte-reader.ts): one per connection, armed
 * only while a blocking operation waits, and only when a timeout is set. This file keeps
 * the rules in one place; it must not create timers of its own.
 */

let defaultTimeout: number | null = null;

/**
 * Check a timeout the way Python's `socket.settimeout` does: a non-negative number of
 * seconds, or `null`/`undefined` for none. Python raises `ValueError` for a negative
 * value; here it is a `TypeError` (API.md's mapping).
 */
export function checkTimeout(seconds: unknown, what = 'timeout'): number | null {
  if (seconds === null || seconds === undefined) return null;
  if (typeof seconds !== 'number' || Number.isNaN(seconds)) {
    throw new TypeError(`${what} must be a number of seconds or null, got ${typeof seconds}`);
  }
  if (seconds < 0) throw new TypeError(`${what} value must be non-negative`);
  return seconds;
}

/**
 * Python: `socket.setdefaulttimeout(seconds)`: the timeout of connections created
 * without one. `null` (the initial value) means none.
 *
 * Differs from Python: it is this package's own default, read by the connection
 * constructors only (Python's is the socket module's, for every socket); a negative
 * value throws `TypeError` (Python: `ValueError`).
 *
 * @example
 * ```ts
 * httplib.setdefaulttimeout(10); // seconds
 * const conn = new httplib.HTTPConnection('www.python.org'); // conn.timeout === 10
 * ```
 */
export function setdefaulttimeout(seconds: number | null): void {
  defaultTimeout = checkTimeout(seconds);
}

/**
 * Python: `socket.getdefaulttimeout()`: the value {@link setdefaulttimeout} set, or `null`.
 *
 * Differs from Python: it is this package's own default (see {@link setdefaulttimeout}),
 * not the socket module's.
 *
 * @example
 * ```ts
 * console.log(httplib.getdefaulttimeout()); // null: connections wait forever
 * httplib.setdefaulttimeout(2.5);
 * console.log(httplib.getdefaulttimeout()); // 2.5
 * ```
 */
export function getdefaulttimeout(): number | null {
  return defaultTimeout;
}

/** Milliseconds for a timer, or `null` for no timer (the pure conversion is pytext.ts's). */
export { timeoutMs } from '../protocol/pytext.ts';

const combined = new WeakMap<AbortSignal, { shared: AbortSignal; both: AbortSignal }>();

/**
 * The signal a call waits on: its own `signal` and the connection's, either of which
 * cancels it (a call's own signal must not switch the connection's off). The
 * combination is kept per own signal, so a loop of reads with one signal builds one.
 */
export function combineSignals(
  own: AbortSignal | null | undefined,
  shared: AbortSignal | null | undefined,
): AbortSignal | null {
  if (own === null || own === undefined) return shared ?? null;
  if (shared === null || shared === undefined || shared === own) return own;
  const hit = combined.get(own);
  if (hit !== undefined && hit.shared === shared) return hit.both;
  const both = AbortSignal.any([own, shared]);
  combined.set(own, { shared, both });
  return both;
}
