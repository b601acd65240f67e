/**
 * HTTPResponse: what `getresponse()` returns. The connection reads the head (with the
 * protocol core's parser) and hands it over; the body is then pulled through the body
 * decoder only as the caller reads, straight out of the socket reader's queue (no copy
 * until the caller's buffer), or read by the socket straight into read()'s own Buffer (or
 * into a buffer of ours copied into `readinto`'s, which the caller could free meanwhile).
 *
 * One pull loop: `read`, `readinto`, `read1`, `peek`, `readline`, the async iterator,
 * `text()` and `json()` are one `Pull` each of response-body.ts's loop, so they cannot
 * disagree. This file is the Python façade: the attributes, the methods' arguments and
 * results, and the headers.
 *
 * Python 2.7's semantics, with Python 3's reading methods, and these deliberate
 * differences (shared/API.md): a body cut short raises `IncompleteRead` from `read(amt)`
 * too (Python returns the short data silently); a broken chunked body raises
 * `IncompleteRead` with every byte of the call (2.7 keeps only the last chunk's); closing
 * a kept-alive response before its end discards the connection instead of leaving the
 * rest of the body to be read as the next response.
 */
import type { WaitOptions } from '../io/deadline.ts';
import type { Link } from '../io/transport.ts';
import { HTTPMessage } from '../protocol/message.ts';
import type { ResponseHead, ResponseParser } from '../protocol/response-parser.ts';
import { responseHeadersChannel } from './debug.ts';
import {
  type Pull,
  type ReadOptions,
  ResponseBody,
  type ResponseContext,
} from './response-body.ts';

export type { ReadOptions, ResponseContext } from './response-body.ts';

let create: (context: ResponseContext) => HTTPResponse;
let begin: (response: HTTPResponse, head: ResponseHead, owner: boolean) => void;

/** What the connection decides when a head was read, or when reading it failed. */
export interface HeadHandlers {
  /**
   * The head, read on `link`: the connection's decision; returns whether the response
   * owns the socket.
   */
  head(head: ResponseHead, response: HTTPResponse, link: Link): boolean;
  /** Reading the head on `link` failed: returns the error to reject with. */
  failed(err: unknown, link: Link): unknown;
}

/**
 * @internal Read a response head on `context.link` with `parser` (bytes after it stay
 * queued for the body), and make the response of it. Driven from the socket's events:
 * one promise per head, no await per chunk.
 */
export function receiveResponse(
  context: ResponseContext,
  parser: ResponseParser,
  wait: WaitOptions,
  on: HeadHandlers,
): Promise<HTTPResponse> {
  const reader = context.link.reader;
  return new Promise<HTTPResponse>((resolve, reject) => {
    const aborted = reader.abortIfSignalled(wait);
    if (aborted !== null) {
      reject(on.failed(aborted, context.link));
      return;
    }
    reader.pump(parser, 'head', wait, (err) => {
      const head = parser.head;
      if (err !== null || head === null) {
        reject(on.failed(err ?? new Error('response head missing'), context.link));
        return;
      }
      const response = create(context);
      begin(response, head, on.head(head, response, context.link));
      if (responseHeadersChannel.hasSubscribers) {
        responseHeadersChannel.publish({ connection: context.connection, response });
      }
      resolve(response);
    });
  });
}

/**
 * Python's `httplib.HTTPResponse`, returned by `HTTPConnection.getresponse()`; users do
 * not construct it (`new HTTPResponse()` throws `TypeError`).
 *
 * The body is pulled from the socket only as it is read: `read()`, `read(amt)`,
 * `readinto()`, `read1()`, `peek()`, `readline()` (Python 3's methods), `for await`, and
 * the TypeScript additions `text()` and `json()`, all on one read path. The whole body
 * must be read (or the response closed) before the next `getresponse()`. One read at a
 * time: a read started while another read of the same response waits for data rejects
 * with {@link ImproperConnectionState} (the first one goes on). `close()` while a read
 * waits settles it with `AbortError`.
 *
 * How this differs from Python 2.7: reads return `Buffer`s; a body cut short raises
 * {@link IncompleteRead} from every read method (2.7's `read(amt)` returns the short
 * data silently), and again from every later read until `close()`; `getheaders()` keeps every field in order with its name as received
 * (2.7 lower-cases and merges); closing a kept-alive response before its end discards
 * the connection instead of leaving the rest to be read as the next response.
 *
 * @example
 * ```ts
 * const response = await conn.getresponse();
 * console.log(response.status, response.reason); // 200 OK
 * console.log(response.getheader('Content-Type')); // text/html; charset=utf-8
 * for await (const chunk of response) process.stdout.write(chunk);
 * ```
 */
