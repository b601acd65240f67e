/**
 * Request bodies: every body kind `request()`/`endheaders()` accept (API.md) turned into
 * what the protocol needs to know (`BodyInfo`: no body, a known length, or unknown) and
 * the bytes to write, with backpressure, never holding a whole file or stream in memory.
 *
 * - `prepareBody` classifies a body into one of body-kinds.ts's kinds. In-memory bodies
 *   (string, bytes, `ArrayBuffer`) are handled synchronously and hand back their bytes
 *   (`PreparedBody.bytes`) so the connection can send the head and a small body in one
 *   write; a file must be stat-ed, so `fs.ReadStream` and `FileHandle` bodies come back
 *   as a promise.
 * - `writeBody` writes a prepared body to a sink: raw, or chunk-framed with the framing of
 *   `protocol/request-writer.ts`, awaiting every write the sink turns into a promise, and
 *   refusing to finish a message whose declared length turned out to be wrong.
 *
 * Ownership follows Python: httplib never closes the file object it was given (2.7's
 * `send` reads it, 3's `_read_readable` too; the caller's `with open(...)` closes it).
 * So a `FileHandle` is never closed here and a user's stream is never destroyed here, not
 * even when writing fails half-way: the caller still owns it and must close/destroy it.
 * A `fs.ReadStream` that is read to its end closes its own descriptor (its `autoClose`
 * option, on by default); that is the stream's doing. This file opens no descriptor.
 *
 * This file must not touch sockets or clocks; it only reads the caller's body sources.
 */
import { Blob as NodeBlob } from 'node:buffer';
import { fstat, ReadStream } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { promisify } from 'node:util';
import { isAnyArrayBuffer } from 'node:util/types';
import { BodyLengthMismatch } from '../protocol/body-errors.ts';
import {
  type BodyInfo,
  CHUNK_TRAILER,
  chunkHeader,
  LAST_CHUNK,
} from '../protocol/request-writer.ts';
import {
  BlobBody,
  FileHandleBody,
  IterableBody,
  MemoryBody,
  NO_BODY,
  released,
  StreamBody,
  takeStream,
  typeName,
  UNKNOWN_INFO,
  WebStreamBody,
} from './body-kinds.ts';
import { descriptorState } from './descriptor-state.ts';
import { COALESCE_MAX } from './tuning.ts';

/** One piece of an iterable body: strings are sent as UTF-8. */
export type BodyChunk = string | ArrayBufferView | ArrayBuffer | SharedArrayBuffer;

/**
 * Every request body that `request()`, `endheaders()` and `send()` accept;
 * `null`/`undefined`: no body.
 *
 * Python 2.7 sends a `str` or a file-like object; Python 3 adds bytes-like objects and
 * iterables. Here: a string (sent as UTF-8), bytes (`Buffer`, any typed array or
 * `DataView`, `ArrayBuffer`), a `Blob`, an `fs.ReadStream` or `fs.promises.FileHandle`
 * (length from `fstat`; sent in pieces of exactly `blocksize` bytes when the connection
 * was given a `blocksize`; never closed by this package), any `Readable`, or a sync or
 * async iterable of strings and bytes (a web `ReadableStream` too). `request()` sends a body
 * of unknown length with `Transfer-Encoding: chunked`. A stream is the request's from the
 * call on (every piece it gives goes out; a `'data'` listener still sees each; a web
 * stream is locked); a call that fails gives it back as it was.
 *
 * @example
 * ```ts
 * import { open } from 'node:fs/promises';
 *
 * await conn.request('PUT', '/big.iso', await open('big.iso')); // Content-Length from fstat
 * await conn.request('POST', '/log', (async function* () {
 *   yield 'line 1\n';
 *   yield Buffer.from('line 2\n');
 * })()); // Transfer-Encoding: chunked
 * ```
 */
export type RequestBody =
  | string
  | ArrayBufferView
  | ArrayBuffer
  | SharedArrayBuffer
  | Blob
  | ReadStream
  | FileHandle
  | Readable
  | Iterable<BodyChunk>
  | AsyncIterable<BodyChunk>
  | null
  | undefined;

