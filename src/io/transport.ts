/**
 * Opening a connection: TCP (Python's `socket.create_connection((host, port), timeout,
 * source_address)`, with `TCP_NODELAY` as Python 3 sets it, or the connection's
 * `createConnection` hook), then the CONNECT tunnel (Python's `_tunnel()`), then TLS.
 * Each step waits through the socket's `Deadline` (deadline.ts): the connection's
 * timeout, its and the call's `AbortSignal`, and `close()` end it, and a failure destroys
 * whatever was opened. Node's system errors (`ECONNREFUSED`, …) pass through unchanged,
 * as Python's `socket.error` does.
 *
 * What the tunnel sends and how TLS is configured and checked come from the caller
 * (`TunnelPlan`, `TlsPlan`); this file only moves bytes and waits.
 */
import * as net from 'node:net';
import type { Duplex } from 'node:stream';
import type * as tls from 'node:tls';
import { TunnelError } from '../protocol/errors.ts';
import { HTTPMessage } from '../protocol/message.ts';
import { pyrepr } from '../protocol/pytext.ts';
import { ResponseParser } from '../protocol/response-parser.ts';
import { checkPort } from '../protocol/validate.ts';
import { typeName } from './body-kinds.ts';
import { ByteReader } from './byte-reader.ts';
import {
  checkTimeout,
  connectOutcome,
  Deadline,
  epochError,
  type Peer,
  socketError,
  type WaitOptions,
} from './deadline.ts';
import { DirectReads } from './direct-read.ts';
import { nodeTls } from './node-tls.ts';

/** What a `createConnection` function (an `HTTPConnection` option) is given. */
export interface ConnectParams {
  /** The host to connect to: the server's, or the proxy's when tunnelling. */
  readonly host: string;
  /** The port to connect to. */
  readonly port: number;
  /**
   * Seconds, or null for no timeout (Python's `timeout`). The connection keeps it too: the
   * whole connect (the hook's promise, then a `net.Socket` it returned still connecting)
   * is given up after that long. With 0 (Python's non-blocking socket) the hook's promise
   * is not timed, and a socket it returned still connecting is given up at once.
   */
  readonly timeout: number | null;
  /** Python's `source_address`: `[host, port]` to bind the local end to. */
  readonly source_address: readonly [string, number] | null;
  /**
   * Fires, once, when the connect is given up before the hook's socket is connected: its
   * reason is the connect's `TimeoutError` (the timeout ran out), the reason of the
   * connection's or the call's `AbortSignal`, or `close()`'s `AbortError`. Stop any work
   * the hook started then; a socket it made (or returns later) is destroyed by the
   * connection. It never fires once the socket is connected (`close()` destroys it
   * then), nor when the hook or its socket fails by itself. A signal of its own for each
   * connect; never null when the connection calls the hook.
   */
  readonly signal: AbortSignal | null;
}

/**
 * A replacement for the TCP connect (Python tests replace `_create_connection` the same
 * way). It returns a connected (or connecting) socket, or a promise of one; a `net.Socket`
 * that is still connecting is awaited. The connection's timeout, signals and `close()`
 * bound that wait, and {@link ConnectParams.signal} tells the hook when it is given up.
 */
export type CreateConnection = (params: ConnectParams) => Duplex | Promise<Duplex>;

/** The CONNECT exchange with a proxy (Python's `_tunnel()`). */
export interface TunnelPlan {
  /** The CONNECT request head (built and checked by `set_tunnel`). */
  readonly head: string;
  /** Python's `strict`, for reading the proxy's answer. */
  readonly strict: boolean;
  /** Receives `set_debuglevel` output, or null. */
  readonly debug: ((text: string) => void) | null;
}

/** TLS on top of the socket: what `HTTPSConnection` decides and checks. */
export interface TlsPlan {
  /**
   * Before anything is opened: read the settings (a context that cannot make this
   * connection throws here, before a byte is sent).
   */
  prepare(): void;
  /** `tls.connect` options (context, server name, session to resume). */
  options(): tls.ConnectionOptions;
  /** Right after `tls.connect`: keep the sessions the socket makes, once verified. */
  watch(socket: tls.TLSSocket): void;
  /** After each handshake: throws to refuse the peer. */
  verify(socket: tls.TLSSocket): void;
  /** The handshake failed (its session must not be resumed). */
  failed(): void;
  /** The error a caller sees for a TLS failure (`ssl.SSLError`…); others unchanged. */
  mapError(err: unknown): unknown;
}

