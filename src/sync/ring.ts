/**
 * The calling thread's half of the blocking API's direct transport (worker-ring.ts is the
 * worker's): a plain TCP socket the worker opened, whose bytes the worker's libuv reads
 * straight into a ring of shared memory. This thread parses them where they landed, and
 * blocks (`Atomics.wait`, with the time left of its timeout) only when it needs bytes that
 * have not arrived: one wake-up per response instead of a round trip per call. Requests
 * are written by this thread on the socket's descriptor (`fs.writeSync`); what the socket
 * cannot take without waiting is handed to the worker, which writes it and waits for the
 * drain.
 */
import { writeSync } from 'node:fs';
import { netError, socketClosedError } from '../io/byte-reader.ts';
import { currentGeneration, enqueue, transact, WorkerError, workerGone } from './channel.ts';
import { settle } from './remote.ts';
import { Encoder, type Json } from './wire.ts';
import {
  FD_FREE,
  FD_WRITING,
  R_CTRL_BYTES,
  R_ERROR,
  R_EVENT,
  R_FD,
  R_IDLE,
  R_PAUSED,
  R_READ,
  R_STATE,
  R_WRITTEN,
} from './worker-ring.ts';

/** Bytes of each connection's ring (a power of two). */
const RING_BYTES = 1024 * 1024;
/** How long one wait lasts before the worker's health is checked. */
const SLICE_MS = 200;

/** Where a ring's socket is connected (Python's `sock`, described). */
export interface RingAddress {
  readonly localAddress: string;
  readonly localPort: number;
  readonly remoteAddress: string;
  readonly remotePort: number;
}

/** Who a timeout names and how long it is. */
export interface RingPeer {
  readonly host: string;
  readonly port: number;
  readonly seconds: number | null;
}

export class Ring {
  readonly id: number;
  readonly fd: number;
  readonly address: RingAddress;
  /** The ring's bytes: `peek()` hands out positions in it. */
  readonly bytes: Buffer;
  readonly #sab: SharedArrayBuffer;
  readonly #ctrl: Int32Array;
  readonly #mask: number;
  /** Bytes taken out (wrapping int32, as the worker's count of bytes put in). */
  #read = 0;
  /** Where the run `run()` last saw ends. */
  #runEnd = 0;
  #closed = false;
  /** The memory went back to the pool (another connection's now): nothing is read of it. */
  #pooled = false;
  /** The worker the socket belongs to: once it is gone, so is the socket. */
  readonly #generation = currentGeneration();

