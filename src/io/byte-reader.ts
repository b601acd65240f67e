/**
 * The byte reader: everything that listens to one socket. It queues the bytes that
 * arrive (pausing the socket above a high-water mark, so memory stays bounded whatever
 * the server sends), lets the response parser and the `read*` methods pull from that
 * queue without copying, waits for more bytes or for drain with one cancellation path
 * (the connection's timeout and `AbortSignal`s), and holds the socket's end, error and
 * idle state so that no socket event can ever escape as an uncaught exception.
 *
 * It knows nothing of HTTP. It is the only place besides transport.ts that touches a
 * socket; the only timer it owns is created when a timeout is set, and armed only while
 * somebody waits.
 */
import type { Duplex } from 'node:stream';
import {
  AbortError,
  type ConnectionPhase,
  type TimeoutDetails,
  TimeoutError,
} from '../protocol/errors.ts';

/** Bytes queued before the socket is paused until the reader catches up. */
export const HIGH_WATER_MARK = 256 * 1024;

const EMPTY = Buffer.alloc(0);

/** Options of one blocking wait: all may be absent (then no timer and no listener). */
export interface WaitOptions {
  readonly timeoutMs?: number | null | undefined;
  readonly signal?: AbortSignal | null | undefined;
  /** What the `TimeoutError` says if `timeoutMs` runs out (phase, peer, seconds). */
  readonly timeout?: TimeoutDetails | null | undefined;
}

/** `wait` for another phase (the same object when it has no timeout to describe). */
export function inPhase(wait: WaitOptions, phase: ConnectionPhase): WaitOptions {
  const timeout = wait.timeout;
  if (timeout === null || timeout === undefined || timeout.phase === phase) return wait;
  return { ...wait, timeout: { ...timeout, phase } };
}

type Waiting = 'data' | 'drain';

/**
 * One kind of wait: the callbacks to wake and the abort signals listened to meanwhile.
 * Usually one caller; concurrent callers join (their callbacks are chained).
 */
class WaitSlot {
  private wake: (() => void) | null = null;
  private signals: AbortSignal | AbortSignal[] | null = null;

  get pending(): boolean {
    return this.wake !== null;
  }

  add(wake: () => void, signal: AbortSignal | null, onAbort: (event: Event) => void): void {
    const first = this.wake;
    this.wake =
      first === null
        ? wake
        : () => {
            first();
            wake();
          };
    if (signal === null) return;
    signal.addEventListener('abort', onAbort, { once: true });
    const held = this.signals;
    this.signals =
      held === null ? signal : Array.isArray(held) ? [...held, signal] : [held, signal];
  }

  /** Wake every caller (the slot is empty again first, so a caller may wait again at once). */
  end(onAbort: (event: Event) => void): void {
    const wake = this.wake;
    if (wake === null) return;
    this.wake = null;
    const held = this.signals;
    this.signals = null;
    if (Array.isArray(held)) for (const s of held) s.removeEventListener('abort', onAbort);
    else held?.removeEventListener('abort', onAbort);
    wake();
  }
}

/** Size of the blocks a socket opened with `onread` reads into. */
const BLOCK_SIZE = 256 * 1024;
/** A block with less room than this is left for a new one. */
const BLOCK_MIN_FREE = 16 * 1024;
/** The reused buffer small reads go to (and are copied out of). */
const SCRATCH_SIZE = 64 * 1024;
/** Reads up to this size are copied out of the scratch buffer; a larger one starts block reads. */
const SMALL_READ = 8 * 1024;

/** What `net.connect`'s `onread` option takes. */
export interface OnreadOptions {
  buffer: () => Uint8Array;
  callback: (bytesRead: number, buf: Uint8Array) => boolean;
}

export class ByteReader {
  socket: Duplex;
  /** Queued chunks; `chunks[first]` starts at `offset`. */
  private chunks: Buffer[] = [];
  private first = 0;
  /** Read position inside `chunks[first]`. */
  offset = 0;
  /** Bytes queued and not yet consumed. */
  buffered = 0;
  /** The server closed its side (EOF). */
  ended = false;
  /** The socket failed (or was destroyed by a timeout or an abort); reported once read. */
  error: Error | null = null;
  /** The socket is gone: destroyed, or closed by the peer and by us. */
  closed = false;
  /**
   * Whether a request is outstanding. Bytes that arrive while it is false are not an
   * answer to anything: the socket is destroyed and `poisoned` set (a server writing a
   * response nobody asked for must never have it read as the next request's response).
   */
  active = false;
  poisoned = false;

