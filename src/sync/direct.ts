import { notOpened } from '../client/connection-links.ts';
import { type DebugOutput, writeDebug } from '../client/debug.ts';
import { type Outgoing, requestOutgoing } from '../client/request-output.ts';
import * as httplib from '../index.ts';
import { checkSendData, type PreparedBody } from '../io/body-source.ts';
import { checkTimeout, isPeerCut } from '../io/deadline.ts';
import {
  ClientConnection,
  type ConnectionAction,
  headEvent,
} from '../protocol/client-connection.ts';
import { CannotSendHeader, CannotSendRequest, NotConnected } from '../protocol/errors.ts';
import { DEFAULT_BLOCKSIZE } from '../protocol/limits.ts';
import { pytruth, timeoutMs } from '../protocol/pytext.ts';
import {
  checkHeaders,
  declaredLength,
  type GivenHeaders,
  type PutRequestOptions,
  RequestBuffer,
  type RequestTarget,
  requestTarget,
} from '../protocol/request-writer.ts';
import { ResponseParser } from '../protocol/response-parser.ts';
import { checkPort } from '../protocol/validate.ts';
import { workerGone } from './channel.ts';
import { DirectResponse } from './direct-response.ts';
import {
  type Body,
  dropRemote,
  isRemote,
  type Out,
  prepareHere,
  prepareRemote,
  type Sink,
  writeHere,
  writeRemote,
} from './direct-send.ts';
import { Ring, type RingAddress } from './ring.ts';

/** The connection's attributes, read when used (the twin's plain fields). */
export interface DirectSettings {
  host: string;
  port: number;
  timeout: number | null;
  source_address: readonly [string, number] | null;
  strict: boolean;
  blocksize: number;
  debuglevel: number;
  auto_open: boolean | number;
  _http_vsn: 10 | 11;
  debugOutput: DebugOutput | null;
}

/**
 * Whether new plain HTTP connections use the direct transport: on Node (not on Deno, whose
 * sockets have no descriptor, nor on Windows, nor on Bun until it is tested there), unless
 * `HTTPLIB_SYNC_DIRECT=0` asks for the worker's client (an internal switch, not part of the
 * public API: the tests run both).
 */
export const directTransport = {
  enabled:
    process.env.HTTPLIB_SYNC_DIRECT !== '0' &&
    process.platform !== 'win32' &&
    !('Deno' in globalThis) &&
    !('Bun' in globalThis),
};

export class DirectDriver {
  readonly machine = new ClientConnection();
  #ring: Ring | null = null;
  #kept: DirectResponse | null = null;
  #method: string | null = null;
  readonly #buffer = new RequestBuffer();
  #target: RequestTarget | null = null;
  readonly #conn: DirectSettings;
  readonly #defaultPort: number;
  readonly #blocksizeGiven: boolean;
  /** putrequest/putheader calls of the request being built (replayed by a move). */
  readonly calls: Array<[string, unknown[]]> = [];
  readonly #debug = (text: string): void => writeDebug(this.#conn.debugOutput, text);
  readonly #onEnd = (ring: Ring, response: object, complete: boolean): void =>
    this.#responseEnded(ring, response, complete);
  /**
   * A subclass's own `connect()`, if it has one (read at each open): Python's calls open
   * the socket by calling `self.connect()`, so an override runs there too.
   */
  ownConnect: (() => (() => void) | null) | null = null;
  /** The open of a call that runs the subclass's `connect()`: what its super.connect() did. */
  #delegated: { failed: boolean; error: unknown } | null = null;

  constructor(conn: DirectSettings, defaultPort: number, blocksizeGiven: boolean) {
    this.#conn = conn;
    this.#defaultPort = defaultPort;
    this.#blocksizeGiven = blocksizeGiven;
  }

  /**
   * Where the socket is connected, or null: null too once the socket is known to be
   * done (the peer closed it while it was idle), as the main entry's `sock` is.
   */
  get address(): RingAddress | null {
    this.#observe();
    return this.#ring?.address ?? null;
  }

