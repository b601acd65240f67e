/**
 * Request bodies, rebuilt in the worker from what the caller's thread described
 * (bodies.ts), as the same kind of body the async client would have been given, so that
 * it frames, labels and reads them exactly as for the main entry:
 *
 * - `$iter`: the caller's synchronous iterable; each `next()` blocks this thread and asks
 *   the caller's thread (blocked in its call, answering such questions) for the next item,
 *   so the iterable runs where it was made, one item at a time, as a Python generator.
 * - `$fh` / `$fd`: a `FileHandle`, or a file descriptor, read through the descriptor
 *   (descriptors belong to the process, not to a thread): an object with the shape of a
 *   `FileHandle` over it, whose `close()` does nothing (the caller owns the file).
 * - `$rs`: an `fs.ReadStream`, read through its file: a new ReadStream over the same path
 *   or descriptor, from where the caller's stream would have gone on.
 *
 * Strings, bytes and Blobs need nothing here: wire.ts rebuilds them.
 */
import * as fs from 'node:fs';
import { Readable } from 'node:stream';
import type { Decoder, Encoder, Json } from './wire.ts';

/**
 * Asks the caller's thread a question (written with the message's encoder, when it is a
 * function) and blocks until it answers (worker.ts).
 */
export type Ask = (question: Json | ((encoder: Encoder) => Json)) => {
  value: unknown;
  error: boolean;
};

/** The body tags, for the worker's Decoder. */
export function bodyTags(
  ask: Ask,
): Record<string, (tagged: Record<string, Json>, decoder: Decoder) => unknown> {
  return {
    $iter: (o) => remoteIterable(o.$iter as number, ask),
    $fh: (o) => descriptorHandle(o.$fh as number),
    $fd: (o) => descriptorHandle(o.$fd as number),
    $rs: (o, decoder) => {
      const spec = o.$rs as Record<string, Json>;
      return readStream({
        ...(spec as unknown as ReadStreamSpec),
        error: decoder.value(spec.error ?? null),
      });
    },
  };
}

/** A synchronous iterable whose items come from the caller's thread, one per `next()`. */
function remoteIterable(id: number, ask: Ask): Iterable<unknown> {
  let done = false;
  const iterator: Iterator<unknown> = {
    next(): IteratorResult<unknown> {
      if (done) return { done: true, value: undefined };
      const answer = ask({ next: id });
      if (answer.error) {
        done = true;
        throw answer.value;
      }
      const result = answer.value as { done: boolean; value: unknown };
      if (result.done) done = true;
      return result.done ? { done: true, value: undefined } : { done: false, value: result.value };
    },
    return(): IteratorResult<unknown> {
      if (!done) {
        done = true;
        const answer = ask({ ret: id });
        if (answer.error) throw answer.value;
      }
      return { done: true, value: undefined };
    },
  };
  return { [Symbol.iterator]: () => iterator };
}

/**
 * What the async client needs of a `FileHandle` (its `fd`, `stat`, `read`, `close`), over
 * a descriptor. `close` leaves the descriptor open: the package never closes the file
 * it was given, and the caller's FileHandle owns it.
 */
function descriptorHandle(fd: number): object {
  return {
    fd,
    stat: (): Promise<fs.Stats> =>
      new Promise((resolve, reject) =>
        fs.fstat(fd, (err, st) => (err ? reject(err) : resolve(st))),
      ),
    read: (
      buffer: Buffer,
      offset: number,
      length: number,
      position: number | null,
    ): Promise<{ bytesRead: number; buffer: Buffer }> =>
      new Promise((resolve, reject) =>
        fs.read(fd, buffer, offset, length, position, (err, bytesRead) =>
          err ? reject(err) : resolve({ bytesRead, buffer }),
        ),
      ),
    close: (): Promise<void> => Promise.resolve(),
  };
}

/** The caller's ReadStream, as bodies.ts describes it. */
export interface ReadStreamSpec {
  /** Its path (a string, or latin1 of a Buffer path with `pathBytes`), or null. */
  readonly path: string | null;
  readonly pathBytes?: boolean;
  /** Its descriptor when it is open, else null (then the path is opened here). */
  readonly fd: number | null;
  /** Where to start reading (null: the descriptor's current position). */
  readonly start: number | null;
  readonly end: number | null;
  readonly highWaterMark: number;
  readonly encoding: BufferEncoding | null;
  readonly flags: string;
  /** The caller's stream was destroyed: this one is too, with the same error (or none). */
  readonly destroyed: boolean;
  readonly error: unknown;
}

function readStream(spec: ReadStreamSpec): fs.ReadStream | Readable {
  // A stream read to its end (`start` past `end`): nothing left, as iterating it gives.
  if (spec.start !== null && spec.end !== null && spec.start > spec.end) {
    return Readable.from([]);
  }
  const path =
    spec.path === null
      ? null
      : spec.pathBytes === true
        ? Buffer.from(spec.path, 'latin1')
        : spec.path;
  const options: Parameters<typeof fs.createReadStream>[1] & object = {
    highWaterMark: spec.highWaterMark,
    flags: spec.flags,
  };
  if (spec.start !== null) options.start = spec.start;
  if (spec.end !== null) options.end = spec.end;
  if (spec.encoding !== null) options.encoding = spec.encoding;
  if (spec.fd !== null) {
    // The caller's descriptor: read through it, and leave it open for the caller's stream.
    options.fd = spec.fd;
    options.autoClose = false;
  }
  const stream = fs.createReadStream(path as fs.PathLike, options);
  if (spec.destroyed) stream.destroy((spec.error as Error | null) ?? undefined);
  if (spec.fd === null) {
    // Opened here, from its path: its descriptor is this thread's own, for whoever takes
    // the stream to close once the call that sends it is over (`takeOpened`).
    opened.push(stream);
    stream.once('open', (fd: number) => {
      try {
        if (fs.fstatSync(fd).isFile()) regularFiles.add(stream);
      } catch {
        // Not known to be a file: its closing is not waited for.
      }
    });
  }
  return stream;
}

/** Streams this thread opened for bodies (`readStream`), not yet taken by their owner. */
let opened: fs.ReadStream[] = [];
/** Those of them open on a regular file: a read of one ends soon, and so its closing. */
const regularFiles = new WeakSet<fs.ReadStream>();

/**
 * The streams made, from their paths, by the decoding since the last call: the caller
 * of the decoding owns them now, and must `closeOpened` them once their call is over,
 * whatever its outcome (a failed send reads them no further, and nothing else would
 * close their descriptors: the main entry never destroys a body it was given).
 */
export function takeOpened(): fs.ReadStream[] {
  const out = opened;
  opened = [];
  return out;
}

/**
 * Destroys streams `takeOpened` gave, closing their descriptors (a stream read to its end
 * closed itself already). Resolves once those open on a regular file are closed; any
 * other closes when its pending open or read is over, unwaited (a FIFO or a device may
 * keep it for ever: the call must not wait for that).
 */
export function closeOpened(streams: readonly fs.ReadStream[]): Promise<void> {
  const waits: Promise<void>[] = [];
  for (const stream of streams) {
    if (!stream.closed && regularFiles.has(stream)) {
      waits.push(new Promise((resolve) => stream.once('close', () => resolve())));
    }
    // A failure of its own comes with no listener left: it must not crash the worker.
    stream.on('error', ignoreError);
    stream.destroy();
  }
  return Promise.all(waits).then(() => {});
}

function ignoreError(): void {}