  private paused = false;
  private unreffed = false;
  /** Who waits for bytes, and who waits for the socket to drain: two independent waits. */
  private readonly dataWait = new WaitSlot();
  private readonly drainWait = new WaitSlot();
  private timer: NodeJS.Timeout | null = null;
  private timerMs = 0;
  /** What a timeout of the data wait and of the drain wait reports. */
  private dataTimeout: TimeoutDetails | null = null;
  private drainTimeout: TimeoutDetails | null = null;
  private readonly onAbort = (event: Event): void => {
    const reason = (event.target as AbortSignal).reason;
    this.fail(new AbortError('The operation was aborted', { cause: reason }));
  };

  private readonly onDataEvent = (chunk: Buffer): void => this.onData(chunk);
  private readonly onEnd = (): void => {
    this.ended = true;
    this.notify();
  };
  private readonly onError = (err: Error): void => {
    // Kept, never thrown from here: the next read or write reports it.
    if (this.error === null) this.error = this.mapError === null ? err : this.mapError(err);
    this.notify();
  };
  /** Turns the socket's errors into the caller's error classes (TLS: `ssl.SSLError`). */
  mapError: ((err: Error) => Error) | null = null;
  private readonly onClose = (): void => {
    this.closed = true;
    this.clearTimer();
    this.notify();
  };
  private readonly onDrain = (): void => {
    this.drainWait.end(this.onAbort);
  };

  /**
   * `onread` mode (a socket opened with `onreadOptions()`; null in stream mode, 'data'
   * events): small reads go to `scratch`, one reused buffer, and are copied out; large
   * ones to the free end of `block`, queued as views; and a caller's memory offered with
   * `armDirect` is read into directly.
   */
  private scratch: Buffer | null = null;
  /** The block bulk reads go to, allocated when the first large read comes. */
  private block: Buffer | null = null;
  /** Reading a large body: reads go to blocks (queued as views) instead of `scratch`. */
  private bulk = false;
  /** Bytes of `block` already read into (and queued as views). */
  private blockUsed = 0;
  /** The free end of the block last handed to the socket. */
  private region: Buffer | null = null;
  /** The caller's memory offered for the next read, if any. */
  private direct: Buffer | null = null;
  /** Node's `kBuffer` symbol on the socket (undefined: not looked up yet; null: absent). */
  private bufferSymbol: symbol | null | undefined = undefined;
  /** Bytes the socket wrote into offered memory and nobody has taken yet (`takeDirect`). */
  directFilled = 0;

  /**
   * Listen to `socket` ('data' events). Without a socket, the reader is for one that is
   * about to be opened with `onreadOptions()`; `attach` it once it exists.
   */
  constructor(socket: Duplex | null = null) {
    if (socket === null) {
      this.scratch = Buffer.allocUnsafe(SCRATCH_SIZE);
      this.socket = null as unknown as Duplex;
      return;
    }
    this.socket = socket;
    socket.on('data', this.onDataEvent);
    this.listen(socket);
  }

  /** The `onread` option for `net.connect`, bound to this reader (static-buffer mode). */
  onreadOptions(): OnreadOptions {
    return {
      buffer: () => this.direct ?? this.freeRegion(),
      callback: (bytesRead, buf) => this.onRead(bytesRead, buf),
    };
  }

  /**
   * Where the next read goes when no memory is offered: the free end of the current
   * block, or a new block when it is nearly full. What is read there is queued as a view
   * of the block: nothing is copied, and memory grows only with what arrives.
   */
  private freeRegion(): Buffer {
    // Small answers (most responses) go to one reused buffer that stays in the cache;
    // a large read switches to blocks, so that bulk data is never copied.
    if (!this.bulk) return this.scratch as Buffer;
    let block = this.block;
    if (block === null || block.length - this.blockUsed < BLOCK_MIN_FREE) {
      block = Buffer.allocUnsafe(BLOCK_SIZE);
      this.block = block;
      this.blockUsed = 0;
    }
    this.region = block.subarray(this.blockUsed);
    return this.region;
  }

