/**
 * The pull over queued body bytes that both kinds of response share: the main entry's
 * (client/response-body.ts, fed by a socket reader's queue and woken by its events) and
 * the blocking API's direct one (sync/direct-response.ts, fed by a ring the socket's bytes
 * land in). A read is a `Pull` — `all` (read, read(amt), readinto), `some` (read1,
 * iteration), `line` (readline), `peek` — advanced over what is queued now, through the
 * body decoder: the rules for the end of the body, for a read of no bytes and for a
 * framing error met past what a read asked for live here once. Waiting, and what becomes
 * of the socket when the body ends (`finish`), are the owner's.
 */
import type { BodyDecoder } from './body-decoder.ts';
import { detachedTarget, FramingError } from './body-errors.ts';
import { IncompleteRead } from './errors.ts';

const EMPTY = Buffer.alloc(0);

/** One read: what it wants, and what it has got so far. */
export interface Pull {
  /** `all`: until `max` or the end; `some`: the first bytes; `line`: up to `\n`; `peek`. */
  readonly mode: 'all' | 'some' | 'line' | 'peek';
  max: number;
  /** The body's bytes (read, read1, readline, peek), or null when copying into `target`. */
  parts: Buffer[] | null;
  /**
   * readinto's buffer; or read()'s own buffer (`own`), which the body is received into
   * and which grows as bytes arrive (up to `max`).
   */
  target: Uint8Array | null;
  /** `target` is the read's own buffer (returned to the caller), not readinto's. */
  own: boolean;
  got: number;
}

/**
 * Bytes queued and not yet read, a contiguous run at a time (a socket reader's blocks, a
 * ring's two halves). Nothing is consumed until `consume`.
 */
export interface BodyQueue {
  /** The array holding the first run (from `runStart` to `runEnd`), or null when empty. */
  run(): Buffer | null;
  readonly runStart: number;
  readonly runEnd: number;
  /** Mark `n` bytes of the first run as read. */
  consume(n: number): void;
  /** Bytes queued in all. */
  readonly buffered: number;
}

/** What differs between the owners. */
export interface PullOwner {
  /**
   * The body ended: read to its end (`complete`), or by a read's failure. The owner lets
   * go of the queue (`end()`) and decides what becomes of the socket.
   */
  finish(complete: boolean): void;
  /**
   * read()'s own buffer is full: a bigger one of `size` bytes, into which the caller
   * copies what it holds (io/tuning.ts `bodyBufferSize` gives the size).
   */
  grow(got: number, max: number, full: Buffer): Buffer;
}

export class BodyPuller {
  /** The queue while the body is unread; null once it is over. */
  queue: BodyQueue | null;
  readonly decoder: BodyDecoder;
  /** HTTP/0.9: the first line, which is body. */
  prefix: Buffer | null;
  /**
   * A framing error met while looking past the bytes a read already had (the framing
   * after them is consumed when queued): that read returns its bytes, and the next read
   * fails with this error, as Python meets it only then.
   */
  brokenAhead: { readonly error: unknown } | null = null;
  readonly #owner: PullOwner;
  /** Bytes of the queue are copied out (the queue's memory is reused), not handed out as views. */
  readonly #copies: boolean;

  constructor(
    queue: BodyQueue,
    decoder: BodyDecoder,
    prefix: Buffer | null,
    owner: PullOwner,
    copies: boolean,
  ) {
    this.queue = queue;
    this.decoder = decoder;
    this.prefix = prefix;
    this.#owner = owner;
    this.#copies = copies;
  }

  /** The body is over: the queue is no longer read. */
  end(): void {
    this.queue = null;
    this.prefix = null;
  }

