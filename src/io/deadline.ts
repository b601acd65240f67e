/**
 * The one timeout, cancellation and local-close path. Every wait of a connection — the
 * TCP connect, the CONNECT tunnel, the TLS handshake, each wait for bytes and for the
 * socket to drain — begins and ends on the `Deadline` of the socket it waits on, which
 * ends it early in exactly three ways: its timer (`TimeoutError`), an `AbortSignal` of
 * the call or the connection (`AbortError`), or `close()` by the caller (`AbortError`
 * saying so), which aborts the connection's one controller that every deadline of it
 * listens to. What ends a wait early fails the deadline's victim (the socket's reader,
 * or the connect/handshake under way): nothing else has timers or abort listeners.
 *
 * Also Python's timeouts: the module-wide default (`socket.setdefaulttimeout`) and the
 * conversion of a connection's `timeout` (seconds, fractions allowed, `null` = wait
 * forever) into milliseconds. No timer exists unless a timeout is set, and it is armed
 * only while something waits; no listener is added unless a signal is given.
 */
import { type EventEmitter, getEventListeners } from 'node:events';
import { AbortError, type ConnectionPhase, TimeoutError } from '../protocol/errors.ts';

let defaultTimeout: number | null = null;

/**
 * Check a timeout the way Python's `socket.settimeout` does: a non-negative number of
 * seconds, or `null`/`undefined` for none. Python raises `ValueError` for a negative
 * value; here it is a `TypeError` (API.md's mapping).
 */