  /** Take over the socket opened with `onreadOptions()`. */
  attach(socket: Duplex): void {
    this.socket = socket;
    this.listen(socket);
  }

  private listen(socket: Duplex): void {
    socket.on('end', this.onEnd);
    socket.on('error', this.onError);
    socket.on('close', this.onClose);
    socket.on('drain', this.onDrain);
  }

  /** Whether somebody is waiting for bytes. */
  get waitingForData(): boolean {
    return this.dataWait.pending;
  }

  /** Whether `armDirect` can be used (static-buffer mode). */
  get canDirect(): boolean {
    return this.scratch !== null;
  }

  /**
   * Offer `view` (the caller's memory) as the destination of the next socket read, so
   * that body bytes are not copied at all. Only when nothing is queued (the order of the
   * bytes must stay); the caller makes `view` no longer than what it may receive.
   */
  armDirect(view: Buffer): void {
    if (view.length === 0 || this.buffered !== 0 || !this.setReadBuffer(view)) return;
    this.direct = view;
  }

  /**
   * Make `buf` the destination of the socket's next read. Node asks `onread.buffer()`
   * for the next buffer only right after each read, so a buffer offered later has to be
   * installed where Node keeps it (the handle's user buffer and the socket's `kBuffer`).
   * Found by feature detection; false (no direct reads) where Node does not have them.
   */
  private setReadBuffer(buf: Buffer): boolean {
    const socket = this.socket as unknown as Record<symbol, unknown> & {
      _handle?: { useUserBuffer?: (b: Uint8Array) => void } | null;
    };
    const handle = socket._handle;
    if (typeof handle?.useUserBuffer !== 'function') return false;
    if (this.bufferSymbol === undefined) {
      this.bufferSymbol =
        Object.getOwnPropertySymbols(socket).find(
          (sym) => sym.description === 'kBuffer' && socket[sym] instanceof Uint8Array,
        ) ?? null;
    }
    if (this.bufferSymbol === null) return false;
    handle.useUserBuffer(buf);
    socket[this.bufferSymbol] = buf;
    return true;
  }

  /** Take back offered memory that was not read into: the reused buffer again. */
  private disarmDirect(): void {
    if (this.direct === null) return;
    this.direct = null;
    if (!this.socket.destroyed) this.setReadBuffer(this.freeRegion());
  }

  /** How many bytes the socket wrote into offered memory since the last call. */
  takeDirect(): number {
    const n = this.directFilled;
    this.directFilled = 0;
    this.disarmDirect();
    return n;
  }

  /**
   * Stop listening to the socket and give back the bytes queued but not read, so that
   * another layer (TLS over a tunnel) can take the socket over. The socket is paused and
   * keeps a no-op 'error' listener until the new owner adds its own.
   */
  detach(): Buffer[] {
    const socket = this.socket;
    socket.off('data', this.onDataEvent);
    socket.off('end', this.onEnd);
    socket.off('error', this.onError);
    socket.off('close', this.onClose);
    socket.off('drain', this.onDrain);
    socket.on('error', ignoreError);
    socket.pause();
    this.paused = false;
    this.clearTimer();
    this.notify();
    return this.takeAll();
  }

  /**
   * No request is outstanding any more: keep listening (so that bytes nobody asked for
   * are noticed and poison the socket) without keeping the process alive.
   */
  idle(): void {
    this.active = false;
    if (this.paused) {
      this.paused = false;
      this.socket.resume();
    }
    this.unref();
  }

  /** Keep the process alive while a request is outstanding (once per change). */
  ref(): void {
    if (this.unreffed) {
      this.unreffed = false;
      (this.socket as { ref?: () => void }).ref?.();
    }
  }

  /** An idle socket does not keep the process alive (as node:http's agent does). */
  unref(): void {
    if (!this.unreffed) {
      this.unreffed = true;
      (this.socket as { unref?: () => void }).unref?.();
    }
  }

  /** Whether the socket can still carry a request (not poisoned, failed, ended or closed). */
  get usable(): boolean {
    return !this.poisoned && this.error === null && !this.ended && !this.closed;
  }

