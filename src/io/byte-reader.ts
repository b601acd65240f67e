/**
 * The byte reader: everything that listens to one socket. It queues the bytes that
 * arrive (pausing the socket above a high-water mark, so memory stays bounded whatever
 * the server sends), lets the response parser and the `read*` methods pull from that
 * queue without copying, waits for more bytes or for drain through the socket's
 * `Deadline` (deadline.ts: the one timeout/abort/close path), and holds the socket's end,
 * error and idle state so that no socket event can ever escape as an uncaught exception.
 *
 * It knows nothing of HTTP and decides nothing about the connection: bytes that arrive
 * while nothing is expected, and the socket's end or failure, are reported to
 * `listener` (the connection feeds them to its state machine, which decides). It uses no
 * Node internals: reading straight into memory is direct-read.ts's, which pushes here,
 * and asking a paused socket whether its peer is still there is peer-probe.ts's.
 */
import { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import type { Deadline, Phase, WaitOptions } from './deadline.ts';
import { abortedBy, socketError } from './deadline.ts';
import { probePeer, queuedBytes, receivedBytes } from './peer-probe.ts';
import { HIGH_WATER_MARK, PAUSED_PROBE_MS, TLS_WRITE_PIECE } from './tuning.ts';

const EMPTY = Buffer.alloc(0);

/** What the socket did that nobody asked about: bytes while nothing is expected, or its end. */
export type SocketNews = 'unsolicited' | 'eof';

/** What `pump` feeds: the response parser. */
export interface ByteSink {
  /** Consume bytes `[start, end)` of `chunk`; returns where it stopped. */
  execute(chunk: Buffer, start: number, end: number): number;
  /** Whether it needs no more bytes. */
  readonly done: boolean;
  /** The socket ended: finish, or throw what ending there means. */
  finish(): void;
}

/** The part of direct-read.ts the reader calls. */
export interface LentMemory {
  /** Memory lent for one wait is taken back. */
  disarm(): void;
  /** Bytes are expected again after none were: an answer's head comes next. */
  begin(): void;
  /**
   * A response ended: queue what the kernel already holds past it, which reads sized to
   * the body left there (the socket reads them only after the caller's next request).
   */
  drainAhead(): void;
}

type Wake = () => void;

/** Readers of this process whose socket has a request outstanding (`expect` to `idle`). */
let busyReaders = 0;

/** Readers whose socket `write` corked in this turn of the event loop. */
let deferredReaders: ByteReader[] = [];

/** Uncork every socket corked in this turn (a setImmediate: after the poll phase). */
function flushDeferred(): void {
  const readers = deferredReaders;
  deferredReaders = [];
  for (const reader of readers) reader.flush();
}

/**
 * Cork `reader`'s socket until the check phase of this loop turn. The responses that
 * arrived together are all read first, and the requests that answer them go out
 * together: with 10 connections on one CPU, a write in the middle of the batch woke the
 * server, which took the CPU from the client for one request at a time (`conn10`).
 */
function deferFlush(reader: ByteReader): void {
  if (deferredReaders.length === 0) setImmediate(flushDeferred);
  deferredReaders.push(reader);
  reader.cork();
}

/**
 * The callers waiting for one kind of event (bytes, or drain): usually one; concurrent
 * callers join (two `send()`s at once both wait for the drain; none is ever forgotten).
 */
class WaitSlot {
  private wake: Wake | null = null;
  private options: WaitOptions | undefined;
  private more: Array<[Wake, WaitOptions | undefined]> | null = null;

  get pending(): boolean {
    return this.wake !== null;
  }

  add(wake: Wake, options: WaitOptions | undefined): void {
    if (this.wake === null) {
      this.wake = wake;
      this.options = options;
    } else {
      if (this.more === null) this.more = [];
      this.more.push([wake, options]);
    }
  }

  /** Wake every caller (the slot is empty first, so a caller may wait again at once). */
  end(deadline: Deadline): void {
    const wake = this.wake;
    if (wake === null) return;
    const options = this.options;
    const more = this.more;
    this.wake = null;
    this.options = undefined;
    this.more = null;
    deadline.end(options);
    if (more !== null) for (const [, o] of more) deadline.end(o);
    wake();
    if (more !== null) for (const [w] of more) w();
  }
}

export class ByteReader {
  socket: Duplex;
  /** The socket is a TLS one (its `encrypted`), as `attach` found it. */
  encrypted = false;
  /** The socket's one timeout/abort/close path. */
  readonly deadline: Deadline;
  /** Queued chunks; `chunks[first]` starts at `offset`. */
  private chunks: Buffer[] = [];
  private first = 0;
  /** Read position inside `chunks[first]`. */
  offset = 0;
  /** Bytes queued and not yet consumed. */
  buffered = 0;
  /** The server closed its side (EOF). */
  ended = false;
  /** The socket failed (or a timeout, an abort or a close ended it); reported once read. */
  error: Error | null = null;
  /** The socket is gone: destroyed, or closed by the peer and by us. */
  closed = false;
  /**
   * Whether bytes that arrive answer something (a request is outstanding or a response
   * reads). Set by the connection from its state machine; bytes that arrive while it is
   * false are not queued: `listener` hears 'unsolicited'.
   */
  expecting = false;
  /** Hears what the socket did unasked (the connection); null once the reader is done. */
  listener: ((news: SocketNews) => void) | null = null;
  /** Turns the socket's errors into the caller's error classes (TLS: `ssl.SSLError`). */
  mapError: ((err: Error) => Error) | null = null;
  /** Memory lent to the socket for the current wait (direct-read.ts), if any. */
  lent: LentMemory | null = null;

  private paused = false;
  private unreffed = false;
  /** `write` corked the socket; the check phase of this loop turn uncorks it (`flush`). */
  private deferred = false;
  /** Counted in `busyReaders`. */
  private busy = false;
  /** Pieces pushed since the request went out (`expect()`): its answer came in how many. */
  pieces = 0;
  private readonly dataWait = new WaitSlot();
  private readonly drainWait = new WaitSlot();
  /** Who hears the socket's end, failure or close (`watch`): null while nobody does. */
  private watchers: Set<Wake> | null = null;
  /** Asks the kernel about the peer while the socket is paused and watched (`probe`). */
  private probeTimer: ReturnType<typeof setInterval> | null = null;

  private readonly onDataEvent = (chunk: Buffer | string): void => {
    if (typeof chunk !== 'string') this.push(chunk);
    else if (this.error === null) {
      // A hook's stream with an encoding set gives strings: the bytes are lost to it.
      this.fail(
        new TypeError(
          "the socket gave a string, not bytes: a createConnection hook's stream must not have an encoding set (setEncoding)",
        ),
      );
    }
  };
  private readonly onEnd = (): void => {
    this.ended = true;
    // Nothing more can come; a response nobody reads or closes may keep the socket.
    this.notBusy();
    this.notify();
    this.tell('eof');
  };
  private readonly onError = (value: unknown): void => {
    // Kept, never thrown from here: the next read or write reports it.
    const err = socketError(value);
    if (this.error === null) this.error = this.mapError === null ? err : this.mapError(err);
    this.probeWhilePaused();
    this.notify();
    this.tell('eof');
  };
  private readonly onClose = (): void => {
    this.closed = true;
    this.notBusy();
    this.probeWhilePaused();
    this.notify();
    this.tell('eof');
  };
  private readonly onDrain = (): void => this.drainWait.end(this.deadline);
  // A TLS 1.3 session ticket (sent after the handshake, so often while the response head
  // is awaited) is whole records that carry nothing to read: no sign of the peer
  // answering. Counted as bytes coming, it re-armed the timeout: a server that never
  // answered timed out after two timeouts instead of one.
  private readonly onSession = (): void => this.deadline.consumed();
  private readonly victim = (err: Error): void => this.fail(err);

  /**
   * Listen to `socket` ('data' events), or, without one, to a socket about to be opened
   * with direct-read.ts's `onread` (which pushes here): `attach` it once it exists.
   */
  constructor(socket: Duplex | null, deadline: Deadline) {
    this.deadline = deadline;
    deadline.victim = this.victim;
    this.socket = socket ?? (null as unknown as Duplex);
    if (socket !== null) this.attach(socket, true);
  }

  /**
   * Listen to `socket`: its 'data' events when `dataEvents`, else it was opened with
   * an `onread` that pushes here.
   */
  attach(socket: Duplex, dataEvents: boolean): void {
    this.socket = socket;
    this.deadline.sendQueue = () => queuedBytes(socket);
    this.encrypted = (socket as { encrypted?: unknown }).encrypted === true;
    this.deadline.received = this.encrypted ? () => receivedBytes(socket) : null;
    if (this.encrypted) socket.on('session', this.onSession);
    if (dataEvents) socket.on('data', this.onDataEvent);
    socket.on('end', this.onEnd);
    socket.on('error', this.onError);
    socket.on('close', this.onClose);
    socket.on('drain', this.onDrain);
  }

  /**
   * Call `wake` each time the socket ends (the peer's FIN), fails or closes, or is
   * destroyed, until the returned function is called; the caller looks at `ended`,
   * `error` and `closed`. For what waits on something other than this socket (a request
   * body waiting for its own source) but must not outlive it.
   */
  watch(wake: Wake): () => void {
    this.watchers ??= new Set();
    this.watchers.add(wake);
    this.probeWhilePaused();
    return () => {
      this.watchers?.delete(wake);
      this.probeWhilePaused();
    };
  }

  /** Whether somebody is waiting for bytes. */
  get waitingForData(): boolean {
    return this.dataWait.pending;
  }

  /**
   * Stop listening to the socket and give back the bytes queued but not read, so that
   * another layer (TLS over a tunnel) can take the socket over. The socket is paused and
   * keeps a no-op 'error' listener until the new owner adds its own.
   */
  detach(): Buffer[] {
    this.flush();
    this.notBusy();
    const socket = this.socket;
    socket.off('data', this.onDataEvent);
    socket.off('end', this.onEnd);
    socket.off('error', this.onError);
    socket.off('close', this.onClose);
    socket.off('drain', this.onDrain);
    socket.off('session', this.onSession);
    socket.on('error', ignoreError);
    socket.pause();
    this.paused = false;
    this.probeWhilePaused();
    this.listener = null;
    this.notify();
    return this.takeAll();
  }

  /**
   * Nothing is expected any more: keep listening (bytes nobody asked for, or the end, are
   * reported) without keeping the process alive (as node:http's agent).
   */
  idle(): void {
    this.expecting = false;
    this.notBusy();
    if (this.paused) {
      this.paused = false;
      this.probeWhilePaused();
      this.socket.resume();
    }
    if (!this.unreffed) {
      this.unreffed = true;
      (this.socket as { unref?: () => void }).unref?.();
    }
  }

  /** A request goes out: its answer is expected, and the socket keeps the process alive. */
  expect(): void {
    this.pieces = 0;
    if (!this.expecting) this.lent?.begin();
    this.expecting = true;
    if (!this.busy) {
      this.busy = true;
      busyReaders++;
    }
    if (this.unreffed) {
      this.unreffed = false;
      (this.socket as { ref?: () => void }).ref?.();
    }
  }

  /** The first queued chunk (read from `offset`), or null when nothing is queued. */
  peek(): Buffer | null {
    return this.buffered === 0 ? null : (this.chunks[this.first] as Buffer);
  }

  /** The body pull's view (protocol/body-pull.ts `BodyQueue`): the first chunk, from `offset`. */
  run(): Buffer | null {
    return this.peek();
  }
  get runStart(): number {
    return this.offset;
  }
  get runEnd(): number {
    return (this.chunks[this.first] as Buffer).length;
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
   * Feed queued and arriving bytes to `sink` until it is done (bytes after stay queued);
   * at the end of the socket, `sink.finish()`. `callback` runs once, with the socket's or
   * the sink's error or null. Driven from the socket's events: no promise, no await.
   */
  pump(
    sink: ByteSink,
    phase: Phase,
    options: WaitOptions | undefined,
    callback: (err: unknown) => void,
  ): void {
    const step = (): void => {
      // An error that comes while the sink runs (its debug output closed the connection)
      // fails what it was parsing; one that came before leaves the bytes queued readable.
      const before = this.error;
      try {
        for (;;) {
          const chunk = this.peek();
          if (chunk !== null) {
            const start = this.offset;
            const pos = sink.execute(chunk, start, chunk.length);
            this.consume(pos - start);
            if (sink.done) break;
            continue;
          }
          if (this.error !== null) throw this.error;
          if (this.ended || this.closed) {
            sink.finish();
            break;
          }
          this.whenData(step, phase, options);
          return;
        }
        if (this.error !== before && this.error !== null) throw this.error;
      } catch (err) {
        callback(err);
        return;
      }
      callback(null);
    };
    step();
  }

  /**
   * Call `callback` once, when more bytes, the end, or an error arrive (at once when
   * there is nothing to wait for). A timeout, an abort or a close fails the socket first
   * (`error` then says why): the caller looks at `peek()`, `error` and `ended`.
   */
  whenData(callback: Wake, phase: Phase, options?: WaitOptions): void {
    if (this.paused) {
      this.paused = false;
      this.probeWhilePaused();
      this.socket.resume();
    }
    if (!this.arm(this.dataWait, phase, options, callback)) callback();
  }

  /** `whenData` as a promise (resolves, never rejects). */
  waitForData(phase: Phase, options?: WaitOptions): Promise<void> {
    return new Promise<void>((resolve) => this.whenData(resolve, phase, options));
  }

  /**
   * Write to the socket; `undefined` when the socket took it without waiting, else a
   * promise that resolves after `drain`, or rejects with the socket's error, a
   * `TimeoutError` or an `AbortError` (the socket is then destroyed).
   *
   * While other sockets of the process wait for responses, a string (a request head,
   * chunk framing) is handed to the kernel at the end of the event loop's poll phase,
   * not at once (`deferFlush`): a client answering several sockets' responses in one
   * turn reads them all before its first write wakes the server. Alone, a socket writes
   * at once (nothing else could arrive in the same turn), and so does a stream that is
   * not a `net.Socket` (a `createConnection` hook's own, without TLS over it). Bytes of the caller's (a
   * Buffer) go out at once, after any string before them: the caller may reuse or
   * transfer that memory once the write is done.
   */
  write(
    data: Buffer | string,
    encoding: BufferEncoding | undefined,
    options?: WaitOptions,
  ): Promise<void> | undefined {
    this.abortIfSignalled(options);
    if (this.error !== null) return Promise.reject(this.error);
    if (this.closed || this.socket.destroyed) return Promise.reject(socketClosedError());
    if (typeof data !== 'string') {
      if (data.length > TLS_WRITE_PIECE && this.encrypted) {
        return this.writeInPieces(data, options);
      }
      this.flush();
    } else if (!this.deferred && busyReaders > (this.busy ? 1 : 0)) {
      if (this.socket instanceof Socket && this.socket.writableCorked === 0) deferFlush(this);
    }
    const flushed =
      encoding === undefined ? this.socket.write(data) : this.socket.write(data, encoding);
    if (flushed) return undefined;
    // Over the socket's high-water mark: it drains only once uncorked.
    this.flush();
    return new Promise<void>((resolve, reject) => {
      const woken = (): void => {
        if (this.error !== null) reject(this.error);
        else if (this.closed) reject(socketClosedError());
        else if (this.stillUndrained() && this.arm(this.drainWait, 'send', options, woken)) {
          // The peer's end (a FIN) woke the wait, not a drain: the bytes still wait for
          // the peer to read them (a server answers early and reads on) or for its reset.
          // Taken for a drain, a send the server reset a moment later resolved.
        } else resolve();
      };
      if (!this.arm(this.drainWait, 'send', options, woken)) woken();
    });
  }

  /** `data` over TLS, a piece (`TLS_WRITE_PIECE`) at a time, each after the last drained. */
  private async writeInPieces(data: Buffer, options?: WaitOptions): Promise<void> {
    for (let at = 0; at < data.length; at += TLS_WRITE_PIECE) {
      const pending = this.write(data.subarray(at, at + TLS_WRITE_PIECE), undefined, options);
      if (pending !== undefined) await pending;
    }
  }

  /**
   * The peer ended its side while our write still waits for the socket to drain, on a
   * half-open socket (ours: Node then keeps writing, and emits 'drain' when it may).
   */
  private stillUndrained(): boolean {
    const socket = this.socket as Duplex & { allowHalfOpen?: boolean };
    return this.ended && socket.writableNeedDrain && socket.allowHalfOpen === true;
  }

  /**
   * An operation whose signal has already fired does nothing, even when it would not
   * have to wait (bytes queued, room to write): the socket is destroyed and the error
   * (`AbortError`) returned, as Node's own APIs reject at once. Null otherwise.
   */
  abortIfSignalled(options?: WaitOptions): Error | null {
    const signal = options?.signal;
    if (signal === null || signal === undefined || !signal.aborted) return null;
    this.fail(abortedBy(signal));
    return this.error;
  }

  /** Destroy the socket and make every wait end with `err` (the first error stays). */
  fail(err: Error): void {
    if (this.error === null) this.error = err;
    this.destroy();
  }

  /**
   * Hand deferred writes to the kernel now (idempotent). Before the socket is destroyed
   * or given up too: a request written before `close()` goes out, as it did when the
   * write was immediate.
   */
  flush(): void {
    if (!this.deferred) return;
    this.deferred = false;
    if (this.socket.destroyed) return;
    try {
      this.socket.uncork();
    } catch (err) {
      // Not expected (a write's failure comes as an event), but this may run from
      // setImmediate, where a throw would escape: the socket fails instead.
      this.fail(socketError(err));
    }
  }

  private notBusy(): void {
    if (!this.busy) return;
    this.busy = false;
    busyReaders--;
  }

  /** Cork the socket until `flushDeferred` runs (the caller checked it is not corked). */
  cork(): void {
    this.deferred = true;
    this.socket.cork();
  }

  /** Destroy the socket (idempotent); pending waits end; nothing is reported any more. */
  destroy(): void {
    this.listener = null;
    this.flush();
    this.notBusy();
    // (No socket yet: a connect under way is ended by its own wait.)
    if (this.socket !== null && !this.socket.destroyed) this.socket.destroy();
    this.closed = true;
    this.probeWhilePaused();
    this.deadline.dispose();
    this.notify();
  }

  /** Bytes arrived (a 'data' event, or direct-read.ts's `onread`). */
  push(chunk: Buffer): void {
    if (!this.expecting) {
      this.tell('unsolicited');
      return;
    }
    this.pieces++;
    this.chunks.push(chunk);
    this.buffered += chunk.length;
    if (this.buffered > HIGH_WATER_MARK && !this.paused) {
      this.paused = true;
      // With onread, returning false from the callback pauses too; pause() is the same.
      this.socket.pause();
      this.probeWhilePaused();
    }
    this.notifyData();
  }

  /**
   * Bytes went straight into lent memory (direct-read.ts): wake the reader. The socket
   * goes on reading (true unless paused): a caller that reads again at once (a
   * `readinto` loop) does so in the microtasks right after this read, before the
   * socket's next one, and lends its memory again in time; bytes that come before a
   * caller asks again are queued, as always. Stopping the socket here cost a
   * `readStop()` and a `resume()` (a tick) per piece (`1mib`/`64mib` read() and
   * readinto: client CPU −1 to −12 % in two paired 5- and 7-round runs, notes-14a).
   */
  pushedDirect(): boolean {
    this.notifyData();
    return !this.paused;
  }

  /** Whether the socket is paused (the `onread` callback's answer). */
  get reading(): boolean {
    return !this.paused;
  }

  /** Report news to the listener (once the reader is done, nobody hears it). */
  tell(news: SocketNews): void {
    const listener = this.listener;
    if (listener !== null) listener(news);
    else if (news === 'unsolicited') this.destroy();
  }

  /**
   * Start a wait that calls `wake` when it ends. Returns false (nothing armed) when there
   * is nothing to wait for: an error, a closed socket, the end (for data), or what the
   * deadline ends at once (the socket is failed with it first).
   */
  private arm(slot: WaitSlot, phase: Phase, options: WaitOptions | undefined, wake: Wake): boolean {
    if (this.error !== null || this.closed || (slot === this.dataWait && this.ended)) return false;
    const early = this.deadline.begin(phase, options);
    if (early !== null) {
      this.fail(early);
      return false;
    }
    slot.add(wake, options);
    return true;
  }

  /**
   * Probe (every PAUSED_PROBE_MS) exactly while the socket is paused and somebody watches
   * it (a request body is being sent): a paused socket is not polled, so a reset (RST)
   * goes unseen until something reads or writes, and a body waiting for its own source
   * (a stalled stream, a pipe) writes nothing, maybe for ever. peer-probe.ts asks the
   * kernel without reading and without putting anything on the wire. The timer never
   * keeps the process alive.
   */
  private probeWhilePaused(): void {
    const wanted =
      this.paused &&
      !this.closed &&
      this.error === null &&
      this.watchers !== null &&
      this.watchers.size > 0;
    if (wanted === (this.probeTimer !== null)) return;
    if (this.probeTimer !== null) {
      clearInterval(this.probeTimer);
      this.probeTimer = null;
      return;
    }
    this.probeTimer = setInterval(this.probe, PAUSED_PROBE_MS);
    this.probeTimer.unref?.();
  }

  /**
   * One question (`probeWhilePaused`). Plain TCP: a failure comes as the socket's
   * 'error' (`onError`). TLS: a connection found gone is reported on the same path with
   * the error a write then gets.
   */
  private readonly probe = (): void => {
    this.probeWhilePaused();
    if (this.probeTimer === null) return;
    if (probePeer(this.socket)) this.onError(socketClosedError());
  };

  /** End the wait for bytes, if any. */
  private notifyData(): void {
    // Memory lent for a wait is never written after the wait is over.
    this.lent?.disarm();
    this.dataWait.end(this.deadline);
  }

  /** End every wait (the end, an error, the socket gone), and tell the watchers. */
  private notify(): void {
    this.notifyData();
    this.drainWait.end(this.deadline);
    const watchers = this.watchers;
    if (watchers !== null && watchers.size > 0) for (const wake of [...watchers]) wake();
  }
}

function ignoreError(): void {}

/**
 * A failed system call on a socket's descriptor made outside net (fs's `readSync` /
 * `writeSync`: "ECONNRESET: connection reset by peer, read") in the form net gives the
 * same failure ("read ECONNRESET", the same errno, code and syscall): one error,
 * whichever path met it.
 */
export function netError(err: NodeJS.ErrnoException, syscall: 'read' | 'write'): Error {
  if (typeof err.code !== 'string') return err;
  return Object.assign(new Error(`${syscall} ${err.code}`), {
    errno: err.errno,
    code: err.code,
    syscall,
  });
}

/** The error for a write to a socket that is already gone (Node's EPIPE wording). */
export function socketClosedError(): Error {
  const err = new Error('This socket has been ended by the other party') as NodeJS.ErrnoException;
  err.code = 'EPIPE';
  return err;
}
