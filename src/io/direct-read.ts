/**
 * Reading without copies on a plain TCP socket: net's `onread` option, where the socket
 * reads into memory of our choosing instead of a fresh Buffer per read. Small reads go
 * to one reused scratch buffer and are copied out (cheaper than a buffer each); large
 * ones go to the free end of a block and are queued as views of it (no copy at all);
 * and memory offered for a read (read()'s own Buffer, a `SharedArrayBuffer` view given to
 * `readinto`, or `offerOwn()` for any other `readinto`) is read into directly. Memory a
 * caller could transfer (detach) while the read waits is never offered: the socket would
 * go on writing into it after it was freed; `readNow()` reads what the kernel holds
 * synchronously instead, with no moment for the caller's code to run.
 *
 * The last needs Node internals, and they are isolated here: Node asks `onread.buffer()`
 * for the next buffer only right after each read, so memory offered later must be
 * installed where Node keeps it — the handle's `useUserBuffer()` and the socket's
 * `kBuffer` symbol (found by its description). Both are feature-detected once per
 * socket; without them `available` is false and callers use the plain path (the queue).
 * test/io/direct-read.test.ts is the canary that fails loudly when a Node release moves
 * them. Everything here pushes into a ByteReader; nothing here knows HTTP.
 */
import { readSync, readvSync } from 'node:fs';
import { type ByteReader, type LentMemory, netError } from './byte-reader.ts';
import {
  BLOCK_MIN_FREE,
  BLOCK_SIZE,
  MAX_READ_SWITCHES,
  OWN_ROOM_MAX,
  SCRATCH_SIZE,
  SMALL_READ,
} from './tuning.ts';

/** How many bytes a body's last synchronous read reads past it (readNow). */
const PAST_BYTES = 16;

/**
 * Reads in a row that filled all their memory, below which Node's read loop is sure to
 * read once more after a callback: libuv reads at most 32 times per wake-up of a socket.
 */
const LOOP_READS_SURE = 16;

/** What `net.connect`'s `onread` option takes. */
export interface OnreadOptions {
  buffer: () => Uint8Array;
  callback: (bytesRead: number, buf: Uint8Array) => boolean;
}

/** Bytes read straight into offered memory, since the process started (for the canary). */
let directBytes = 0;

/** How many bytes sockets have read straight into memory callers offered. */
export function directReadBytes(): number {
  return directBytes;
}

/** MAX_READ_SWITCHES, lowered by tests only (the real bound takes minutes to reach). */
let switchLimit = MAX_READ_SWITCHES;

/** For tests: set the bound on switches per socket; returns the one before. */
export function setReadSwitchLimit(limit: number): number {
  const before = switchLimit;
  switchLimit = limit;
  return before;
}

type SocketInternals = Record<symbol, unknown> & {
  _handle?: { useUserBuffer?: (b: Uint8Array) => void } | null;
};