  /** The first queued chunk (read from `offset`), or null when nothing is queued. */
  peek(): Buffer | null {
    return this.buffered === 0 ? null : (this.chunks[this.first] as Buffer);
  }

  /** Mark `n` bytes of the first chunk as read (`n` ≤ its length − `offset`). */
  consume(n: number): void {
    if (n === 0) return;
    this.buffered -= n;
    const chunk = this.chunks[this.first] as Buffer;
    this.offset += n;
    if (this.offset >= chunk.length) {
      this.chunks[this.first] = EMPTY;
      this.first++;
      this.offset = 0;
      if (this.first === this.chunks.length) {
        this.chunks.length = 0;
        this.first = 0;
      } else if (this.first > 64) {
        this.chunks = this.chunks.slice(this.first);
        this.first = 0;
      }
    }
  }

  /** Take every queued byte out of the reader (e.g. to hand them to a TLS layer). */
  takeAll(): Buffer[] {
    const out: Buffer[] = [];
    for (let i = this.first; i < this.chunks.length; i++) {
      const c = this.chunks[i] as Buffer;
      out.push(i === this.first ? c.subarray(this.offset) : c);
    }
    this.chunks = [];
    this.first = 0;
    this.offset = 0;
    this.buffered = 0;
    return out;
  }

  /**
   * Wait until more bytes, the end, or an error arrive. Resolves (never rejects): the
   * caller looks at `peek()`, `error` and `ended`. A timeout or an abort destroys the
   * socket and sets `error` to `TimeoutError` / `AbortError`.
   */
  waitForData(options?: WaitOptions): Promise<void> {
    return new Promise<void>((resolve) => this.whenData(resolve, options));
  }

  /**
   * `waitForData` without a promise, for the hot path: `callback` runs once, from the
   * socket's event (or at once when there is nothing to wait for: an error, the end, an
   * aborted signal, a zero timeout).
   */
  whenData(callback: () => void, options?: WaitOptions): void {
    if (this.paused) {
      this.paused = false;
      this.socket.resume();
    }
    if (!this.arm('data', options, callback)) callback();
  }

  /**
   * Write to the socket; resolves once the socket can take more (after `drain` when the
   * write filled its buffer). Rejects with the socket's error, a `TimeoutError` or an
   * `AbortError` (the socket is then destroyed).
   */
  write(
    data: Buffer | string,
    encoding: BufferEncoding | undefined,
    options?: WaitOptions,
  ): Promise<void> | undefined {
    this.abortIfSignalled(options);
    if (this.error !== null) return Promise.reject(this.error);
    if (this.closed || this.socket.destroyed) return Promise.reject(socketClosedError());
    const flushed =
      encoding === undefined ? this.socket.write(data) : this.socket.write(data, encoding);
    if (flushed) return undefined;
    return this.wait('drain', options).then(() => {
      if (this.error !== null) throw this.error;
    });
  }

  /**
   * An operation whose signal has already fired does nothing, even when it would not
   * have to wait (bytes queued, room to write): the socket is destroyed and the error
   * (`AbortError`) returned, as Node's own APIs reject at once. Null otherwise.
   */
  abortIfSignalled(options?: WaitOptions): Error | null {
    const signal = options?.signal;
    if (signal === null || signal === undefined || !signal.aborted) return null;
    this.onAbortNow(signal);
    return this.error;
  }

  /** Destroy the socket and make every wait end with `err` (if given). */
  fail(err: Error): void {
    if (this.error === null) this.error = err;
    this.destroy();
    this.notify();
  }

  /** Destroy the socket (idempotent); pending waits end. */
  destroy(): void {
    this.clearTimer();
    if (!this.socket.destroyed) this.socket.destroy();
    this.closed = true;
    this.notify();
  }

