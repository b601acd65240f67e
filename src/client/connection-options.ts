/**
 * The options of `HTTPConnection` and of its calls (Python's keyword arguments, plus the
 * TypeScript-only `signal`, `createConnection` and `debugOutput`), and the checks of the
 * constructor's that are not Python's host/port parsing.
 */
import { typeName } from '../io/body-kinds.ts';
import type { CreateConnection } from '../io/transport.ts';
import { isPort } from '../protocol/pytext.ts';
import type { DebugOutput } from './debug.ts';

/** Constructor options (Python's keyword arguments, plus TypeScript-only additions). */
export interface HTTPConnectionOptions {
  /** Python's `strict`: a status line that is not HTTP/1.x raises `BadStatusLine`. */
  strict?: boolean | null | undefined;
  /** Seconds for each blocking operation; `null` waits forever. Default: `getdefaulttimeout()`. */
  timeout?: number | null | undefined;
  /** Python's `source_address`: `[host, port]` for the local end (`''`/`0` = any). */
  source_address?: readonly [string, number] | null | undefined;
  /**
   * Python 3.7+'s `blocksize`: bytes per read of a file or stream body, default 8192.
   * When given, a file (`FileHandle`, `fs.ReadStream`) or stream body is written in
   * pieces of exactly this size, as Python does; by default a file is read and written
   * 256 KiB at a time, which is faster and looks the same on the wire.
   */
  blocksize?: number | undefined;
  /** Cancels every operation of this connection when it fires. */
  signal?: AbortSignal | undefined;
  /** Replaces the TCP connect (a test seam; Python tests replace `_create_connection`). */
  createConnection?: CreateConnection | undefined;
  /** Where `set_debuglevel` output goes instead of `process.stdout`. */
  debugOutput?: DebugOutput | undefined;
}

/** Options of `request()` and `endheaders()`. */
export interface RequestOptions {
  /** Python 3's `encode_chunked`: frame the body in chunks (when `Transfer-Encoding` was given). */
  encode_chunked?: boolean | undefined;
  /** Cancels this call: the socket is destroyed and the call rejects with `AbortError`. */
  signal?: AbortSignal | undefined;
}

/** Options of `getresponse()` (Python's takes none). */
export interface GetResponseOptions {
  /** Cancels this call: the socket is destroyed and the call rejects with `AbortError`. */
  signal?: AbortSignal | undefined;
}

/** Python's `source_address`: `[host, port]`, or null; anything else is a `TypeError`. */
export function checkSourceAddress(value: unknown): readonly [string, number] | null {
  if (value === null || value === undefined) return null;
  if (
    !Array.isArray(value) ||
    value.length !== 2 ||
    typeof value[0] !== 'string' ||
    !isPort(value[1])
  ) {
    throw new TypeError('source_address must be [host, port]');
  }
  return [value[0], value[1]];
}

/**
 * `set_debuglevel(level)`'s level: a number (a bigint, a boolean or null as Python's
 * comparisons take them). Anything else is a `TypeError` at the call: Python 3 fails
 * only when the level is first compared, and a string silently printed nothing here.
 */
export function checkDebugLevel(level: unknown): void {
  const kind = typeof level;
  if (level === null || kind === 'number' || kind === 'bigint' || kind === 'boolean') return;
  throw new TypeError(`set_debuglevel() takes a number, got ${typeName(level)}`);
}

/**
 * A method's options (Python's keyword arguments): an object, or null/undefined for
 * none. Anything else is a `TypeError`: a positional argument from a Python port
 * (`new HTTPConnection(host, port, 10)`, Python 3's timeout; `putrequest(m, url, 1)`,
 * skip_host) must not be silently ignored.
 */
export function optionsOf<T extends object>(
  value: T | null | undefined,
  what: string,
  names?: readonly string[] | null,
): T | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'object') {
    throw new TypeError(
      `${what} takes its options as an object ({ name: value }, Python's keyword arguments), got ${typeName(value)}`,
    );
  }
  if (names !== undefined && names !== null) refuseUnknown(value, what, names);
  return value;
}

