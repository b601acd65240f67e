/**
 * Request bodies of the blocking API, on the caller's side: what can be read without this
 * thread's event loop is described for the worker (worker-bodies.ts rebuilds it as the
 * same kind of body); what cannot is refused, before anything is sent.
 *
 * - strings, bytes, `ArrayBuffer`s, arrays of pieces: copied over as they are;
 * - `Blob`s: shared with the worker (their bytes are not copied); a file-backed one
 *   (`fs.openAsBlob`), which Node cannot share, is refused (wire.ts `portable`);
 * - `FileHandle`s and file descriptors (a non-negative integer): read by the worker
 *   through the descriptor;
 * - `fs.ReadStream`s: read by the worker through their file (path or descriptor), from
 *   where the stream would have gone on; a stream read to its end is destroyed, as one
 *   read to its end by the async client closes itself (`autoClose`);
 * - synchronous iterables: pulled one item at a time, on this thread, while the worker
 *   sends them;
 * - async iterables and other `Readable`s: a `TypeError` (nothing could read them while
 *   this thread is blocked).
 */
import { closeSync, openSync, ReadStream, readSync } from 'node:fs';
import { Readable } from 'node:stream';
import { isFileHandle } from '../io/body-source.ts';
import type { CallScope } from './channel.ts';
import type { Encoder, Json } from './wire.ts';

/** A body for the worker; `done` runs after the call that sent it succeeded. */
export interface EncodedBody {
  readonly json: Json;
  readonly done: (() => void) | null;
}

/**
 * Whether a descriptor opened on one thread means nothing on another, as on Deno (its
 * `node:fs` descriptors are the opening thread's resources): the worker then cannot read
 * the caller's (EBADF), and such bodies are refused with a `TypeError` that says what to
 * send instead. A stream with a path is read from its path. Tests flip it.
 */
export const descriptorsPerThread = {
  enabled: typeof (globalThis as { Deno?: unknown }).Deno === 'object',
};

function noDescriptors(what: string): TypeError {
  return new TypeError(
    `httplib-ts/sync cannot send ${what} on this runtime: its file descriptors belong to the ` +
      'thread that opened them (Deno), and the blocking API sends from its worker thread. Send ' +
      'the file by its path (fs.createReadStream(path)) or its bytes, or use the async API',
  );
}

export function encodeBody(body: unknown, encoder: Encoder, scope: CallScope): EncodedBody {
  if (body === null || body === undefined || typeof body !== 'object') {
    if (typeof body === 'number' && Number.isSafeInteger(body) && body >= 0) {
      if (descriptorsPerThread.enabled) throw noDescriptors('a file descriptor');
      return { json: { $fd: body }, done: null };
    }
    return { json: encoder.value(body), done: null };
  }
  if (
    ArrayBuffer.isView(body) ||
    body instanceof ArrayBuffer ||
    body instanceof SharedArrayBuffer
  ) {
    return { json: encoder.value(body), done: null };
  }
  if (body instanceof Blob || Array.isArray(body)) return { json: encoder.value(body), done: null };
  if (body instanceof ReadStream) return readStream(body, encoder);
  if (body instanceof Readable || Symbol.asyncIterator in body) {
    throw new TypeError(
      'httplib-ts/sync cannot send an async iterable or a Readable stream: nothing can read it ' +
        'while this thread is blocked. Send a string, bytes, a Blob, a file (FileHandle, ' +
        'fs.ReadStream or descriptor) or a synchronous iterable, or use the async API',
    );
  }
  if (isFileHandle(body)) {
    if (descriptorsPerThread.enabled) throw noDescriptors('a FileHandle');
    // Closed (its fd is -1): the error the main entry's stat of it rejects with.
    if (body.fd < 0) {
      throw Object.assign(new Error('file closed'), { code: 'EBADF', syscall: 'fstat' });
    }
    return { json: { $fh: body.fd }, done: null };
  }
  if (Symbol.iterator in body) {
    const id = scope.iterators.size + 1;
    scope.iterators.set(id, pulled(body as Iterable<unknown>));
    return { json: { $iter: id }, done: null };
  }
  return { json: encoder.value(body), done: null };
}

/**
 * The caller's iterable as the worker pulls it, one item per `next()`: a for-of, as the
 * main entry's body loop, so that the language does what it does there. Its iterator is
 * taken for the first item, once the head is sent (a `Symbol.iterator` that throws fails
 * the send: taken while the body was described, before the state moved, it left the
 * request started, and a second `endheaders('x')` sent it); a result that is not an object
 * is the language's TypeError ('Iterator result 5 is not an object'; read unchecked, 5 was
 * an item `undefined` and null a crash); `value` is read only when not `done`; `return()`
 * closes an iterator that was taken, and only then.
 */
function* pulled(iterable: Iterable<unknown>): Generator<unknown, void, undefined> {
  for (const item of iterable) yield item;
}