export function checkTimeout(seconds: unknown, what = 'timeout'): number | null {
  if (seconds === null || seconds === undefined) return null;
  if (typeof seconds !== 'number' || Number.isNaN(seconds)) {
    const got = typeof seconds === 'number' ? 'NaN' : typeof seconds;
    throw new TypeError(`${what} must be a number of seconds or null, got ${got}`);
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
export function setdefaulttimeout(seconds: number | null | undefined): void {
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

/**
 * `signal.addEventListener('abort', listener, options)`, where a warning that cannot be
 * printed does not fail the call. Past 10 listeners on one signal (a signal shared by many
 * calls) Node warns, `MaxListenersExceededWarning` through `process.emitWarning`, once the
 * listener is added; an `emitWarning` that throws (replaced by the caller) threw out of
 * here, half-way through setting up a wait: the call failed, or `read()` threw instead of
 * rejecting and left its response refusing every later read. Anything else that stops the
 * listener from being added is still thrown.
 */
export function listenAbort(
  signal: AbortSignal,
  listener: Parameters<AbortSignal['addEventListener']>[1],
  options?: { readonly once?: boolean },
): void {
  try {
    signal.addEventListener('abort', listener, options);
  } catch (err) {
    if (!(getEventListeners(signal, 'abort') as unknown[]).includes(listener)) throw err;
  }
}

/**
 * What a socket's 'error' event carried, as an Error: Node's sockets always give one, but
 * a `createConnection` hook's stream may emit anything (`undefined`, a string, `null`),
 * and every call rejects with an Error. The value is the new error's `cause`; the error is
 * the package's own, so it has a `code` of its own (API.md "Errors carry codes"): a
 * caller that tells failures apart by `code` would find none.
 */
export function socketError(value: unknown, what = 'the socket'): Error {
  if (value instanceof Error) return value;
  return notAnError(`${what} failed with a value that is not an Error: ${shown(value)}`, value);
}

/** The package's Error for a failure that came as no Error (`value`, its cause, if any). */
export function notAnError(message: string, value?: unknown): Error {
  const options = value === undefined ? undefined : { cause: value };
  return Object.assign(new Error(message, options), { code: 'ERR_HTTPLIB_NOT_AN_ERROR' });
}

/**
 * Whether a send's error says the peer cut the connection (a reset, or its end), as
 * opposed to a timeout, an abort or the body's own failure: the code of the socket's
 * error (connection-driver.ts, sync/direct.ts: an answer already queued is then read).
 */
export function isPeerCut(err: unknown): boolean {
  const code = (err as NodeJS.ErrnoException | null)?.code;
  return code === 'ECONNRESET' || code === 'EPIPE' || code === 'ECONNABORTED';
}

/** `value` as text for a message, even when it has no usable `toString` (null prototype). */
function shown(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value);
  try {
    return String(value);
  } catch {
    return Object.prototype.toString.call(value);
  }
}

/**
 * A connecting socket's outcome for {@link Deadline.until}: 'connect' settles with null,
 * 'error' with the error, each heard once; returns what takes both listeners off.
 */
export function connectOutcome(
  socket: EventEmitter,
  settle: (err: Error | null) => void,
): () => void {
  const onConnect = (): void => settle(null);
  const onError = (value: unknown): void => settle(socketError(value));
  socket.once('connect', onConnect);
  socket.once('error', onError);
  return () => {
    socket.off('connect', onConnect);
    socket.off('error', onError);
  };
}

/** Milliseconds for a timer, or `null` for no timer (the pure conversion is pytext.ts's). */
export { timeoutMs } from '../protocol/pytext.ts';

/** The wait options of one call, and what to do once it settled. */
export interface CallWait extends WaitOptions {
  /**
   * The call settled: a signal of its own joined to the connection's (see
   * {@link callWait}) is let go of. Idempotent; nothing to do without one.
   */
  readonly release: () => void;
}

function noop(): void {}

/**
 * The wait options of a call with its own `signal` (joined to the connection's `shared`
 * one for this call only): `release()` must follow once the call settled.
 */
export function callWait(
  timeout: number | null,
  own: AbortSignal,
  shared: AbortSignal | null | undefined,
): CallWait {
  if (shared === null || shared === undefined || shared === own) {
    return { timeoutMs: timeout, signal: own, release: noop };
  }
  if (own.aborted) return { timeoutMs: timeout, signal: own, release: noop };
  if (shared.aborted) return { timeoutMs: timeout, signal: shared, release: noop };
  const joined = new JoinedSignal(own, shared);
  return { timeoutMs: timeout, signal: joined.signal, release: joined.release };
}

/**
 * `promise` (a call that waited with `wait`), letting go of the wait's joined signal
 * once it settled, either way.
 */
export function releasing<T>(promise: Promise<T>, wait: CallWait): Promise<T> {
  return promise.then(
    (value) => {
      wait.release();
      return value;
    },
    (err: unknown) => {
      wait.release();
      throw err;
    },
  );
}

/**
 * A call's own signal and the connection's, either of which cancels the call (a call's
 * own signal must not switch the connection's off): it fires with the reason of the
 * first of them to fire. One listener on each, taken off by `release()` (when the call
 * settled) or by the first abort. Not `AbortSignal.any`: the connection's signal lives as
 * long as the connection and would keep an entry for every call made on it.
 */
class JoinedSignal {
  private readonly controller = new AbortController();
  readonly signal = this.controller.signal;
  private own: AbortSignal | null;
  private shared: AbortSignal | null;

  constructor(own: AbortSignal, shared: AbortSignal) {
    this.own = own;
    this.shared = shared;
    listenAbort(own, this);
    listenAbort(shared, this);
  }

  /** One of them fired: the joined signal fires with its reason. */
  handleEvent(event: Event): void {
    this.release();
    this.controller.abort((event.target as AbortSignal).reason);
  }

  readonly release = (): void => {
    this.own?.removeEventListener('abort', this);
    this.shared?.removeEventListener('abort', this);
    this.own = null;
    this.shared = null;
  };
}

/** What a wait is for (a `TimeoutError` and a close by the caller name it). */
export type Phase = ConnectionPhase;

/** The error of an operation that `close()` (of the connection or the response) ended. */
export function closedByCaller(phase?: Phase): AbortError {
  const err = AbortError.closedByCaller(phase);
  byCaller.add(err);
  return err;
}
const byCaller = new WeakSet<Error>();

/** Whether `err` is the error of an operation the caller's `close()` ended. */
export function isClosedByCaller(err: unknown): boolean {
  return err instanceof Error && byCaller.has(err);
}

/**
 * The error of a wait for `phase` that the connection's close controller (`epoch`) ended:
 * the caller's close names the phase; a close with a reason of its own (a call's signal
 * that gave up the whole exchange) is that reason.
 */
export function epochError(epoch: AbortSignal, phase?: Phase): Error {
  const reason: unknown = epoch.reason;
  return reason instanceof AbortError && !byCaller.has(reason) ? reason : closedByCaller(phase);
}

/** The error of an operation whose `AbortSignal` fired. */
export function abortedBy(signal: AbortSignal): AbortError {
  return new AbortError('The operation was aborted', { cause: signal.reason });
}

/**
 * `promise` (a wait that is not on a socket: a body being prepared), or, as soon as
 * `close()` aborts `epoch`, its error for `phase`. A value that comes after the close
 * goes to `late` (to let go of what it holds).
 */
export function beforeClose<T>(
  promise: Promise<T>,
  epoch: AbortSignal,
  phase: Phase,
  late: (value: T) => void,
): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const onClose = (): void => reject(epochError(epoch, phase));
    listenAbort(epoch, onClose, { once: true });
    promise.then(
      (value) => {
        epoch.removeEventListener('abort', onClose);
        if (epoch.aborted) late(value);
        resolve(value);
      },
      (err: unknown) => {
        epoch.removeEventListener('abort', onClose);
        reject(err);
      },
    );
  });
}

