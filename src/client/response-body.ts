/**
 * The body of a response: the one pull loop under every read method of `HTTPResponse`
 * (http-response.ts, the Python façade over it). A read is a `Pull` — `all` (read,
 * read(amt), readinto, text, json), `some` (read1, the async iterator), `line`
 * (readline), `peek` — advanced over what the socket reader has queued (protocol/body-pull.ts,
 * shared with the blocking API's direct responses), and woken by the socket when it must wait: one promise per call, none when what it wants is queued.
 * Body bytes pass through the body decoder only as they are read; when nothing is queued,
 * the socket reads straight into read()'s own Buffer, or into a buffer of ours copied
 * into `readinto`'s (a `SharedArrayBuffer` view: into it), io/direct-read.ts.
 *
 * One place builds `IncompleteRead`; one flag (`busy`) refuses a second read while one
 * waits; `close()` during a read settles it with `AbortError`; the end of the body (read
 * to its end, or abandoned) is told to the connection once (`onEnd`), which decides what
 * becomes of the socket. A small result never keeps a large block alive.
 */
import { isSharedArrayBuffer } from 'node:util/types';
import { callWait, closedByCaller, isClosedByCaller, type WaitOptions } from '../io/deadline.ts';
import type { DirectReads } from '../io/direct-read.ts';
import type { Link } from '../io/transport.ts';
import {
  bodyBufferSize,
  keepLargeBlocks,
  OFFER_OWN_MIN,
  OWN_BUFFER_MIN,
  POOLED_MAX,
  SMALL_RESULT_FRACTION,
} from '../io/tuning.ts';
import { BodyDecoder } from '../protocol/body-decoder.ts';
import { detachedTarget, FramingError } from '../protocol/body-errors.ts';
import {
  BodyPuller,
  incomplete,
  join,
  type LostBody,
  lostBody,
  lostRead,
  type Pull,
  type PullOwner,
} from '../protocol/body-pull.ts';
import { ImproperConnectionState } from '../protocol/errors.ts';
import type { ResponseHead } from '../protocol/response-parser.ts';
import { callSignal } from './connection-options.ts';
import { publishFailure } from './debug.ts';

const NO_BODY = new BodyDecoder('none');

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
  readonly onEnd: (link: Link, response: object, complete: boolean) => void;
  /** The connection, named in `httplib:error` messages when a read fails. */
  readonly connection: object;
}

/** Options of a single read. */
export interface ReadOptions {
  /** Cancels this read: the socket is destroyed and the read rejects with `AbortError`. */
  readonly signal?: AbortSignal | undefined;
}

export type { Pull } from '../protocol/body-pull.ts';

export class ResponseBody {
  /** The socket while the body is unread (Python's `fp`); null once done. */
  #link: Link | null;
  /** The socket, for `fileno()` while the body is unread. */
  readonly socketLink: Link;
  /** The pull over what the socket reader queued (protocol/body-pull.ts). */
  #body: BodyPuller;
  /** Whether the response owns the socket (it will close the connection). */
  #owner = false;
  /** A read is waiting: another one is refused. */
  #busy = false;
  /** The body ended on a paused socket with no direct read: its read resolves a loop turn later (`#finish`). */
  #settling = false;
  /**
   * What cut the body short, other than its framing or the caller's close (a timeout, a
   * read's signal, a reset, the peer's end): the socket is gone with the rest of the body,
   * and every later read rejects with `IncompleteRead` (protocol/body-pull.ts `lostBody`),
   * never `b''`, which would pass for the end of the body. (CPython reads on: 2.7's next
   * read raises the timeout again or `IncompleteRead` at the end of the socket; 3's
   * refuses a timed-out socket.)
   */
  #lost: LostBody | null = null;
  /** `length` when the read under way began: what a failed read leaves it at. */
  #lengthBefore: number | null = null;
  /** `length` after a read failed (the body is over): as before that read, as in Python. */
  #lengthAfterFailure: number | null | undefined = undefined;
  readonly #context: ResponseContext;
  /** The response, named to the connection when the body ends. */
  readonly #response: object;