  /** Take what the pull wants from what is queued; true when it is satisfied. */
  advance(pull: Pull): boolean {
    switch (pull.mode) {
      case 'all':
        this.take(pull.max - pull.got, pull, false);
        return pull.max === 0 ? this.#atBodyByte() : this.queue === null || pull.got >= pull.max;
      case 'some':
        this.take(pull.max - pull.got, pull, true);
        return this.queue === null || pull.got > 0 || (pull.max === 0 && this.#atBodyByte());
      case 'peek': {
        const view = this.prefix ?? this.#visible();
        if (view.length === 0 && this.queue !== null) return false;
        (pull.parts as Buffer[]).push(this.#copies ? Buffer.from(view) : view);
        return true;
      }
      case 'line':
        while (pull.got < pull.max && this.queue !== null) {
          const view = this.prefix ?? this.#visible();
          if (view.length === 0) return this.queue === null;
          const nl = view.indexOf(0x0a);
          const want = Math.min(nl === -1 ? view.length : nl + 1, pull.max - pull.got);
          this.take(want, pull, false);
          if (nl !== -1 && nl + 1 <= want) return true;
        }
        return true;
    }
  }

  /**
   * Whether a read of no bytes (`read(0)`, `read1(0)`, `readinto` of an empty buffer) is
   * done: the body is over, or it is not chunked, or its next byte is a chunk's data. Between
   * chunks it reads the framing up to the next chunk's data (waiting for it if need be), as
   * Python's `_get_chunk_left()` does: a last chunk there ends the body.
   */
  #atBodyByte(): boolean {
    return (
      this.queue === null || this.decoder.framing !== 'chunked' || this.decoder.chunkLeft !== null
    );
  }

  /**
   * Move up to `max` queued body bytes into the pull (views or copies, or copied into its
   * target), counted in `pull.got` as they go (a failure half-way keeps the count:
   * `readinto`'s bytes are in the caller's buffer). Finishes the response when the body is
   * complete (also consuming framing that follows the last byte wanted, when queued).
   * `oneChunk` (read1): take no bytes past the end of the current chunk of a chunked body
   * (the framing after it is consumed when queued, as after any read), nor more than was
   * queued when the call began (a ring another thread fills would otherwise make the piece
   * the whole body). `max` 0 on a chunked body consumes only the framing up to the next
   * body byte.
   */
  take(max: number, pull: Pull, oneChunk: boolean): void {
    const queue = this.queue;
    if (queue === null) return;
    const decoder = this.decoder;
    const framingOnly = max <= 0;
    if (framingOnly && decoder.framing !== 'chunked') {
      // A read of no bytes from a body with none left (Content-Length: 0, 204, 304, HEAD)
      // ends the response, as Python's `read(0)` closes it once its length is 0: left
      // open, the next getresponse() refused with ResponseNotReady.
      if (decoder.done && this.prefix === null) this.#owner.finish(true);
      return;
    }
    if (this.brokenAhead !== null) throw this.brokenAhead.error;
    const end = pull.got + Math.max(max, 0);
    const prefix = this.prefix;
    if (prefix !== null && !framingOnly) {
      const n = Math.min(max, prefix.length);
      pull.got += this.#emit(prefix, 0, n, pull);
      this.prefix = n === prefix.length ? null : prefix.subarray(n);
    }
    const first = pull.got;
    // read1() has its chunk: only the framing after it is read on.
    let chunkDone = false;
    let budget = oneChunk ? queue.buffered : Number.POSITIVE_INFINITY;
    try {
      while (budget > 0) {
        const bytes = queue.run();
        if (bytes === null) break;
        const start = queue.runStart;
        const want = chunkDone ? 0 : this.room(pull, end - pull.got);
        const pos = decoder.decode(bytes, start, Math.min(queue.runEnd, start + budget), want);
        if (decoder.dataEnd > decoder.dataStart) {
          pull.got += this.#emit(bytes, decoder.dataStart, decoder.dataEnd, pull);
        }
        queue.consume(pos - start);
        budget -= pos - start;
        if (decoder.done || pos === start) break;
        if (
          oneChunk &&
          pull.got > first &&
          decoder.framing === 'chunked' &&
          decoder.chunkLeft === null
        ) {
          chunkDone = true;
        }
      }
    } catch (err) {
      // Broken framing found past all the call asked for (read1: past its chunk): it
      // succeeds, and the next read fails, where Python meets it. A read of no bytes asked
      // for that framing: it fails.
      if (framingOnly || (pull.got < end && !chunkDone)) throw err;
      this.brokenAhead = { error: err };
      return;
    }
    if (decoder.done && this.prefix === null) this.#owner.finish(true);
  }

  /** Body bytes queued right now, as a view, without consuming them (framing is). */
  #visible(): Buffer {
    const queue = this.queue;
    if (queue === null) return EMPTY;
    const decoder = this.decoder;
    for (;;) {
      // A body that is already complete must not wait for bytes that will never come.
      if (decoder.done) {
        this.#owner.finish(true);
        return EMPTY;
      }
      if (this.brokenAhead !== null) throw this.brokenAhead.error;
      const bytes = queue.run();
      if (bytes === null) return EMPTY;
      const start = queue.runStart;
      const end = queue.runEnd;
      // Framing (chunk sizes, CRLFs) is consumed up to the next body byte; broken framing
      // fails the call (with what it already got) as every read method does.
      const pos = decoder.decode(bytes, start, end, 0);
      queue.consume(pos - start);
      if (decoder.done) {
        this.#owner.finish(true);
        return EMPTY;
      }
      if (pos !== start) continue;
      const available = end - start;
      const limit = decoder.framing === 'chunked' ? decoder.chunkLeft : decoder.remaining;
      return bytes.subarray(start, start + Math.min(available, limit ?? available));
    }
  }

