/**
 * Putting a request on the socket: Python's `_send_output` and `send`. The head and a
 * small body go out in one write (Python 2.7 appends a string body to the head); a large
 * in-memory body follows the head without a copy (the socket corked between them); any
 * other body is streamed by body-source.ts with backpressure. `set_debuglevel` prints
 * what is sent, as CPython 2.7 does.
 *
 * Every function here writes synchronously while the socket takes the bytes, and returns
 * a promise only when it must wait for the socket to drain (`undefined` otherwise): the
 * small-request path makes no promise at all. Nothing here decides anything about the
 * connection; failures reject, and the connection's state machine hears of them.
 */
import type { Duplex } from 'node:stream';
import { type BodySink, type PreparedBody, writeBody } from '../io/body-source.ts';
import type { ByteReader } from '../io/byte-reader.ts';
import type { WaitOptions } from '../io/deadline.ts';
import { HEAD_AND_BODY_MAX } from '../io/tuning.ts';
import { detachedMemory } from '../protocol/body-errors.ts';
import { pyrepr } from '../protocol/pytext.ts';
import {
  type BodyInfo,
  declaredLength,
  type GivenHeaders,
  planRequest,
  type RequestBuffer,
} from '../protocol/request-writer.ts';

/** What a connection sends: a request head and its body, or raw bytes (`send()`). */
export interface Outgoing {
  /** The request head (latin1), or null for raw bytes. */
  readonly head: string | null;
  readonly body: PreparedBody | null;
  /** Frame the body in chunks (the library encodes it). */
  readonly chunked: boolean;
  /**
   * The caller's `Content-Length` that a body of unknown length must match as it is sent
   * (`declaredLength`); absent or null: none.
   */
  readonly length?: number | null;
}

/** Where `set_debuglevel` output goes, or null when it is off. */
export type Debug = ((text: string) => void) | null;

const NO_BODY_INFO: BodyInfo = { kind: 'none' };

/**
 * `request()`'s head: the request line buffered in `buffer`, then the automatic headers
 * for `body` (`Content-Length`, or chunked framing, as `planRequest` decides) and the
 * caller's; with the body, what to send.
 */
export function requestOutgoing(
  buffer: RequestBuffer,
  method: string,
  given: GivenHeaders,
  body: PreparedBody | null,
  encodeChunked: boolean,
  version: 10 | 11,
): Outgoing {
  const info = body === null ? NO_BODY_INFO : body.info;
  const length = declaredLength(given, info);
  const plan = planRequest(method, info, given.names, encodeChunked, version);
  for (const [name, value] of plan.headers) buffer.putheader(name, value);
  for (const [name, value] of given.pairs) buffer.putheader(name, value);
  return { head: buffer.finish(), body, chunked: plan.encodeChunked, length };
}

/** Write `out` on `reader`'s socket; undefined when it all went out without waiting. */
/**
 * The head and an in-memory body in one Buffer (one write, as Python 2.7 sends a string
 * body with its head), or null when the body is too large to be worth the copy.
 */
export function headWithBody(head: string, bytes: Buffer): Buffer | null {
  if (bytes.length > HEAD_AND_BODY_MAX) return null;
  const both = Buffer.allocUnsafe(head.length + bytes.length);
  both.write(head, 0, 'latin1');
  bytes.copy(both, head.length);
  return both;
}

export function writeOutgoing(
  reader: ByteReader,
  out: Outgoing,
  wait: WaitOptions,
  debug: Debug,
): Promise<void> | undefined {
  const { head, body, chunked } = out;
  const length = out.length ?? null;
  // Before the head: the caller's memory may have been taken away since request().
  if (body !== null) checkAttached(body);
  if (head === null) return writeBodyOn(reader, body as PreparedBody, false, wait, debug, null);
  if (body !== null && body.bytes !== null && !chunked) {
    // Python 2.7 appends a string body to the head and sends both at once.
    const bytes = body.bytes;
    if (debug !== null) {
      debug(`send: ${pyrepr(head + bytes.toString('latin1'))}\n`);
      // The debug output is the caller's code: it may have taken the memory away.
      checkAttached(body);
    }
    const both = headWithBody(head, bytes);
    if (both !== null) return reader.write(both, undefined, wait);
    return stayedAttached(writeHeadThenBody(reader, head, bytes, wait), bytes);
  }
  if (debug !== null) debug(`send: ${pyrepr(head)}\n`);
  const written = reader.write(head, 'latin1', wait);
  if (body === null) return written;
  if (written === undefined) return writeBodyOn(reader, body, chunked, wait, debug, length);
  return written.then(() => writeBodyOn(reader, body, chunked, wait, debug, length));
}