/** Everything `establish` needs. */
export interface Establish {
  readonly params: ConnectParams;
  /** The server the requests are for (the tunnel's host when tunnelling): timeouts name it. */
  readonly origin: Peer;
  readonly createConnection: CreateConnection | null;
  /** The connection's close controller's signal: `close()` aborts it. */
  readonly epoch: AbortSignal;
  /** The wait options of each step (timeout, and the call's and connection's signals). */
  readonly wait: WaitOptions;
  readonly tunnel: TunnelPlan | null;
  readonly tls: TlsPlan | null;
  /** Called once the TCP socket is connected (diagnostics). */
  readonly connected: (socket: Duplex) => void;
  /** Called once the proxy accepted the CONNECT, before TLS (diagnostics). */
  readonly tunnelled?: ((socket: Duplex) => void) | undefined;
}

/** The socket a connection speaks HTTP over, and its reader. */
export interface Link {
  readonly reader: ByteReader;
  /** Reads straight into offered memory, when the socket can (plain TCP): else null. */
  readonly direct: DirectReads | null;
}

/** TCP → tunnel → TLS. Rejects with the first failure; nothing opened is left behind. */
export async function establish(plan: Establish): Promise<Link> {
  const { params } = plan;
  // The `timeout` and `port` attributes may have been set to anything since the
  // constructor checked them: Python's socket refuses a bad one when it connects, and so
  // do we, with the constructor's own rule and message (not Node's RangeError).
  checkTimeout(params.timeout);
  checkPort(params.port);
  const deadline = new Deadline(plan.epoch, params, plan.origin);
  // Our own socket reads through onread (no Buffer per read): a TCP socket, or a TLS
  // socket opened in one step (no tunnel), whose TLS layer hands each decrypted record to
  // onread as TCP does its reads (`tls-small`: ~3 µs less per request than 'data'
  // events). TLS layered on an open socket (after a tunnel) and a socket from
  // `createConnection` are read through 'data'.
  const reader = new ByteReader(null, deadline);
  const oneStep = plan.createConnection === null && (plan.tls === null || plan.tunnel === null);
  const direct = oneStep ? new DirectReads(reader) : null;
  let socket: Duplex;
  try {
    socket = await connect(plan, deadline, direct);
  } catch (err) {
    deadline.dispose();
    throw err;
  }
  // A hook's socket that failed after its connect, before the reader listens (its own
  // 'connect' listener or a tick later): that failure, not a write's made-up EPIPE.
  const early = releaseEarlyErrors(socket);
  if (early !== null) {
    deadline.dispose();
    discard(socket);
    throw early;
  }
  reader.attach(socket, direct === null);
  plan.connected(socket);
  const secured = plan.tls;
  let link = reader;
  try {
    // close() from an `httplib:connect` subscriber (above) destroyed the socket: the
    // call's error is the close's, not the EOF the TLS handshake would find there
    // (API.md: close() during the TLS handshake settles with AbortError).
    if (plan.epoch.aborted) throw epochError(plan.epoch, 'connect');
    if (plan.tunnel !== null) {
      await tunnel(reader, plan.tunnel, plan.wait);
      plan.tunnelled?.(socket);
    }
    if (secured !== null) {
      // Opened in one step (connectTls), the socket is TLS already: only its handshake
      // is waited for. Otherwise TLS starts now, on the socket the tunnel went through.
      if (direct !== null) await handshake(socket as tls.TLSSocket, deadline, secured, plan.wait);
      else link = await secure(reader, secured, plan.wait);
      link.mapError = (err) => secured.mapError(err) as Error;
    }
  } catch (err) {
    // The raw reader still holds the TCP socket and the deadline: both end here.
    reader.destroy();
    throw err;
  }
  return { reader: link, direct };
}

