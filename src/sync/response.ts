/**
 * `HTTPResponse` of `httplib-ts/sync`: the twin of the worker's response. The head
 * (status, reason, version, headers, framing) is copied here once; `length` and the
 * closed state are mirrored after every call; reads run in the worker and their bytes
 * come back through shared memory, copied once into a Buffer of the caller's own.
 *
 * A read of a response that is already closed returns what the main entry returns then
 * (nothing) without asking the worker: closed is final.
 */
import { bytesOf, sizeLimit } from '../client/http-response.ts';
import * as httplib from '../index.ts';
import { type LostBody, lostBody, lostRead } from '../protocol/body-pull.ts';
import type { Reply } from './channel.ts';
import { currentGeneration, exclusive, transact } from './channel.ts';
import {
  checkGeneration,
  invoke,
  type ResponseHead,
  type ResponseState,
  refuseSignal,
  settle,
  trackResponse,
} from './remote.ts';
import type * as T from './types.ts';
import { type Decoder, Encoder, type Json } from './wire.ts';

const EMPTY = Buffer.alloc(0);
const MAIN = httplib.HTTPResponse.prototype;

/** Makes the twin of a response the worker described. */
export function makeResponse(head: ResponseHead, decoder: Decoder): HTTPResponse {
  return new HTTPResponse(RESPONSE, head, decoder);
}

const RESPONSE: unique symbol = Symbol('httplib-ts/sync response');

/**
 * Python's `httplib.HTTPResponse`, blocking: see the main entry's `HTTPResponse`. Made by
 * `getresponse()`, never by users. `read()` returns a `Buffer`, `for (const chunk of
 * response)` iterates the body synchronously.
 *
 * @example
 * ```ts
 * import * as httplib from 'httplib-ts/sync';
 *
 * const conn = new httplib.HTTPConnection('www.python.org');
 * conn.request('GET', '/');
 * const response = conn.getresponse();
 * console.log(response.status, response.getheader('Content-Type'));
 * for (const chunk of response) process.stdout.write(chunk);
 * ```
 */
export class HTTPResponse implements T.Blocking<httplib.HTTPResponse> {
  status: number;
  reason: string;
  version: 9 | 10 | 11;
  msg: httplib.HTTPMessage;
  chunked: boolean;
  will_close: boolean;
  debuglevel: number;
  strict: boolean;

  readonly #id: number;
  readonly #generation: number;
  /** `length`, `isclosed()` and `closed`, as the worker reports them (remote.ts). */
  readonly #state: ResponseState;
  /**
   * A read failed other than by the body's framing (a timeout, a reset, the peer's end) and
   * closed the response: the body was cut short, and every later read throws
   * `IncompleteRead` here (protocol/body-pull.ts `lostBody`), as the main entry's does,
   * never b''. The worker may have forgotten the response by then. `close()` forgets it.
   */
  #lost: LostBody | null = null;

  /**
   * Whether the body is over here, so that a read answers b'' without the worker; throws
   * the `IncompleteRead` of a body cut short (`#lost`).
   */
  #over(): boolean {
    if (this.#lost !== null) throw lostRead(this.#lost);
    return this.#state.isclosed;
  }

