/**
 * The engine under `HTTPConnection`: it feeds the connection's state machine
 * (protocol/client-connection.ts) with what the caller does and what the I/O shell
 * reports, and carries out the actions the machine returns — write a request
 * (request-output.ts), read a head, hand a socket to a response; the socket actions
 * (open, reuse, replace, destroy) are connection-links.ts's. It decides nothing itself.
 *
 * Calls take effect in call order: a send waits for the send before it, a
 * `getresponse()` made while its request is still being sent waits for that send (and
 * fails with its error), and a send made while a `getresponse()` reads the head waits
 * for that read to settle (`afterHead`: Python's `getresponse()` would have returned
 * first). `close()` aborts the connection's one close controller, which
 * every wait of every phase listens to (io/deadline.ts), and moves to a new generation:
 * whatever the old one reports later is ignored.
 */
import { type PreparedBody, releaseWhenReady, whenPrepared } from '../io/body-source.ts';
import { type ByteReader, socketClosedError } from '../io/byte-reader.ts';
import {
  abortedBy,
  beforeClose,
  closedByCaller,
  isPeerCut,
  listenAbort,
  releasing,
  timeoutMs,
  type WaitOptions,
} from '../io/deadline.ts';
import type { Link } from '../io/transport.ts';
import { type ConnectionAction, headEvent } from '../protocol/client-connection.ts';
import { NotConnected } from '../protocol/errors.ts';
import type { GivenHeaders, RequestBuffer } from '../protocol/request-writer.ts';
import { ResponseParser } from '../protocol/response-parser.ts';
import { CallsBehindHead, releaseBody } from './calls-behind-head.ts';
import {
  ConnectionLinks,
  type ConnectionSettings,
  type TlsFactory,
  type TunnelTarget,
} from './connection-links.ts';
import { errorChannel, nodeDebug, publishFailure, requestHeadersChannel } from './debug.ts';
import { type HeadHandlers, type HTTPResponse, receiveResponse } from './http-response.ts';
import { type Debug, type Outgoing, requestOutgoing, writeOutgoing } from './request-output.ts';

/** The settled promise the fast paths hand back: nothing was waited for. */
const DONE: Promise<void> = Promise.resolve();

/** A call's debug level and its output, taken when the call was made. */
interface DebugAt {
  readonly debuglevel: number;
  readonly debug: ((text: string) => void) | null;
}

export class ConnectionDriver extends ConnectionLinks {
  /** The send under way (the tail of the calls in order), or null. */
  private sending: Promise<void> | null = null;
  /** The calls made while a `getresponse()` reads the head (a forgotten `await`). */
  private readonly behind = new CallsBehindHead();
  /** The kept-alive response reading its body on `link`, if any. */
  private readonly onEnd = (link: Link, response: object, complete: boolean): void =>
    this.responseEnded(link, response, complete);

  /**
   * `close()`: everything pending settles with `AbortError` (saying the caller closed
   * it, or `reason`); the next call starts anew. `keepBehind`: the calls waiting for the
   * head (`afterHead`) stay, and take effect on the next connection.
   */
  close(reason?: Error, keepBehind = false): void {
    this.generation++;
    this.machine.handle('close');
    const epoch = this.epoch;
    const link = this.link;
    const kept = this.kept;
    this.epoch = null;
    this.connecting = null;
    // A subclass's connect() still running opens no socket for the calls given up here.
    this.delegated = null;
    this.cancelAgain(reason ?? closedByCaller('connect'));
    this.sending = null;
    this.link = null;
    this.kept = null;
    epoch?.abort(reason ?? closedByCaller());
    if (link !== null) {
      nodeDebug('close %s:%d', this.conn.host, this.conn.port);
      link.reader.destroy();
    }
    kept?.close();
    if (keepBehind) this.behind.heading = null;
    else this.behind.fail(() => reason ?? closedByCaller('head'));
  }

  /**
   * `connect()`. Python replaces the socket and keeps its state, so a request already
   * sent waits forever for an answer on the new socket. Here a request on its way or
   * waiting for its head is given up first, as `close()` gives it up (what waits for it
   * settles with `AbortError`), and the state is Idle on the new socket; a kept-alive
   * response still reading its body keeps reading the old socket, as on any `connect()`.
   */
  override connect(): Promise<void> {
    // Still connecting (auto-open): connect() joins that connect, nothing is replaced.
    // A send() of raw bytes under way in Idle is given up the same way: its socket is
    // replaced by the caller, which no server-side error (EPIPE) may be blamed for.
    // A connect elsewhere while a request waits for the connect under way gives that
    // request up too (it was made for the old host; connectAgain does the rest).
    // While a subclass's connect() runs for an auto-open, connect() opens that socket.
    const busy = this.machine.inFlight || this.sending !== null;
    if (
      this.delegated === null &&
      busy &&
      (this.machine.socket !== 'connecting' || this.movedSinceConnecting())
    ) {
      if (this.kept !== null && this.link !== null) {
        this.kept = null;
        this.forget(this.link);
        this.link = null;
      }
      this.close();
    }
    return super.connect();
  }