export class DirectReads implements LentMemory {
  /** The `onread` option for `net.connect`, bound to this reader. */
  readonly onread: OnreadOptions;
  private readonly reader: ByteReader;
  private scratch = Buffer.allocUnsafe(SCRATCH_SIZE);
  /** The first SMALL_READ bytes of `scratch`: where an answer's head goes after bulk reads. */
  private headRoom = this.scratch.subarray(0, SMALL_READ);
  /** The next read is an answer's head after bulk reads: it goes to `headRoom`. */
  private headNext = false;
  /** The block bulk reads go to, allocated when the first large read comes. */
  private block: Buffer | null = null;
  /** Reading a large body: reads go to blocks (queued as views) instead of `scratch`. */
  private bulk = false;
  /** Bytes of `block` already read into (and queued as views). */
  private blockUsed = 0;
  /** The free end of the block last handed to the socket. */
  private region: Buffer | null = null;
  /** The caller's memory offered for the next read, if any. */
  private offered: Buffer | null = null;
  /** offerOwn()'s memory, kept for the socket's next reads. */
  private room: Buffer | null = null;
  /** `offered` is a view of `room` (not a caller's memory), of `ownSize` bytes at first. */
  private offeredOwn = false;
  private ownSize = 0;
  /** The bytes counted in `filled` are in `room` (an offerOwn()), to be copied out by take(). */
  private filledOwn = false;
  /** An offer of `room` filled and was taken at once: the next read may go there too. */
  private ownAgain = false;
  /**
   * A view of `room` handed to Node for the next read after a filled offer of it, before
   * anyone offered it again: offerOwn() takes it over without a move; bytes that come
   * into it first are queued (and `room` given up to the queue).
   */
  private ahead: Buffer | null = null;
  /** Node's `kBuffer` symbol on the socket (undefined: not looked up yet; null: absent). */
  private bufferSymbol: symbol | null | undefined = undefined;
  /** The last read filled all the memory it had: the kernel likely holds more. */
  private likelyMore = false;
  /** The memory offered now is for the body's last bytes (see onRead). */
  private finalOffer = false;
  /** The memory offered now is for a read of whatever comes (readinto1): woken at the first read. */
  private anyOffer = false;
  /**
   * Reads in a row that filled all the memory they had, in this turn of the event loop
   * (see LOOP_READS_SURE; a read that finds nothing calls nobody, so the count is cleared
   * in the check phase, after the poll phase's reads).
   */
  private fullReads = 0;
  private readonly clearFullReads = (): void => {
    this.fullReads = 0;
  };
  /** A few bytes that a body's last synchronous read reads past it into (readNow). */
  private readonly past = Buffer.allocUnsafe(PAST_BYTES);
  /** Wakes the reader after the socket's read past a body's last bytes (see onRead). */
  private readonly wakeFinal = (): void => {
    if (!this.reader.closed) this.reader.pushedDirect();
  };
  /** Bytes the socket wrote into offered memory and nobody has taken yet. */
  private filled = 0;
  /**
   * Times this socket's reads were moved with `useUserBuffer()` (each leaves Node a
   * listener until the socket closes): past MAX_READ_SWITCHES nothing more is offered.
   */
  private switches = 0;

  constructor(reader: ByteReader) {
    this.reader = reader;
    reader.lent = this;
    this.onread = {
      buffer: () => this.offered ?? this.nextRegion(),
      callback: (bytesRead, buf) => this.onRead(bytesRead, buf),
    };
  }

  /**
   * Whether memory can be offered now: the socket is there and reads into offered
   * memory on this Node (the internals were found).
   */
  get available(): boolean {
    const socket = this.reader.socket as unknown as SocketInternals | null;
    return socket !== null && this.findSymbol(socket) !== null;
  }

  /**
   * Offer `view` (the caller's memory) as the destination of the socket's reads until it
   * is full: the reader is woken once, when it is (or at the end, an error, a timeout),
   * and each read in between only counts its bytes and keeps the timeout from expiring,
   * as Python's `recv_into` loop of a buffered `readinto` would. Only when nothing is
   * queued (the order of the bytes must stay); the caller makes `view` no longer than
   * what it may receive. `any` (readinto1, a read of whatever comes): the reader is woken
   * at the first read instead, and the offer ends with it. False when it could not be
   * offered.
   */
  offer(view: Buffer, final = false, any = false): boolean {
    if (view.length === 0 || this.reader.buffered !== 0 || this.switches >= switchLimit) {
      return false;
    }
    if (!this.install(view)) return false;
    this.offered = view;
    this.finalOffer = final;
    this.anyOffer = any;
    return true;
  }