  /** Whether a subclass's `connect()` runs for a call's open: `connect()` opens its socket. */
  get delegating(): boolean {
    return this.#delegated !== null;
  }

  /** Whether the connection can move to the worker now: no socket in use, nothing pending. */
  canMove(): boolean {
    this.#poll();
    return (
      this.#kept === null && this.machine.response === 'idle' && this.machine.request !== 'sending'
    );
  }

  /** The connection moves to the worker: its idle socket (if any) is closed. */
  release(): void {
    this.#drop();
  }

  // --- the caller's calls -----------------------------------------------------------------

  connect(): void {
    const delegated = this.#delegated;
    if (delegated !== null) {
      // The subclass's connect() run by a call's open: its super.connect() opens the socket
      // that call goes on; another one joins it (or fails as the first did), as on the
      // main entry.
      if (delegated.failed) throw delegated.error;
      if (this.#ring !== null) return;
      try {
        this.#ring = this.#connectRing();
      } catch (err) {
        delegated.failed = true;
        delegated.error = err;
        throw err;
      }
      this.machine.handle('connected');
      return;
    }
    this.#poll();
    if (this.machine.inFlight) {
      // As on the main entry: a request on its way or waiting for its head on the socket
      // being replaced is given up (Python would wait for its answer on the new socket
      // for ever); a kept response still reading its body keeps its socket.
      if (this.#kept !== null) {
        this.#kept = null;
        this.#ring = null;
      }
      this.close();
    }
    this.#acquire(this.machine.handle('connect'), true);
  }

  close(): void {
    this.#buffer.reset();
    this.calls.length = 0;
    this.machine.handle('close');
    const ring = this.#ring;
    const kept = this.#kept;
    this.#ring = null;
    this.#kept = null;
    ring?.close();
    kept?.abandon();
  }

  putrequest(method: string, url: string, options?: PutRequestOptions | null): void {
    this.#poll();
    this.machine.handle('putrequest');
    this.#method = method;
    this.calls.length = 0;
    this.calls.push(['putrequest', [method, url, options]]);
    this.#buffer.putrequest(method, url, options, this.#requestTarget());
  }

  putheader(header: string, ...values: unknown[]): void {
    this.machine.handle('putheader');
    const line = this.#buffer.putheader(header, ...(values as never[]));
    // A move replays the line as converted here (the name, and the values as one, folds
    // kept), so that no value's toString runs twice and sends what was not checked.
    const colon = line.indexOf(': ');
    this.calls.push(['putheader', [line.slice(0, colon), line.slice(colon + 2)]]);
  }

  endheaders(
    messageBody: unknown,
    options: { encode_chunked?: boolean | undefined } | undefined,
  ): void {
    // What the socket did since putrequest() (a reset, the server's close), as the main
    // entry hears it at once: an unusable socket is dropped and the request opens a new one.
    this.#poll();
    // Read first, as the main entry does: a getter that throws fails the call while the
    // request is still started (read after the head was taken, it left the request
    // started with no head, and the next endheaders() sent a bare CRLF).
    const chunked = pytruth(options?.encode_chunked) && this.#conn._http_vsn === 11;
    let prepared: Body | null = null;
    if (this.machine.request !== 'started') throw new CannotSendHeader();
    if (messageBody !== undefined && messageBody !== null)
      prepared = prepareHere(messageBody, this.#conn.blocksize, this.#exact());
    this.#checkAutoOpen();
    const head = this.#buffer.finish();
    this.calls.length = 0;
    const action = this.machine.handle('endheaders');
    this.#transmit(true, action, { head, body: prepared, chunked, plan: null });
  }

  send(data: unknown): void {
    checkSendData(data);
    this.#poll();
    const prepared = prepareHere(data, this.#conn.blocksize, this.#exact());
    this.#checkAutoOpen();
    this.#transmit(false, null, { head: null, body: prepared, chunked: false, plan: null });
  }

  request(
    method: string,
    url: string,
    body: unknown,
    headers: unknown,
    options: { encode_chunked?: boolean | undefined } | undefined,
  ): void {
    this.#poll();
    let given: GivenHeaders;
    let prepared: Body | null = null;
    let chunked: boolean;
    const target = this.#requestTarget();
    try {
      // Read first, as the main entry does: a getter that throws must fail the call before
      // the state moves (read after it, it left the connection in Request-started).
      chunked = pytruth(options?.encode_chunked);
      given = checkHeaders(headers as httplib.HeadersInput);
      if (this.machine.request !== 'idle') throw new CannotSendRequest(this.machine.python);
      this.#buffer.putrequest(method, url, given.skip, target);
      if (body !== undefined && body !== null)
        prepared = prepareHere(body, this.#conn.blocksize, this.#exact());
      // As the main entry: a caller's Content-Length its body belies, before anything.
      if (prepared !== null && !isRemote(prepared)) declaredLength(given, prepared.info);
      this.#checkAutoOpen();
    } catch (err) {
      this.#buffer.reset();
      throw err;
    }
    this.machine.handle('putrequest');
    this.#method = method;
    const action = this.machine.handle('endheaders');
    const version = this.#conn._http_vsn;
    if (prepared === null || !isRemote(prepared)) {
      const out = requestOutgoing(this.#buffer, method, given, prepared, chunked, version);
      this.#transmit(true, action, { ...out, plan: null });
      return;
    }
    // The head waits for the body's length (a file's stat, in the worker).
    const plan = (p: PreparedBody): Outgoing =>
      requestOutgoing(this.#buffer, method, given, p, chunked, version);
    this.#transmit(true, action, { head: null, body: prepared, chunked, plan });
  }

  getresponse(): DirectResponse {
    this.#poll();
    // Checked before the state moves: a bad timeout attribute leaves the connection as it was.
    const ms = timeoutOf(this.#conn);
    this.machine.handle('getresponse');
    const ring = this.#ring;
    if (ring === null) throw new NotConnected();
    const conn = this.#conn;
    const debug = conn.debuglevel > 0 ? this.#debug : null;
    const parser = new ResponseParser({ method: this.#method, strict: conn.strict, debug });
    try {
      while (!parser.done) {
        const n = ring.contiguous;
        if (n > 0) {
          const start = ring.start;
          const pos = parser.execute(ring.bytes, start, start + n);
          ring.consume(pos - start);
          continue;
        }
        if (ring.buffered > 0) continue;
        if (ring.failed) throw ring.error();
        if (ring.ended) {
          if (ring.buffered > 0) continue;
          parser.finish();
          break;
        }
        if (ms === 0 || !ring.wait(0, ms === null ? null : performance.now() + ms)) {
          throw new httplib.TimeoutError({
            phase: 'head',
            host: conn.host,
            port: conn.port,
            seconds: conn.timeout ?? 0,
          });
        }
      }
      if (parser.head === null) throw new Error('response head missing');
    } catch (err) {
      if (ring === this.#ring && this.machine.handle('head-failed') === 'destroy') this.#drop();
      throw err;
    }
    const head = parser.head;
    const action = this.machine.handle(headEvent(this.#method, head.status, head.will_close));
    const owner = action !== 'track';
    const response = DirectResponse.make(
      {
        ring,
        debuglevel: conn.debuglevel,
        strict: conn.strict,
        timeoutMs: ms,
        host: conn.host,
        port: conn.port,
        seconds: conn.timeout,
        onEnd: this.#onEnd,
      },
      head,
      owner,
    );
    if (owner) {
      if (ring === this.#ring) this.#ring = null;
    } else {
      this.#kept = response;
    }
    return response;
  }

  // --- sending -----------------------------------------------------------------------------

  #transmit(request: boolean, given: ConnectionAction | null, out: Out): void {
    let wrote = false;
    try {
      const ring = this.#acquire(given ?? this.machine.handle('send'));
      const body = out.body;
      if (body !== null && isRemote(body)) {
        // As the main entry: the socket first, then the body's preparation (a failure
        // there is a send that did not start).
        let prepared: PreparedBody;
        try {
          prepared = prepareRemote(ring, body, this.#conn.blocksize, this.#exact());
        } catch (err) {
          if (out.plan !== null) this.#buffer.reset();
          throw err;
        }
        let planned: Out | Outgoing;
        try {
          planned = out.plan === null ? out : out.plan(prepared);
        } catch (err) {
          // A Content-Length of the caller's that the body's length belies: not sent.
          this.#buffer.reset();
          dropRemote(ring, body);
          throw err;
        }
        // (The sink checks the timeout attribute: before a byte goes out.)
        const sink = this.#sink(ring);
        wrote = true;
        writeRemote(sink, planned.head, prepared, body, planned.chunked, planned.length ?? null);
      } else {
        const sink = this.#sink(ring);
        wrote = true;
        writeHere(sink, out as Outgoing);
      }
    } catch (err) {
      // A send() of a request whose head went out breaks it even when it wrote nothing
      // itself (connection-driver.ts sendFailed): that socket is never reused.
      const broken =
        wrote ||
        (!request && (this.machine.request === 'sent' || this.machine.request === 'sending'));
      if (request || broken) {
        const event = !broken ? 'send-unstarted' : this.#answered(err) ? 'send-cut' : 'send-failed';
        const action = this.machine.handle(event);
        if (action === 'destroy') this.#drop();
      }
      throw err;
    }
    if (request) this.machine.handle('sent');
  }

  /**
   * Whether the send failed because the peer reset or closed the socket with an answer
   * already in the ring (an early `413`): getresponse() then reads it (connection-driver.ts).
   */
  #answered(err: unknown): boolean {
    const ring = this.#ring;
    return ring !== null && ring.buffered > 0 && (ring.failed || ring.ended) && isPeerCut(err);
  }

  // --- the socket ----------------------------------------------------------------------------

  /** `byConnect`: made by `connect()` itself, which opens (a subclass's is the caller). */
  #acquire(action: ConnectionAction, byConnect = false): Ring {
    switch (action) {
      case 'write':
        if (this.#ring !== null) return this.#ring;
        throw new NotConnected();
      case 'replace':
        this.#drop();
        return this.#open(byConnect);
      case 'detach':
        // The kept response keeps reading the old socket and closes it at its end.
        this.#kept = null;
        this.#ring = null;
        return this.#open(byConnect);
      default:
        return this.#open(byConnect);
    }
  }

  /**
   * Opens a socket (`auto_open`, or `connect()`). With a subclass's `connect()`, a call's
   * open runs that, as Python's `send()` calls `self.connect()`: its `super.connect()`
   * opens the socket; its exception is the call's (a socket it opened stays, as Python's
   * `sock` does); one that never calls it fails the call with `NotConnected` (Python's
   * `send()` then fails on its missing `sock`).
   */
  #open(byConnect: boolean): Ring {
    const own = byConnect ? null : (this.ownConnect?.() ?? null);
    if (own === null) {
      let ring: Ring;
      try {
        ring = this.#connectRing();
      } catch (err) {
        this.machine.handle('connect-failed');
        throw err;
      }
      this.machine.handle('connected');
      this.#ring = ring;
      return ring;
    }
    const delegated = { failed: false, error: undefined as unknown };
    this.#delegated = delegated;
    let threw = false;
    let error: unknown;
    try {
      own();
    } catch (err) {
      threw = true;
      error = err;
    } finally {
      this.#delegated = null;
    }
    const ring = this.#ring;
    if (ring === null) this.machine.handle('connect-failed');
    if (threw) throw error;
    if (delegated.failed) throw delegated.error;
    if (ring === null) throw notOpened();
    return ring;
  }

  #connectRing(): Ring {
    const conn = this.#conn;
    return Ring.connect(
      conn.host,
      // An attribute set since the constructor checked it: checked as it did.
      checkPort(conn.port),
      timeoutOf(conn),
      conn.timeout,
      conn.source_address,
    );
  }

  /**
   * What the socket did while nobody looked (the main entry hears it at once): bytes
   * while nothing is expected make it unusable; its end, too, or marks it to close.
   */
  #poll(): void {
    const ring = this.#ring;
    if (ring === null) return;
    // A call may use the socket: the worker no longer closes it at its peer's end (that
    // end is seen below, if it came first).
    ring.setIdle(false);
    // A worker known to have failed or exited: this call throws (the next one carries on).
    if (!ring.dead) workerGone();
    this.#observe();
  }

  /** `#poll()` without the check of the worker (which throws): for what must not throw. */
  #observe(): void {
    const ring = this.#ring;
    if (ring === null) return;
    if (ring.dead) {
      // Its worker failed and was replaced: the connection is as if closed.
      this.close();
      return;
    }
    if (this.machine.response === 'idle' && ring.buffered > 0) {
      if (this.machine.handle('unsolicited') === 'destroy') this.#drop();
      return;
    }
    if (ring.ended && ring.buffered === 0) {
      if (this.machine.handle('eof') === 'destroy') this.#drop();
    }
  }

  #drop(): void {
    const ring = this.#ring;
    this.#ring = null;
    // A kept response reading its body on this socket still reads what is buffered (then
    // finds it ended): the memory is not handed to the next connection under it.
    ring?.close(this.#kept !== null);
  }

  #responseEnded(ring: Ring, response: object, complete: boolean): void {
    if (response !== this.#kept || ring !== this.#ring) {
      if (ring !== this.#ring) ring.close();
      return;
    }
    this.#kept = null;
    if (!complete) {
      if (this.machine.handle('body-abandoned') === 'destroy') this.#drop();
      return;
    }
    if (ring.ended && ring.buffered === 0) this.machine.handle('eof');
    switch (this.machine.handle('body-done')) {
      case 'idle':
        if (ring.buffered > 0) {
          if (this.machine.handle('unsolicited') === 'destroy') this.#drop();
          return;
        }
        // Idle, the socket kept for the next request, which may never come (a connection
        // dropped without close()): the worker closes the socket at its peer's end. An end
        // that came before this is seen here.
        ring.setIdle(true);
        if (ring.ended && ring.buffered === 0 && this.machine.handle('eof') === 'destroy')
          this.#drop();
        return;
      case 'destroy':
        this.#drop();
        return;
      default:
        return;
    }
  }

  // --- helpers ---------------------------------------------------------------------------

  /** Whether file and stream bodies go in pieces of exactly `blocksize` (as the main entry). */
  #exact(): boolean {
    return this.#blocksizeGiven || this.#conn.blocksize !== DEFAULT_BLOCKSIZE;
  }

  /** Where a call's bytes go: the ring's socket, under the connection's timeout. */
  #sink(ring: Ring): Sink {
    const conn = this.#conn;
    return {
      ring,
      peer: { host: conn.host, port: conn.port, seconds: conn.timeout },
      timeoutMs: timeoutOf(conn),
      debug: conn.debuglevel > 0 ? this.#debug : null,
    };
  }

  #requestTarget(): RequestTarget {
    const conn = this.#conn;
    this.#target = requestTarget(
      this.#target,
      conn.host,
      conn.port,
      this.#defaultPort,
      null,
      null,
      conn._http_vsn,
    );
    return this.#target;
  }

  #checkAutoOpen(): void {
    if (!this.#conn.auto_open && this.machine.socket === 'closed') throw new NotConnected();
  }
}

/**
 * The connection's timeout in milliseconds (null: none). An attribute set since the
 * constructor checked it is checked as it did (a `TypeError` before a byte is sent), as
 * the main entry checks it when connecting.
 */
function timeoutOf(conn: { readonly timeout: unknown }): number | null {
  return timeoutMs(checkTimeout(conn.timeout));
}