  constructor(context: ResponseContext, response: object) {
    this.#context = context;
    this.#link = context.link;
    this.socketLink = context.link;
    this.#response = response;
    this.#body = new BodyPuller(context.link.reader, NO_BODY, null, this.#pullOwner, false);
  }

  /** What the pull asks of this body (protocol/body-pull.ts `PullOwner`). */
  readonly #pullOwner: PullOwner = {
    finish: (complete) => this.#finish(complete),
    grow: (got, max) => Buffer.allocUnsafe(bodyBufferSize(max, got)),
  };

  /** The head was read: the body's framing (and whether the socket is the response's). */
  start(head: ResponseHead, owner: boolean): void {
    const decoder = new BodyDecoder(head.framing, head.length);
    this.#body = new BodyPuller(
      this.#context.link.reader,
      decoder,
      head.bodyPrefix,
      this.#pullOwner,
      false,
    );
    this.#owner = owner;
  }

  /**
   * Python's `length`: body bytes still to come when known (0 for no body), else null. A
   * read that fails leaves it as it was before that read (Python's `read()` lowers it only
   * once it has the bytes): the bytes of that call are in the error's `partial`.
   */
  get length(): number | null {
    return this.#lengthAfterFailure === undefined
      ? this.#body.decoder.remaining
      : this.#lengthAfterFailure;
  }

  /** Whether the body is over (read to its end, or closed). */
  get done(): boolean {
    return this.#link === null;
  }

  /**
   * The response is closed: the body is abandoned unless it was over, and a read that
   * waits settles with `AbortError` (woken by the failure it is given).
   */
  close(): void {
    // The caller's close: later reads give b'', as Python's closed response (a body cut
    // short by a failed read too).
    this.#lost = null;
    const link = this.#link;
    if (link === null) return;
    if (this.#busy) link.reader.fail(closedByCaller('body'));
    this.#finish(false);
  }

  /** A pull whose result is a Buffer (its views joined). */
  read(pull: Pull, options: ReadOptions | undefined): Promise<Buffer> {
    if (pull.mode === 'all') this.#ownBuffer(pull);
    const pending = this.pull(pull, options);
    return pending === null ? Promise.resolve(result(pull)) : pending.then(() => result(pull));
  }

  /**
   * read() or read(amt) of a body framed by its length, when the socket can read into
   * memory of our choosing and most of what is wanted has yet to arrive: the bytes are
   * received straight into the buffer the read will return (one copy, the kernel's),
   * allocated as the memory rule allows (io/tuning.ts `bodyBufferSize`) and grown as
   * bytes arrive. Otherwise the pull collects views of the queued blocks.
   */
  #ownBuffer(pull: Pull): void {
    const link = this.#link;
    if (link === null || link.direct === null || this.#busy || this.#body.prefix !== null) return;
    const decoder = this.#body.decoder;
    const remaining = decoder.remaining;
    if (decoder.framing !== 'length' || remaining === null || this.#body.brokenAhead !== null)
      return;
    const want = Math.min(pull.max, remaining);
    const queued = link.reader.buffered;
    if (want < OWN_BUFFER_MIN || want <= queued || !link.direct.available) return;
    pull.parts = null;
    pull.own = true;
    pull.max = want;
    keepLargeBlocks();
    pull.target = Buffer.allocUnsafe(bodyBufferSize(want, queued));
  }

  /**
   * Advance `pull` over what is queued; when that is not enough, wait (one promise for
   * the whole call, woken from the socket's events) and advance again. Null when it was
   * satisfied at once. A read made while another waits is refused; any failure ends the
   * body (the socket is not reused).
   */
  pull(pull: Pull, options: ReadOptions | undefined): Promise<void> | null {
    if (this.#busy) return Promise.reject(concurrentRead());
    if (this.#lost !== null) {
      return Promise.reject(lostRead(this.#lost));
    }
    this.#lengthBefore = this.#body.decoder.remaining;
    let signal: AbortSignal | undefined;
    try {
      signal = callSignal(options, 'a read');
    } catch (err) {
      return Promise.reject(err);
    }
    if (signal === undefined && this.#context.signal?.aborted !== true) {
      // The fast path: everything wanted is queued already (a small body comes with its
      // head), so nothing waits and no promise is made.
      try {
        if (this.#body.advance(pull)) {
          if (!this.#settling) return null;
          // The body ended on a socket that may hold more behind it (`#finish`).
          this.#busy = true;
          return new Promise<void>((resolve) => this.#settle(resolve));
        }
      } catch (err) {
        return this.#published(Promise.reject(this.#failed(err, pull)));
      }
    }
    this.#busy = true;
    // A signal of its own is joined to the connection's for this read only.
    const own =
      signal === undefined ? null : callWait(this.#context.timeoutMs, signal, this.#context.signal);
    const wait = own ?? this.#context.wait;
    return this.#published(
      new Promise<void>((resolve, reject) => {
        const step = (): void => {
          try {
            if (this.#waitFor(pull, wait, step)) return;
          } catch (err) {
            this.#busy = false;
            own?.release();
            reject(this.#failed(err, pull));
            return;
          }
          own?.release();
          if (this.#settling) {
            this.#settle(resolve);
            return;
          }
          this.#busy = false;
          resolve();
        };
        const link = this.#link;
        if (link !== null && link.reader.abortIfSignalled(wait) !== null) {
          this.#busy = false;
          own?.release();
          reject(this.#failed(link.reader.error, pull));
          return;
        }
        step();
      }),
    );
  }

  /**
   * Take what arrived (straight into the target, or queued), and return true after arming
   * a wait for more, or false when the pull is satisfied; bytes readinto reads at once
   * (the kernel held them) go round again.
   */
  #waitFor(pull: Pull, wait: WaitOptions, step: () => void): boolean {
    for (;;) {
      const link = this.#link;
      if (link !== null && link.direct !== null && pull.target !== null) {
        const n = link.direct.take(pull.target, pull.got);
        if (n < 0) throw detachedTarget();
        if (n > 0) {
          this.#body.decoder.consumeDirect(n);
          pull.got += n;
          if (this.#body.decoder.done && this.#body.prefix === null) this.#finish(true);
        }
      }
      if (this.#body.advance(pull)) return false;
      const reader = (this.#link as Link).reader;
      if (reader.error !== null) throw reader.error;
      if (reader.ended || reader.closed) {
        const end = this.#body.decoder.eof();
        if (!end.complete) throw incomplete(pull, end.expected);
        this.#finish(true);
        return false;
      }
      if (pull.target !== null && this.#offers(pull) && this.#directReady()) {
        // The rest goes straight into the caller's memory (readinto's, or the Buffer a
        // read() returns), no longer than the body's rest.
        const want = this.#body.room(
          pull,
          Math.min(pull.max - pull.got, this.#body.decoder.remaining ?? Number.POSITIVE_INFINITY),
        );
        const t = pull.target;
        const direct = (this.#link as Link).direct as DirectReads;
        // The body's last bytes: the reads see to what may come past them.
        const final = want === this.#body.decoder.remaining;
        // readinto: what the kernel holds now is read at once, straight into the caller's
        // memory. (read()'s own Buffer is offered as before: read at once, a 1 MiB body was
        // slower, 235 against 167 µs of CPU, paired, cubic.)
        if (t.length < pull.got + want) throw detachedTarget();
        // Bytes read now are counted by take(), at the top of the loop.
        if (!pull.own && direct.readNow(t, pull.got, want, final) > 0) continue;
        if (reader.error !== null) throw reader.error;
        if (pull.own || isSharedArrayBuffer(t.buffer)) {
          const view =
            pull.got === 0 && want === t.length && Buffer.isBuffer(t)
              ? t
              : Buffer.from(t.buffer, t.byteOffset + pull.got, want);
          direct.offer(view, final, pull.mode === 'some');
        } else {
          // readinto's memory could be transferred (detached) while the read waits, and the
          // socket would then write into memory that is freed: the socket reads into memory
          // of ours, copied out by take() (test/integration/readinto-detach.test.ts).
          direct.offerOwn(want, final, pull.mode === 'some');
        }
      }
      reader.whenData(step, 'body', wait);
      return true;
    }
  }

  /**
   * Whether the socket reads straight into the pull's target: readinto's memory, and the
   * own Buffer of a read() to the body's end or of a read(amt) from OFFER_OWN_MIN; a
   * smaller read(amt) fills its Buffer from the socket's own reads (io/tuning.ts).
   */
  #offers(pull: Pull): boolean {
    return (
      !pull.own || pull.max >= OFFER_OWN_MIN || pull.max - pull.got === this.#body.decoder.remaining
    );
  }

  /**
   * Whether the socket may read the rest straight into the caller's memory: nothing
   * queued or held back, a body framed by its length or by the close, a socket that can
   * (plain TCP, direct-read.ts), and one that can still deliver bytes.
   */
  #directReady(): boolean {
    const link = this.#link as Link;
    const reader = link.reader;
    const framing = this.#body.decoder.framing;
    return (
      link.direct !== null &&
      reader.buffered === 0 &&
      this.#body.prefix === null &&
      (framing === 'length' || framing === 'eof') &&
      reader.error === null &&
      !reader.ended &&
      !reader.closed &&
      link.direct.available
    );
  }

  /**
   * Resolve the read that ended the body after one turn of the loop (its poll phase
   * reads the resumed socket: `#finish`); until then it still waits, and another read is
   * refused as while any read waits.
   */
  #settle(resolve: () => void): void {
    this.#settling = false;
    setImmediate(() =>
      setImmediate(() => {
        this.#busy = false;
        resolve();
      }),
    );
  }

  /** The body is over: hand the socket back (or close it) and forget it. */
  #finish(complete: boolean): void {
    const link = this.#link;
    if (link === null) return;
    this.#link = null;
    this.#body.end();
    // A body that came in several pieces on a socket no direct read of the descriptor can
    // look past (TLS, whose descriptor carries records; a socket read through events):
    // what the server sent after it may still be in the TLS layer (each record is handed
    // over in a callback of its own, and the caller's code runs between them) or, behind
    // a paused socket, in the kernel. The read that ended the body resolves only once the
    // socket has had a turn of the loop to read it (then unsolicited: the connection is
    // not reused): else a request made at once went out on it, and those bytes were read
    // as its response. A body that came in one piece has nothing behind it in the layer.
    if (
      complete &&
      !this.#owner &&
      (link.direct === null || link.reader.encrypted) &&
      (link.reader.pieces > 1 || !link.reader.reading)
    ) {
      this.#settling = true;
    }
    if (this.#owner) link.reader.destroy();
    else this.#context.onEnd(link, this.#response, complete);
  }

  /** A read failed: the body is over; a broken framing is `IncompleteRead`. */
  #failed(err: unknown, pull: Pull): unknown {
    if (!isClosedByCaller(err) && this.#link !== null) {
      this.#lost = lostBody(err, this.#lengthBefore);
    }
    this.#lengthAfterFailure = this.#lengthBefore;
    this.#finish(false);
    if (err instanceof FramingError) return incomplete(pull, null, err);
    return err;
  }

  #published<T>(pending: Promise<T>): Promise<T> {
    return publishFailure(pending, this.#context.connection);
  }
}

/** The error of a read made while another read of the same response is waiting. */
function concurrentRead(): ImproperConnectionState {
  return new ImproperConnectionState(
    'another read of this response is still waiting for data: await it before reading again',
  );
}

/** The Buffer a pull returns: its views joined; a small part of a large block is copied. */
function result(pull: Pull): Buffer {
  if (pull.own) {
    const own = pull.target as Buffer;
    if (pull.got === own.length) return own;
    // Cut short (the body ended early is an error; this is read(amt) met the end):
    return pull.got * SMALL_RESULT_FRACTION < own.length
      ? Buffer.from(own.subarray(0, pull.got))
      : own.subarray(0, pull.got);
  }
  const out = join(pull.parts as Buffer[]);
  const store = out.buffer.byteLength;
  // Never let a small result keep a large block (256 KiB) alive (DESIGN.md principle 3).
  if (store > POOLED_MAX && out.length * SMALL_RESULT_FRACTION < store) return Buffer.from(out);
  return out;
}
