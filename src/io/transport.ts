/**
 * Opening the TCP connection: Python's `socket.create_connection((host, port), timeout,
 * source_address)`, with `TCP_NODELAY` (Python 3 sets it too), and the per-connection
 * `createConnection` hook that tests and unusual transports plug into.
 *
 * The connect timeout and the abort signal share the reader's rules (deadline.ts): the
 * socket is destroyed and the promise rejects with `TimeoutError` / `AbortError`. A timer
 * exists only when a timeout is set. Node's system errors (`ECONNREFUSED`, …) pass
 * through unchanged, as Python's `socket.error` does.
 */
import * as net from 'node:net';
import type { Duplex } from 'node:stream';
import { AbortError, TimeoutError } from '../protocol/errors.ts';
import { timeoutMs } from '../protocol/pytext.ts';
import type { OnreadOptions } from './byte-reader.ts';

/** What a `createConnection` function (an `HTTPConnection` option) is given. */
export interface ConnectParams {
  /** The host to connect to: the server's, or the proxy's when tunnelling. */
  readonly host: string;
  /** The port to connect to. */
  readonly port: number;
  /** Seconds, or null for no timeout (Python's `timeout`). */
  readonly timeout: number | null;
  /** Python's `source_address`: `[host, port]` to bind the local end to. */
  readonly source_address: readonly [string, number] | null;
  /** Fires when the connect must be given up (the caller's or the connection's signal). */
  readonly signal: AbortSignal | null;
}

/**
 * A replacement for the TCP connect (Python tests replace `_create_connection` the same
 * way). It returns a connected (or connecting) socket; a `net.Socket` that is still
 * connecting is awaited.
 */
export type CreateConnection = (params: ConnectParams) => Duplex | Promise<Duplex>;

/** Connect to `params.host:params.port`, or call `createConnection` instead. */
export async function openSocket(
  params: ConnectParams,
  createConnection: CreateConnection | null,
  onread: OnreadOptions | null = null,
): Promise<Duplex> {
  if (params.signal?.aborted) {
    throw new AbortError('The operation was aborted', { cause: params.signal.reason });
  }
  if (createConnection === null && params.host === '') throw emptyHost();
  const socket =
    createConnection === null ? connectTcp(params, onread) : await createConnection(params);
  if (socket instanceof net.Socket) {
    if (socket.connecting) await whenConnected(socket, params);
    socket.setNoDelay(true);
  }
  return socket;
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

function connectTcp(params: ConnectParams, onread: OnreadOptions | null): net.Socket {
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
  // Reads into the reader's own buffer (or the caller's memory) instead of a fresh
  // Buffer per read.
  if (onread !== null) options.onread = onread;
  return net.connect(options);
}

function whenConnected(socket: net.Socket, params: ConnectParams): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    let timer: NodeJS.Timeout | null = null;
    const signal = params.signal;
    const done = (err: Error | null): void => {
      if (timer !== null) clearTimeout(timer);
      socket.removeListener('connect', onConnect);
      socket.removeListener('error', onError);
      signal?.removeEventListener('abort', onAbort);
      if (err === null) {
        resolve();
      } else {
        // Keep a listener: a late 'error' of a destroyed socket must not go uncaught.
        socket.on('error', ignore);
        socket.destroy();
        reject(err);
      }
    };
    const onConnect = (): void => done(null);
    const onError = (err: Error): void => done(err);
    const onAbort = (): void =>
      done(new AbortError('The operation was aborted', { cause: signal?.reason }));
    socket.once('connect', onConnect);
    socket.once('error', onError);
    signal?.addEventListener('abort', onAbort, { once: true });
    const seconds = params.timeout;
    const ms = timeoutMs(seconds);
    if (seconds === null || ms === null) return; // no timeout, or Infinity
    const timedOut = (): void =>
      done(new TimeoutError({ phase: 'connect', host: params.host, port: params.port, seconds }));
    if (seconds === 0) {
      // Python's timeout 0 is a non-blocking socket, whose connect() fails at once
      // (EINPROGRESS); a 0 ms timer would instead race the loopback handshake.
      timedOut();
      return;
    }
    timer = setTimeout(timedOut, ms);
  });
}

function ignore(): void {}
