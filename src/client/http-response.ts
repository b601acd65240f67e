/**
 * HTTPResponse: what `getresponse()` returns. It reads the head with the protocol core's
 * parser and then pulls body bytes through the body decoder only as the caller reads,
 * straight out of the socket reader's queue (no copy until the caller's buffer).
 *
 * One read path: `read`, `readinto`, `read1`, `peek`, `readline`, the async iterator,
 * `text()` and `json()` all take their bytes from `take()`, so they cannot disagree.
 *
 * Python 2.7's semantics, with Python 3's reading methods, and these deliberate
 * differences (shared/API.md): a body cut short raises `IncompleteRead` from `read(amt)`
 * too (Python returns the short data silently); a broken chunked body raises
 * `IncompleteRead` with every byte of the call (2.7 keeps only the last chunk's); closing
 * a kept-alive response before its end discards the connection instead of leaving the
 * rest of the body to be read as the next response.
 */

import { type ByteReader, inPhase, type WaitOptions } from '../io/byte-reader.ts';
import { combineSignals } from '../io/deadline.ts';
import { BodyDecoder } from '../protocol/body-decoder.ts';
import { FramingError } from '../protocol/body-errors.ts';
import { ImproperConnectionState, IncompleteRead } from '../protocol/errors.ts';
import { HTTPMessage } from '../protocol/message.ts';
import { type ResponseHead, ResponseParser } from '../protocol/response-parser.ts';
import { type DebugOutput, publishFailure, writeDebug } from './debug.ts';

const EMPTY = Buffer.alloc(0);

/** What a response needs from the connection that made it. Internal. */
export interface ResponseContext {
  readonly reader: ByteReader;
  readonly method: string | null;
  readonly strict: boolean;
  readonly debuglevel: number;
  readonly debugOutput: DebugOutput | null;
  /** The connection-wide signal, if any. */
  readonly signal: AbortSignal | null;
  /**
   * The wait options of a call without a signal of its own while the head is read: the
   * timeout, `signal` and what a timeout reports (the body's are derived from them).
   */
  readonly wait: WaitOptions;
  /**
   * Called once when the body of a response that keeps the connection has been read to
   * its end (`complete`) or abandoned. The connection decides whether bytes queued after
   * the body make the socket unusable (they do unless a request is outstanding).
   */
  readonly onDone: (reader: ByteReader, complete: boolean) => void;
  /** The connection, named in `httplib:error` messages when a read fails. */
  readonly connection: object;
}

/** Options of a single read. */
export interface ReadOptions {
  /** Cancels this read: the socket is destroyed and the read rejects with `AbortError`. */
  readonly signal?: AbortSignal | undefined;
}

