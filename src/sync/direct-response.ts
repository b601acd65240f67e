/**
 * The blocking `HTTPResponse` of a direct connection (direct.ts): its body is read by
 * this thread, out of the ring the socket's bytes land in (ring.ts), through the protocol
 * core's body decoder. The pull over queued bytes is the main entry's
 * (protocol/body-pull.ts: the four kinds of pull, the rules for the end of the body,
 * `IncompleteRead` and a framing error met past what a read asked for); this file only
 * waits for the ring, as client/response-body.ts waits for the socket's events. The
 * façade's methods are the main entry's
 * (client/http-response.ts). Bytes are copied out of the ring into Buffers of this
 * thread's own (placed so that the copy is aligned: shared memory copies slowly
 * otherwise).
 */
import { bytesOf, jsonText, sizeLimit } from '../client/http-response.ts';
import * as httplib from '../index.ts';
import { bodyBufferSize, keepLargeBlocks } from '../io/tuning.ts';
import { BodyDecoder } from '../protocol/body-decoder.ts';
import { FramingError } from '../protocol/body-errors.ts';
import {
  BodyPuller,
  incomplete,
  type LostBody,
  lostBody,
  lostRead,
  type Pull,
  type PullOwner,
} from '../protocol/body-pull.ts';
import type { ResponseHead } from '../protocol/response-parser.ts';
import { exclusive } from './channel.ts';
import { refuseSignal } from './remote.ts';
import { HTTPResponse as SyncHTTPResponse } from './response.ts';
import type { Ring } from './ring.ts';

const EMPTY = Buffer.alloc(0);
const MAIN = httplib.HTTPResponse.prototype;

/** What a response needs of its connection. */
export interface DirectContext {
  readonly ring: Ring;
  readonly debuglevel: number;
  readonly strict: boolean;
  readonly timeoutMs: number | null;
  /** Who a timeout names, and the connection's timeout as given. */
  readonly host: string;
  readonly port: number;
  readonly seconds: number | null;
  /** The body ended: read to its end (`complete`) or abandoned. */
  readonly onEnd: (ring: Ring, response: object, complete: boolean) => void;
}

const TOKEN = Symbol('direct response');

export class DirectResponse {
  status: number;
  reason: string;
  version: 9 | 10 | 11;
  msg: httplib.HTTPMessage;
  chunked: boolean;
  will_close: boolean;
  debuglevel: number;
  strict: boolean;
  closed = false;

  #ring: Ring | null;
  readonly #socketRing: Ring;
  /** The pull over what the ring holds (protocol/body-pull.ts). */
  readonly #body: BodyPuller;
  readonly #owner: boolean;
  /** What cut the body short besides its framing: later reads reject (body-pull.ts `lostBody`). */
  #lost: LostBody | null = null;
  /** `length` after a read failed: as before that read (see response-body.ts). */
  #lengthAfterFailure: number | null | undefined = undefined;
  readonly #context: DirectContext;

  /** @internal */
  constructor(token: unknown, context: DirectContext, head: ResponseHead, owner: boolean) {
    if (token !== TOKEN)
      throw new TypeError('HTTPResponse is made by HTTPConnection.getresponse()');
    this.#context = context;
    this.#ring = context.ring;
    this.#socketRing = context.ring;
    this.debuglevel = context.debuglevel;
    this.strict = context.strict;
    this.status = head.status;
    this.reason = head.reason;
    this.version = head.version;
    this.msg = new httplib.HTTPMessage(head.lines);
    this.chunked = head.chunked;
    this.will_close = head.will_close;
    const pullOwner: PullOwner = {
      finish: (complete) => this.#finish(complete),
      grow: (got, max, full) => placed(bodyBufferSize(max, got), full.byteOffset & 7),
    };
    const decoder = new BodyDecoder(head.framing, head.length);
    this.#body = new BodyPuller(context.ring, decoder, head.bodyPrefix, pullOwner, true);
    this.#owner = owner;
  }

  /** @internal */
  static make(context: DirectContext, head: ResponseHead, owner: boolean): DirectResponse {
    return new DirectResponse(TOKEN, context, head, owner);
  }

  get headers(): httplib.HTTPMessage {
    return this.msg;
  }

  get length(): number | null {
    return this.#lengthAfterFailure === undefined
      ? this.#body.decoder.remaining
      : this.#lengthAfterFailure;
  }