/** A host and port, as a timeout names them. */
export interface Peer {
  readonly host: string;
  readonly port: number;
}

/** Options of one wait: all may be absent (then no timer and no listener). */
export interface WaitOptions {
  readonly timeoutMs?: number | null | undefined;
  /** The connection's `timeout` as given (for the message), with `timeoutMs`. */
  readonly seconds?: number | null | undefined;
  readonly signal?: AbortSignal | null | undefined;
}

/** Called with the error that ends the waits of a deadline early. */
export type Victim = (err: Error) => void;

/**
 * The deadline of one socket (from its connect to its end): one timer, re-armed for each
 * timed wait and checked when it fires (it ends only waits still pending), the abort
 * signals of the waits under way, and the connection's close controller.
 */
export class Deadline {
  /** Who the socket connects to: the server, or the proxy when tunnelling. */
  private readonly peer: Peer;
  /** Who the requests are for: the server (the tunnel's host when tunnelling). */
  private readonly origin: Peer;
  /** Who fails when a wait is ended early: the reader, or the connect/handshake. */
  victim: Victim | null = null;
  private epoch: AbortSignal | null;
  private timer: NodeJS.Timeout | null = null;
  private timerMs = 0;
  private phase: Phase = 'connect';
  private seconds = 0;
  private waits = 0;
  /**
   * The bytes still queued for the kernel on the socket (peer-probe.ts `queuedBytes`),
   * or null where that cannot be known: a wait for drain that sees them go down is not
   * timed out, as Python's timeout bounds each `send`, not the whole `sendall`.
   */
  sendQueue: (() => number | null) | null = null;
  /** `sendQueue()` when the wait for drain began, or last seen going down. */
  private queued: number | null = null;
  /**
   * The bytes the socket has received below TLS (peer-probe.ts `receivedBytes`), or null
   * where not TLS or not known: a wait that sees them grow is not timed out while a record
   * arrives a few bytes at a time (README: a timeout never fires while bytes keep coming).
   */
  received: (() => number | null) | null = null;
  /** `received()` when the wait began, or when the timer last saw it grow. */
  private seen: number | null = null;
  private readonly measureQueue = (): void => {
    if (this.waits === 0 || this.phase !== 'send') return;
    this.queued = this.sendQueue?.() ?? null;
    // The write is with libuv from now (TLS may have spent a while encrypting it): the
    // timeout counts from here.
    if (this.queued !== null) this.timer?.refresh();
  };
  /** The signals listened to, one entry per wait that gave one. */
  private held: AbortSignal[] = [];
  /** `close()`: the error names what was waited for, if anything. */
  private readonly onClose = (): void =>
    this.expire(epochError(this.epoch as AbortSignal, this.waits > 0 ? this.phase : undefined));
  private readonly onAbort = (event: Event): void =>
    this.expire(abortedBy(event.target as AbortSignal));

  /**
   * `epoch`: the connection's close controller's signal (`close()` aborts it); `peer`
   * the host the socket goes to; `origin` the server the requests are for.
   */
  constructor(epoch: AbortSignal | null, peer: Peer, origin: Peer = peer) {
    this.epoch = epoch;
    this.peer = peer;
    this.origin = origin;
    if (epoch !== null) listenAbort(epoch, this.onClose, { once: true });
  }

  /**
   * Start a wait for `phase`. Returns the error that ends it at once (the connection was
   * closed, the signal already fired, Python's timeout 0: a non-blocking socket), and
   * then nothing is armed; else null, and `end` must follow.
   */
  begin(phase: Phase, options?: WaitOptions): Error | null {
    const early = this.check(phase, options);
    if (early !== null) return early;
    const signal = options?.signal ?? null;
    const ms = options?.timeoutMs ?? null;
    this.phase = phase;
    this.seconds = options?.seconds ?? (ms ?? 0) / 1000;
    this.waits++;
    if (this.received !== null && ms !== null) this.seen = this.received();
    if (phase === 'send' && ms !== null && this.sendQueue !== null) {
      // Measured once the write is with the kernel's side: a corked head and body go
      // out in a later tick of this turn.
      this.queued = null;
      setImmediate(this.measureQueue);
    }
    if (signal !== null) {
      listenAbort(signal, this.onAbort);
      this.held.push(signal);
    }
    if (ms !== null) this.arm(ms);
    // An untimed wait alone: the timer of an earlier timed one (the timeout attribute set
    // to null since) must not end it.
    else if (this.waits === 1) this.clearTimer();
    return null;
  }