/** A classified request body: what the protocol needs to know, and how to get the bytes. */
export interface PreparedBody {
  /** `none`, a known `length` (strings, bytes, Blob, regular files), or `unknown`. */
  readonly info: BodyInfo;
  /** In-memory bodies (string, bytes, `ArrayBuffer`): their bytes; `null` otherwise. */
  readonly bytes: Buffer | null;
  /** A short description for debug output, e.g. `<ReadStream /tmp/x>`, `<Readable>`. */
  readonly label: string;
  /**
   * The content as non-empty Buffers (empty pieces are skipped, as Python 3 skips them).
   * In-memory bodies yield their bytes once per call; a stream or an iterator can only be
   * consumed once. Every Buffer yielded is fresh or the caller's own: nothing here writes
   * into a Buffer after yielding it.
   */
  chunks(): AsyncIterable<Buffer>;
  /**
   * Every piece `chunks()` yields is memory made for it here (a file's or a Blob's
   * pieces), never the caller's: a send that waits for the socket need not check that
   * nobody transferred it meanwhile (request-output.ts `stayedAttached`).
   */
  readonly fresh: boolean;
  /**
   * The body will not be sent (the call failed before or while sending it): take our
   * listener off the caller's stream. Idempotent; a no-op for other kinds.
   */
  release(): void;
}

/** Where `writeBody` writes: the connection's socket, or a test double. */
export interface BodySink {
  /** Writes one piece; a returned promise is awaited before the next piece is read. */
  write(chunk: Buffer | string, encoding?: 'latin1'): Promise<void> | void;
}

const fstatAsync = promisify(fstat);

// ---------------------------------------------------------------------------------------
// prepareBody

/**
 * Classifies a request body (API.md's `request()` body rules).
 *
 * - `null`/`undefined`: no body.
 * - `string` (UTF-8), any `ArrayBufferView` (its own `byteOffset`/`byteLength` window,
 *   not copied), `ArrayBuffer`/`SharedArrayBuffer`: in memory, length known, synchronous.
 * - `Blob`: length `size`, read in `blocksize` slices.
 * - `fs.ReadStream`: waits for the stream to open, then its length is `fstat` of its
 *   descriptor (Python 2.7: `os.fstat(body.fileno()).st_size`) cut to the stream's
 *   `start`/`end` window, minus what the stream has already read and passed on. One
 *   made on a descriptor without `start` reads from the descriptor's position: what is
 *   left from there (Linux), or unknown where the position cannot be read; such a
 *   descriptor open for writing only rejects with EBADF, nothing sent (Linux). A
 *   non-regular file, an object-mode stream or one with `setEncoding` has an unknown
 *   length (2.7 would send a pipe's `st_size`, 0, as `Content-Length`).
 * - `FileHandle`: length from `handle.stat()` (unknown when not a regular file).
 * - any other `Readable`, a web `ReadableStream`, or a sync/async iterable of
 *   strings/bytes: unknown length.
 *
 * A stream is taken here, synchronously (body-kinds.ts `takeStream`, `WebStreamBody`):
 * whatever it gives from now on is the request's, however long the connect takes.
 *
 * `blocksize` (a positive integer) sizes the pieces read from a Blob or a FileHandle.
 * `exact` (an explicit `blocksize`, Python 3's `read(blocksize)` per write): a FileHandle
 * and a stream (`fs.ReadStream` or other `Readable`) are sent in pieces of exactly
 * `blocksize` bytes, the last one shorter; otherwise a FileHandle is read 256 KiB at a
 * time and a stream sent in the pieces it yields. Iterables always keep their own
 * pieces (Python 3 sends each item). Anything else throws `TypeError` synchronously
 * (Python 3: `message_body should be a bytes-like object or an iterable, got <type>`),
 * and so is a stream that cannot be read, known now: a `Readable` destroyed before its
 * end or a locked web stream (`ERR_HTTPLIB_BODY_STREAM_UNUSABLE`); one that failed
 * throws its own error. A failing `stat` or open later rejects the promise.
 */
export function prepareBody(
  body: unknown,
  blocksize: number,
  exact = false,
): PreparedBody | Promise<PreparedBody> {
  if (!Number.isSafeInteger(blocksize) || blocksize <= 0) {
    throw new TypeError(`blocksize must be a positive integer, got ${String(blocksize)}`);
  }
  if (body === null || body === undefined) return NO_BODY;
  if (typeof body === 'string') return new MemoryBody(Buffer.from(body, 'utf8'), 'str');
  if (typeof body !== 'object') throw unsupported(body);
  if (ArrayBuffer.isView(body)) {
    if (Buffer.isBuffer(body)) return new MemoryBody(body, 'Buffer');
    const view = Buffer.from(body.buffer, body.byteOffset, body.byteLength);
    return new MemoryBody(view, body.constructor.name);
  }
  if (isAnyArrayBuffer(body)) return new MemoryBody(Buffer.from(body), 'ArrayBuffer');
  if (body instanceof NodeBlob) return new BlobBody(body, blocksize);
  const blocks = exact ? blocksize : null;
  if (body instanceof ReadStream) return prepareReadStream(body, blocks);
  if (body instanceof Readable) {
    return new StreamBody(body, UNKNOWN_INFO, '<Readable>', blocks, takeStream(body));
  }
  if (isFileHandle(body)) return prepareFileHandle(body, blocksize, exact);
  if (body instanceof ReadableStream) return new WebStreamBody(body);
  if (Symbol.asyncIterator in body) return new IterableBody(body as AsyncIterable<unknown>, true);
  if (Symbol.iterator in body) return new IterableBody(body as Iterable<unknown>, false);
  throw unsupported(body);
}