  /**
   * A call that sends (`request()`, `endheaders()`, `send()`) made while a
   * `getresponse()` reads the head (the machine's `call` said `after-head`): once that
   * read settles (calls-behind-head.ts), `check` (its state checks, thrown as Python's
   * exceptions) then `go` — or wait again if another head is being read by then.
   * `prepared`: its body, let go of if the call never sends it.
   */
  afterHead(
    prepared: PreparedBody | Promise<PreparedBody> | null,
    signal: AbortSignal | undefined,
    check: () => void,
    go: () => Promise<void>,
  ): Promise<void> {
    // A body still being prepared must not fail unobserved while the call waits.
    if (prepared instanceof Promise) prepared.catch(noop);
    const dropped = (): void => releaseBody(prepared);
    const attempt = (): Promise<void> => {
      if (this.machine.handle('call') === 'after-head') {
        return this.behind.wait(attempt, signal, dropped);
      }
      try {
        check();
      } catch (err) {
        dropped();
        return Promise.reject(err);
      }
      return go();
    };
    return this.behind.wait(attempt, signal, dropped);
  }

  /**
   * `request()`, its arguments checked (its line in `buffer`) and the state allowing it:
   * the state moves and the head and body go out after the sends before it.
   */
  sendRequest(
    buffer: RequestBuffer,
    method: string,
    url: string,
    given: GivenHeaders,
    prepared: PreparedBody | Promise<PreparedBody> | null,
    chunked: boolean,
    version: 10 | 11,
    signal: AbortSignal | undefined,
    debug: Debug = this.debugNow(),
  ): Promise<void> {
    this.machine.handle('putrequest');
    this.method = method;
    this.url = url;
    const action = this.machine.handle('endheaders');
    const out =
      prepared instanceof Promise
        ? whenPrepared(prepared, (p) => requestOutgoing(buffer, method, given, p, chunked, version))
        : requestOutgoing(buffer, method, given, prepared, chunked, version);
    return this.transmit(true, action, out, signal, debug);
  }

  /**
   * `endheaders()` (its `head`, after the machine's `endheaders` gave `action`) or
   * `send()` (`head` null: raw bytes): `prepared` after the sends before it.
   */
  sendPrepared(
    action: ConnectionAction | null,
    head: string | null,
    prepared: PreparedBody | Promise<PreparedBody> | null,
    chunked: boolean,
    signal: AbortSignal | undefined,
  ): Promise<void> {
    const out =
      prepared instanceof Promise
        ? whenPrepared(prepared, (body): Outgoing => ({ head, body, chunked }))
        : { head, body: prepared, chunked };
    return this.transmit(head !== null, action, out, signal);
  }

  /**
   * Send `out` after the sends before it: a request (`request`, after the machine's
   * `endheaders` gave `action`) or raw bytes (`send()`, `action` null: decided when its
   * turn comes). Its failure tells the machine whether bytes went out.
   */
  transmit(
    request: boolean,
    action: ConnectionAction | null,
    out: Outgoing | Promise<Outgoing>,
    signal: AbortSignal | undefined,
    // The level of the call, as Python's call would print at it, whenever the bytes go.
    debug: Debug = this.debugNow(),
  ): Promise<void> {
    const generation = this.generation;
    const link = this.link;
    if (
      action === 'write' &&
      link !== null &&
      this.sending === null &&
      signal === undefined &&
      this.signal === null &&
      !(out instanceof Promise)
    ) {
      // Fast path (connected, nothing before it, no signal): write now; a promise only
      // when waiting for the socket to drain.
      let pending: Promise<void> | undefined;
      try {
        pending = this.write(link, out, this.waitOptions(undefined), debug);
      } catch (err) {
        return Promise.reject(this.sendFailed(err, request, generation, true, out.body));
      }
      if (pending === undefined) {
        if (request) this.machine.handle('sent');
        return DONE;
      }
      return this.track(
        this.whileSending(pending, link.reader, undefined).then(
          () => this.sent(request, generation),
          (err: unknown) => {
            throw this.sendFailed(err, request, generation, true, out.body);
          },
        ),
      );
    }
    return this.track(this.run(request, action, out, signal, generation, this.sending, debug));
  }

