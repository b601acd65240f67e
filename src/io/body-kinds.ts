/**
 * The body kinds `prepareBody` (body-source.ts) classifies a request body into: no body,
 * bytes in memory, a `Blob`, a Node `Readable` (an `fs.ReadStream` included), a web
 * `ReadableStream`, a sync or async iterable, a `FileHandle`. Each knows its `BodyInfo` (length known, unknown, or
 * none) and yields its content as non-empty Buffers, never holding a whole file or
 * stream in memory, never closing or destroying what the caller gave (Python's httplib
 * never closes the file it was given).
 *
 * This file must not touch sockets or clocks; it only reads the caller's body sources.
 */
import type { Blob } from 'node:buffer';
import type { Stats } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import { finished, type Readable } from 'node:stream';
import { isAnyArrayBuffer } from 'node:util/types';
import type { BodyInfo } from '../protocol/request-writer.ts';
import type { PreparedBody } from './body-source.ts';
import { notAnError, socketError } from './deadline.ts';
import { reblock } from './reblock.ts';
import { READ_AHEAD } from './tuning.ts';

export const NONE_INFO: BodyInfo = { kind: 'none' };
export const UNKNOWN_INFO: BodyInfo = { kind: 'unknown' };

const EMPTY_ITERATOR: AsyncIterator<Buffer> = {
  next: () => Promise.resolve({ done: true, value: undefined }),
};
const EMPTY_CHUNKS: AsyncIterable<Buffer> = { [Symbol.asyncIterator]: () => EMPTY_ITERATOR };

/** What {@link takeStream} keeps of a caller's stream until its body is read. */
export interface StreamGuard {
  /** An 'error' the stream emitted while nobody read it, or undefined. */
  readonly error: unknown;
  /** Gives the stream back: our listener off, its flow as the caller had it; idempotent. */
  off(): void;
}

/**
 * Takes a caller's stream for a body (`prepareBody`), synchronously, as `pipe()` does:
 * from here on, every byte it gives goes to the request. `off()` gives it back, once:
 * when `chunks()` ends or `release()` is called. A stream that already failed throws its
 * error, one destroyed before its end a `TypeError` (`unusableStream`): nothing is taken.
 *
 * - A listener keeps its first 'error'. Until `chunks()` iterates the stream, nobody else
 *   listens: an 'error' emitted while the head is being written would crash the process.
 *   A stream destroyed with an error keeps it (`errored`) and its reading throws it; one
 *   that only emitted 'error' (an emitter-style source, or a wrapper) does not, and would
 *   be read and waited on for ever: `chunks()` throws the kept error first.
 * - Its flow is held ({@link holdFlow}): a stream flowing to a 'data' listener of the
 *   caller's (a progress counter, made before the call or after it) would otherwise give
 *   the pieces it reads while the connection opens, a file is stat-ed, the head is
 *   written, to that listener only: an upload short by them (under a `Content-Length`
 *   stat-ed without them). Held, the stream keeps them in its buffer (an `fs.ReadStream`'s
 *   length counts it) and `chunks()` reads them, each still seen by the listener ('data'
 *   comes with every `read()`).
 */
export function takeStream(stream: Readable): StreamGuard {
  // What cannot be read is known now: refused before a byte of the request is sent (read,
  // it failed only after the head had gone out, and the connection was lost with it).
  // Its own error, as its reading would throw; destroyed after its end, it is just empty.
  if (stream.errored) throw stream.errored;
  if (stream.destroyed && !stream.readableEnded) {
    throw unusableStream('the body stream was destroyed before its end: it cannot be read');
  }
  const held = holdFlow(stream);
  let on = true;
  const guard = {
    error: undefined as unknown,
    off(): void {
      if (!on) return;
      on = false;
      stream.off('error', keep);
      if (held) letFlow(stream);
    },
  };
  function keep(err: unknown): void {
    // A value that is not an Error (none, a string) becomes one of ours, with a code
    // (API.md "Errors carry codes"), the value its cause.
    guard.error ??=
      err === undefined || err === null
        ? notAnError('the body stream emitted an error without a value')
        : socketError(err, 'the body stream');
  }
  stream.on('error', keep);
  return guard;
}

/** How many bodies of ours hold each stream {@link holdFlow} paused. */
const holding = new WeakMap<Readable, number>();

/**
 * Pauses a taken stream (unless the caller paused it: nothing flows from it then), and
 * whether it did. Paused, a stream keeps what it reads in its buffer (up to its
 * high-water mark) and a 'data' listener added later does not start its flow; nothing
 * is read of a stream that was not reading (a call that fails before its body is read
 * leaves the stream unread, even one still opening). One hold per stream, however many
 * calls took it.
 */