export class HTTPResponse implements AsyncIterable<Buffer> {
  /** Status code, e.g. 200. */
  status = 0;
  /** Reason phrase, e.g. `'OK'` (stripped). */
  reason = '';
  /** 9, 10 or 11 (HTTP/0.9, 1.0, 1.1). */
  version: 9 | 10 | 11 = 11;
  /** The response headers (Python 2.7: a mimetools.Message; here an `HTTPMessage`). */
  msg: HTTPMessage = EMPTY_MESSAGE;
  /** Python's `chunked`: the body uses chunked transfer coding. */
  chunked = false;
  /** Python's `will_close`: the connection closes after this response. */
  will_close = false;
  /** Python's `debuglevel`: the connection's level when `getresponse()` was called. */
  debuglevel: number;
  /** Python's `strict`: the connection's setting (HTTP/0.9 responses are `BadStatusLine` when true). */
  strict: boolean;
  /** True once `close()` was called (Python 3's `closed`; reading to the end is not enough). */
  closed = false;

  readonly #body: ResponseBody;

  static {
    create = (context) => new HTTPResponse(TOKEN, context);
    begin = (response, head, owner) => response.#begin(head, owner);
  }

  private constructor(token: unknown, context?: ResponseContext) {
    if (token !== TOKEN || context === undefined) {
      throw new TypeError('HTTPResponse is not constructible: use HTTPConnection.getresponse()');
    }
    this.#body = new ResponseBody(context, this);
    this.debuglevel = context.debuglevel;
    this.strict = context.strict;
  }

  /** Python 3's `headers`: the same object as `msg`. */
  get headers(): HTTPMessage {
    return this.msg;
  }

  /** Python's `length`: body bytes still to come when known (0 for no body), else null. */
  get length(): number | null {
    return this.#body.length;
  }

