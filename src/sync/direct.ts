/**
 * A blocking `HTTPConnection` whose HTTP runs in this thread: the direct transport. The
 * worker only opens the socket (and writes what the socket cannot take at once); this
 * thread builds and writes the requests (`fs.writeSync` on the socket's descriptor) and
 * parses the responses out of the ring the socket's bytes land in (ring.ts), with the
 * protocol core the main entry uses (request buffer, connection state machine, response
 * parser, body decoder). A synchronous twin of client/http-connection.ts and
 * connection-driver.ts: the same order of checks, the same state machine, the same errors.
 *
 * Bodies that only an event loop can read (files, streams, Blobs, iterables) are prepared
 * and written by the worker, on the same socket, after the head this thread wrote. A
 * tunnel moves the connection to the worker before it connects (connection.ts, with
 * `canMove()`/`release()`).
 */
import { Blob } from 'node:buffer';
import { Readable } from 'node:stream';
import { isAnyArrayBuffer } from 'node:util/types';
import { type DebugOutput, writeDebug } from '../client/debug.ts';
import { type Outgoing, requestOutgoing } from '../client/request-output.ts';
import * as httplib from '../index.ts';
import { type PreparedBody, prepareBody } from '../io/body-source.ts';
import { HEAD_AND_BODY_MAX } from '../io/tuning.ts';
import {
  ClientConnection,
  type ConnectionAction,
  headEvent,
} from '../protocol/client-connection.ts';
import { CannotSendHeader, CannotSendRequest, NotConnected } from '../protocol/errors.ts';
import { DEFAULT_BLOCKSIZE } from '../protocol/limits.ts';
import { pyrepr, timeoutMs } from '../protocol/pytext.ts';
import {
  type BodyInfo,
  CHUNK_TRAILER,
  checkHeaders,
  chunkHeader,
  type GivenHeaders,
  LAST_CHUNK,
  type PutRequestOptions,
  RequestBuffer,
  type RequestTarget,
  requestTarget,
} from '../protocol/request-writer.ts';
import { ResponseParser } from '../protocol/response-parser.ts';
import { encodeBody } from './bodies.ts';
import { type CallScope, transact, workerGone } from './channel.ts';
import { DirectResponse } from './direct-response.ts';
import { settle } from './remote.ts';
import { exclusive, Ring, type RingAddress } from './ring.ts';
import { Encoder, type Json } from './wire.ts';

export { exclusive };

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

/** A body the worker reads and writes on the socket (bodies.ts describes it). */
interface RemoteBody {
  readonly remote: true;
  readonly json: Json;
  readonly encoder: Encoder;
  readonly scope: CallScope;
  readonly done: (() => void) | null;
}
type Body = PreparedBody | RemoteBody;

function isRemote(body: Body): body is RemoteBody {
  return (body as Partial<RemoteBody>).remote === true;
}

/** What a call sends; `plan` makes the head once a remote body's length is known. */
interface Out {
  readonly head: string | null;
  readonly body: Body | null;
  readonly chunked: boolean;
  readonly plan: ((prepared: PreparedBody) => Outgoing) | null;
}

