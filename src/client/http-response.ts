/**
 * HTTPResponse: what `getresponse()` returns. The connection reads the head (with the
 * protocol core's parser) and hands it over; the body is then pulled through the body
 * decoder only as the caller reads, straight out of the socket reader's queue (no copy
 * until the caller's buffer), or read by the socket straight into `readinto`'s buffer.
 *
 * One pull loop: `read`, `readinto`, `read1`, `peek`, `readline`, the async iterator,
 * `text()` and `json()` are one `Pull` each, advanced by `advance()` over what is queued
 * and woken by the socket, so they cannot disagree. One place builds `IncompleteRead`.
 * One read at a time: the response's own `busy` flag refuses a second read while one
 * waits.
 *
 * Python 2.7's semantics, with Python 3's reading methods, and these deliberate
 * differences (shared/API.md): a body cut short raises `IncompleteRead` from `read(amt)`
 * too (Python returns the short data silently); a broken chunked body raises
 * `IncompleteRead` with every byte of the call (2.7 keeps only the last chunk's); closing
 * a kept-alive response before its end discards the connection instead of leaving the
 * rest of the body to be read as the next response.
 */
import { closedByCaller, combineSignals, type WaitOptions } from '../io/deadline.ts';
import type { Link } from '../io/transport.ts';
import { POOLED_MAX, SMALL_RESULT_FRACTION } from '../io/tuning.ts';
import { BodyDecoder } from '../protocol/body-decoder.ts';
import { FramingError } from '../protocol/body-errors.ts';
import { ImproperConnectionState, IncompleteRead } from '../protocol/errors.ts';
import { HTTPMessage } from '../protocol/message.ts';
import type { ResponseHead } from '../protocol/response-parser.ts';
import { publishFailure } from './debug.ts';

const EMPTY = Buffer.alloc(0);

/** What a response needs from the connection that made it. Internal. */
export interface ResponseContext {
  /** The socket the body comes on (shared with the connection unless `will_close`). */
  readonly link: Link;
  readonly debuglevel: number;
  readonly strict: boolean;
  /** The connection-wide signal, if any. */
  readonly signal: AbortSignal | null;
  /** Milliseconds of the connection's timeout when `getresponse()` was called. */
  readonly timeoutMs: number | null;
  /** The wait options of a read without a signal of its own. */
  readonly wait: WaitOptions;
  /** Called once when the body ends: read to its end (`complete`) or abandoned. */
  readonly onEnd: (link: Link, response: HTTPResponse, complete: boolean) => void;
  /** The connection, named in `httplib:error` messages when a read fails. */
  readonly connection: object;
}

/** Options of a single read. */
export interface ReadOptions {
  /** Cancels this read: the socket is destroyed and the read rejects with `AbortError`. */
  readonly signal?: AbortSignal | undefined;
}

/** One read: what it wants, and what it has got so far. */
interface Pull {
  /** `all`: until `max` or the end; `some`: the first bytes; `line`: up to `\n`; `peek`. */
  readonly mode: 'all' | 'some' | 'line' | 'peek';
  readonly max: number;
  /** Views of the body (read, read1, readline, peek), or null when copying into `target`. */
  readonly parts: Buffer[] | null;
  /** readinto's buffer. */
  readonly target: Uint8Array | null;
  got: number;
}

let create: (context: ResponseContext) => HTTPResponse;
let begin: (response: HTTPResponse, head: ResponseHead, owner: boolean) => void;

/** @internal The connection makes its responses here (the class is not constructible). */
export function newResponse(context: ResponseContext): HTTPResponse {
  return create(context);
}