  #begin(head: ResponseHead, owner: boolean): void {
    this.status = head.status;
    this.reason = head.reason;
    this.version = head.version;
    this.msg = head.lines.length === 0 ? EMPTY_MESSAGE : new HTTPMessage(head.lines);
    this.chunked = head.chunked;
    this.will_close = head.will_close;
    this.#body.start(head, owner);
  }

  /**
   * Python's `read(amt=None)`: the whole rest of the body, or at most `amt` bytes (fewer
   * only at the end of the body). `Buffer.alloc(0)` once the body is done. A body that
   * ends early raises `IncompleteRead` with the bytes of this call in `partial`, and every
   * later read raises it again (`partial` empty), never `Buffer.alloc(0)`, until `close()`.
   *
   * Differs from Python 2.7: a `Buffer`, not a `str`; `read(amt)` raises
   * `IncompleteRead` too when the body is cut short (2.7 returns the short data).
   *
   * Memory: a body framed by `Content-Length` that is still to arrive is received straight
   * into the Buffer returned, but the declared length never sizes it by itself (Python 3
   * allocates it whole: a hostile 9 EB length is a `MemoryError` there). The buffer is the
   * body's size up to 1 MiB, and past that at most 4 × the bytes that have arrived, grown
   * as they come; so a response that claims terabytes and sends a few bytes costs 1 MiB.
   *
   * @example
   * ```ts
   * const whole = await response.read(); // everything
   * // or, piece by piece:
   * for (let piece = await response.read(65536); piece.length > 0; piece = await response.read(65536)) {
   *   out.write(piece);
   * }
   * ```
   */
  read(amt?: number | null, options?: ReadOptions): Promise<Buffer> {
    const max = sizeLimit('amt', amt);
    if (max instanceof TypeError) return Promise.reject(max);
    return this.#body.read(
      { mode: 'all', max, parts: [], target: null, own: false, got: 0 },
      options,
    );
  }

  /**
   * Python 3's `readinto(b)`: read up to `b.byteLength` bytes into `b` (any typed array or
   * `DataView`, as Python takes any writable bytes-like object); returns how many (0 at
   * the end of the body).
   */
  readinto(b: ArrayBufferView, options?: ReadOptions): Promise<number> {
    return this.#into(b, 'all', options);
  }

  /**
   * Python 3's `readinto1(b)` (`io.BufferedIOBase`'s, which `HTTPResponse` inherits): read
   * into `b` what `read1(b.length)` would return, with at most one wait for the network,
   * and return how many bytes (0 at the end of the body). A body framed by its length or
   * by the close is received straight into `b` when nothing is queued. For a consumer
   * that writes each piece as it comes (a progress bar, a pipe) into memory of its own.
   *
   * @example
   * ```ts
   * const buffer = Buffer.allocUnsafe(1024 * 1024);
   * for (let n = await response.readinto1(buffer); n > 0; n = await response.readinto1(buffer)) {
   *   out.write(buffer.subarray(0, n)); // (a copy, if out keeps it)
   * }
   * ```
   */
  readinto1(b: ArrayBufferView, options?: ReadOptions): Promise<number> {
    return this.#into(b, 'some', options);
  }

  /** readinto (`all`: until `b` is full or the body ends) and readinto1 (`some`). */
  #into(
    b: ArrayBufferView,
    mode: 'all' | 'some',
    options: ReadOptions | undefined,
  ): Promise<number> {
    // Python takes any writable bytes-like object: here any typed array or DataView (its
    // bytes); anything else is refused before the body is touched.
    const target = bytesOf(b);
    if (target instanceof TypeError) return Promise.reject(target);
    const pull: Pull = { mode, max: target.length, parts: null, target, own: false, got: 0 };
    const pending = this.#body.pull(pull, options);
    return pending === null ? Promise.resolve(pull.got) : pending.then(() => pull.got);
  }

  /**
   * Python 3's `read1(n=-1)`: at most `n` bytes with at most one wait for the network;
   * within a chunked body, at most the rest of the current chunk.
   */
  read1(n = -1, options?: ReadOptions): Promise<Buffer> {
    const max = sizeLimit('n', n);
    if (max instanceof TypeError) return Promise.reject(max);
    return this.#body.read(
      { mode: 'some', max, parts: [], target: null, own: false, got: 0 },
      options,
    );
  }

  /**
   * Python 3's `peek(n)`: body bytes that can be returned without consuming them (at
   * least one unless the body is done; within a chunked body, at most the current
   * chunk). Never shows bytes past the end of the body.
   */
  peek(n = 1, options?: ReadOptions): Promise<Buffer> {
    // Python's peek ignores the size (it shows what is buffered) but takes only an integer.
    const size = sizeLimit('n', n);
    if (size instanceof TypeError) return Promise.reject(size);
    return this.#body.read(
      { mode: 'peek', max: 1, parts: [], target: null, own: false, got: 0 },
      options,
    );
  }

  /** Python 3's `readline(limit=-1)`: up to and including the next `\n`, within the body. */
  readline(limit = -1, options?: ReadOptions): Promise<Buffer> {
    const max = sizeLimit('limit', limit);
    if (max instanceof TypeError) return Promise.reject(max);
    return this.#body.read(
      { mode: 'line', max, parts: [], target: null, own: false, got: 0 },
      options,
    );
  }

  /**
   * Python 3's `readlines(hint=-1)`: the rest of the body as lines, each with its `\n`
   * (the last may lack it); with a positive `hint`, no more lines once those read hold at
   * least `hint` bytes.
   */
  async readlines(hint: number | null = -1, options?: ReadOptions): Promise<Buffer[]> {
    const max = sizeLimit('hint', hint);
    if (max instanceof TypeError) throw max;
    const lines: Buffer[] = [];
    let total = 0;
    for (;;) {
      const line = await this.readline(-1, options);
      if (line.length === 0) return lines;
      lines.push(line);
      total += line.length;
      if (max > 0 && total >= max) return lines;
    }
  }

  /** `for await (const chunk of response)`: the body as Buffers, as they arrive. */
  async *[Symbol.asyncIterator](): AsyncIterator<Buffer> {
    for (;;) {
      const chunk = await this.read1(-1);
      if (chunk.length === 0) return;
      yield chunk;
    }
  }

  /**
   * Read the rest of the body and decode it (default UTF-8). A TypeScript addition:
   * Python's is `read().decode(encoding)`.
   */
  async text(encoding: BufferEncoding = 'utf8'): Promise<string> {
    // Checked before the body is read: an unknown encoding must not consume it.
    if (typeof encoding !== 'string' || !Buffer.isEncoding(encoding)) {
      throw new TypeError(`Unknown encoding: ${String(encoding)}`);
    }
    return (await this.read()).toString(encoding);
  }

  /**
   * Read the rest of the body and parse it as JSON (a `SyntaxError` if it is not). A
   * TypeScript addition: Python's is `json.loads(read())`.
   */
  async json(): Promise<unknown> {
    return JSON.parse(jsonText(await this.read()));
  }

  /**
   * Python's `getheader(name, default=None)`: every value of `name` joined by `', '`, or
   * `default` when there is none (`null` when none was given; an explicit `undefined` is
   * returned as given, as `HTTPMessage.getheader` does).
   *
   * Python 3: a default that is iterable but not a string (an array, a `Set`, a
   * generator) is joined with `', '` too, and must hold only strings (else `TypeError`,
   * as Python's `', '.join`). Python 2.7 returns such a default unchanged.
   *
   * @example
   * ```ts
   * response.getheader('Content-Type'); // 'text/html', or null
   * response.getheader('X-Missing', ['a', 'b']); // 'a, b'
   * ```
   */
  getheader(name: string): string | null;
  getheader(name: string, defaultValue: Iterable<string>): string;
  getheader<T>(name: string, defaultValue: T): string | T;
  getheader(name: string, ...defaultValue: [] | [unknown]): unknown {
    const value: unknown = (this.msg.getheader as (n: string, ...d: unknown[]) => unknown)(
      name,
      ...defaultValue,
    );
    return typeof value === 'object' && value !== null && Symbol.iterator in value
      ? joinDefault(value as Iterable<unknown>)
      : value;
  }

  /**
   * Python's `getheaders()`: every header as `[name, value]`. Here in the order
   * received, names as received, duplicates separate (Python 3); Python 2.7 lower-cases
   * the names and merges duplicates with `', '`.
   */
  getheaders(): Array<[string, string]> {
    return this.msg.items();
  }

  /**
   * Python's `fileno()`: the socket's file descriptor while the body is unread. Throws
   * `TypeError` once the response is over (`isclosed()`: read to its end, or closed) or its
   * socket closed, as Python raises then (an `AttributeError`: its `fp` is gone), even when
   * the connection keeps the socket for the next request.
   */
  fileno(): number {
    if (this.#body.done) throw new TypeError('fileno of a closed response');
    const socket = this.#body.socketLink.reader.socket as unknown as {
      _handle?: { fd?: number } | null;
      _parent?: { _handle?: { fd?: number } | null } | null;
    };
    const handle = socket._handle ?? socket._parent?._handle;
    const fd = socket._handle?.fd ?? socket._parent?._handle?.fd;
    if (handle !== null && handle !== undefined && fd === undefined) {
      // Open, on a runtime whose sockets have no descriptor to give (Deno's): not "closed".
      throw new TypeError(
        "fileno: this runtime gives no file descriptor for its sockets (Deno's have none)",
      );
    }
    if (typeof fd !== 'number' || fd < 0) throw new TypeError('fileno of a closed response');
    return fd;
  }

  /** Python's `isclosed()`: true once the body was read to its end or `close()` called. */
  isclosed(): boolean {
    return this.#body.done;
  }

  /** Python 3's `getcode()`: the status. */
  getcode(): number {
    return this.status;
  }

  /** Python 3's `info()`: the headers. */
  info(): HTTPMessage {
    return this.msg;
  }

  /**
   * Python's `close()`. Closing before the end of the body makes the connection
   * unusable (its socket is destroyed): the rest of this body must never be read as
   * the next response. A read that waits settles with `AbortError`.
   */
  close(): void {
    this.closed = true;
    this.#body.close();
  }
}