/** A body after its head (or `send()`'s raw bytes), with backpressure. */
function writeBodyOn(
  reader: ByteReader,
  body: PreparedBody,
  chunked: boolean,
  wait: WaitOptions,
  debug: Debug,
  length: number | null,
): Promise<void> | undefined {
  if (debug !== null) {
    if (body.bytes !== null && !chunked) {
      debug(`send: ${pyrepr(body.bytes.toString('latin1'))}\n`);
    } else {
      debug(`send: ${body.label}\n`);
      debug('sendIng a read()able\n');
    }
    // (The caller's code: after the head, a body it took away fails the send.)
    checkAttached(body);
  }
  if (body.bytes !== null && !chunked) {
    const bytes = body.bytes;
    return bytes.length === 0
      ? undefined
      : stayedAttached(reader.write(bytes, undefined, wait), bytes);
  }
  const sink: BodySink = body.fresh
    ? { write: (chunk, encoding) => reader.write(chunk, encoding, wait) }
    : {
        // A piece that had to wait may be the caller's memory (an iterable's Buffer).
        write: (chunk, encoding) =>
          typeof chunk === 'string'
            ? reader.write(chunk, encoding, wait)
            : stayedAttached(reader.write(chunk, encoding, wait), chunk),
      };
  return writeBody(sink, body, chunked, length);
}

async function writeHeadThenBody(
  reader: ByteReader,
  head: string,
  bytes: Buffer,
  wait: WaitOptions,
): Promise<void> {
  const socket = reader.socket as Duplex;
  socket.cork();
  const first = reader.write(head, 'latin1', wait);
  if (first !== undefined) {
    // The head alone filled the socket's buffer (or the write failed): the reader
    // waits for one drain at a time, so send the head and wait before the body.
    socket.uncork();
    await first;
    await reader.write(bytes, undefined, wait);
    return;
  }
  const second = reader.write(bytes, undefined, wait);
  process.nextTick(() => socket.uncork());
  await second;
}

/**
 * An in-memory body whose memory its owner transferred (detached) or shrank between the
 * call that took it (which measured it for the head) and its writing, while the socket
 * was being opened or earlier calls were sent: refused before a byte of the request goes
 * out (the head's `Content-Length` would promise bytes that are not there, and the next
 * request would be read as them).
 */
export function checkAttached(body: PreparedBody): void {
  const { bytes, info } = body;
  if (bytes !== null && info.kind === 'length' && bytes.length !== info.length) {
    throw detachedMemory(
      "the request body's memory was detached (transferred) or shrunk before it was sent " +
        `(${info.length} bytes when it was given, ${bytes.length} now): nothing was sent`,
    );
  }
}

/**
 * A write of the caller's bytes that had to wait for the socket was, meanwhile, a pointer
 * into the caller's memory: a caller that transferred (detached) or shrank its
 * `ArrayBuffer` then had other memory sent in its place. Node cannot be kept from that
 * without a copy of every large body; what this does is refuse to call it a success: the
 * send rejects with a TypeError once the socket took the bytes, and the connection, which
 * sent a wrong body, is closed (test/integration/request-body-detach.test.ts).
 */
function stayedAttached(
  pending: Promise<void> | undefined,
  bytes: Buffer,
): Promise<void> | undefined {
  if (pending === undefined) return undefined;
  const length = bytes.length;
  return pending.then(() => {
    if (bytes.length !== length) {
      throw detachedMemory(
        "the request body's memory was detached (transferred) or shrunk while it was being " +
          'sent: other bytes may have gone out in its place, and the connection is closed',
      );
    }
  });
}