  /**
   * How much of `want` the pull's target can take now: read()'s own buffer, when full, is
   * first replaced by a bigger one (the bytes so far copied over) as the memory rule
   * allows.
   */
  room(pull: Pull, want: number): number {
    if (!pull.own || want <= 0) return want;
    let target = pull.target as Buffer;
    if (pull.got === target.length) {
      const bigger = this.#owner.grow(pull.got, pull.max, target);
      target.copy(bigger, 0, 0, pull.got);
      pull.target = bigger;
      target = bigger;
    }
    return Math.min(want, target.length - pull.got);
  }

  /** Put `bytes[start:end]` into the pull: as a view or a copy, or copied into its target. */
  #emit(bytes: Buffer, start: number, end: number, pull: Pull): number {
    const view = bytes.subarray(start, end);
    if (pull.parts !== null) pull.parts.push(this.#copies ? Buffer.from(view) : view);
    else copyInto(pull.target as Uint8Array, view, pull.got);
    return end - start;
  }
}

/**
 * Copy `view` into readinto's (or read()'s) target at `at`. The caller may have
 * transferred or shrunk readinto's buffer while the read waited: a TypeError then (the
 * bytes are lost with the body, which ends), never a write past what is there.
 */
export function copyInto(target: Uint8Array, view: Uint8Array, at: number): void {
  if (target.length < at + view.length) throw detachedTarget();
  target.set(view, at);
}

/** The `IncompleteRead` of a read: the bytes this call got, and what was missing. */
export function incomplete(pull: Pull, expected: number | null, cause?: unknown): IncompleteRead {
  const partial =
    pull.target !== null ? Buffer.from(pull.target.subarray(0, pull.got)) : join(pull.parts ?? []);
  return incompleteRead(partial, expected, cause);
}

/** The one place `IncompleteRead` is built (`incomplete`, `lostRead`). */
function incompleteRead(partial: Buffer, expected: number | null, cause: unknown): IncompleteRead {
  return new IncompleteRead(partial, expected, cause === undefined ? undefined : { cause });
}

/**
 * A body that a read's failure cut short: every later read rejects with `IncompleteRead`
 * (`partial` empty, this `expected` and `cause`), never `b''`, which would pass for the
 * end of the body. The main entry's, the blocking API's direct and its worker twin's.
 */
export interface LostBody {
  readonly expected: number | null;
  /** The failure (a timeout, a reset), or undefined for the peer's end inside the body. */
  readonly cause: unknown;
}

/**
 * What a read's failure `err` leaves for later reads of the body it ended (the caller's
 * own close aside, which the owner checks): null when they give `b''`. `expected` is what
 * was due before the failed read. The peer's end inside the body (`IncompleteRead` with no
 * framing error) raises again with the same `expected`, as 2.7 and 3 raise again at every
 * read after a chunked body cut inside a chunk. Broken framing closes the response, as
 * Python's `ValueError` path closes it. Any other failure leaves the body where it stood
 * unknown (README: a timed-out or failed read closes the response).
 */
export function lostBody(err: unknown, expected: number | null): LostBody | null {
  if (err instanceof FramingError) return null;
  if (err instanceof IncompleteRead) {
    if (err.cause instanceof FramingError) return null;
    return { expected: err.expected, cause: err.cause };
  }
  return { expected, cause: err };
}

/** The `IncompleteRead` of a read of a body cut short (`lostBody`). */
export function lostRead(lost: LostBody): IncompleteRead {
  return incompleteRead(EMPTY, lost.expected, lost.cause);
}

/** The pull's parts as one Buffer: pieces read one after another into one block are a view of it. */
export function join(parts: Buffer[]): Buffer {
  if (parts.length === 0) return EMPTY;
  const first = parts[0] as Buffer;
  if (parts.length === 1) return first;
  let end = first.byteOffset + first.length;
  let total = first.length;
  for (let i = 1; i < parts.length; i++) {
    const p = parts[i] as Buffer;
    if (p.buffer !== first.buffer || p.byteOffset !== end) return Buffer.concat(parts);
    end += p.length;
    total += p.length;
  }
  return Buffer.from(first.buffer, first.byteOffset, total);
}