  private constructor(id: number, fd: number, address: RingAddress, sab: SharedArrayBuffer) {
    this.id = id;
    this.fd = fd;
    this.address = address;
    this.#sab = sab;
    this.#ctrl = new Int32Array(sab, 0, R_CTRL_BYTES / 4);
    this.bytes = Buffer.from(sab, R_CTRL_BYTES);
    this.#mask = this.bytes.length - 1;
    dropped.register(this, [id, this.#generation], this);
  }

  /** Opens a socket to `host:port` (the worker connects); throws the main entry's errors. */
  static connect(
    host: string,
    port: number,
    timeoutMs: number | null,
    seconds: number | null,
    source: readonly [string, number] | null,
  ): Ring {
    const sab = takeMemory();
    const encoder = new Encoder();
    encoder.ported.push(sab);
    const reply = transact(
      {
        c: 'ring',
        op: 'connect',
        sab: 0,
        // Encoded as any value is: an attribute of any type must not break the message.
        a: [host, port, timeoutMs, seconds, source === null ? null : [source[0], source[1]]].map(
          (v) => encoder.value(v),
        ),
      },
      encoder,
      null,
    );
    let v: [number, number, string, number, string, number];
    try {
      v = settle(reply) as typeof v;
    } catch (err) {
      // The connect failed: the worker made no socket of this memory.
      giveMemory(sab, spareGeneration);
      throw err;
    }
    return new Ring(
      v[0],
      v[1],
      { localAddress: v[2], localPort: v[3], remoteAddress: v[4], remotePort: v[5] },
      sab,
    );
  }

  /** Bytes that arrived and were not taken. */
  get buffered(): number {
    if (this.#pooled) return 0;
    return (Atomics.load(this.#ctrl, R_WRITTEN) - this.#read) | 0;
  }

  /**
   * The socket ended (the peer's FIN, or it closed: by `close()` too, whose socket's own
   * end the worker no longer reports); bytes may still be buffered.
   */
  get ended(): boolean {
    return this.#closed || Atomics.load(this.#ctrl, R_STATE) !== 0;
  }

  /** The socket failed (`error()` says how). */
  get failed(): boolean {
    if (this.#pooled) return false;
    return (Atomics.load(this.#ctrl, R_STATE) & R_ERROR) !== 0;
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** The worker that held the socket is gone (its descriptor may be another file's now). */
  get dead(): boolean {
    return this.#generation !== currentGeneration();
  }

  /** Throws when the socket's worker is gone. */
  check(): void {
    if (this.dead) {
      throw new WorkerError(
        'httplib-ts/sync: this connection belonged to a worker thread that failed and was replaced',
      );
    }
  }

  /** Where the buffered bytes start in `bytes`, and how many are contiguous from there. */
  get start(): number {
    return this.#read & this.#mask;
  }
  get contiguous(): number {
    return Math.min(this.buffered, this.bytes.length - this.start);
  }

  /** The body pull's view (protocol/body-pull.ts `BodyQueue`): the contiguous run at `start`. */
  run(): Buffer | null {
    const n = this.contiguous;
    if (n === 0) return null;
    this.#runEnd = this.start + n;
    return this.bytes;
  }
  get runStart(): number {
    return this.start;
  }
  /** The end of the run `run()` saw (the worker may have added bytes since). */
  get runEnd(): number {
    return this.#runEnd;
  }

  /** Takes `n` bytes out; wakes the worker when it stopped reading for want of room. */
  consume(n: number): void {
    if (n === 0 || this.#pooled) return;
    this.#read = (this.#read + n) | 0;
    Atomics.store(this.#ctrl, R_READ, this.#read);
    if (
      Atomics.load(this.#ctrl, R_PAUSED) === 1 &&
      Atomics.compareExchange(this.#ctrl, R_PAUSED, 1, 0) === 1
    ) {
      Atomics.notify(this.#ctrl, R_PAUSED);
    }
  }

  /**
   * Blocks until more than `have` bytes are buffered or the socket ended, at most until
   * `deadline` (a `performance.now()` time, or null): false when the time ran out.
   */
  wait(have: number, deadline: number | null): boolean {
    const ctrl = this.#ctrl;
    let slices = 0;
    for (;;) {
      this.check();
      const seen = Atomics.load(ctrl, R_EVENT);
      if (this.buffered > have || this.ended) return true;
      let ms = SLICE_MS;
      if (deadline !== null) {
        const left = deadline - performance.now();
        if (left <= 0) return false;
        ms = Math.min(ms, left);
      }
      if (Atomics.wait(ctrl, R_EVENT, seen, ms) === 'timed-out') {
        workerGone();
        // A long wait: make sure the worker still answers (a stuck or killed one is found
        // by the channel's watchdog).
        if (++slices % 5 === 0) probe();
      }
    }
  }

  /**
   * Tells the worker whether the connection is idle with this socket kept (worker-ring.ts
   * `R_IDLE`: it may close the socket at its peer's end then).
   */
  setIdle(idle: boolean): void {
    if (!this.#pooled) Atomics.store(this.#ctrl, R_IDLE, idle ? 1 : 0);
  }

  /** The error the socket failed with (Node's system error), asked of the worker. */
  error(): unknown {
    const reply = transact({ c: 'ring', op: 'error', id: this.id }, new Encoder(), null);
    try {
      settle(reply);
    } catch (err) {
      return err;
    }
    return socketClosedError();
  }

  /**
   * Writes `data` (latin1 for a string) on the socket: here while the socket takes it,
   * the rest by the worker, which waits for the drain (under `peer`'s timeout).
   */
  write(data: Buffer, peer: RingPeer, timeoutMs: number | null): void {
    this.check();
    if (this.#closed) throw socketClosedError();
    const ctrl = this.#ctrl;
    // The descriptor is the worker's socket's: written only while the worker has not
    // closed it, and not closed while written (worker-ring.ts `R_FD`).
    if (Atomics.compareExchange(ctrl, R_FD, FD_FREE, FD_WRITING) !== FD_FREE) {
      throw this.error();
    }
    let done = 0;
    const total = data.length;
    let failed: NodeJS.ErrnoException | null = null;
    try {
      while (done < total) {
        let n: number;
        try {
          n = writeSync(this.fd, data, done, total - done);
        } catch (err) {
          const e = err as NodeJS.ErrnoException;
          if (e.code !== 'EAGAIN') failed = e;
          break;
        }
        done += n;
      }
    } finally {
      Atomics.store(ctrl, R_FD, FD_FREE);
      Atomics.notify(ctrl, R_FD);
    }
    if (failed !== null) {
      // The worker may be gone (its sockets closed with it): that is the error then.
      probe();
      throw netError(failed, 'write');
    }
    if (done === total) return;
    const encoder = new Encoder();
    const rest: Json = encoder.bytes(data.subarray(done));
    settle(
      transact(
        {
          c: 'ring',
          op: 'write',
          id: this.id,
          b: rest,
          a: encoder.values([timeoutMs, peer.seconds, peer.host, peer.port]),
        },
        encoder,
        null,
      ),
    );
  }

  /**
   * Destroys the socket (the worker does). Idempotent. Its memory goes to the next
   * connection unless `keep` (a response still reads what is buffered in it).
   */
  close(keep = false): void {
    if (this.#closed) return;
    this.#closed = true;
    dropped.unregister(this);
    if (this.dead) return;
    try {
      transact({ c: 'ring', op: 'close', id: this.id }, new Encoder(), null);
    } catch {
      // The worker is gone: so is the socket.
      return;
    }
    // The worker forgot the socket and will not touch this memory again: the next
    // connection may read into it (peek() and the body reads hand out copies, never views;
    // whoever still holds this Ring finds it empty and ended).
    if (keep) return;
    this.#pooled = true;
    giveMemory(this.#sab, this.#generation);
  }
}

/**
 * Rings of closed connections, kept for the next ones (a program that opens connection
 * after connection would otherwise make 1 MiB of shared memory for each, which the
 * collector gives back late: resident memory grew to a gigabyte over 15,000 connections).
 * Only the current worker's: one that failed may have left its sockets reading into them.
 *
 * A ring let go is not given back until the worker's collector, too, has dropped its own
 * view of it, and the worker, which allocates little, collects seldom: bursts of 100
 * connections (1 MiB bodies), all closed after each, grew the process by 100 MiB a burst
 * (263, 360, 458 MiB). So every ring closed is kept for the next burst, newest first; those
 * beyond SPARE_RINGS that no connection took for SPARE_KEEP_MS are let go.
 */
const spare: Array<{ readonly sab: SharedArrayBuffer; readonly since: number }> = [];
let spareGeneration = -1;
const SPARE_RINGS = 4;
const SPARE_KEEP_MS = 10_000;

function takeMemory(): SharedArrayBuffer {
  const generation = currentGeneration();
  if (spareGeneration !== generation) {
    spare.length = 0;
    spareGeneration = generation;
  }
  trimSpare();
  const sab = spare.pop()?.sab;
  if (sab === undefined) return new SharedArrayBuffer(R_CTRL_BYTES + RING_BYTES);
  new Int32Array(sab, 0, R_CTRL_BYTES / 4).fill(0);
  return sab;
}

function giveMemory(sab: SharedArrayBuffer, generation: number): void {
  if (spareGeneration === generation && generation === currentGeneration()) {
    spare.push({ sab, since: performance.now() });
    trimSpare();
  }
}

/** Lets go of the rings beyond SPARE_RINGS unused for SPARE_KEEP_MS (the oldest first). */
function trimSpare(): void {
  const now = performance.now();
  while (spare.length > SPARE_RINGS && now - (spare[0]?.since ?? now) > SPARE_KEEP_MS) {
    spare.shift();
  }
}

/**
 * A ring dropped without `close()` (its connection and responses collected): its socket is
 * destroyed by the worker with the next command, as the main entry's idle sockets end.
 * The registry runs only from the event loop, which a blocking script may never reach:
 * the worker also closes a socket on its own once its peer ended it and every byte was
 * taken (worker-ring.ts), and README says to close connections.
 */
const dropped = new FinalizationRegistry<[number, number]>(([id, generation]) => {
  if (generation === currentGeneration()) enqueue({ c: 'rfree', id });
});

/** Throws the channel's `WorkerError` when the worker does not answer. */
function probe(): void {
  transact({ c: 'nop' }, new Encoder(), null);
}