  read(amt?: number | null, options?: httplib.ReadOptions): Buffer {
    refuseSignal(options, 'read()');
    const max = size('amt', amt);
    const ring = this.#ring;
    if (ring === null && this.#lost === null) return EMPTY;
    // A body of known size: one Buffer, placed for aligned copies, of the size it will
    // have as far as the memory rule allows (io/tuning.ts `bodyBufferSize`: never sized
    // from the declared length alone; replaced by a bigger one as bytes arrive).
    const known = Math.min(max, this.#body.decoder.remaining ?? Number.POSITIVE_INFINITY);
    if (
      ring !== null &&
      known !== Number.POSITIVE_INFINITY &&
      known > 0 &&
      this.#body.prefix === null
    ) {
      if (known >= 4096) keepLargeBlocks();
      const target = placed(bodyBufferSize(known, 0), ring.start & 7);
      const pull: Pull = { mode: 'all', max: known, parts: null, target, own: true, got: 0 };
      exclusive(() => this.#pull(pull));
      const got = pull.target as Buffer;
      return pull.got === got.length ? got : got.subarray(0, pull.got);
    }
    return this.#result({ mode: 'all', max, parts: [], target: null, own: false, got: 0 });
  }

  readinto(b: ArrayBufferView, options?: httplib.ReadOptions): number {
    return this.#into(b, 'all', options, 'readinto()');
  }

  readinto1(b: ArrayBufferView, options?: httplib.ReadOptions): number {
    return this.#into(b, 'some', options, 'readinto1()');
  }

  /** readinto (`all`: until `b` is full or the body ends) and readinto1 (`some`). */
  #into(b: ArrayBufferView, mode: 'all' | 'some', options: unknown, what: string): number {
    const target = bytesOf(b);
    if (target instanceof TypeError) throw target;
    refuseSignal(options, what);
    const pull: Pull = { mode, max: target.length, parts: null, target, own: false, got: 0 };
    exclusive(() => this.#pull(pull));
    return pull.got;
  }

  read1(n = -1, options?: httplib.ReadOptions): Buffer {
    refuseSignal(options, 'read1()');
    const max = size('n', n);
    return this.#result({ mode: 'some', max, parts: [], target: null, own: false, got: 0 });
  }

  peek(n = 1, options?: httplib.ReadOptions): Buffer {
    refuseSignal(options, 'peek()');
    size('n', n);
    return this.#result({ mode: 'peek', max: 1, parts: [], target: null, own: false, got: 0 });
  }

  readline(limit = -1, options?: httplib.ReadOptions): Buffer {
    refuseSignal(options, 'readline()');
    const max = size('limit', limit);
    return this.#result({ mode: 'line', max, parts: [], target: null, own: false, got: 0 });
  }

  *[Symbol.iterator](): Iterator<Buffer> {
    for (;;) {
      const chunk = this.read1(-1);
      if (chunk.length === 0) return;
      yield chunk;
    }
  }

  text(encoding: BufferEncoding = 'utf8'): string {
    return this.read().toString(encoding);
  }

  json(): unknown {
    return JSON.parse(jsonText(this.read()));
  }

  getheader(name: string): string | null;
  getheader(name: string, defaultValue: Iterable<string>): string;
  getheader<U>(name: string, defaultValue: U): string | U;
  getheader(name: string, ...defaultValue: [] | [unknown]): unknown {
    return (MAIN.getheader as (...a: unknown[]) => unknown).call(this, name, ...defaultValue);
  }

  getheaders(): Array<[string, string]> {
    return MAIN.getheaders.call(this as unknown as httplib.HTTPResponse);
  }

  fileno(): number {
    // Python: `fp` is None once the body is over (an AttributeError).
    if (this.#ring === null || this.#socketRing.closed) {
      throw new TypeError('fileno of a closed response');
    }
    return this.#socketRing.fd;
  }

  isclosed(): boolean {
    return this.#ring === null;
  }

  getcode(): number {
    return MAIN.getcode.call(this as unknown as httplib.HTTPResponse);
  }

  info(): httplib.HTTPMessage {
    return MAIN.info.call(this as unknown as httplib.HTTPResponse);
  }

  close(): void {
    exclusive(() => this.abandon());
  }

  /** @internal `close()`, from the connection's own close(). */
  abandon(): void {
    // Later reads give b'', as Python's closed response (a body cut short too).
    this.#lost = null;
    this.closed = true;
    this.#finish(false);
  }

  // --- the pull loop ---------------------------------------------------------------------

  #result(pull: Pull): Buffer {
    exclusive(() => this.#pull(pull));
    const parts = pull.parts as Buffer[];
    if (parts.length === 0) return EMPTY;
    return parts.length === 1 ? (parts[0] as Buffer) : Buffer.concat(parts, pull.got);
  }

  /** Advance `pull`, waiting for bytes as long as it wants more; any failure ends the body. */
  #pull(pull: Pull): void {
    if (this.#lost !== null) throw lostRead(this.#lost);
    this.#ring?.check();
    const lengthBefore = this.#body.decoder.remaining;
    try {
      for (;;) {
        if (this.#body.advance(pull)) return;
        const ring = this.#ring as Ring;
        if (ring.buffered > 0) continue;
        if (ring.failed) throw ring.error();
        if (ring.ended) {
          if (ring.buffered > 0) continue;
          const end = this.#body.decoder.eof();
          if (!end.complete) throw incomplete(pull, end.expected);
          this.#finish(true);
          return;
        }
        const ctx = this.#context;
        const ms = ctx.timeoutMs;
        if (ms === 0 || !ring.wait(0, ms === null ? null : performance.now() + ms)) {
          ring.close();
          throw new httplib.TimeoutError({
            phase: 'body',
            host: ctx.host,
            port: ctx.port,
            seconds: ctx.seconds ?? 0,
          });
        }
      }
    } catch (err) {
      if (this.#ring !== null) this.#lost = lostBody(err, lengthBefore);
      this.#lengthAfterFailure = lengthBefore;
      this.#finish(false);
      if (err instanceof FramingError) throw incomplete(pull, null, err);
      throw err;
    }
  }

  #finish(complete: boolean): void {
    const ring = this.#ring;
    if (ring === null) return;
    this.#ring = null;
    this.#body.end();
    if (this.#owner) ring.close();
    else this.#context.onEnd(ring, this, complete);
  }
}

// `instanceof` the blocking entry's HTTPResponse holds (every method is this class's own).
Object.setPrototypeOf(DirectResponse.prototype, SyncHTTPResponse.prototype);

/** A Buffer of `size` bytes starting `at` (0–7) bytes past an 8-byte boundary. */
function placed(size: number, at: number): Buffer {
  return size >= 4096
    ? Buffer.allocUnsafeSlow(size + 8).subarray(at, at + size)
    : Buffer.allocUnsafe(size);
}

/** A size argument as the main entry checks it (a `TypeError` before the body is touched). */
function size(name: string, value: unknown): number {
  const max = sizeLimit(name, value);
  if (max instanceof TypeError) throw max;
  return max;
}