async function connect(
  plan: Establish,
  deadline: Deadline,
  direct: DirectReads | null,
): Promise<Duplex> {
  const { params } = plan;
  // An aborted signal or a closed connection: nothing is opened (the timeout applies
  // to the wait for the connect, below).
  const early = deadline.check('connect', { signal: plan.wait.signal });
  if (early !== null) throw early;
  if (plan.createConnection === null && params.host === '') throw emptyHost();
  plan.tls?.prepare();
  if (plan.createConnection !== null) {
    const socket = await hooked(plan, plan.createConnection, deadline);
    if (socket instanceof net.Socket) socket.setNoDelay(true);
    return socket;
  }
  const socket =
    plan.tls !== null && direct !== null
      ? connectTls(params, direct, plan.tls)
      : connectTcp(params, direct);
  if (socket.connecting) {
    try {
      await deadline.until('connect', plan.wait, (settle) => connectOutcome(socket, settle));
    } catch (err) {
      // A late 'error' of the destroyed socket must not go uncaught.
      discard(socket);
      throw err;
    }
  }
  socket.setNoDelay(true);
  return socket;
}

/**
 * The `createConnection` hook's socket, connected, under the deadline: one wait for the
 * hook's promise and then for a `net.Socket` it returned still connecting, bounded by
 * the connection's timeout (a timeout of 0 leaves the hook's promise alone: the hook was
 * given it; a socket still connecting fails at once), its and the call's signal, and
 * `close()`. When that wait ends early (the connect is given up) the hook's signal
 * fires, once, with the reason: the `TimeoutError` the connect rejects with, the reason
 * of the signal that fired, or the close's; a socket the hook made is destroyed (also
 * one it returns later). When the hook or its socket fails by itself, or once it is
 * connected, the signal never fires (the connection destroys the socket itself).
 * Nothing listens to the connection's signals for this connect afterwards: the hook's
 * signal is a controller of its own, not joined to any other.
 */
async function hooked(
  plan: Establish,
  createConnection: CreateConnection,
  deadline: Deadline,
): Promise<Duplex> {
  const { params } = plan;
  const giveUp = new AbortController();
  const timeoutMs = params.timeout === 0 ? null : plan.wait.timeoutMs;
  const wait: WaitOptions = { timeoutMs, seconds: plan.wait.seconds, signal: plan.wait.signal };
  let made: Duplex | null = null;
  // The hook, or the socket it returned, failed by itself: nothing to give up.
  let failed = false;
  try {
    await deadline.until('connect', wait, (settle) => {
      let live = true;
      let unsubscribe: (() => void) | null = null;
      const fail = (err: Error): void => {
        failed = true;
        settle(err);
      };
      Promise.resolve()
        // Given up before the hook was even called (close() in the same tick): not called.
        .then(() => (live ? createConnection({ ...params, signal: giveUp.signal }) : null))
        .then(
          (socket: unknown) => {
            if (!live) {
              if (isStream(socket)) discard(socket);
            } else if (!isStream(socket)) {
              fail(
                new TypeError(
                  `createConnection must return a socket (a stream.Duplex), got ${typeName(socket)}`,
                ),
              );
            } else {
              made = socket;
              guardHookStream(socket);
              holdEarlyErrors(socket);
              if (!(socket instanceof net.Socket && socket.connecting)) settle(null);
              else if (params.timeout === 0) {
                // Python's timeout 0: a non-blocking socket, whose connect cannot wait.
                settle(deadline.check('connect', { timeoutMs: 0 }));
              } else {
                unsubscribe = connectOutcome(socket, (err) =>
                  err === null ? settle(null) : fail(err),
                );
              }
            }
          },
          (err: unknown) => {
            if (live) fail(socketError(err, 'createConnection'));
          },
        );
      return () => {
        live = false;
        unsubscribe?.();
      };
    });
  } catch (err) {
    if (made !== null) discard(made);
    if (!failed) giveUp.abort(givenUpBecause(plan, err));
    throw err;
  }
  return made as unknown as Duplex;
}

/**
 * Why a connect was given up, for the hook's signal: the reason of the signal that
 * fired, or the close's, or (a timeout) the connect's own error.
 */
function givenUpBecause(plan: Establish, err: unknown): unknown {
  const signal = plan.wait.signal;
  if (signal?.aborted) return signal.reason;
  if (plan.epoch.aborted) return plan.epoch.reason;
  return err;
}

/**
 * A hook's stream whose `write`, `_write` or `_writev` throws errors with what it threw,
 * as if it had passed it to the write's callback; a `destroy` that throws has it dropped.
 * Node's Writable does not catch a throwing `_write`, so it would escape as an uncaught
 * exception whenever the write is not made inside one of our calls: always under TLS
 * (Node's TLS layer writes to a stream that is not a `net.Socket` from its C++ side,
 * which reports a throw as uncaught) and when the stream flushes writes it buffered,
 * from its own callback. The stream's 'error' then fails the call, as a socket's does.
 * `destroy` is called as the connection ends (close(), a failure), some of it from an
 * abort listener: what it throws has no call left to fail, and the stream was told to
 * end. Wrapped on the instance, only the methods it has.
 */