function holdFlow(stream: Readable): boolean {
  const bodies = holding.get(stream);
  if (bodies !== undefined) {
    holding.set(stream, bodies + 1);
    return true;
  }
  if (stream.readableFlowing === false) return false;
  holding.set(stream, 1);
  stream.pause();
  return true;
}

/**
 * The last body holding the stream let go of it: it is given back as Node leaves a
 * stream whose reader stopped (its last 'readable' listener off): flowing to its 'data'
 * listeners if it has any (the caller's progress counter goes on), else neither flowing
 * nor paused, as one never read (`readableFlowing` back to null, so that a 'data'
 * listener or a `pipe()` starts it again). Resumed by the caller meanwhile: left so.
 */
function letFlow(stream: Readable): void {
  const bodies = holding.get(stream) ?? 1;
  if (bodies > 1) {
    holding.set(stream, bodies - 1);
    return;
  }
  holding.delete(stream);
  if (stream.readableFlowing !== false) return;
  if (stream.listenerCount('data') > 0) stream.resume();
  else (stream as { readableFlowing: boolean | null }).readableFlowing = null;
}

export class NoBody implements PreparedBody {
  readonly info = NONE_INFO;
  readonly bytes = null;
  readonly fresh = true;
  readonly label = '<no body>';
  chunks(): AsyncIterable<Buffer> {
    return EMPTY_CHUNKS;
  }
  release(): void {}
}
export const NO_BODY = new NoBody();

/**
 * A string, bytes or `ArrayBuffer` body. No closure and no generator are made unless
 * `chunks()` is called (the connection sends `bytes` itself); the label is built lazily.
 */
export class MemoryBody implements PreparedBody {
  readonly info: BodyInfo;
  readonly bytes: Buffer;
  readonly fresh = false;
  readonly #source: string;
  constructor(bytes: Buffer, source: string) {
    this.bytes = bytes;
    this.info = { kind: 'length', length: bytes.length };
    this.#source = source;
  }
  get label(): string {
    return `<${this.#source} ${this.bytes.length} bytes>`;
  }
  async *chunks(): AsyncGenerator<Buffer, void, undefined> {
    if (this.bytes.length > 0) yield this.bytes;
  }
  release(): void {}
}

/**
 * A `Blob` (or `File`): its size is its length; its content is read in `blocksize`
 * slices (`slice().arrayBuffer()`), so a large file-backed Blob is never read whole.
 */
export class BlobBody implements PreparedBody {
  readonly info: BodyInfo;
  readonly bytes = null;
  readonly fresh = true;
  readonly #blob: Blob;
  readonly #blocksize: number;
  constructor(blob: Blob, blocksize: number) {
    this.#blob = blob;
    this.#blocksize = blocksize;
    this.info = { kind: 'length', length: blob.size };
  }
  get label(): string {
    return `<Blob ${this.#blob.size} bytes>`;
  }
  async *chunks(): AsyncGenerator<Buffer, void, undefined> {
    const blob = this.#blob;
    const step = this.#blocksize;
    for (let pos = 0; pos < blob.size; pos += step) {
      const piece = await blob.slice(pos, pos + step).arrayBuffer();
      if (piece.byteLength > 0) yield Buffer.from(piece);
    }
  }
  release(): void {}
}

/**
 * A Node `Readable` (an `fs.ReadStream` included), iterated without being destroyed when
 * the iteration stops early (`destroyOnReturn: false`): the caller owns the stream.
 * Strings it yields (object mode, or `setEncoding`) are encoded back with the stream's
 * own encoding, so a `latin1`/`hex`/`base64` stream round-trips; otherwise UTF-8.
 */