  /** `getresponse()`: read the head (after the send, when it is still under way). */
  getresponse(signal: AbortSignal | undefined): Promise<HTTPResponse> {
    const action = this.machine.handle('getresponse');
    // The debug level of the call, however late the head is read (after a send).
    const level: DebugAt = { debuglevel: this.conn.debuglevel, debug: this.debugNow() };
    // A send() of the body still under way (the head went out, so the machine says the
    // request is sent) goes first too: Python's getresponse() comes after it.
    const head =
      action === 'read-head' && this.sending === null
        ? this.readHead(signal, level)
        : this.afterSend(signal, level);
    this.behind.heading = head;
    return head;
  }

  /** The head, read once the request being sent is out. */
  private afterSend(signal: AbortSignal | undefined, level: DebugAt): Promise<HTTPResponse> {
    const generation = this.generation;
    const next = (): Promise<HTTPResponse> => {
      if (generation !== this.generation) throw closedByCaller('head');
      return this.readHead(signal, level);
    };
    // A send the peer cut with its answer queued (`send-cut`): that answer is the head.
    const failed = (err: unknown): Promise<HTTPResponse> => {
      const m = this.machine;
      if (generation === this.generation && m.response === 'reading-head' && m.request === 'sent') {
        return next();
      }
      throw err;
    };
    const sending = this.sending ?? DONE;
    if (signal === undefined) return sending.then(next, failed);
    // Its own signal gives up the exchange while the request is still being sent: the
    // send is cancelled with it, and the connection starts anew.
    return new Promise<HTTPResponse>((resolve, reject) => {
      const onAbort = (): void => {
        const err = abortedBy(signal);
        // As if getresponse() had failed: the calls made behind it go on anew.
        this.close(err, true);
        reject(err);
      };
      if (signal.aborted) {
        onAbort();
        return;
      }
      listenAbort(signal, onAbort, { once: true });
      // Once sent, the head is read under the same signal (through the deadline).
      const sent = (): void => signal.removeEventListener('abort', onAbort);
      sending.then(
        () => {
          sent();
          next().then(resolve, reject);
        },
        (err: unknown) => {
          sent();
          new Promise<HTTPResponse>((settle) => settle(failed(err))).then(resolve, reject);
        },
      );
    });
  }

  // --- sending -------------------------------------------------------------------------

  private async run(
    request: boolean,
    given: ConnectionAction | null,
    out: Outgoing | Promise<Outgoing>,
    signal: AbortSignal | undefined,
    generation: number,
    previous: Promise<void> | null,
    debug: Debug,
  ): Promise<void> {
    let wrote = false;
    let body = out instanceof Promise ? null : out.body;
    // A body being prepared (a file's stat) is awaited only after the socket is there: its
    // failure must not count as unhandled meanwhile (it is reported when awaited).
    if (out instanceof Promise) out.catch(noop);
    try {
      if (previous !== null) await previous;
      if (generation !== this.generation) throw closedByCaller('send');
      const link = await this.acquire(given ?? this.machine.handle('send'), signal);
      let outgoing: Outgoing;
      if (out instanceof Promise) {
        outgoing = await this.untilClosed(out);
        body = outgoing.body;
      } else {
        outgoing = out;
      }
      if (generation !== this.generation) throw closedByCaller('send');
      wrote = true;
      const wait = this.waitOptions(signal);
      try {
        const pending = this.write(link, outgoing, wait, debug);
        if (pending !== undefined) await this.whileSending(pending, link.reader, signal);
      } finally {
        wait.release();
      }
    } catch (err) {
      // The call failed before its body was ready: our listeners come off the caller's
      // stream now (a stream still opening is left alone), or once it is ready.
      if (out instanceof Promise && body === null) releaseWhenReady(out, (o) => o.body);
      throw this.sendFailed(err, request, generation, wrote, body);
    }
    this.sent(request, generation);
  }

  /** The tail of the calls in order; failures are published on `httplib:error`. */
  private track(op: Promise<void>): Promise<void> {
    this.sending = op;
    const clear = (): void => {
      if (this.sending === op) this.sending = null;
    };
    op.then(clear, clear);
    return publishFailure(op, this.conn);
  }