  /**
   * Offer memory of ours for `want` bytes (at most OWN_ROOM_MAX), for a read whose
   * caller's memory may not be handed to the socket: one buffer per socket, reused, and
   * copied into the caller's memory by take(). False when it could not be offered. After a
   * filled offer of it was taken at once, Node's next read already goes to the same
   * bytes (`ahead`): offering them again then moves nothing (no `useUserBuffer()`).
   */
  offerOwn(want: number, final = false, any = false): boolean {
    const size = Math.min(want, OWN_ROOM_MAX);
    const ahead = this.ahead;
    if (ahead !== null && ahead.length === size && size > 0 && this.reader.buffered === 0) {
      this.ahead = null;
      this.offered = ahead;
      this.offeredOwn = true;
      this.ownSize = size;
      this.finalOffer = final && size === want;
      this.anyOffer = any;
      return true;
    }
    let room = this.room;
    if (room === null || room.length < size) {
      room = Buffer.allocUnsafe(Math.min(Math.max(size, SCRATCH_SIZE), OWN_ROOM_MAX));
      this.room = room;
    }
    const view = room.subarray(0, size);
    if (!this.offer(view, final && size === want, any)) return false;
    this.offeredOwn = true;
    this.ownSize = size;
    return true;
  }

  /**
   * Read into `target` (from `at`, at most `max` bytes) what the kernel holds for the
   * socket now, with a synchronous read(2) on its descriptor, as CPython's `recv_into`:
   * no event-loop turn, no move of the socket's reads, and no moment when the caller's
   * code runs while the kernel may write into its memory. Tried only while the kernel
   * likely has bytes (the last read filled all it was given): a read that finds nothing
   * costs an exception (~6 µs). Returns the bytes read, which take() counts as it counts
   * the socket's reads into offered memory; 0 when it read nothing (nothing there, the
   * end, no descriptor: the socket's own reads meet those); an error other than EAGAIN
   * fails the reader.
   */
  readNow(target: Uint8Array, at: number, max: number, final = false): number {
    if (!this.likelyMore || max <= 0 || this.reader.buffered !== 0) return 0;
    const fd = this.descriptor();
    if (fd < 0) return 0;
    let n: number;
    try {
      // The body's last bytes: read a few past them too (readv), so that what the
      // kernel holds beyond the body is seen now (queued: unsolicited), not taken by the
      // socket's next read as the answer to the caller's next request.
      n = final
        ? readvSync(fd, [target.subarray(at, at + max), this.past])
        : readSync(fd, target, at, max, null);
    } catch (err) {
      this.likelyMore = false;
      const e = err as NodeJS.ErrnoException;
      if (e.code !== 'EAGAIN') this.reader.fail(netError(e, 'read'));
      return 0;
    }
    this.likelyMore = n === (final ? max + PAST_BYTES : max);
    if (n > max) {
      this.reader.push(Buffer.from(this.past.subarray(0, n - max)));
      n = max;
    }
    this.filled += n;
    directBytes += n;
    if (n > SMALL_READ) this.bulk = true;
    return n;
  }

  /**
   * The descriptor of a plain TCP socket, or -1: never a TLS socket's (its descriptor
   * carries the encrypted records, which are the TLS layer's to read), nor anything but
   * Node's TCP handle.
   */
  private descriptor(): number {
    const socket = this.reader.socket as unknown as
      | (SocketInternals & { destroyed: boolean; encrypted?: unknown })
      | null;
    if (socket === null || socket.destroyed || socket.encrypted !== undefined) return -1;
    const handle = socket._handle as { fd?: unknown; constructor?: { name?: string } } | null;
    const fd = handle?.fd;
    return typeof fd === 'number' && handle?.constructor?.name === 'TCP' ? fd : -1;
  }

  /**
   * How many bytes the socket wrote into offered memory since the last call. Bytes it
   * wrote into our own room (offerOwn()) are copied into `target` at `at` first: the
   * caller's memory that room stood in for. -1 when `target` is too short for them (its
   * owner transferred or shrank it meanwhile): nothing is copied and the bytes are gone.
   */
  take(target: Uint8Array, at: number): number {
    const n = this.filled;
    const own = this.filledOwn;
    this.filled = 0;
    this.filledOwn = false;
    this.disarm();
    if (own && n > 0) {
      if (target.length < at + n) return -1;
      target.set((this.room as Buffer).subarray(0, n), at);
    }
    return n;
  }