/** The parts of a `ReadStream` that @types/node does not declare. */
interface ReadStreamInternals {
  readonly fd: number | null;
  readonly start: number | undefined;
  readonly end: number;
}

/**
 * The bodies still being prepared (a `ReadStream` opening, then its `fstat`), by their
 * promise and the promises made from it (`whenPrepared`): how to let one go now.
 */
const preparing = new WeakMap<Promise<unknown>, () => void>();

/**
 * `prepared.then(make)`, which `releaseWhenReady` can let go of as it can `prepared`
 * (a connection makes its request head once the body's length is known).
 */
export function whenPrepared<T>(
  prepared: Promise<PreparedBody>,
  make: (body: PreparedBody) => T,
): Promise<T> {
  const out = prepared.then((body) => {
    try {
      return make(body);
    } catch (err) {
      body.release();
      throw err;
    }
  });
  const cancel = preparing.get(prepared);
  if (cancel !== undefined) preparing.set(out, cancel);
  return out;
}

/**
 * A call will not send the body `pending` is preparing (or made from it: `body` finds it
 * in the value): let go of the caller's stream. Still being prepared, it is let go now:
 * our listeners come off the stream at once, `pending` rejects and nothing of the stream
 * is read, so failed calls with a stream that is still opening leave it as it was (and
 * pile nothing up on it). Ready, or once ready, the body is released. Never rejects.
 */
export function releaseWhenReady<T>(
  pending: Promise<T>,
  body: (value: T) => PreparedBody | null,
): void {
  preparing.get(pending)?.();
  pending.then((value) => body(value)?.release(), noop);
}

function prepareReadStream(stream: ReadStream, blocks: number | null): Promise<PreparedBody> {
  const s = stream as unknown as ReadStream & ReadStreamInternals;
  const label = s.path === undefined ? `<ReadStream fd=${s.fd}>` : `<ReadStream ${String(s.path)}>`;
  // Taken before awaiting anything: an open error must reject here, not crash, and what
  // the stream reads while it opens and is stat-ed must stay for the request.
  const guard = takeStream(stream);
  // The body made takes our listener over: it comes off when the body ends or is released.
  let handedOver = false;
  let cancelled = false;
  const wait: OpenWait = { stop: noop };
  const prepared = (async (): Promise<PreparedBody> => {
    try {
      const length = await readStreamLength(s, wait);
      if (cancelled) throw released();
      handedOver = true;
      return new StreamBody(
        stream,
        length === null ? UNKNOWN_INFO : { kind: 'length', length },
        label,
        blocks,
        guard,
      );
    } catch (err) {
      guard.off();
      throw err;
    }
  })();
  preparing.set(prepared, () => {
    cancelled = true;
    if (!handedOver) guard.off();
    wait.stop();
  });
  return prepared;
}

/** Ends a wait for a `ReadStream` to open (its listeners off the stream) at once. */
interface OpenWait {
  stop: () => void;
}