  private write(
    link: Link,
    out: Outgoing,
    wait: WaitOptions,
    debug: Debug,
  ): Promise<void> | undefined {
    const reader = link.reader;
    // Raw bytes sent while nothing is expected (send() in Idle) make nothing expected:
    // what comes back is unsolicited.
    if (this.machine.expecting) reader.expect();
    if (out.head !== null && requestHeadersChannel.hasSubscribers) {
      requestHeadersChannel.publish({
        connection: this.conn,
        method: this.method,
        url: this.url,
        head: out.head,
      });
    }
    return writeOutgoing(reader, out, wait, debug);
  }

  private sent(request: boolean, generation: number): void {
    if (request && generation === this.generation) this.machine.handle('sent');
  }

  /**
   * A send failed: the caller's stream loses our listener, and the machine hears whether
   * bytes of it may be on the wire (then the socket is destroyed, never reused).
   */
  private sendFailed(
    err: unknown,
    request: boolean,
    generation: number,
    wrote: boolean,
    body: PreparedBody | null,
  ): unknown {
    body?.release();
    // A send() of a request whose head went out (its body in parts: endheaders(), then
    // send() calls) breaks that request even when it wrote nothing itself: the head (and
    // earlier parts) promised bytes that will not come, so the socket is never reused.
    const broken =
      wrote ||
      (!request && (this.machine.request === 'sent' || this.machine.request === 'sending'));
    if (generation === this.generation && (request || broken)) {
      const event = !broken ? 'send-unstarted' : this.answered(err) ? 'send-cut' : 'send-failed';
      const action = this.machine.handle(event);
      if (action === 'destroy') this.drop(err);
    }
    return err;
  }

  /**
   * Whether the send failed because the peer reset or closed the socket with an answer
   * already queued on it (an early `413`): `getresponse()` then reads that answer (the
   * machine's `send-cut`).
   */
  private answered(err: unknown): boolean {
    const reader = this.link?.reader;
    return reader !== undefined && reader.buffered > 0 && cutByPeer(err, reader);
  }

  /**
   * A write under way on `reader`'s socket, or, as soon as `close()` or an abort signal
   * (the call's or the connection's) comes, their `AbortError`; as soon as the peer is
   * gone (`untilPeerGone`), the socket's error. The socket's own waits (drain) settle by
   * themselves then, but a body may be waiting for its source (a stream that gives
   * nothing, a generator that awaits), which no socket wait covers. What that write
   * reports later (its next piece finds the socket destroyed) is nobody's concern: the
   * failed send drops the socket, and the source is let go at its next piece.
   */
  private whileSending(
    pending: Promise<void>,
    reader: ByteReader,
    signal: AbortSignal | undefined,
  ): Promise<void> {
    pending.catch(noop);
    const closed = beforeClose(untilPeerGone(pending, reader), this.epochSignal(), 'send', noop);
    const signals = [signal, this.signal ?? undefined].filter((s) => s !== undefined);
    if (signals.length === 0) return closed;
    return new Promise<void>((resolve, reject) => {
      const aborted = signals.find((s) => s.aborted);
      if (aborted !== undefined) {
        closed.catch(noop);
        reject(abortedBy(aborted));
        return;
      }
      const onAbort = (event: Event): void => {
        done();
        reject(abortedBy(event.target as AbortSignal));
      };
      const done = (): void => {
        for (const s of signals) s.removeEventListener('abort', onAbort);
      };
      for (const s of signals) listenAbort(s, onAbort, { once: true });
      closed.then(
        () => {
          done();
          resolve();
        },
        (err: unknown) => {
          done();
          reject(err);
        },
      );
    });
  }

  /** `promise` (a body being prepared), or `close()`'s error as soon as it comes. */
  private untilClosed(promise: Promise<Outgoing>): Promise<Outgoing> {
    // Too late (close() came first): the body is not sent, its stream is left alone.
    return beforeClose(promise, this.epochSignal(), 'send', (out) => out.body?.release());
  }

  // --- responses -----------------------------------------------------------------------

  private readHead(signal: AbortSignal | undefined, level: DebugAt): Promise<HTTPResponse> {
    const link = this.link;
    if (link === null) {
      // No socket carries the answer: the head read fails at once, and the machine hears
      // it (else it would stay `reading-head`, and every call would wait behind it).
      this.machine.handle('head-failed');
      return Promise.reject(new NotConnected());
    }
    const conn = this.conn;
    const context = {
      link,
      debuglevel: level.debuglevel,
      strict: conn.strict,
      signal: this.signal,
      timeoutMs: timeoutMs(conn.timeout),
      wait: this.waitOptions(undefined),
      onEnd: this.onEnd,
      connection: conn,
    };
    const parser = new ResponseParser({
      method: this.method,
      strict: conn.strict,
      debug: level.debug,
    });
    if (signal === undefined) return receiveResponse(context, parser, context.wait, this.heads);
    // Its own signal is joined to the connection's until the head came (or did not).
    const wait = this.waitOptions(signal);
    return releasing(receiveResponse(context, parser, wait, this.heads), wait);
  }