  /** The error that would end a wait for `phase` at once, or null (nothing is armed). */
  check(phase: Phase, options?: WaitOptions): Error | null {
    if (this.epoch?.aborted) return epochError(this.epoch, phase);
    const signal = options?.signal ?? null;
    if (signal?.aborted) return abortedBy(signal);
    if (options?.timeoutMs === 0) return this.timedOut(phase, 0);
    return null;
  }

  /** The `TimeoutError` of a wait for `phase`: it names the peer and the seconds. */
  private timedOut(phase: Phase, seconds: number): TimeoutError {
    const { host, port } = phase === 'connect' || phase === 'tunnel' ? this.peer : this.origin;
    return new TimeoutError({ phase, host, port, seconds });
  }

  /**
   * Bytes arrived without ending the wait (a direct read filling offered memory): the
   * timeout counts from now, as Python's applies to each `recv`.
   */
  progress(): void {
    if (this.timer !== null && this.waits > 0) this.timer.refresh();
  }

  /**
   * The bytes received so far were taken by the TLS layer as whole records that carry
   * nothing to read (a session ticket): they are not bytes coming, and do not re-arm the
   * timeout as a record still arriving does (`received`).
   */
  consumed(): void {
    if (this.received !== null) this.seen = this.received();
  }

  /** A wait started with `begin(…, options)` ended. */
  end(options?: WaitOptions): void {
    if (this.waits > 0) this.waits--;
    const signal = options?.signal ?? null;
    if (signal === null) return;
    const held = this.held;
    const i = held.indexOf(signal);
    if (i === -1) return;
    held.splice(i, 1);
    // One listener per signal: it goes once no wait holds that signal any more.
    if (!held.includes(signal)) signal.removeEventListener('abort', this.onAbort);
  }

  /**
   * Wait, under this deadline, for what `subscribe` listens to (a connect, a handshake):
   * it calls `settle(null)` on success or `settle(err)`, and returns its cleanup. The
   * deadline ends it early with `TimeoutError`/`AbortError` (the caller destroys what
   * it was connecting).
   */
  until(
    phase: Phase,
    options: WaitOptions | undefined,
    subscribe: (settle: (err: Error | null) => void) => () => void,
  ): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const early = this.begin(phase, options);
      if (early !== null) {
        reject(early);
        return;
      }
      const previous = this.victim;
      let cleanup: (() => void) | null = null;
      let done = false;
      const settle = (err: Error | null): void => {
        if (done) return;
        done = true;
        cleanup?.();
        this.end(options);
        this.victim = previous;
        if (err === null) resolve();
        else reject(err);
      };
      this.victim = settle;
      cleanup = subscribe(settle);
      if (done) cleanup();
    });
  }

  /** Stop listening to the connection's `close()`: a response took the socket over. */
  detach(): void {
    this.epoch?.removeEventListener('abort', this.onClose);
    this.epoch = null;
  }

  /** The socket is gone: no timer, no listener left. */
  dispose(): void {
    this.detach();
    this.clearTimer();
    for (const signal of new Set(this.held)) signal.removeEventListener('abort', this.onAbort);
    this.held.length = 0;
    this.waits = 0;
    this.victim = null;
  }

  private expire(err: Error): void {
    this.victim?.(err);
  }

  /** One timer per socket, created on the first timed wait and re-armed with `refresh()`. */
  private arm(ms: number): void {
    if (this.timer !== null && this.timerMs === ms) {
      this.timer.refresh();
      return;
    }
    this.clearTimer();
    this.timerMs = ms;
    this.timer = setTimeout(() => {
      if (this.waits === 0) return;
      if (this.phase === 'send' && this.queued !== null) {
        // Bytes left for the peer during the timeout: a new timeout from now.
        const queued = this.sendQueue?.() ?? null;
        // Down: bytes left. Up: the write drained and the next one went in.
        if (queued !== null && queued !== this.queued) {
          this.queued = queued;
          this.timer?.refresh();
          return;
        }
      } else if (this.received !== null) {
        // Bytes of a TLS record came in during the timeout: a new timeout from now.
        const received = this.received();
        if (received !== null && received !== this.seen) {
          this.seen = received;
          this.timer?.refresh();
          return;
        }
      }
      this.expire(this.timedOut(this.phase, this.seconds));
    }, ms);
    this.timer.unref();
  }

  private clearTimer(): void {
    if (this.timer !== null) {
      clearTimeout(this.timer);
      this.timer = null;
    }
  }
}