/** `fs.promises.FileHandle`, recognised by its shape (as body-source.ts does). */
function isFileHandle(value: object): boolean {
  const v = value as Partial<Record<'fd' | 'stat' | 'read' | 'close', unknown>>;
  return (
    typeof v.fd === 'number' &&
    typeof v.stat === 'function' &&
    typeof v.read === 'function' &&
    typeof v.close === 'function'
  );
}

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

  constructor(conn: DirectSettings, defaultPort: number, blocksizeGiven: boolean) {
    this.#conn = conn;
    this.#defaultPort = defaultPort;
    this.#blocksizeGiven = blocksizeGiven;
  }

  /** Where the socket is connected, or null. */
  get address(): RingAddress | null {
    return this.#ring?.address ?? null;
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
    this.#poll();
    this.#acquire(this.machine.handle('connect'));
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
    this.#buffer.putheader(header, ...(values as never[]));
    this.calls.push(['putheader', [header, ...values]]);
  }

  endheaders(
    messageBody: unknown,
    options: { encode_chunked?: boolean | undefined } | undefined,
  ): void {
    let prepared: Body | null = null;
    if (this.machine.request !== 'started') throw new CannotSendHeader();
    if (messageBody !== undefined && messageBody !== null) prepared = this.#prepare(messageBody);
    this.#checkAutoOpen();
    const head = this.#buffer.finish();
    this.calls.length = 0;
    const chunked = options?.encode_chunked === true && this.#conn._http_vsn === 11;
    const action = this.machine.handle('endheaders');
    this.#transmit(true, action, { head, body: prepared, chunked, plan: null });
  }

  send(data: unknown): void {
    this.#poll();
    const prepared = this.#prepare(data);
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
    const target = this.#requestTarget();
    try {
      given = checkHeaders(headers as httplib.HeadersInput);
      if (this.machine.request !== 'idle') throw new CannotSendRequest(this.machine.python);
      this.#buffer.putrequest(method, url, given.skip, target);
      if (body !== undefined && body !== null) prepared = this.#prepare(body);
      this.#checkAutoOpen();
    } catch (err) {
      this.#buffer.reset();
      throw err;
    }
    this.machine.handle('putrequest');
    this.#method = method;
    const chunked = options?.encode_chunked === true;
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
    this.machine.handle('getresponse');
    const ring = this.#ring;
    if (ring === null) throw new NotConnected();
    const conn = this.#conn;
    const debug = conn.debuglevel > 0 ? this.#debug : null;
    const parser = new ResponseParser({ method: this.#method, strict: conn.strict, debug });
    const ms = timeoutMs(conn.timeout);
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
          prepared = this.#prepareRemote(ring, body);
        } catch (err) {
          if (out.plan !== null) this.#buffer.reset();
          throw err;
        }
        const planned = out.plan === null ? out : out.plan(prepared);
        wrote = true;
        this.#writeRemote(ring, planned.head, prepared, body, planned.chunked);
      } else {
        wrote = true;
        this.#write(ring, out as Outgoing);
      }
    } catch (err) {
      if (request || wrote) {
        const action = this.machine.handle(wrote ? 'send-failed' : 'send-unstarted');
        if (action === 'destroy') this.#drop();
      }
      throw err;
    }
    if (request) this.machine.handle('sent');
  }

  /** client/request-output.ts's `writeOutgoing`, for in-memory bodies, written here. */
  #write(ring: Ring, out: Outgoing): void {
    const debug = this.#conn.debuglevel > 0 ? this.#debug : null;
    const { head, body, chunked } = out;
    if (head !== null && body !== null && body.bytes !== null && !chunked) {
      const bytes = body.bytes;
      if (debug !== null) debug(`send: ${pyrepr(head + bytes.toString('latin1'))}\n`);
      if (bytes.length <= HEAD_AND_BODY_MAX) {
        const both = Buffer.allocUnsafe(head.length + bytes.length);
        both.write(head, 0, 'latin1');
        bytes.copy(both, head.length);
        this.#put(ring, both);
      } else {
        this.#put(ring, Buffer.from(head, 'latin1'));
        this.#put(ring, bytes);
      }
      return;
    }
    if (head !== null) {
      if (debug !== null) debug(`send: ${pyrepr(head)}\n`);
      this.#put(ring, Buffer.from(head, 'latin1'));
    }
    if (body === null) return;
    const bytes = body.bytes as Buffer;
    if (debug !== null) {
      if (!chunked) debug(`send: ${pyrepr(bytes.toString('latin1'))}\n`);
      else {
        debug(`send: ${body.label}\n`);
        debug('sendIng a read()able\n');
      }
    }
    if (body.info.kind === 'none') return;
    if (!chunked) {
      if (bytes.length > 0) this.#put(ring, bytes);
      return;
    }
    if (bytes.length > 0) {
      this.#put(ring, Buffer.from(chunkHeader(bytes.length), 'latin1'));
      this.#put(ring, bytes);
      this.#put(ring, Buffer.from(CHUNK_TRAILER + LAST_CHUNK, 'latin1'));
    } else {
      this.#put(ring, Buffer.from(LAST_CHUNK, 'latin1'));
    }
  }

  /** A body the worker reads: made there (its label and length come back). */
  #prepareRemote(ring: Ring, body: RemoteBody): PreparedBody {
    const conn = this.#conn;
    const exact = this.#blocksizeGiven || conn.blocksize !== DEFAULT_BLOCKSIZE;
    const reply = transact(
      { c: 'ring', op: 'prep', id: ring.id, a: [conn.blocksize, exact], b: body.json },
      body.encoder,
      null,
    );
    const [label, kind, length] = settle(reply) as [string, BodyInfo['kind'], number | null];
    const info = (kind === 'length' ? { kind, length } : { kind }) as BodyInfo;
    return {
      info,
      bytes: null,
      label,
      chunks: () => {
        throw new Error('httplib-ts/sync: the worker reads this body');
      },
      release: () => {},
    };
  }

  /** The head (written here), then the body, written by the worker (as writeOutgoing does). */
  #writeRemote(
    ring: Ring,
    head: string | null,
    prepared: PreparedBody,
    body: RemoteBody,
    chunked: boolean,
  ): void {
    const conn = this.#conn;
    const debug = conn.debuglevel > 0 ? this.#debug : null;
    if (head !== null) {
      if (debug !== null) debug(`send: ${pyrepr(head)}\n`);
      this.#put(ring, Buffer.from(head, 'latin1'));
    }
    if (debug !== null) {
      debug(`send: ${prepared.label}\n`);
      debug('sendIng a read()able\n');
    }
    settle(
      transact(
        {
          c: 'ring',
          op: 'body',
          id: ring.id,
          a: [chunked, timeoutMs(conn.timeout), conn.timeout, conn.host, conn.port],
        },
        new Encoder(),
        body.scope,
      ),
    );
    body.done?.();
  }

  #put(ring: Ring, bytes: Buffer): void {
    const conn = this.#conn;
    ring.write(
      bytes,
      { host: conn.host, port: conn.port, seconds: conn.timeout },
      timeoutMs(conn.timeout),
    );
  }

  // --- the socket ----------------------------------------------------------------------------

  #acquire(action: ConnectionAction): Ring {
    switch (action) {
      case 'write':
        if (this.#ring !== null) return this.#ring;
        throw new NotConnected();
      case 'replace':
        this.#drop();
        return this.#open();
      case 'detach':
        // The kept response keeps reading the old socket and closes it at its end.
        this.#kept = null;
        this.#ring = null;
        return this.#open();
      default:
        return this.#open();
    }
  }

  #open(): Ring {
    const conn = this.#conn;
    let ring: Ring;
    try {
      ring = Ring.connect(
        conn.host,
        conn.port,
        timeoutMs(conn.timeout),
        conn.timeout,
        conn.source_address,
      );
    } catch (err) {
      this.machine.handle('connect-failed');
      throw err;
    }
    this.machine.handle('connected');
    this.#ring = ring;
    return ring;
  }

  /**
   * What the socket did while nobody looked (the main entry hears it at once): bytes
   * while nothing is expected make it unusable; its end, too, or marks it to close.
   */
  #poll(): void {
    const ring = this.#ring;
    if (ring === null) return;
    // A worker known to have failed or exited: this call throws (the next one carries on).
    if (!ring.dead) workerGone();
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
    ring?.close();
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
        if (ring.buffered > 0 && this.machine.handle('unsolicited') === 'destroy') this.#drop();
        return;
      case 'destroy':
        this.#drop();
        return;
      default:
        return;
    }
  }

  // --- helpers ---------------------------------------------------------------------------

  /**
   * A body as the main entry prepares it when it is in memory; a file, a stream, a Blob or
   * an iterable is described for the worker (bodies.ts; an async one is refused here).
   * Either way before anything moves: what cannot be sent is refused now.
   */
  #prepare(body: unknown): Body {
    const conn = this.#conn;
    const exact = this.#blocksizeGiven || conn.blocksize !== DEFAULT_BLOCKSIZE;
    if (
      (typeof body === 'number' && Number.isSafeInteger(body) && body >= 0) ||
      (typeof body === 'object' &&
        body !== null &&
        !ArrayBuffer.isView(body) &&
        !isAnyArrayBuffer(body) &&
        (body instanceof Blob ||
          body instanceof Readable ||
          isFileHandle(body) ||
          Symbol.iterator in body ||
          Symbol.asyncIterator in body))
    ) {
      const encoder = new Encoder();
      const scope: CallScope = { iterators: new Map(), thrown: new Map() };
      const encoded = encodeBody(body, encoder, scope);
      return { remote: true, json: encoded.json, encoder, scope, done: encoded.done };
    }
    return prepareBody(body, conn.blocksize, exact) as PreparedBody;
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