/** @internal The head was read: the response takes its fields (and the socket if `owner`). */
export function startBody(response: HTTPResponse, head: ResponseHead, owner: boolean): void {
  begin(response, head, owner);
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

  /** The socket while the body is unread (Python's `fp`); null once done. */
  #link: Link | null;
  /** Kept for `fileno()` after the body is done. */
  readonly #socketLink: Link;
  #decoder: BodyDecoder = NO_BODY;
  /** HTTP/0.9: the first line, which is body. */
  #prefix: Buffer | null = null;
  /** Whether this response owns the socket (it will close the connection). */
  #owner = false;
  /**
   * A framing error met while looking past the bytes a read already had (the framing
   * after them is consumed when queued): that read returns its bytes, and the next read
   * fails with this error, as Python meets it only then.
   */
  #brokenAhead: { readonly error: unknown } | null = null;
  /** A read is waiting: another one is refused. */
  #busy = false;
  readonly #context: ResponseContext;

  static {
    create = (context) => new HTTPResponse(TOKEN, context);
    begin = (response, head, owner) => response.#begin(head, owner);
  }

  private constructor(token: unknown, context?: ResponseContext) {
    if (token !== TOKEN || context === undefined) {
      throw new TypeError('HTTPResponse is not constructible: use HTTPConnection.getresponse()');
    }
    this.#context = context;
    this.#link = context.link;
    this.#socketLink = context.link;
    this.debuglevel = context.debuglevel;
    this.strict = context.strict;
  }

  /** Python 3's `headers`: the same object as `msg`. */
  get headers(): HTTPMessage {
    return this.msg;
  }

  /** Python's `length`: body bytes still to come when known (0 for no body), else null. */
  get length(): number | null {
    return this.#decoder.remaining;
  }

  #begin(head: ResponseHead, owner: boolean): void {
    this.status = head.status;
    this.reason = head.reason;
    this.version = head.version;
    this.msg = head.lines.length === 0 ? EMPTY_MESSAGE : new HTTPMessage(head.lines);
    this.chunked = head.chunked;
    this.will_close = head.will_close;
    this.#prefix = head.bodyPrefix;
    this.#decoder = new BodyDecoder(head.framing, head.length);
    this.#owner = owner;
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
    let max = Number.POSITIVE_INFINITY;
    if (amt !== undefined && amt !== null && amt >= 0) {
      if (!Number.isInteger(amt)) {
        return Promise.reject(new TypeError(`amt must be an integer, got ${amt}`));
      }
      max = amt;
    }
    return this.#read({ mode: 'all', max, parts: [], target: null, got: 0 }, options);
  }

  /**
   * Python 3's `readinto(b)`: read up to `b.length` bytes into `b`; returns how many
   * (0 at the end of the body).
   */
  readinto(b: Uint8Array, options?: ReadOptions): Promise<number> {
    const pull: Pull = { mode: 'all', max: b.length, parts: null, target: b, got: 0 };
    const pending = this.#pull(pull, options);
    return pending === null ? Promise.resolve(pull.got) : pending.then(() => pull.got);
  }

  /**
   * Python 3's `read1(n=-1)`: at most `n` bytes with at most one wait for the network;
   * within a chunked body, at most the rest of the current chunk.
   */
  read1(n = -1, options?: ReadOptions): Promise<Buffer> {
    const max = n < 0 ? Number.POSITIVE_INFINITY : n;
    return this.#read({ mode: 'some', max, parts: [], target: null, got: 0 }, options);
  }

  /**
   * Python 3's `peek(n)`: body bytes that can be returned without consuming them (at
   * least one unless the body is done; within a chunked body, at most the current
   * chunk). Never shows bytes past the end of the body.
   */
  peek(n = 1, options?: ReadOptions): Promise<Buffer> {
    void n;
    return this.#read({ mode: 'peek', max: 1, parts: [], target: null, got: 0 }, options);
  }

  /** Python 3's `readline(limit=-1)`: up to and including the next `\n`, within the body. */
  readline(limit = -1, options?: ReadOptions): Promise<Buffer> {
    const max = limit < 0 ? Number.POSITIVE_INFINITY : limit;
    return this.#read({ mode: 'line', max, parts: [], target: null, got: 0 }, options);
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
    const socket = this.#socketLink.reader.socket as unknown as {
      _handle?: { fd?: number } | null;
      _parent?: { _handle?: { fd?: number } | null } | null;
    };
    const fd = socket._handle?.fd ?? socket._parent?._handle?.fd;
    if (typeof fd !== 'number' || fd < 0) throw new TypeError('fileno of a closed response');
    return fd;
  }

  /** Python's `isclosed()`: true once the body was read to its end or `close()` called. */
  isclosed(): boolean {
    return this.#link === null;
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
    const link = this.#link;
    if (link === null) return;
    // The waiting read is woken by the failure and settles with it.
    if (this.#busy) link.reader.fail(closedByCaller('body'));
    this.#finish(false);
  }

  // --- the one pull loop ---------------------------------------------------------------

  /** A pull whose result is a Buffer (its views joined). */
  #read(pull: Pull, options: ReadOptions | undefined): Promise<Buffer> {
    const pending = this.#pull(pull, options);
    return pending === null ? Promise.resolve(result(pull)) : pending.then(() => result(pull));
  }

  /**
   * Advance `pull` over what is queued; when that is not enough, wait (one promise for
   * the whole call, woken from the socket's events) and advance again. Null when it was
   * satisfied at once. A read made while another waits is refused; any failure ends the
   * body (the socket is not reused).
   */
  #pull(pull: Pull, options: ReadOptions | undefined): Promise<void> | null {
    if (this.#busy) return Promise.reject(concurrentRead());
    const signal = options?.signal;
    if (signal === undefined && this.#context.signal?.aborted !== true) {
      // The fast path: everything wanted is queued already (a small body comes with its
      // head), so nothing waits and no promise is made.
      try {
        if (this.#advance(pull)) return null;
      } catch (err) {
        return this.#published(Promise.reject(this.#failed(err, pull)));
      }
    }
    this.#busy = true;
    const wait = this.#waitOptions(signal);
    return this.#published(
      new Promise<void>((resolve, reject) => {
        const step = (): void => {
          try {
            if (this.#waitFor(pull, wait, step)) return;
          } catch (err) {
            this.#busy = false;
            reject(this.#failed(err, pull));
            return;
          }
          this.#busy = false;
          resolve();
        };
        const link = this.#link;
        if (link !== null && link.reader.abortIfSignalled(wait) !== null) {
          this.#busy = false;
          reject(this.#failed(link.reader.error, pull));
          return;
        }
        step();
      }),
    );
  }

  /**
   * One turn of the loop: take what arrived (straight into the target, or queued), and
   * return true after arming a wait for more, or false when the pull is satisfied.
   */
  #waitFor(pull: Pull, wait: WaitOptions, step: () => void): boolean {
    const link = this.#link;
    if (link !== null && link.direct !== null && pull.target !== null) {
      const n = link.direct.take();
      if (n > 0) {
        this.#decoder.consumeDirect(n);
        pull.got += n;
        if (this.#decoder.done && this.#prefix === null) this.#finish(true);
      }
    }
    if (this.#advance(pull)) return false;
    const reader = (this.#link as Link).reader;
    if (reader.error !== null) throw reader.error;
    if (reader.ended || reader.closed) {
      const end = this.#decoder.eof();
      if (!end.complete) throw incomplete(pull, end.expected);
      this.#finish(true);
      return false;
    }
    if (pull.target !== null && this.#directReady()) {
      // The rest goes straight into the caller's memory, no longer than the body's rest.
      const want = Math.min(
        pull.max - pull.got,
        this.#decoder.remaining ?? Number.POSITIVE_INFINITY,
      );
      const t = pull.target;
      const view =
        pull.got === 0 && want === t.length && Buffer.isBuffer(t)
          ? t
          : Buffer.from(t.buffer, t.byteOffset + pull.got, want);
      (this.#link as Link).direct?.offer(view);
    }
    reader.whenData(step, 'body', wait);
    return true;
  }

  /** Take what the pull wants from what is queued; true when it is satisfied. */
  #advance(pull: Pull): boolean {
    switch (pull.mode) {
      case 'all':
        this.#take(pull.max - pull.got, pull, false);
        return this.#link === null || pull.got >= pull.max;
      case 'some':
        this.#take(pull.max - pull.got, pull, true);
        return this.#link === null || pull.got > 0 || pull.max === 0;
      case 'peek': {
        const view = this.#prefix ?? this.#visible();
        if (view.length === 0 && this.#link !== null) return false;
        (pull.parts as Buffer[]).push(view);
        return true;
      }
      case 'line':
        while (pull.got < pull.max && this.#link !== null) {
          const view = this.#prefix ?? this.#visible();
          if (view.length === 0) return this.#link === null;
          const nl = view.indexOf(0x0a);
          const want = Math.min(nl === -1 ? view.length : nl + 1, pull.max - pull.got);
          this.#take(want, pull, false);
          if (nl !== -1 && nl + 1 <= want) return true;
        }
        return true;
    }
  }

  /**
   * Move up to `max` queued body bytes into the pull (views, or copied into its target),
   * counted in `pull.got` as they go (a failure half-way keeps the count: `readinto`'s
   * bytes are in the caller's buffer). Finishes the response when the body is complete
   * (also consuming framing that follows the last byte wanted, when queued). `oneChunk`
   * (read1): stop at the end of the current chunk of a chunked body.
   */
  #take(max: number, pull: Pull, oneChunk: boolean): void {
    const link = this.#link;
    if (link === null || max <= 0) return;
    if (this.#brokenAhead !== null) throw this.#brokenAhead.error;
    const end = pull.got + max;
    const prefix = this.#prefix;
    if (prefix !== null) {
      const n = Math.min(max, prefix.length);
      pull.got += emit(prefix.subarray(0, n), pull, pull.got);
      this.#prefix = n === prefix.length ? null : prefix.subarray(n);
    }
    const reader = link.reader;
    const decoder = this.#decoder;
    const first = pull.got;
    try {
      for (;;) {
        const chunk = reader.peek();
        if (chunk === null) break;
        const start = reader.offset;
        const pos = decoder.decode(chunk, start, chunk.length, end - pull.got);
        if (decoder.dataEnd > decoder.dataStart) {
          pull.got += emit(chunk.subarray(decoder.dataStart, decoder.dataEnd), pull, pull.got);
        }
        reader.consume(pos - start);
        if (decoder.done || pos === start) break;
        if (
          oneChunk &&
          pull.got > first &&
          decoder.framing === 'chunked' &&
          decoder.chunkLeft === null
        ) {
          break;
        }
      }
    } catch (err) {
      // Broken framing found past all the call asked for: it succeeds, and the next read
      // fails, where Python meets it.
      if (pull.got < end) throw err;
      this.#brokenAhead = { error: err };
      return;
    }
    if (decoder.done && this.#prefix === null) this.#finish(true);
  }

  /** Body bytes queued right now, as a view, without consuming them (framing is). */
  #visible(): Buffer {
    const link = this.#link;
    if (link === null) return EMPTY;
    const reader = link.reader;
    const decoder = this.#decoder;
    for (;;) {
      // A body that is already complete must not wait for bytes that will never come.
      if (decoder.done) {
        this.#finish(true);
        return EMPTY;
      }
      if (this.#brokenAhead !== null) throw this.#brokenAhead.error;
      const chunk = reader.peek();
      if (chunk === null) return EMPTY;
      const start = reader.offset;
      // Framing (chunk sizes, CRLFs) is consumed up to the next body byte; broken framing
      // fails the call (with what it already got) as every read method does.
      const pos = decoder.decode(chunk, start, chunk.length, 0);
      reader.consume(pos - start);
      if (decoder.done) {
        this.#finish(true);
        return EMPTY;
      }
      if (pos !== start) continue;
      const available = chunk.length - start;
      const limit = decoder.framing === 'chunked' ? decoder.chunkLeft : decoder.remaining;
      return chunk.subarray(start, start + Math.min(available, limit ?? available));
    }
  }

  /**
   * Whether the socket may read the rest straight into the caller's memory: nothing
   * queued or held back, a body framed by its length or by the close, a socket that can
   * (plain TCP, direct-read.ts), and one that can still deliver bytes.
   */
  #directReady(): boolean {
    const link = this.#link as Link;
    const reader = link.reader;
    const framing = this.#decoder.framing;
    return (
      link.direct !== null &&
      reader.buffered === 0 &&
      this.#prefix === null &&
      (framing === 'length' || framing === 'eof') &&
      reader.error === null &&
      !reader.ended &&
      !reader.closed &&
      link.direct.available
    );
  }

  /** The body is over: hand the socket back (or close it) and forget it. */
  #finish(complete: boolean): void {
    const link = this.#link;
    if (link === null) return;
    this.#link = null;
    this.#prefix = null;
    if (this.#owner) link.reader.destroy();
    else this.#context.onEnd(link, this, complete);
  }

  /** A read failed: the body is over; a broken framing is `IncompleteRead`. */
  #failed(err: unknown, pull: Pull): unknown {
    this.#finish(false);
    if (err instanceof FramingError) return incomplete(pull, null, err);
    return err;
  }

  #published<T>(pending: Promise<T>): Promise<T> {
    return publishFailure(pending, this.#context.connection);
  }

  #waitOptions(signal: AbortSignal | null | undefined): WaitOptions {
    // Without a per-call signal, the connection's own options (built once) serve.
    if (signal === null || signal === undefined) return this.#context.wait;
    return {
      timeoutMs: this.#context.timeoutMs,
      signal: combineSignals(signal, this.#context.signal),
    };
  }
}

const TOKEN = Symbol('HTTPResponse');
const EMPTY_MESSAGE = new HTTPMessage([]);
const NO_BODY = new BodyDecoder('none');

/** Put `view` into the pull: queued as a view, or copied into its target at `at`. */
function emit(view: Buffer, pull: Pull, at: number): number {
  if (pull.parts !== null) pull.parts.push(view);
  else (pull.target as Uint8Array).set(view, at);
  return view.length;
}

/** The one place `IncompleteRead` is built: the bytes this call got, and what was missing. */
function incomplete(pull: Pull, expected: number | null, cause?: unknown): IncompleteRead {
  const partial =
    pull.target !== null ? Buffer.from(pull.target.subarray(0, pull.got)) : join(pull.parts ?? []);
  return new IncompleteRead(partial, expected, cause === undefined ? undefined : { cause });
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

/** The Buffer a pull returns: its views joined; a small part of a large block is copied. */
function result(pull: Pull): Buffer {
  const out = join(pull.parts as Buffer[]);
  const store = out.buffer.byteLength;
  // Never let a small result keep a large block (256 KiB) alive (DESIGN.md principle 3).
  if (store > POOLED_MAX && out.length * SMALL_RESULT_FRACTION < store) return Buffer.from(out);
  return out;
}

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