  /** `onread` callback: `bytesRead` bytes are in `buf` (the static buffer or offered memory). */
  private onRead(bytesRead: number, buf: Uint8Array): boolean {
    if (buf === this.direct) {
      this.direct = null;
      if (!this.active) {
        this.poisoned = true;
        this.destroy();
        return false;
      }
      this.directFilled += bytesRead;
      // Stop reading until the caller asks again (and may offer memory again): bytes read
      // now would go to the reused buffer and cost a copy into the queue and another out.
      // A caller woken here may offer memory again at once (and resume): then reading
      // goes on, into that memory (Node asks `onreadOptions().buffer` after each read).
      this.paused = true;
      this.notifyData();
      return !this.paused;
    }
    let chunk: Buffer;
    if (buf === this.scratch) {
      // The scratch buffer is read into again: copy (a small copy, from Node's pool).
      chunk = Buffer.allocUnsafe(bytesRead);
      (buf as Buffer).copy(chunk, 0, 0, bytesRead);
      if (bytesRead > SMALL_READ) this.bulk = true;
    } else {
      // The free end of the current block: queue a view of it, no copy.
      chunk = (buf as Buffer).subarray(0, bytesRead);
      if (buf === this.region) this.blockUsed += bytesRead;
      if (bytesRead <= SMALL_READ) this.bulk = false;
    }
    this.onData(chunk);
    return !this.paused;
  }

  private onData(chunk: Buffer): void {
    if (!this.active) {
      // Nobody asked: a stale or hostile answer on an idle connection.
      this.poisoned = true;
      this.destroy();
      return;
    }
    this.chunks.push(chunk);
    this.buffered += chunk.length;
    if (this.buffered > HIGH_WATER_MARK && !this.paused) {
      this.paused = true;
      // With onread, returning false from the callback pauses too; pause() is the same.
      this.socket.pause();
    }
    this.notifyData();
  }

  private wait(kind: Waiting, options?: WaitOptions): Promise<void> {
    return new Promise<void>((resolve) => {
      if (!this.arm(kind, options, resolve)) resolve();
    });
  }

  /**
   * Start a wait that calls `wake` when it ends. Returns false (nothing armed) when there
   * is nothing to wait for: an error, a closed socket, the end (for data), an aborted
   * signal or a zero timeout (both fail the socket first). A wait of a kind already
   * waited for joins it: every caller is woken (two `send()`s at once both wait for the
   * drain; no caller is ever forgotten).
   */
  private arm(kind: Waiting, options: WaitOptions | undefined, wake: () => void): boolean {
    if (this.error !== null || this.closed || (kind === 'data' && this.ended)) return false;
    const ms = options?.timeoutMs ?? null;
    const signal = options?.signal ?? null;
    if (signal?.aborted) {
      this.onAbortNow(signal);
      return false;
    }
    if (ms === 0) {
      // Python's timeout 0 is a non-blocking socket: any wait fails at once.
      this.fail(new TimeoutError(options?.timeout));
      return false;
    }
    (kind === 'data' ? this.dataWait : this.drainWait).add(wake, signal, this.onAbort);
    if (ms !== null) {
      if (kind === 'data') this.dataTimeout = options?.timeout ?? null;
      else this.drainTimeout = options?.timeout ?? null;
      this.armTimer(ms);
    }
    return true;
  }

  private onAbortNow(signal: AbortSignal): void {
    this.fail(new AbortError('The operation was aborted', { cause: signal.reason }));
  }

  /** End the wait for bytes, if any. */
  private notifyData(): void {
    // Offered memory is only lent for one wait: never written after the wait is over.
    this.disarmDirect();
    this.dataWait.end(this.onAbort);
  }

  /** End every wait (the end, an error, the socket gone). */
  private notify(): void {
    this.notifyData();
    this.drainWait.end(this.onAbort);
  }

  /** One timer per reader, created on the first timed wait and re-armed with `refresh()`. */
  private armTimer(ms: number): void {
    if (this.timer !== null && this.timerMs === ms) {
      this.timer.refresh();
      return;
    }
    this.clearTimer();
    this.timerMs = ms;
    this.timer = setTimeout(() => {
      if (this.dataWait.pending) this.fail(new TimeoutError(this.dataTimeout));
      else if (this.drainWait.pending) this.fail(new TimeoutError(this.drainTimeout));
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

function ignoreError(): void {}

/** The error for a write to a socket that is already gone (Node's EPIPE wording). */
function socketClosedError(): Error {
  const err = new Error('This socket has been ended by the other party') as NodeJS.ErrnoException;
  err.code = 'EPIPE';
  return err;
}