  /**
   * A request goes out after bulk reads (a large body was read here last): its answer's
   * head is read into at most SMALL_READ bytes, copied out, as Python's 8 KiB buffered
   * reader reads it, so that the body behind it stays in the kernel until the caller's
   * `read()` or `readinto()` offers its memory. Before, that first read took up to a
   * block's free end (~150-190 KiB of each 1 MiB body, `1mib`), into fresh memory,
   * copied out again by the caller's read.
   */
  begin(): void {
    if (!this.bulk) return;
    this.headNext = true;
    if (this.offered === null && this.switches < switchLimit && this.available) {
      this.install(this.headRoom);
    }
  }

  /**
   * A response ended with a read that filled all it was given (its body's last bytes,
   * read into memory sized to them): bytes past the body may wait in the kernel, where
   * the socket's next read would take them only after the caller's next request went
   * out, as that request's answer. They are read now, synchronously, and queued (the
   * connection then finds them unsolicited and is not reused). A fallback, for where the
   * body's last read could not look past it (see onRead and readNow): a read(2) that
   * finds nothing costs 13-17 µs here (Node throws for EAGAIN; measured on 1 MiB bodies).
   */
  drainAhead(): void {
    if (!this.likelyMore || this.reader.buffered !== 0) return;
    this.likelyMore = false;
    const fd = this.descriptor();
    if (fd < 0) return;
    const scratch = this.scratch;
    let n = 0;
    const limit = Error.stackTraceLimit;
    // The exception of an empty socket is expected: no stack to capture for it.
    Error.stackTraceLimit = 0;
    try {
      n = readSync(fd, scratch, 0, scratch.length, null);
    } catch {
      // EAGAIN: nothing there. Any other error the socket's own next read meets.
    } finally {
      Error.stackTraceLimit = limit;
    }
    if (n <= 0) return;
    this.reader.push(Buffer.from(scratch.subarray(0, n)));
  }

  /** Take back offered memory that was not read into: the reused buffers again. */
  disarm(): void {
    if (this.offered === null) return;
    this.offered = null;
    this.anyOffer = false;
    if (!this.reader.socket.destroyed) this.install(this.freeRegion());
  }

  /** Where the next read goes after a read, with nothing offered. */
  private nextRegion(): Buffer {
    if (!this.ownAgain || this.room === null) return this.freeRegion();
    this.ownAgain = false;
    this.ahead = this.room.subarray(0, this.ownSize);
    return this.ahead;
  }

  /**
   * Where the next read goes when no memory is offered: the scratch buffer for small
   * answers (most responses, one buffer that stays in the cache), or the free end of the
   * current block once reads are large (a new block when it is nearly full), queued as
   * a view of it: nothing is copied, and memory grows only with what arrives.
   */
  private freeRegion(): Buffer {
    if (this.headNext) return this.headRoom;
    if (!this.bulk) return this.scratch;
    let block = this.block;
    if (block === null || block.length - this.blockUsed < BLOCK_MIN_FREE) {
      block = Buffer.allocUnsafe(BLOCK_SIZE);
      this.block = block;
      this.blockUsed = 0;
    }
    this.region = block.subarray(this.blockUsed);
    return this.region;
  }