/**
 * An option this call does not have is a `TypeError`, as Python refuses an unexpected
 * keyword argument (`timout=5`): silently ignored, a misspelt `timeout` left the
 * connection waiting forever. Every own enumerable key counts, whatever its value.
 */
export function refuseUnknown(options: object, what: string, names: readonly string[]): void {
  for (const key of Object.keys(options)) {
    if (names.includes(key)) continue;
    const call = /^[\w.]+$/.test(what) ? `${what}()` : what;
    throw new TypeError(
      `${call} got an unexpected keyword argument '${key}' (its options: ${names.join(', ')})`,
    );
  }
}

/** The names of each call's options (Python's keyword arguments, and ours). */
export const OPTION_NAMES = {
  HTTPConnection: [
    'strict',
    'timeout',
    'source_address',
    'blocksize',
    'signal',
    'createConnection',
    'debugOutput',
  ],
  /** `HTTPSConnection`'s own, after `HTTPConnection`'s. */
  HTTPSConnection: ['context', 'check_hostname', 'key_file', 'cert_file'],
  HTTPS: ['key_file', 'cert_file', 'strict', 'context'],
  putrequest: ['skip_host', 'skip_accept_encoding'],
  /** `ssl.create_default_context` and `ssl._create_unverified_context`. */
  context: ['purpose', 'cafile', 'capath', 'cadata'],
  request: ['encode_chunked', 'signal'],
  endheaders: ['encode_chunked', 'signal'],
  signal: ['signal'],
} as const satisfies Record<string, readonly string[]>;

/** Every option of an `HTTPSConnection` (both entries): `HTTPConnection`'s, then its own. */
export const HTTPS_CONNECTION_OPTIONS: readonly string[] = [
  ...OPTION_NAMES.HTTPConnection,
  ...OPTION_NAMES.HTTPSConnection,
];

/**
 * The package's connection classes, by their constructor's option names (`OPTION_NAMES`):
 * each checks the options it is given. A subclass of the caller's is not here: it may take
 * options of its own and pass them all to `super()`.
 */
export const classOptions = new Map<object, readonly string[]>();

/**
 * A call's `signal` option, checked (`optionsOf`, `signalError`): throws `TypeError`, so
 * a promise method calls it inside its try and rejects.
 */
export function callSignal(
  options: { readonly signal?: AbortSignal | undefined } | null | undefined,
  what: string,
  names: readonly string[] = OPTION_NAMES.signal,
): AbortSignal | undefined {
  const signal = optionsOf(options, what, names)?.signal;
  const bad = signalError(signal);
  if (bad !== null) throw bad;
  return signal ?? undefined;
}

/**
 * A `signal` option that is not an `AbortSignal` (null and undefined are "none"): the
 * `TypeError` to refuse it with, else null. Checked when given, so that a wrong value
 * fails at the call that passed it, before a byte is sent.
 */
export function signalError(value: unknown): TypeError | null {
  if (value === undefined || value === null || value instanceof AbortSignal) return null;
  return new TypeError(`signal must be an AbortSignal, got ${typeName(value)}`);
}

/** The constructor's TypeScript-only options (`signal`, `createConnection`, `debugOutput`). */
export function checkHooks(options: HTTPConnectionOptions): void {
  const bad = signalError(options.signal);
  if (bad !== null) throw bad;
  const create: unknown = options.createConnection;
  if (create !== undefined && create !== null && typeof create !== 'function') {
    throw new TypeError(`createConnection must be a function, got ${typeName(create)}`);
  }
  const out: unknown = options.debugOutput;
  if (
    out !== undefined &&
    out !== null &&
    typeof out !== 'function' &&
    typeof (out as { write?: unknown }).write !== 'function'
  ) {
    throw new TypeError(
      `debugOutput must be a function or a writable stream, got ${typeName(out)}`,
    );
  }
}