const TOKEN = Symbol('HTTPResponse');
const EMPTY_MESSAGE = new HTTPMessage([]);

/** Python 3's `', '.join(default)` for an iterable `getheader` default. */
function joinDefault(items: Iterable<unknown>): string {
  const out: string[] = [];
  for (const item of items) {
    if (typeof item !== 'string') {
      const kind = item === null ? 'null' : typeof item;
      throw new TypeError(`sequence item ${out.length}: expected string, ${kind} found`);
    }
    out.push(item);
  }
  return out.join(', ');
}

/**
 * The size argument of read(amt), read1(n), readline(limit), peek(n): an integer (negative:
 * no limit), or undefined/null for none. Anything else — NaN, 2.5, '5', true — is a
 * TypeError as in Python ("argument should be integer or None"), given before the body is
 * touched (a NaN limit once made read1() loop forever).
 */
/** @internal Also the blocking entry's direct responses' (sync/direct-response.ts). */
export function sizeLimit(name: string, value: unknown): number | TypeError {
  if (value === undefined || value === null) return Number.POSITIVE_INFINITY;
  if (typeof value !== 'number' || !Number.isInteger(value)) {
    return new TypeError(`${name} must be an integer or null, got ${describe(value)}`);
  }
  return value < 0 ? Number.POSITIVE_INFINITY : value;
}