/**
 * Python's `httplib.HTTPResponse`. Created by `HTTPConnection.getresponse()`, never by
 * users.
 *
 * The body is pulled from the socket only as it is read: `read()`, `read(amt)`,
 * `readinto()`, `read1()`, `peek()`, `readline()` (Python 3's methods), `for await`, and
 * the TypeScript additions `text()` and `json()`, all on one read path. The whole body
 * must be read (or the response closed) before the next `getresponse()`. One read at a
 * time: a read started while another read of the same response is waiting for data
 * rejects with {@link ImproperConnectionState} (the first one goes on).
 *
 * How this differs from Python 2.7: reads return `Buffer`s; a body cut short raises
 * {@link IncompleteRead} from every read method (2.7's `read(amt)` returns the short
 * data silently); `getheaders()` keeps every field in order with its name as received
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

  /** The socket reader while the body is unread (Python's `fp`); null once done. */
  private reader: ByteReader | null;
  private decoder: BodyDecoder = NO_BODY;
  /** HTTP/0.9: the first line, which is body. */
  private prefix: Buffer | null = null;
  /** Whether this response owns the socket (it will close the connection). */
  private owner = false;
  /**
   * A framing error met while looking past the bytes a read already had (the framing
   * after them is consumed when queued): that read returns its bytes, and the next
   * read fails with this error, as Python meets it only then.
   */
  private brokenAhead: { readonly error: unknown } | null = null;
  private readonly context: ResponseContext;
  /** `context.wait` for the body (what a timeout reports differs from the head's). */
  private bodyWait: WaitOptions | null = null;

  /** @internal Use `HTTPConnection.getresponse()`. */
  constructor(context: ResponseContext) {
    this.context = context;
    this.reader = context.reader;
    this.debuglevel = context.debuglevel;
    this.strict = context.strict;
  }

  /** Python 3's `headers`: the same object as `msg`. */
  get headers(): HTTPMessage {
    return this.msg;
  }

  /** Python's `length`: body bytes still to come when known (0 for no body), else null. */
  get length(): number | null {
    return this.decoder.remaining;
  }

  /** @internal Reads the status line and headers (Python's `begin()`). */
  begin(signal?: AbortSignal | null): Promise<void> {
    return this.readHeadOnly(signal).then((head) => this.applyHead(head));
  }

  /** @internal The head, read but not yet applied (`applyHead`): one promise for getresponse. */
  readHeadOnly<T = ResponseHead>(
    signal?: AbortSignal | null,
    onHead?: (head: ResponseHead, response: HTTPResponse) => T,
    onError?: (err: unknown, response: HTTPResponse) => unknown,
  ): Promise<T> {
    const reader = this.reader as ByteReader;
    const debugOutput = this.context.debugOutput;
    const parser = new ResponseParser({
      method: this.context.method,
      strict: this.strict,
      debug: this.debuglevel > 0 ? (text: string) => writeDebug(debugOutput, text) : null,
    });
    const wait = this.waitOptions(signal, 'head');
    const aborted = reader.abortIfSignalled(wait);
    if (aborted !== null) {
      return Promise.reject(onError === undefined ? aborted : onError(aborted, this));
    }
    return readHead(reader, parser, wait, onHead, onError, this);
  }

  /** @internal Take the parsed head's fields (Python's `begin()` results). */
  applyHead(head: ResponseHead): void {
    this.status = head.status;
    this.reason = head.reason;
    this.version = head.version;
    this.msg = head.lines.length === 0 ? EMPTY_MESSAGE : new HTTPMessage(head.lines);
    this.chunked = head.chunked;
    this.will_close = head.will_close;
    this.prefix = head.bodyPrefix;
    this.decoder = new BodyDecoder(head.framing, head.length);
  }

  /** @internal The connection hands the socket over: this response closes it when done. */
  takeOwnership(): void {
    this.owner = true;
  }

  /**
   * Python's `read(amt=None)`: the whole rest of the body, or at most `amt` bytes (fewer
   * only at the end of the body). `Buffer.alloc(0)` once the body is done. A body that
   * ends early raises `IncompleteRead` with the bytes of this call in `partial`.
   *
   * Differs from Python 2.7: a `Buffer`, not a `str`; `read(amt)` raises
   * `IncompleteRead` too when the body is cut short (2.7 returns the short data).
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
    if (this.reader === null) return Promise.resolve(EMPTY);
    let max = Number.POSITIVE_INFINITY;
    if (amt !== undefined && amt !== null && amt >= 0) {
      if (!Number.isInteger(amt)) {
        return Promise.reject(new TypeError(`amt must be an integer, got ${amt}`));
      }
      if (amt === 0) return Promise.resolve(EMPTY);
      max = amt;
    }
    const parts: Buffer[] = [];
    let got = 0;
    if (options?.signal === undefined && this.context.signal?.aborted !== true) {
      // Fast path: what is already queued may be all that is wanted (a small response
      // arrives with its head); no promise is waited on then.
      try {
        got = this.take(max, parts, null, 0);
      } catch (err) {
        return this.published(Promise.reject(err));
      }
      if (this.reader === null || got >= max) return Promise.resolve(join(parts));
    }
    return this.pull(max, parts, null, true, options, got).then(() => join(parts));
  }

  /**
   * Python 3's `readinto(b)`: read up to `b.length` bytes into `b`; returns how many
   * (0 at the end of the body).
   */
  readinto(b: Uint8Array, options?: ReadOptions): Promise<number> {
    const reader = this.reader;
    if (reader === null || b.length === 0) return Promise.resolve(0);
    // Fast path: nothing queued, and the socket can read straight into `b` (one promise
    // per call, no async frames). Anything else goes the one read path, which comes
    // back to `readDirect` once what was queued has been copied.
    if (this.canReadDirect(reader) && !(options?.signal?.aborted ?? false)) {
      return this.published(new Promise<number>((r) => this.readDirect(b, 0, options, r)));
    }
    return this.pull(b.length, null, b, true, options);
  }

  /**
   * Whether `readinto` may offer its memory to the socket: nothing queued or held back,
   * a body framed by its length or by the close, a socket that reads into offered
   * memory (plain TCP), and one that can still deliver bytes.
   */
  private canReadDirect(reader: ByteReader): boolean {
    const framing = this.decoder.framing;
    return (
      reader.buffered === 0 &&
      this.prefix === null &&
      (framing === 'length' || framing === 'eof') &&
      reader.canDirect &&
      reader.error === null &&
      !reader.ended &&
      !reader.closed
    );
  }

  /**
   * `readinto`'s wait when `canReadDirect`: `b[got:]` (no more than the body has left) is
   * offered to the socket, which reads into it from its own event; repeated until `b` is
   * full or the body ends. Whatever else ends the wait (an error, the end, a timeout,
   * bytes that went to the queue) goes back to `pullBody`.
   */
  private readDirect(
    b: Uint8Array,
    got: number,
    options: ReadOptions | undefined,
    resolve: (n: number | Promise<number>) => void,
  ): void {
    const reader = this.reader as ByteReader;
    if (reader.waitingForData) {
      resolve(Promise.reject(concurrentRead()));
      return;
    }
    const want = Math.min(b.length - got, this.decoder.remaining ?? Number.POSITIVE_INFINITY);
    reader.armDirect(
      got === 0 && want === b.length && Buffer.isBuffer(b)
        ? b
        : Buffer.from(b.buffer, b.byteOffset + got, want),
    );
    reader.whenData(() => {
      // Runs from a socket event: nothing may throw out of here.
      try {
        const n = reader.takeDirect();
        if (n === 0) {
          // Not a read into `b`: the one read path reports it (or takes what was queued).
          resolve(this.pullBody(b.length, null, b, true, options, got));
          return;
        }
        this.decoder.consumeDirect(n);
        const total = got + n;
        if (this.decoder.done) this.finish(true);
        if (this.reader === null || total >= b.length) resolve(total);
        else if (this.canReadDirect(reader)) this.readDirect(b, total, options, resolve);
        else resolve(this.pullBody(b.length, null, b, true, options, total));
      } catch (err) {
        this.finish(false);
        resolve(Promise.reject(err));
      }
    }, this.waitOptions(options?.signal));
  }

  /**
   * Python 3's `read1(n=-1)`: at most `n` bytes with at most one wait for the network;
   * within a chunked body, at most the rest of the current chunk.
   */
  async read1(n = -1, options?: ReadOptions): Promise<Buffer> {
    if (this.reader === null || n === 0) return EMPTY;
    const parts: Buffer[] = [];
    await this.pull(n < 0 ? Number.POSITIVE_INFINITY : n, parts, null, false, options);
    return join(parts);
  }

  /**
   * Python 3's `peek(n)`: body bytes that can be returned without consuming them (at
   * least one unless the body is done; within a chunked body, at most the current
   * chunk). Never shows bytes past the end of the body.
   */
  async peek(n = 1, options?: ReadOptions): Promise<Buffer> {
    void n;
    if (this.reader === null) return EMPTY;
    if (this.prefix !== null) return this.prefix;
    for (;;) {
      const view = this.peekQueued();
      if (view.length > 0 || this.reader === null) return view;
      if (!(await this.waitMore(options))) return EMPTY;
    }
  }

  /** Python 3's `readline(limit=-1)`: up to and including the next `\n`, within the body. */
  async readline(limit = -1, options?: ReadOptions): Promise<Buffer> {
    const max = limit < 0 ? Number.POSITIVE_INFINITY : limit;
    const parts: Buffer[] = [];
    let got = 0;
    while (got < max && this.reader !== null) {
      const view = this.prefix ?? this.peekQueued(parts);
      if (view.length === 0) {
        // peekQueued() may have just read the end of a chunked body and finished.
        if (this.reader === null || !(await this.waitMore(options, parts))) break;
        continue;
      }
      const nl = view.indexOf(0x0a);
      const want = Math.min(nl === -1 ? view.length : nl + 1, max - got);
      const piece = await this.read(want, options);
      parts.push(piece);
      got += piece.length;
      if (nl !== -1 && nl + 1 <= want) break;
    }
    return join(parts);
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
    return (await this.read()).toString(encoding);
  }

  /**
   * Read the rest of the body and parse it as JSON (a `SyntaxError` if it is not). A
   * TypeScript addition: Python's is `json.loads(read())`.
   */
  async json(): Promise<unknown> {
    return JSON.parse(await this.text());
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
   * Python's `fileno()`: the socket's file descriptor. Throws `TypeError` once the
   * socket is closed (Python raises too, an `AttributeError`).
   */
  fileno(): number {
    const reader = this.reader ?? this.context.reader;
    const socket = reader.socket as unknown as {
      _handle?: { fd?: number } | null;
      _parent?: { _handle?: { fd?: number } | null } | null;
    };
    const fd = socket._handle?.fd ?? socket._parent?._handle?.fd;
    if (typeof fd !== 'number' || fd < 0) throw new TypeError('fileno of a closed response');
    return fd;
  }

  /** Python's `isclosed()`: true once the body was read to its end or `close()` called. */
  isclosed(): boolean {
    return this.reader === null;
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
   * the next response.
   */
  close(): void {
    this.closed = true;
    this.finish(false);
  }

  // --- the one read path -------------------------------------------------------------

  /**
   * Move up to `max` body bytes into `parts` (views, no copy) or into `target` (copied).
   * `fill`: keep waiting until `max` bytes or the end of the body; otherwise return after
   * the first bytes. Returns the number of bytes moved. Any failure closes the response
   * (and is published on `httplib:error`).
   */
  private pull(
    max: number,
    parts: Buffer[] | null,
    target: Uint8Array | null,
    fill: boolean,
    options: ReadOptions | undefined,
    got = 0,
  ): Promise<number> {
    return this.published(this.pullBody(max, parts, target, fill, options, got));
  }

  /** `pending`, with its failure published on `httplib:error`. */
  private published<T>(pending: Promise<T>): Promise<T> {
    return publishFailure(pending, this.context.connection);
  }

  private async pullBody(
    max: number,
    parts: Buffer[] | null,
    target: Uint8Array | null,
    fill: boolean,
    options: ReadOptions | undefined,
    already = 0,
  ): Promise<number> {
    const reader = this.reader as ByteReader;
    const aborted = reader.abortIfSignalled(this.waitOptions(options?.signal));
    if (aborted !== null) {
      this.finish(false);
      throw aborted;
    }
    let got = already;
    for (;;) {
      got += this.take(max - got, parts, target, got, !fill);
      if (this.reader === null || got >= max || (!fill && got > 0)) return got;
      // readinto (always `fill`, `max` = its length): the rest straight into its memory.
      // read() and read(amt) return views of the blocks the socket reads into anyway.
      if (target !== null && this.canReadDirect(reader)) {
        return new Promise<number>((resolve) => this.readDirect(target, got, options, resolve));
      }
      if (!(await this.waitMore(options, parts, target, got))) return got;
    }
  }

  /**
   * Take queued body bytes without waiting. Finishes the response when the body is
   * complete (also consuming framing that follows the last byte wanted, when queued).
   * `oneChunk` (read1): stop at the end of the current chunk of a chunked body.
   * `at`: bytes this read call already moved (into `target`, or as `parts`). A framing
   * error closes the response and throws `IncompleteRead` holding every byte of the call,
   * those of this take included (for `readinto` they are in `target` and nowhere else).
   */
  private take(
    max: number,
    parts: Buffer[] | null,
    target: Uint8Array | null,
    at: number,
    oneChunk = false,
  ): number {
    let got = 0;
    if (this.prefix !== null && max > 0) {
      const n = Math.min(max, this.prefix.length);
      got += this.emit(this.prefix.subarray(0, n), parts, target, at);
      this.prefix = n === this.prefix.length ? null : this.prefix.subarray(n);
    }
    const reader = this.reader as ByteReader;
    const decoder = this.decoder;
    if (this.brokenAhead !== null)
      throw this.failed(this.brokenAhead.error, parts, target, at + got);
    try {
      for (;;) {
        const chunk = reader.peek();
        if (chunk === null) break;
        const start = reader.offset;
        const pos = decoder.decode(chunk, start, chunk.length, max - got);
        if (decoder.dataEnd > decoder.dataStart) {
          got += this.emit(
            chunk.subarray(decoder.dataStart, decoder.dataEnd),
            parts,
            target,
            at + got,
          );
        }
        reader.consume(pos - start);
        if (decoder.done || pos === start) break;
        if (oneChunk && got > 0 && decoder.framing === 'chunked' && decoder.chunkLeft === null) {
          break;
        }
      }
    } catch (err) {
      // The call already has all it asked for: it succeeds, the next read fails.
      if (got >= max) {
        this.brokenAhead = { error: err };
        return got;
      }
      throw this.failed(err, parts, target, at + got);
    }
    if (decoder.done && this.prefix === null) this.finish(true);
    return got;
  }

  private emit(
    view: Buffer,
    parts: Buffer[] | null,
    target: Uint8Array | null,
    at: number,
  ): number {
    if (parts !== null) parts.push(view);
    else (target as Uint8Array).set(view, at);
    return view.length;
  }

  /**
   * Wait for more bytes. Returns false when the connection ended and the body is
   * complete; throws `IncompleteRead` when it ended early, or the socket's error.
   */
  private async waitMore(
    options: ReadOptions | undefined,
    parts: Buffer[] | null = null,
    target: Uint8Array | null = null,
    got = 0,
  ): Promise<boolean> {
    const reader = this.reader as ByteReader;
    // Another read of this body is waiting: both would take bytes as they come (which
    // read gets which is luck) and a direct read could fill the wrong caller's memory.
    // Refused, without closing anything: the first read goes on.
    if (reader.waitingForData) throw concurrentRead();
    if (reader.error !== null) {
      const err = reader.error;
      this.finish(false);
      throw err;
    }
    if (reader.ended || reader.closed) {
      const result = this.decoder.eof();
      if (result.complete) {
        this.finish(true);
        return false;
      }
      this.finish(false);
      // The bytes of this call, joined only now: joining before every wait would copy
      // the body over and over (quadratic for a large read()).
      const partial = target !== null ? Buffer.from(target.subarray(0, got)) : join(parts ?? []);
      throw new IncompleteRead(partial, result.expected);
    }
    await reader.waitForData(this.waitOptions(options?.signal));
    return true;
  }

  /** The response is over: hand the socket back (or close it) and forget it. */
  private finish(complete: boolean): void {
    const reader = this.reader;
    if (reader === null) return;
    this.reader = null;
    this.prefix = null;
    if (this.owner) reader.destroy();
    else this.context.onDone(reader, complete);
  }

  private failed(
    err: unknown,
    parts: Buffer[] | null,
    target: Uint8Array | null,
    got: number,
  ): unknown {
    this.finish(false);
    if (err instanceof FramingError) {
      const partial =
        parts !== null ? join(parts) : Buffer.from((target as Uint8Array).subarray(0, got));
      return new IncompleteRead(partial, null, { cause: err });
    }
    return err;
  }

  /**
   * Body bytes queued right now, as a view, without consuming them. `parts`: the bytes
   * the calling method already got, for the `IncompleteRead` of a framing error.
   */
  private peekQueued(parts: Buffer[] = []): Buffer {
    const reader = this.reader as ByteReader;
    const decoder = this.decoder;
    for (;;) {
      // A body that is already complete (no body at all, Content-Length: 0) must not
      // wait for bytes that will never come: readline() and peek() would hang.
      if (decoder.done) {
        this.finish(true);
        return EMPTY;
      }
      if (this.brokenAhead !== null) throw this.failed(this.brokenAhead.error, parts, null, 0);
      const chunk = reader.peek();
      if (chunk === null) return EMPTY;
      const start = reader.offset;
      // Consume framing (chunk sizes, CRLFs) up to the next body byte; broken framing
      // fails the call (`parts`: what it already got) as every read method does.
      let pos: number;
      try {
        pos = decoder.decode(chunk, start, chunk.length, 0);
      } catch (err) {
        throw this.failed(err, parts, null, 0);
      }
      reader.consume(pos - start);
      if (decoder.done) {
        this.finish(true);
        return EMPTY;
      }
      if (pos !== start) continue;
      const available = chunk.length - start;
      const limit = decoder.framing === 'chunked' ? decoder.chunkLeft : decoder.remaining;
      return chunk.subarray(start, start + Math.min(available, limit ?? available));
    }
  }

  private waitOptions(
    signal: AbortSignal | null | undefined,
    phase: 'head' | 'body' = 'body',
  ): WaitOptions {
    // Without a per-call signal, the connection's own options (built once) serve.
    let wait = this.context.wait;
    if (phase === 'body') {
      if (this.bodyWait === null) this.bodyWait = inPhase(wait, 'body');
      wait = this.bodyWait;
    }
    if (signal === null || signal === undefined) return wait;
    return { ...wait, signal: combineSignals(signal, this.context.signal) };
  }
}

/**
 * Feed queued and arriving bytes to `parser` until the head is complete; bytes after the
 * head stay in the reader. The socket's error, or the parser's error at EOF, is thrown.
 * Shared by responses and by the CONNECT of a tunnel.
 */
export function readHead<T = ResponseHead, C = undefined>(
  reader: ByteReader,
  parser: ResponseParser,
  wait: WaitOptions,
  onHead: (head: ResponseHead, context: C) => T = identity as (head: ResponseHead) => T,
  onError: (err: unknown, context: C) => unknown = identity,
  context?: C,
): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    // Driven from the socket's events: one promise per head, no await per chunk; what
    // the caller does with the head (or the error) runs before the promise settles.
    const step = (): void => {
      let result: T;
      try {
        for (;;) {
          const chunk = reader.peek();
          if (chunk !== null) {
            const start = reader.offset;
            const pos = parser.execute(chunk, start, chunk.length);
            reader.consume(pos - start);
            if (parser.done) break;
            continue;
          }
          if (reader.error !== null) throw reader.error;
          if (reader.ended || reader.closed) {
            parser.finish();
            break;
          }
          reader.whenData(step, wait);
          return;
        }
        if (parser.head === null) throw new Error('response head missing after parse');
        result = onHead(parser.head, context as C);
      } catch (err) {
        reject(onError(err, context as C));
        return;
      }
      resolve(result);
    };
    step();
  });
}

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

/** The error of a read made while another read of the same response is waiting. */
function concurrentRead(): ImproperConnectionState {
  return new ImproperConnectionState(
    'another read of this response is still waiting for data: await it before reading again',
  );
}

function identity<T>(x: T): T {
  return x;
}

const EMPTY_MESSAGE = new HTTPMessage([]);
const NO_BODY = new BodyDecoder('none');

function join(parts: Buffer[]): Buffer {
  if (parts.length === 0) return EMPTY;
  const first = parts[0] as Buffer;
  if (parts.length === 1) return first;
  // Pieces read one after another into one block are a single view, not a copy.
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