/** What iterating the stream will yield, if a `stat` can tell; `null` if not. */
async function readStreamLength(
  s: ReadStream & ReadStreamInternals,
  wait: OpenWait,
): Promise<number | null> {
  // A destroyed stream (read to its end: takeStream refused the others) has nothing left.
  if (s.destroyed || s.readableObjectMode || s.readableEncoding !== null) return null;
  if (s.pending) await opened(s, wait);
  const fd = s.fd;
  if (typeof fd !== 'number') return null;
  // Made on a descriptor of the caller's (no path: `fs.createReadStream(null, { fd })`,
  // `process.stdin` on a file), the stream reads from wherever the descriptor stands when
  // it has no `start`: not 0 when something read from it first (a shell script that read
  // a line of its stdin). One the stream opened itself from its path starts at 0.
  const onDescriptor = s.path === undefined || s.path === null;
  const state = onDescriptor ? await descriptorState(fd) : null;
  if (state?.writeOnly === true) {
    // Every read would fail, after the head went out: refused now, nothing sent, with
    // the error the first read would give.
    throw Object.assign(
      new Error(`EBADF: bad file descriptor, read (descriptor ${fd} is open for writing only)`),
      { code: 'EBADF', errno: -9, syscall: 'read' },
    );
  }
  const st = await fstatAsync(fd);
  if (!st.isFile()) return null;
  if (onDescriptor && s.start === undefined) {
    // Unknown where the position cannot be read (descriptor-state.ts): sent chunked, as
    // Python 3 sends every file, rather than with a length that may be wrong (2.7's
    // st_size counts the bytes before the position too: the message never ends).
    if (state === null) return null;
    // Without `start`, `end` counts from where the stream began (bytesRead bytes ago).
    const left = Math.min(st.size - state.position, s.end + 1 - s.bytesRead);
    return Math.max(0, left) + s.readableLength;
  }
  // `end` is inclusive (default Infinity); a start past the end of the file gives 0.
  const total = Math.max(0, Math.min(st.size, s.end + 1) - (s.start ?? 0));
  // bytesRead counts what left the file, readableLength what is buffered and not yet
  // consumed: together, what iterating the stream from here will yield (held since it
  // was taken, it gave nothing to anyone meanwhile: takeStream).
  return Math.max(0, total - s.bytesRead) + s.readableLength;
}

/**
 * The wait for a pending `ReadStream` to open, one per stream however many calls wait
 * on it: its listeners ('open', 'error', 'close') come off when the stream opens, fails
 * or closes. While they are on, an open error is not an uncaught 'error' event, even
 * when every call that gave the stream has already failed.
 */
const opening = new WeakMap<ReadStream, Promise<void>>();

/**
 * Resolves when a pending `ReadStream` has its descriptor; rejects on error or close, or
 * at once when `wait.stop()` is called (the call failed meanwhile): repeated calls that
 * fail while the stream is still opening (a FIFO without a writer may never open) leave
 * nothing of their own on it.
 */
function opened(stream: ReadStream, wait: OpenWait): Promise<void> {
  let shared = opening.get(stream);
  if (shared === undefined) {
    const made = new Promise<void>((resolve, reject) => {
      const done = (err: Error | null): void => {
        stream.off('open', onOpen);
        stream.off('error', onError);
        stream.off('close', onClose);
        opening.delete(stream);
        if (err === null) resolve();
        else reject(err);
      };
      const onOpen = (): void => done(null);
      const onError = (err: Error): void => done(err);
      const onClose = (): void =>
        done(
          // Node's code for a stream that closed before it finished (stream.finished's).
          Object.assign(new Error('request body stream closed before it opened'), {
            code: 'ERR_STREAM_PREMATURE_CLOSE',
          }),
        );
      stream.on('open', onOpen);
      stream.on('error', onError);
      stream.on('close', onClose);
    });
    // Its failure is each waiting call's; once they are all gone, nobody's.
    made.catch(noop);
    opening.set(stream, made);
    shared = made;
  }
  const open = shared;
  return new Promise((resolve, reject) => {
    wait.stop = () => reject(released());
    open.then(resolve, reject);
  });
}

async function prepareFileHandle(
  handle: FileHandle,
  blocksize: number,
  exact: boolean,
): Promise<PreparedBody> {
  const st = await handle.stat();
  return new FileHandleBody(handle, st, blocksize, exact);
}

/**
 * `fs.promises.FileHandle` is not exported as a class, so it is recognised by its shape:
 * a numeric `fd` and the `stat`/`read`/`close` methods the body path uses.
 */
export function isFileHandle(value: object): value is FileHandle {
  const v = value as Partial<Record<'fd' | 'stat' | 'read' | 'close', unknown>>;
  return (
    typeof v.fd === 'number' &&
    typeof v.stat === 'function' &&
    typeof v.read === 'function' &&
    typeof v.close === 'function'
  );
}

/**
 * `send(data)` has no "no body": Python refuses `None` (2.7: `sendall() argument 1 must
 * be string or buffer, not None`; 3: `data should be a bytes-like object or an iterable,
 * got <class 'NoneType'>`). Sending nothing would leave a server owed the rest of a
 * `Content-Length` waiting, with no error (`send(pieces[i])` past the end of `pieces`).
 */
export function checkSendData(data: unknown): void {
  if (data === null || data === undefined) {
    throw new TypeError(`data should be a bytes-like object or an iterable, got ${typeName(data)}`);
  }
}