function guardHookStream(socket: Duplex): void {
  const stream = socket as unknown as Record<string, unknown>;
  for (const name of ['write', '_write', '_writev', 'destroy']) {
    const original = stream[name];
    if (typeof original !== 'function') continue;
    const guarded = function (this: Duplex, ...args: unknown[]): unknown {
      try {
        return original.apply(this, args);
      } catch (err) {
        if (name === 'destroy') return this;
        this.destroy(socketError(err));
        return false;
      }
    };
    Object.defineProperty(stream, name, { value: guarded, writable: true, configurable: true });
  }
}

/** The first 'error' of a hook's socket while nothing else listens, and its listener. */
const earlyErrors = new WeakMap<Duplex, { error: Error | null; listener: (v: unknown) => void }>();

/**
 * Keep the first 'error' a hook's socket emits from now until `releaseEarlyErrors`:
 * between the connect wait's end and the reader's `attach` (several promise hops) the
 * hook's own code may fail the socket (in its 'connect' listener, or a tick later), and
 * a second 'error' may follow the one that failed the connect. Neither may go uncaught.
 */
function holdEarlyErrors(socket: Duplex): void {
  const held = {
    error: null as Error | null,
    listener: (value: unknown): void => {
      held.error ??= socketError(value);
    },
  };
  earlyErrors.set(socket, held);
  socket.on('error', held.listener);
}

/** Stop holding `socket`'s errors (the reader listens next): the one held, if any. */
function releaseEarlyErrors(socket: Duplex): Error | null {
  const held = earlyErrors.get(socket);
  if (held === undefined) return null;
  earlyErrors.delete(socket);
  socket.off('error', held.listener);
  return held.error;
}

/** Destroy a socket given up on (a late 'error' of it must not go uncaught). */
function discard(socket: Duplex): void {
  socket.on('error', ignore);
  socket.destroy();
}

/** Whether `value` can be read, written and destroyed as a socket (what a hook must return). */
function isStream(value: unknown): value is Duplex {
  const s = value as Partial<Record<'on' | 'once' | 'write' | 'destroy', unknown>> | null;
  return (
    typeof s === 'object' &&
    s !== null &&
    typeof s.on === 'function' &&
    typeof s.once === 'function' &&
    typeof s.write === 'function' &&
    typeof s.destroy === 'function'
  );
}

/**
 * Python's error for an empty host (`getaddrinfo('')`: "[Errno -2] Name or service not
 * known"), in Node's form for a name that does not resolve. Node itself would connect
 * to localhost instead.
 */
function emptyHost(): Error {
  return Object.assign(new Error("getaddrinfo ENOTFOUND '' (the host name is empty)"), {
    code: 'ENOTFOUND',
    errno: -3008,
    syscall: 'getaddrinfo',
    hostname: '',
  });
}

function connectTcp(params: ConnectParams, direct: DirectReads | null): net.Socket {
  return net.connect(tcpOptions(params, direct));
}

/** TCP and TLS in one step: the handshake starts once connected (`handshake` waits). */
function connectTls(params: ConnectParams, direct: DirectReads, plan: TlsPlan): tls.TLSSocket {
  const secured = nodeTls().connect({ ...plan.options(), ...tcpOptions(params, direct) });
  // TLS starts in the socket's own 'connect' listener, before `connect()` stops waiting;
  // a start that fails there (OpenSSL finds no usable protocol) destroys the socket and
  // emits its 'error' on the next tick, after that wait let go of it and before
  // `handshake()` listens: it must not be uncaught. `handshake()` finds it (`errored`).
  secured.on('error', ignore);
  plan.watch(secured);
  return secured;
}

function tcpOptions(params: ConnectParams, direct: DirectReads | null): net.TcpNetConnectOpts {
  const options: net.TcpNetConnectOpts = {
    host: params.host,
    port: params.port,
    // Half-open: a server's FIN must not end our side before we have read everything.
    allowHalfOpen: true,
  };
  const source = params.source_address;
  if (source !== null) {
    if (source[0] !== '') options.localAddress = source[0];
    if (source[1] !== 0) options.localPort = source[1];
  }
  if (direct !== null) options.onread = direct.onread;
  return options;
}