  /** What a head read decides (made once, not per response). */
  private readonly heads: HeadHandlers = {
    head: (head, response, link) => {
      const action = this.machine.handle(headEvent(this.method, head.status, head.will_close));
      // Python: a response that will close "effectively passes the connection to the
      // response"; a kept one is tracked until its end.
      if (action === 'track') this.kept = response;
      else if (link === this.link) {
        this.link = null;
        this.forget(link);
      }
      return action !== 'track';
    },
    // The head could not be read: nothing of this socket can be trusted (unless the
    // socket is no longer the connection's: close() came first).
    failed: (err, link) => {
      if (link === this.link && this.machine.handle('head-failed') === 'destroy') this.drop(err);
      if (errorChannel.hasSubscribers) errorChannel.publish({ connection: this.conn, error: err });
      return err;
    },
  };

  /** A response's body ended: read to its end (`complete`) or abandoned. */
  private responseEnded(link: Link, response: object, complete: boolean): void {
    if (response !== this.kept || link !== this.link) {
      // A response the connection no longer tracks (close(), a replaced socket): its
      // socket is its own to end.
      if (link !== this.link) link.reader.destroy();
      return;
    }
    this.kept = null;
    if (!complete) {
      if (this.machine.handle('body-abandoned') === 'destroy') {
        this.drop(closedByCaller('body'));
      }
      return;
    }
    switch (this.machine.handle('body-done')) {
      case 'idle':
        // The socket failed or was closed as the body's last bytes came (an abort or a
        // close() between the read and its wake-up, direct-read.ts): never kept.
        if (link.reader.error !== null || link.reader.closed) {
          if (this.machine.handle('eof') === 'destroy') this.drop(null);
          return;
        }
        // Bytes queued after the body, while nothing is asked: unsolicited (also those
        // still in the kernel behind a body read to its exact size).
        link.reader.lent?.drainAhead();
        if (link.reader.buffered > 0) link.reader.tell('unsolicited');
        else link.reader.idle();
        return;
      case 'destroy':
        this.drop(null);
        return;
      default:
        // 'keep': the bytes queued (and to come) are the next request's response.
        return;
    }
  }
}

export type { ConnectionSettings, TlsFactory, TunnelTarget };

/**
 * `pending` (a request going out on `reader`'s socket), or, as soon as the peer is gone,
 * the error its next write would get: the socket's error after a reset (`ECONNRESET`,
 * mapped as every error of that socket is), `EPIPE` once it is closed, or once the peer
 * ended it (FIN) with nothing of an answer queued (none can come after it). A body
 * waiting for its own source writes nothing until its next piece, which may never come:
 * without this, the send would wait for it, and a failure no write reveals.
 *
 * The peer's end behind an answer (an early response, `413` then FIN) does not end it:
 * as in Python, the send goes on, its writes tell whether the peer still reads, and
 * `getresponse()` reads that answer once the request is out.
 */
function untilPeerGone(pending: Promise<void>, reader: ByteReader): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    let settled = false;
    const check = (): void => {
      if (settled) return;
      const err = peerGone(reader);
      if (err === null) return;
      settled = true;
      stop();
      reject(err);
    };
    const stop = reader.watch(check);
    pending.then(
      () => {
        if (settled) return;
        settled = true;
        stop();
        resolve();
      },
      (err: unknown) => {
        if (settled) return;
        settled = true;
        stop();
        reject(err);
      },
    );
    check();
  });
}

/**
 * Whether a send's error is the peer's doing: a reset, or the socket's end (not a
 * timeout, an abort or the body's own failure).
 */
function cutByPeer(err: unknown, reader: ByteReader): boolean {
  return isPeerCut(err) && (err === reader.error || reader.closed || reader.ended);
}

/** The error a write on `reader`'s socket must end with now (see `untilPeerGone`), or null. */
function peerGone(reader: ByteReader): Error | null {
  if (reader.error !== null) return reader.error;
  if (reader.closed || (reader.ended && reader.buffered === 0)) return socketClosedError();
  return null;
}

function noop(): void {}