export class StreamBody implements PreparedBody {
  readonly info: BodyInfo;
  readonly bytes = null;
  readonly fresh = false;
  readonly label: string;
  readonly #stream: Readable;
  /** Exact piece size (an explicit `blocksize`), or null: the pieces the stream yields. */
  readonly #blocks: number | null;
  /** `release()` came: the stream is the caller's again, and nothing more is read of it. */
  #released = false;
  /** Wakes `#pieces()` when it waits for the stream (set only while it waits). */
  #wake: (() => void) | null = null;
  /** Our listener on the stream ({@link guardErrors}): off at the end, or `release()`. */
  readonly #guard: StreamGuard;
  constructor(
    stream: Readable,
    info: BodyInfo,
    label: string,
    blocks: number | null,
    guard: StreamGuard,
  ) {
    this.#stream = stream;
    this.#guard = guard;
    this.info = info;
    this.label = label;
    this.#blocks = blocks;
  }
  chunks(): AsyncIterable<Buffer> {
    return this.#blocks === null ? this.#pieces() : reblock(this.#pieces(), this.#blocks);
  }
  /**
   * The stream's pieces, read as `stream.iterator()` reads them (`read()` until null,
   * then wait for 'readable' or its end), but able to stop while it waits without reading
   * another piece: `release()` (the call failed: `close()`, an abort, the socket) must
   * not take the caller's next piece, which a pending `iterator().next()` would — and
   * throw away, the stream left one piece short for whoever reads it next.
   */
  async *#pieces(): AsyncGenerator<Buffer, void, undefined> {
    const stream = this.#stream;
    const encoding = stream.readableEncoding ?? 'utf8';
    const wake = (): void => {
      const w = this.#wake;
      this.#wake = null;
      w?.();
    };
    // undefined: going on; null: ended; an Error: failed (or closed before its end).
    let outcome: Error | null | undefined;
    const stopWatching = finished(stream, { writable: false }, (err) => {
      outcome = err ?? null;
      wake();
    });
    stream.on('readable', wake);
    try {
      // An 'error' only emitted before this read began: the stream does not keep it.
      if (this.#guard.error !== undefined) throw this.#guard.error;
      for (;;) {
        if (this.#released) throw released();
        const piece: unknown = stream.destroyed ? null : stream.read();
        if (piece !== null) {
          const buf = toBuffer(piece, encoding);
          if (buf.length > 0) yield buf;
          continue;
        }
        if (outcome !== undefined) {
          // finished() tells an 'error' event without a value as the stream's end, as if
          // it were complete, and one with a value that is not an Error as that value: the
          // guard kept it, as an Error of ours.
          const failure = this.#guard.error ?? outcome ?? undefined;
          if (failure === undefined) return;
          throw failure;
        }
        await new Promise<void>((resolve) => {
          this.#wake = resolve;
        });
      }
    } finally {
      this.#wake = null;
      stream.off('readable', wake);
      stopWatching();
      this.#guard.off();
    }
  }
  release(): void {
    this.#released = true;
    this.#guard.off();
    const w = this.#wake;
    this.#wake = null;
    w?.();
  }
}

/**
 * A body stream that cannot be read, known when the call is made (destroyed before its
 * end, a web stream locked): a `TypeError`, as any bad argument, with
 * `code === 'ERR_HTTPLIB_BODY_STREAM_UNUSABLE'`.
 */
function unusableStream(message: string): TypeError {
  return Object.assign(new TypeError(message), { code: 'ERR_HTTPLIB_BODY_STREAM_UNUSABLE' });
}

/** Why a stream body stopped being read (or prepared): the call that sent it had already failed. */
export function released(): Error {
  return new Error('the request body was let go: its call had failed');
}

/** A sync or async iterable of strings/bytes (generators, arrays, …). */
export class IterableBody implements PreparedBody {
  readonly info = UNKNOWN_INFO;
  readonly bytes = null;
  readonly fresh = false;
  readonly label: string;
  readonly #source: Iterable<unknown> | AsyncIterable<unknown>;
  readonly #async: boolean;
  constructor(source: Iterable<unknown> | AsyncIterable<unknown>, isAsync: boolean) {
    this.#source = source;
    this.#async = isAsync;
    this.label = isAsync ? '<AsyncIterable>' : '<Iterable>';
  }
  async *chunks(): AsyncGenerator<Buffer, void, undefined> {
    if (this.#async) {
      for await (const piece of this.#source as AsyncIterable<unknown>) {
        const buf = toBuffer(piece, 'utf8');
        if (buf.length > 0) yield buf;
      }
    } else {
      // A plain for-of: `for await` would also await items that happen to be promises.
      for (const piece of this.#source as Iterable<unknown>) {
        const buf = toBuffer(piece, 'utf8');
        if (buf.length > 0) yield buf;
      }
    }
  }
  release(): void {}
}

/**
 * A web `ReadableStream` (`Response.body`, `Blob.stream()`, …), locked with a reader of
 * ours from the moment it is taken (`prepareBody`), as `pipeTo()` locks it: nothing else
 * reads it meanwhile (a `getReader()` or `tee()` of the caller's throws), so every piece
 * goes to the request. Never cancelled: a call that gives it up releases the lock (a read
 * under way is rejected, and its piece stays in the stream), and the stream is the
 * caller's again, as a `Readable` is.
 */
export class WebStreamBody implements PreparedBody {
  readonly info = UNKNOWN_INFO;
  readonly bytes = null;
  readonly fresh = false;
  readonly label = '<ReadableStream>';
  /** Our lock on the stream; null once released. */
  #reader: ReadableStreamDefaultReader<unknown> | null;
  constructor(stream: ReadableStream<unknown>) {
    if (stream.locked) {
      throw unusableStream(
        'the body ReadableStream is locked (a reader or a pipe has it): it cannot be read',
      );
    }
    this.#reader = stream.getReader();
  }
  async *chunks(): AsyncGenerator<Buffer, void, undefined> {
    try {
      for (;;) {
        const reader = this.#reader;
        if (reader === null) throw released();
        const next = await reader.read().catch((err: unknown) => {
          // Our lock released while the read waited: the call had failed.
          throw this.#reader === null ? released() : err;
        });
        if (next.done) return;
        const buf = toBuffer(next.value, 'utf8');
        if (buf.length > 0) yield buf;
      }
    } finally {
      this.release();
    }
  }
  release(): void {
    const reader = this.#reader;
    this.#reader = null;
    reader?.releaseLock();
  }
}

/**
 * An `fs.promises.FileHandle`, read with explicit positions from 0 (a regular file) in
 * `blocksize` pieces, never closed here: with an explicit `blocksize`, one piece per read
 * and per write (Python 3's `read(blocksize)` then `sendall`); by default as many 8 KiB
 * pieces as fit in 256 KiB per read (faster, and the wire does not show the cut).
 *
 * Each read goes into a FRESH buffer, not one reused buffer: a `BodySink` may return
 * without a promise while the socket still holds the Buffer in its write queue (a
 * `net.Socket` copies nothing; `write()` returning `true` only means "below the high-water
 * mark"), and a consumer of `chunks()` may keep what it got. Reusing one buffer would let
 * the next read overwrite bytes not yet sent. A fresh `allocUnsafe` block per read costs
 * what `fs.ReadStream` pays anyway, and the last (short) read is handed out as a view.
 * Non-regular files (pipes, character devices) cannot be read at a position: they are
 * read from their current position, and their length is unknown.
 */

export class FileHandleBody implements PreparedBody {
  readonly info: BodyInfo;
  readonly bytes = null;
  readonly fresh = true;
  readonly label: string;
  readonly #handle: FileHandle;
  readonly #blocksize: number;
  readonly #exact: boolean;
  readonly #seekable: boolean;
  constructor(handle: FileHandle, st: Stats, blocksize: number, exact: boolean) {
    this.#handle = handle;
    this.#blocksize = blocksize;
    this.#exact = exact;
    this.#seekable = st.isFile();
    this.info = this.#seekable ? { kind: 'length', length: st.size } : UNKNOWN_INFO;
    this.label = `<FileHandle fd=${handle.fd}>`;
  }
  async *chunks(): AsyncGenerator<Buffer, void, undefined> {
    const handle = this.#handle;
    const size = this.#blocksize;
    // By default, read as many `blocksize` pieces as fit in READ_AHEAD per system call,
    // handed to the socket together: one thread-pool round trip and one write per 8 KiB
    // (as Python reads) would cap a file upload far below what the socket takes. An
    // explicit blocksize is the caller's choice: honoured exactly.
    const per = this.#exact ? 1 : Math.max(1, Math.floor(READ_AHEAD / size));
    let position: number | null = this.#seekable ? 0 : null;
    const readBlock = async (): Promise<Buffer> => {
      const block = Buffer.allocUnsafe(per * size);
      const { bytesRead } = await handle.read(block, 0, block.length, position);
      if (position !== null) position += bytesRead;
      return bytesRead === block.length ? block : block.subarray(0, bytesRead);
    };
    // One read ahead: the next block is read while this one is being sent.
    let next = readBlock();
    for (;;) {
      const block = await next;
      if (block.length === 0) return;
      next = readBlock();
      // Until it is awaited, a failure of the read ahead must not go unhandled.
      next.catch(() => {});
      // One write per system call's worth: the wire does not show how it was cut.
      yield block;
    }
  }
  release(): void {}
}

/** One piece of a stream or iterable as bytes; strings encoded with `encoding`. */
export function toBuffer(piece: unknown, encoding: BufferEncoding): Buffer {
  if (typeof piece === 'string') return Buffer.from(piece, encoding);
  if (Buffer.isBuffer(piece)) return piece;
  if (ArrayBuffer.isView(piece))
    return Buffer.from(piece.buffer, piece.byteOffset, piece.byteLength);
  if (isAnyArrayBuffer(piece)) return Buffer.from(piece);
  throw new TypeError(
    `message_body items should be bytes-like objects or strings, got ${typeName(piece)}`,
  );
}

/** Python's `type(x)`, adapted: `typeof` for primitives, the constructor's name for objects. */
export function typeName(value: unknown): string {
  if (value === null) return 'null';
  if (typeof value !== 'object') return typeof value;
  const ctor: unknown = Object.getPrototypeOf(value)?.constructor;
  return typeof ctor === 'function' && ctor.name !== '' ? ctor.name : 'object';
}