/** The parts of a ReadStream that @types/node does not declare. */
interface ReadStreamInternals {
  readonly fd: number | null;
  readonly start: number | undefined;
  readonly end: number;
  readonly flags: string;
  readonly autoClose: boolean;
}

/**
 * Throws a `TypeError` unless the worker, reading the stream's file from `start`, sends
 * what iterating the stream would: its characters are decoded (an encoding) or its file
 * position is its descriptor's own (a descriptor of the caller's, no `start`): not told
 * in bytes of the file; what it holds unconsumed is not the file's bytes there (pushed
 * back with `unshift`). Checked against the file itself (at most a buffer's worth).
 */
function checkRereadable(s: ReadStream & ReadStreamInternals, start: number): void {
  const refuse = (why: string): never => {
    throw new TypeError(
      `httplib-ts/sync cannot send this fs.ReadStream from where it stands: ${why}; the ` +
        'worker reads the file itself. Send a stream nothing was read from, or use the async API',
    );
  };
  if (s.readableEncoding !== null) refuse('it was read as characters (an encoding)');
  if (s.start === undefined && (s.path === null || s.path === undefined)) {
    refuse("it reads at its descriptor's own position, which was moved by its reads");
  }
  const held = s.readableLength;
  if (held === 0) return;
  if (start < 0) refuse('it holds more bytes than it read from its file (unshift)');
  const list: unknown = (s as { readableBuffer?: unknown }).readableBuffer;
  const parts: Buffer[] = [];
  if (!Array.isArray(list)) refuse('what it holds cannot be seen');
  for (const part of list as unknown[]) if (Buffer.isBuffer(part)) parts.push(part);
  const ours = Buffer.concat(parts);
  const file = Buffer.alloc(held);
  let n = 0;
  try {
    const fd = typeof s.fd === 'number' ? s.fd : openSync(s.path as string | Buffer, 'r');
    try {
      n = readSync(fd, file, 0, held, start);
    } finally {
      if (fd !== s.fd) closeSync(fd);
    }
  } catch {
    refuse('its file cannot be read again');
  }
  if (ours.length < held || n !== held || !ours.subarray(ours.length - held).equals(file)) {
    refuse('what it holds unconsumed is not what its file has there (pushed back with unshift?)');
  }
}

/** Streams given as bodies that are still opening, with our listener on them. */
const opening = new WeakSet<ReadStream>();

function readStream(stream: ReadStream, encoder: Encoder): EncodedBody {
  const s = stream as ReadStream & ReadStreamInternals;
  const path = s.path;
  // What iterating the stream would give: its file from `start`, less what has gone to
  // its consumer (bytesRead counts what left the file, readableLength what is still
  // buffered, unconsumed, and read again from the file by the worker, at the same
  // positions). Where that cannot be told, the stream is refused rather than sent from a
  // position guessed wrong (bytes lost or repeated, silently).
  const touched = s.bytesRead > 0 || s.readableLength > 0;
  const start = !touched ? (s.start ?? null) : (s.start ?? 0) + s.bytesRead - s.readableLength;
  if (touched) checkRereadable(s, start as number);
  const hasPath = typeof path === 'string' || Buffer.isBuffer(path);
  // Where descriptors are the thread's own, the worker opens the path (from an explicit
  // position: a stream on its path reads from its start, 0 unless given).
  const byPath = descriptorsPerThread.enabled;
  if (byPath && !hasPath) throw noDescriptors('an fs.ReadStream made on a descriptor');
  const spec: Record<string, Json> = {
    path: typeof path === 'string' ? path : Buffer.isBuffer(path) ? path.toString('latin1') : null,
    fd: typeof s.fd === 'number' && !byPath ? s.fd : null,
    start,
    end: Number.isFinite(s.end) ? s.end : null,
    highWaterMark: s.readableHighWaterMark,
    encoding: s.readableEncoding,
    flags: s.flags ?? 'r',
    destroyed: s.destroyed && !s.readableEnded,
    error: encoder.value(s.errored ?? null),
  };
  if (Buffer.isBuffer(path)) spec.pathBytes = true;
  // This thread never reads the stream: a failure of its own opening (its file opened
  // later, and gone by then) must not crash the process. Listened to only while it is
  // opening, and taken off once it opened, failed or closed: nothing stays on the caller's
  // stream (a stream given again and again gathered one listener per request).
  // Once per stream: it stays pending across blocking calls (it opens only when this
  // thread's loop turns), and each call would add its own.
  if (s.pending && !s.destroyed && !opening.has(stream)) {
    opening.add(stream);
    const off = (): void => {
      opening.delete(stream);
      stream.off('error', off);
      stream.off('ready', off);
      stream.off('close', off);
    };
    stream.on('error', off);
    stream.once('ready', off);
    stream.once('close', off);
  }
  const done = s.autoClose === false ? null : () => stream.destroy();
  return { json: { $rs: spec }, done };
}