  /** `onread` callback: `bytesRead` bytes are in `buf` (a reused buffer or offered memory). */
  private onRead(bytesRead: number, buf: Uint8Array): boolean {
    this.headNext = false;
    this.likelyMore = bytesRead === buf.length;
    if (!this.likelyMore) this.fullReads = 0;
    else if (this.fullReads++ === 0) setImmediate(this.clearFullReads);
    const reader = this.reader;
    const offered = this.offered;
    if (buf === offered && offered !== null) {
      if (!reader.expecting) {
        this.offered = null;
        reader.tell('unsolicited');
        return false;
      }
      this.filled += bytesRead;
      directBytes += bytesRead;
      if (this.offeredOwn) this.filledOwn = true;
      // Reads into a caller's memory are bulk reads too: the next answer's head is kept small.
      if (bytesRead > SMALL_READ) this.bulk = true;
      if (bytesRead < offered.length && !this.anyOffer) {
        // Room is left: the next read goes on where this one ended (`buffer()` hands it
        // to Node), and the wait goes on, its timeout counted from now.
        this.offered = offered.subarray(bytesRead);
        reader.deadline.progress();
        return true;
      }
      this.offered = null;
      const own = this.offeredOwn;
      this.offeredOwn = false;
      // A read of whatever comes that got less than it offered: not the body's end.
      if (bytesRead < offered.length) this.finalOffer = false;
      this.anyOffer = false;
      if (this.finalOffer) {
        // The body's last bytes, read to their exact size: bytes past the body may wait in
        // the kernel. The socket reads once more first (Node's read loop goes on after
        // this callback), and the reader is woken after that, in this turn's check phase:
        // bytes past the body are then queued (unsolicited) before the caller's next
        // request could go out and take them as its answer.
        // (Unless the socket stops here, or the loop may be at its bound: then the end
        // of the response reads what the kernel holds, drainAhead().)
        this.finalOffer = false;
        const reading = reader.reading;
        if (reading && this.fullReads < LOOP_READS_SURE) this.likelyMore = false;
        this.ownAgain = false;
        setImmediate(this.wakeFinal);
        return reading;
      }
      // Full: the reader is woken, and a caller reading again at once lends memory again
      // before the socket's next read (byte-reader.ts `pushedDirect`).
      const reading = reader.pushedDirect();
      // Our own memory, copied out by the wait it woke: the next read may go there.
      this.ownAgain = own && this.filled === 0 && this.offered === null;
      return reading;
    }
    let chunk: Buffer;
    if (buf === this.ahead && buf !== null) {
      // Bytes read ahead into our room before anyone offered it again: queued as they
      // are, and the room is the queue's now.
      chunk = (buf as Buffer).subarray(0, bytesRead);
      this.ahead = null;
      this.room = null;
    } else if (buf === this.scratch || buf === this.headRoom) {
      if (bytesRead > SMALL_READ) {
        // A large read (a body begins): the scratch buffer itself is queued, no copy, and
        // a new one takes its place (it is never read into again).
        chunk = this.scratch.subarray(0, bytesRead);
        this.scratch = Buffer.allocUnsafe(SCRATCH_SIZE);
        this.headRoom = this.scratch.subarray(0, SMALL_READ);
        this.bulk = true;
      } else {
        // The scratch buffer is read into again: copy (a small copy, from Node's pool).
        chunk = Buffer.allocUnsafe(bytesRead);
        this.scratch.copy(chunk, 0, 0, bytesRead);
      }
    } else {
      // The free end of the current block: queue a view of it, no copy.
      chunk = (buf as Buffer).subarray(0, bytesRead);
      if (buf === this.region) this.blockUsed += bytesRead;
      if (bytesRead <= SMALL_READ) this.bulk = false;
    }
    reader.push(chunk);
    return reader.reading;
  }

  /** Make `buf` the destination of the socket's next read, where Node keeps it. */
  private install(buf: Buffer): boolean {
    const socket = this.reader.socket as unknown as SocketInternals;
    const symbol = this.findSymbol(socket);
    const handle = socket._handle;
    if (symbol === null || typeof handle?.useUserBuffer !== 'function') return false;
    handle.useUserBuffer(buf);
    this.switches++;
    socket[symbol] = buf;
    this.ahead = null;
    this.offeredOwn = false;
    return true;
  }

  private findSymbol(socket: SocketInternals): symbol | null {
    if (typeof socket._handle?.useUserBuffer !== 'function') return null;
    if (this.bufferSymbol === undefined) {
      this.bufferSymbol =
        Object.getOwnPropertySymbols(socket).find(
          (sym) => sym.description === 'kBuffer' && socket[sym] instanceof Uint8Array,
        ) ?? null;
    }
    return this.bufferSymbol;
  }
}
