/**
 * Observability: where `set_debuglevel` output goes, the `NODE_DEBUG=httplib` log, and
 * the `diagnostics_channel` channels. Nothing here changes behaviour, and nothing costs
 * more than a boolean check while nobody listens.
 *
 * Channels (each message is a plain object):
 * - `httplib:connect`          `{ connection, host, port, socket }` once TCP is connected (for
 *                              one-step HTTPS the TLS socket, before its handshake)
 * - `httplib:request:headers`  `{ connection, method, url, head }` when a request head is sent
 * - `httplib:response:headers` `{ connection, response }` when a response head was read
 * - `httplib:error`            `{ connection, error }` when a request or response fails
 */
import diagnostics_channel from 'node:diagnostics_channel';
import type { Writable } from 'node:stream';
import { debuglog } from 'node:util';

/**
 * Where `set_debuglevel(n > 0)` output goes: a writable (default `process.stdout`) or a
 * function given each piece of text. Python 2.7 always prints to `sys.stdout`.
 */
export type DebugOutput = Writable | NodeJS.WritableStream | ((text: string) => void);

/**
 * Write debug text the way Python 2.7's `print` puts it on stdout: the text holds one
 * character per byte (a header line as it came, latin-1), so a stream gets those bytes
 * (`X-Name: \xe9` is the byte e9, as CPython writes it, not UTF-8's c3 a9); a function
 * gets the text.
 */
export function writeDebug(out: DebugOutput | null | undefined, text: string): void {
  if (typeof out === 'function') out(text);
  else (out ?? process.stdout).write(Buffer.from(text, 'latin1'));
}

/** The start of the codes of the package's own warnings (`DEP_HTTPLIB_KEY_CERT_FILE`). */
export const WARNING_CODE_PREFIX = 'DEP_HTTPLIB_';

const warned = new Set<string>();

/**
 * Emit one of the package's warnings once per process, by its code, as Node's
 * `util.deprecate` does: a warning made at each construction floods stderr in a loop,
 * and Node dedupes nothing by itself. The blocking entry's worker emits its own through
 * here and the calling thread re-emits them through here too, so the two threads make one.
 */
export function warnOnce(message: string, type: string, code: string): void {
  if (warned.has(code)) return;
  warned.add(code);
  process.emitWarning(message, { type, code });
}

/** `NODE_DEBUG=httplib` log lines (connections opened, reused, closed). */
export const nodeDebug = debuglog('httplib');

export const connectChannel = diagnostics_channel.channel('httplib:connect');
export const tunnelChannel = diagnostics_channel.channel('httplib:tunnel');
export const requestHeadersChannel = diagnostics_channel.channel('httplib:request:headers');
export const responseHeadersChannel = diagnostics_channel.channel('httplib:response:headers');
export const errorChannel = diagnostics_channel.channel('httplib:error');

/**
 * `pending` itself, whose failure is also published on `httplib:error` as
 * `{ connection, error }` (only when somebody listens: no extra promise otherwise). The
 * caller gets the very promise it would get without a subscriber: a promise derived from
 * it and rethrowing was one more rejection nobody held, and a forgotten `await` (a port
 * of Python's `conn.request()`) died of an unhandled rejection only while an observability
 * tool listened. Publishing from a handler of its own, added before the caller's, still
 * tells the subscriber first.
 */
export function publishFailure<T>(pending: Promise<T>, connection: unknown): Promise<T> {
  if (errorChannel.hasSubscribers) {
    pending.then(undefined, (err: unknown) => {
      errorChannel.publish({ connection, error: err });
    });
  }
  return pending;
}