  /** @internal Use `HTTPConnection.getresponse()`. */
  constructor(token: typeof RESPONSE, head: ResponseHead, decoder: Decoder) {
    if (token !== RESPONSE)
      throw new TypeError('HTTPResponse is made by HTTPConnection.getresponse()');
    this.status = head.status;
    this.reason = head.reason;
    this.version = head.version;
    this.msg = new httplib.HTTPMessage(head.lines);
    this.chunked = head.chunked;
    this.will_close = head.will_close;
    this.debuglevel = decoder.value(head.debuglevel) as number;
    this.strict = decoder.value(head.strict) as boolean;
    this.#id = head.id;
    this.#generation = currentGeneration();
    this.#state = { length: head.length, isclosed: head.isclosed, closed: head.closed };
    trackResponse(head.id, this, this.#state);
  }

  /** Python 3's `closed`: true once `close()` was called (see the main entry). */
  get closed(): boolean {
    return this.#state.closed;
  }
  set closed(value: boolean) {
    this.#state.closed = value;
  }

  /** Python 3's `headers`: the same object as `msg`. */
  get headers(): httplib.HTTPMessage {
    return this.msg;
  }

  /** Python's `length`: body bytes still to come when known, else null. */
  get length(): number | null {
    return this.#state.length;
  }

  /**
   * A read in the worker; its bytes come back in shared memory, placed so that the copy
   * out of it lands at `align` (mod 8) without a slow unaligned copy.
   */
  #read(kind: string, n: unknown, options: unknown, align = 0): Json {
    refuseSignal(options, `${kind}()`);
    checkGeneration(this.#generation, 'response');
    const encoder = new Encoder();
    const command: Record<string, Json> = { c: 'read', id: this.#id, k: kind, al: align };
    if (n !== undefined) command.n = encoder.value(n);
    const reply = exclusive(() => transact(command, encoder, null));
    let value: Json;
    try {
      value = settle(reply);
    } catch (err) {
      // (A refused argument leaves the response open: nothing was lost.)
      if (this.#state.isclosed) this.#lost = lostBody(err, this.#state.length);
      throw err;
    }
    this.#last = reply;
    return value;
  }
  #last: Reply | null = null;

  /** The Buffer a read gave: copied out of shared memory. */
  #bytes(value: Json): Buffer {
    const placed = value as { $bytes: number; o: number; p?: number };
    if (placed.$bytes === 0) return EMPTY;
    return (this.#last as Reply).bytes(placed.$bytes, placed.o, placed.p);
  }

  /** Python's `read(amt=None)`: see the main entry. */
  read(amt?: number | null, options?: T.ReadOptions): Buffer {
    if (this.#over()) return EMPTY;
    return this.#bytes(this.#read('read', amt, options));
  }

  /**
   * Python 3's `readinto(b)`: bytes read into `b`, their number returned (0 at the end).
   * The worker reads `b.length` bytes as `read(amt)` would (the same rule: up to that many,
   * fewer only at the end) and they are copied into `b`.
   */
  readinto(b: ArrayBufferView, options?: T.ReadOptions): number {
    // An empty buffer still goes to the worker: on a chunked body it reads the framing up
    // to the next chunk (a last chunk there ends the body), as the main entry's does.
    return this.#into(b, 'readinto', options);
  }

  /** Python 3's `readinto1(b)`: `read1(b.length)`'s bytes, copied into `b`; their number. */
  readinto1(b: ArrayBufferView, options?: T.ReadOptions): number {
    return this.#into(b, 'readinto1', options);
  }

  /** The worker's read of `b.length` bytes (`readinto1`: as `read1`), copied into `b`. */
  #into(b: ArrayBufferView, kind: 'readinto' | 'readinto1', options: unknown): number {
    const target = bytesOf(b);
    if (target instanceof TypeError) throw target;
    refuseSignal(options, `${kind}()`);
    if (this.#over()) return 0;
    const worker = kind === 'readinto' ? 'readinto' : 'read1';
    const placed = this.#read(worker, target.length, undefined, target.byteOffset % 8) as {
      $bytes: number;
      o: number;
      p?: number;
    };
    if (placed.$bytes > 0)
      (this.#last as Reply).copyInto(target, placed.$bytes, placed.o, placed.p);
    return placed.$bytes;
  }

  /** Python 3's `read1(n=-1)`: see the main entry. */
  read1(n = -1, options?: T.ReadOptions): Buffer {
    if (this.#over()) return EMPTY;
    return this.#bytes(this.#read('read1', n, options));
  }

  /** Python 3's `peek(n)`: see the main entry. */
  peek(n = 1, options?: T.ReadOptions): Buffer {
    if (this.#over()) return EMPTY;
    return this.#bytes(this.#read('peek', n, options));
  }

  /** Python 3's `readline(limit=-1)`: see the main entry. */
  readline(limit = -1, options?: T.ReadOptions): Buffer {
    if (this.#over()) return EMPTY;
    return this.#bytes(this.#read('readline', limit, options));
  }

  /** Python 3's `readlines(hint=-1)`: see the main entry. */
  readlines(hint: number | null = -1, options?: T.ReadOptions): Buffer[] {
    const max = sizeLimit('hint', hint);
    if (max instanceof TypeError) throw max;
    const lines: Buffer[] = [];
    let total = 0;
    for (;;) {
      const line = this.readline(-1, options);
      if (line.length === 0) return lines;
      lines.push(line);
      total += line.length;
      if (max > 0 && total >= max) return lines;
    }
  }

  /** `for (const chunk of response)`: the body as Buffers, as they arrive. */
  *[Symbol.iterator](): Iterator<Buffer> {
    for (;;) {
      const chunk = this.read1(-1);
      if (chunk.length === 0) return;
      yield chunk;
    }
  }

  /** The rest of the body, decoded (default UTF-8). */
  text(encoding: BufferEncoding = 'utf8'): string {
    if (this.#over()) return EMPTY.toString(encoding);
    return this.#read('text', encoding, undefined) as string;
  }

  /** The rest of the body, parsed as JSON. */
  json(): unknown {
    const reply = this.#over() ? null : this.#read('json', undefined, undefined);
    if (reply === null) return JSON.parse('');
    return (this.#last as Reply).decoder.value(reply);
  }

  // What only reads the head runs the main entry's own methods on this object (they use
  // `msg` and `status` alone): one implementation for both entries.

  /** Python's `getheader(name, default=None)`: the main entry's. */
  getheader(name: string): string | null;
  getheader(name: string, defaultValue: Iterable<string>): string;
  getheader<U>(name: string, defaultValue: U): string | U;
  getheader(name: string, ...defaultValue: [] | [unknown]): unknown {
    return (MAIN.getheader as (...a: unknown[]) => unknown).call(this, name, ...defaultValue);
  }

  /** Python's `getheaders()`: the main entry's. */
  getheaders(): Array<[string, string]> {
    return MAIN.getheaders.call(this as unknown as httplib.HTTPResponse);
  }

  /** Python's `fileno()`: the worker's socket's descriptor (descriptors belong to the process). */
  fileno(): number {
    // Over: answered here, as the main entry answers (the worker may have forgotten it).
    if (this.#state.isclosed) throw new TypeError('fileno of a closed response');
    checkGeneration(this.#generation, 'response');
    return invoke(this.#id, 'fileno', () => []).value as number;
  }

  /** Python's `isclosed()`. */
  isclosed(): boolean {
    return this.#state.isclosed;
  }

  /** Python 3's `getcode()`: the main entry's. */
  getcode(): number {
    return MAIN.getcode.call(this as unknown as httplib.HTTPResponse);
  }

  /** Python 3's `info()`: the main entry's. */
  info(): httplib.HTTPMessage {
    return MAIN.info.call(this as unknown as httplib.HTTPResponse);
  }

  /** Python's `close()`. */
  close(): void {
    // After it, reads give b'', as Python's closed response (a body cut short too).
    this.#lost = null;
    // Read to its end: the main entry's close() only sets `closed` then (and the worker
    // may have forgotten the response already).
    if (this.#state.isclosed) {
      this.closed = true;
      return;
    }
    if (this.#generation !== currentGeneration()) {
      this.closed = true;
      this.#state.isclosed = true;
      return;
    }
    invoke(this.#id, 'close', () => []);
  }
}