/** Python 2.7's `_tunnel()`: CONNECT through the proxy and read its answer. */
async function tunnel(reader: ByteReader, plan: TunnelPlan, wait: WaitOptions): Promise<void> {
  if (plan.debug !== null) {
    // Python 2.7 sends the CONNECT line, each header and the blank line separately, and
    // prints each of them; here they go out in one write.
    for (const line of plan.head.split(/(?<=\r\n)/)) plan.debug(`send: ${pyrepr(line)}\n`);
  }
  reader.expect();
  await reader.write(plan.head, 'latin1', wait);
  // Python 2.7 reads the proxy's answer with a response of debuglevel 0: no reply lines.
  const parser = new ResponseParser({ method: 'CONNECT', strict: plan.strict, anyVersion: true });
  await new Promise<void>((resolve, reject) => {
    reader.pump(parser, 'tunnel', wait, (err) => (err === null ? resolve() : reject(err)));
  });
  reader.expecting = false;
  const reply = parser.head;
  if (reply === null || reply.version === 9) throw new TunnelError(null);
  if (reply.status !== 200) {
    throw new TunnelError(reply.status, reply.reason, new HTTPMessage(reply.lines));
  }
}

/** Start TLS on the connected (and tunnelled) socket; the reader moves to the TLS socket. */
async function secure(raw: ByteReader, plan: TlsPlan, wait: WaitOptions): Promise<ByteReader> {
  const socket = raw.socket as net.Socket;
  // Bytes that came after the proxy's answer belong to the TLS layer.
  const leftover = raw.detach();
  for (let i = leftover.length - 1; i >= 0; i--) socket.unshift(leftover[i] as Buffer);
  const secured = nodeTls().connect({ ...plan.options(), socket });
  plan.watch(secured);
  await handshake(secured, raw.deadline, plan, wait);
  return new ByteReader(secured, raw.deadline);
}

/**
 * Wait for the TLS handshake of `secured` and check the peer. On failure the TLS socket
 * is destroyed (its session forgotten) and the error is the caller's (`mapError`).
 */
async function handshake(
  secured: tls.TLSSocket,
  deadline: Deadline,
  plan: TlsPlan,
  wait: WaitOptions,
): Promise<void> {
  try {
    // Destroyed already: TLS failed to start (connectTls), or the peer left.
    if (secured.destroyed) throw secured.errored ?? eofInHandshake();
    await deadline.until('handshake', wait, (settle) => {
      const onSecure = (): void => settle(null);
      const onClose = (): void => settle(eofInHandshake());
      secured.once('secureConnect', onSecure);
      secured.once('error', settle);
      secured.once('close', onClose);
      return () => {
        secured.off('secureConnect', onSecure);
        secured.off('error', settle);
        secured.off('close', onClose);
      };
    });
    plan.verify(secured);
  } catch (err) {
    plan.failed();
    // A late error of the destroyed sockets must not go uncaught.
    secured.on('error', ignore);
    secured.destroy();
    throw plan.mapError(closedInHandshake(err) ? eofInHandshake(err) : err);
  }
}

/**
 * The peer closed the connection (FIN, no alert) before the handshake ended: OpenSSL's
 * "unexpected EOF", which Python raises as `ssl.SSLEOFError` (an `SSLError`), with Node's
 * code form so that the caller's `mapError` makes it one. Not a reset: a real RST is
 * Node's `read ECONNRESET` and stays that (Python's `ConnectionResetError`).
 */
function eofInHandshake(cause?: unknown): Error {
  const err = new Error(
    'EOF occurred in violation of protocol',
    cause === undefined ? undefined : { cause },
  ) as NodeJS.ErrnoException;
  err.code = 'ERR_SSL_UNEXPECTED_EOF_WHILE_READING';
  return err;
}

/**
 * Node's own error for a TLS socket closed before it was secure ("Client network socket
 * disconnected before secure TLS connection was established"): code ECONNRESET, but no
 * system call failed (a real reset has `syscall: 'read'`).
 */
function closedInHandshake(err: unknown): boolean {
  const e = err as NodeJS.ErrnoException | null;
  return e instanceof Error && e.code === 'ECONNRESET' && e.syscall === undefined;
}

function ignore(): void {}