/** @internal */
/**
 * A JSON body's text, its encoding found as Python's `json.loads(bytes)` finds it (RFC
 * 8259's rule): a UTF-32 or UTF-16 byte order mark, a UTF-8 one (dropped), else the zero
 * bytes of an ASCII first character in UTF-16 or UTF-32, else UTF-8.
 */
export function jsonText(b: Buffer): string {
  if (
    b.length >= 4 &&
    ((b[0] === 0 && b[1] === 0 && b[2] === 0xfe && b[3] === 0xff) ||
      (b[0] === 0xff && b[1] === 0xfe && b[2] === 0 && b[3] === 0))
  ) {
    return utf32(b.subarray(4), b[0] === 0);
  }
  if (b.length >= 2 && b[0] === 0xfe && b[1] === 0xff) return utf16(b.subarray(2), true);
  if (b.length >= 2 && b[0] === 0xff && b[1] === 0xfe) return utf16(b.subarray(2), false);
  if (b.length >= 3 && b[0] === 0xef && b[1] === 0xbb && b[2] === 0xbf) {
    return b.toString('utf8', 3);
  }
  if (b.length >= 4) {
    if (b[0] === 0) return b[1] === 0 ? utf32(b, true) : utf16(b, true);
    if (b[1] === 0) return b[2] !== 0 || b[3] !== 0 ? utf16(b, false) : utf32(b, false);
  } else if (b.length === 2) {
    if (b[0] === 0) return utf16(b, true);
    if (b[1] === 0) return utf16(b, false);
  }
  return b.toString('utf8');
}

function utf16(b: Buffer, bigEndian: boolean): string {
  if (!bigEndian) return b.toString('utf16le');
  const swapped = Buffer.from(b.subarray(0, b.length & ~1));
  return swapped.swap16().toString('utf16le');
}

function utf32(b: Buffer, bigEndian: boolean): string {
  let out = '';
  for (let i = 0; i + 4 <= b.length; i += 4) {
    const cp = bigEndian ? b.readUInt32BE(i) : b.readUInt32LE(i);
    out += cp <= 0x10ffff && (cp < 0xd800 || cp > 0xdfff) ? String.fromCodePoint(cp) : '\ufffd';
  }
  return out;
}

/**
 * readinto()'s buffer as bytes: Python takes any writable bytes-like object, so any typed
 * array or DataView is its bytes; anything else is a TypeError, given before the body is
 * touched.
 */
export function bytesOf(b: unknown): Uint8Array | TypeError {
  if (!ArrayBuffer.isView(b)) {
    return new TypeError(
      `readinto() takes a Uint8Array or another ArrayBuffer view, not ${describe(b)}`,
    );
  }
  if (b instanceof Uint8Array) return b;
  try {
    return new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
  } catch {
    // Its buffer was detached (transferred) or shrunk past it: no bytes, as a detached
    // Uint8Array has none (a DataView throws for its offset then, the others for the view).
    return new Uint8Array(0);
  }
}

export function describe(value: unknown): string {
  if (typeof value === 'number') return String(value);
  if (typeof value === 'string') return `the string ${JSON.stringify(value.slice(0, 20))}`;
  return value === null ? 'null' : typeof value;
}