function unsupported(body: unknown): TypeError {
  // A plain object is most often headers given as the body: say where headers go.
  const plain =
    typeof body === 'object' &&
    body !== null &&
    [Object.prototype, null].includes(Object.getPrototypeOf(body));
  const hint = plain ? " (headers are request()'s fourth argument, after the body)" : '';
  return new TypeError(
    `message_body should be a bytes-like object or an iterable, got ${typeName(body)}${hint}`,
  );
}

// ---------------------------------------------------------------------------------------
// writeBody

/**
 * Writes `body` to `sink`: raw, or chunk-framed when `chunked` (Python 3's
 * `_send_output`: `f'{len:X}\r\n' + chunk + b'\r\n'` per non-empty chunk, then
 * `0\r\n\r\n`). A chunk of up to 2 KiB is copied behind its size line and written once;
 * a bigger one is written after its size line, never copied. The trailing CRLF of a chunk
 * goes out with the next size line (or the last chunk).
 *
 * A `none` body writes nothing, even when `chunked`: the caller frames a body it sends
 * itself with `send()`. An empty body that is not `none` (`''`, an empty iterable) sends
 * just `0\r\n\r\n` when `chunked`, as Python 3 does.
 *
 * Every sink write that returns a promise is awaited before the next piece is pulled
 * from the source, so a slow socket slows the reading of the file or stream.
 *
 * When `info.kind === 'length'` the body must yield exactly that many bytes (a file can
 * grow or shrink between its `stat` and its reading); a body of unknown length for which
 * the caller declared a `Content-Length` (`length`) must yield no more (the caller may
 * `send()` the rest): too many, and nothing of the
 * overflowing piece is written; too few (a measured length), and the message is not
 * finished (no last chunk either). Either way the promise rejects with `BodyLengthMismatch` (`request body
 * length mismatch: declared N, got M`; M counts the bytes seen up to the overflowing
 * piece when there were too many), and the caller must destroy the socket. Python would send the wrong message.
 * A stream or iterator that fails rejects the promise with its error.
 */
export async function writeBody(
  sink: BodySink,
  body: PreparedBody,
  chunked: boolean,
  length: number | null = null,
): Promise<void> {
  // No body: nothing, not even the last chunk (Python 3's `_send_output` frames only a
  // body it was given; `endheaders(encode_chunked=True)` alone leaves it to `send()`).
  if (body.info.kind === 'none') return;
  const bytes = body.bytes;
  if (bytes !== null) {
    // In-memory: no iterator. Its info was made from the same bytes, so it cannot lie.
    if (!chunked) {
      if (bytes.length > 0) await sink.write(bytes);
      return;
    }
    if (bytes.length > 0) {
      const pending = writeChunk(sink, '', bytes);
      if (pending !== undefined) await pending;
    }
    await sink.write(bytes.length > 0 ? CHUNK_TRAILER + LAST_CHUNK : LAST_CHUNK, 'latin1');
    return;
  }
  // Measured here: exactly that many bytes. The caller's: at most that many.
  const exact = body.info.kind === 'length';
  const declared = exact ? body.info.length : (length ?? -1);
  let seen = 0;
  let framing = '';
  for await (const chunk of body.chunks()) {
    seen += chunk.length;
    if (declared !== -1 && seen > declared) throw lengthMismatch(declared, seen);
    const pending = chunked ? writeChunk(sink, framing, chunk) : sink.write(chunk);
    if (pending !== undefined) await pending;
    framing = CHUNK_TRAILER;
  }
  if (exact && seen !== declared) throw lengthMismatch(declared, seen);
  if (chunked) await sink.write(framing + LAST_CHUNK, 'latin1');
}

/**
 * `prefix` (the previous chunk's CRLF, or ''), the size line and `data`: one write of a
 * copy for a small chunk, else the framing then `data` itself.
 */
function writeChunk(sink: BodySink, prefix: string, data: Buffer): Promise<void> | void {
  const head = prefix + chunkHeader(data.length);
  if (data.length <= COALESCE_MAX) {
    const framed = Buffer.allocUnsafe(head.length + data.length);
    framed.write(head, 0, 'latin1');
    data.copy(framed, head.length);
    return sink.write(framed);
  }
  const first = sink.write(head, 'latin1');
  if (first === undefined) return sink.write(data);
  return first.then(() => sink.write(data));
}

function lengthMismatch(declared: number, got: number): BodyLengthMismatch {
  return new BodyLengthMismatch(declared, got);
}

function noop(): void {}
