/**
 * Real peers for the integration tests, all on 127.0.0.1 with port 0:
 *
 * - `rawServer(onConnection)`: a `net` server that hands each accepted socket to the
 *   test and records every byte received per connection (for malformed replies and for
 *   asserting exactly what the client sent).
 * - `scriptedServer(replies)`: a raw server that, on each connection, waits for each
 *   complete request head and answers with the next scripted bytes (a function may do
 *   more: pause, close, reset).
 * - `httpServer(handler)`: a `node:http` server for ordinary traffic.
 *
 * Every server closes all its sockets in `close()`, so a test leaves nothing behind.
 */
import assert from 'node:assert/strict';
import * as http from 'node:http';
import * as net from 'node:net';
import { performance } from 'node:perf_hooks';
import { after, afterEach, before, beforeEach, it as nodeIt } from 'node:test';

export interface RawServer {
  readonly port: number;
  /** Bytes received, one entry per accepted connection, in order. */
  readonly received: Buffer[];
  /** Accepted sockets, in order. */
  readonly sockets: net.Socket[];
  /** Resolves when `n` connections have been accepted. */
  connections(n: number): Promise<void>;
  close(): Promise<void>;
}

export function rawServer(
  onConnection: (socket: net.Socket, index: number, server: RawServer) => void,
): Promise<RawServer> {
  const received: Buffer[] = [];
  const sockets: net.Socket[] = [];
  const waiters: Array<[number, () => void]> = [];
  const server = net.createServer({ allowHalfOpen: true });
  const api: RawServer = {
    port: 0,
    received,
    sockets,
    connections(n) {
      if (sockets.length >= n) return Promise.resolve();
      return new Promise((resolve) => waiters.push([n, resolve]));
    },
    close() {
      for (const s of sockets) s.destroy();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
  server.on('connection', (socket) => {
    const index = sockets.length;
    sockets.push(socket);
    received.push(Buffer.alloc(0));
    socket.on('error', () => {});
    // Kept in memory that doubles when full, each entry a view of what arrived so far:
    // a concat per piece made a 32 MiB upload take seconds to receive.
    let store = Buffer.alloc(0);
    let used = 0;
    socket.on('data', (d: Buffer) => {
      if (used + d.length > store.length) {
        const bigger = Buffer.allocUnsafe(Math.max(2 * store.length, used + d.length, 4096));
        store.copy(bigger, 0, 0, used);
        store = bigger;
      }
      d.copy(store, used);
      used += d.length;
      received[index] = store.subarray(0, used);
    });
    for (const w of waiters.splice(0)) {
      if (sockets.length >= w[0]) w[1]();
      else waiters.push(w);
    }
    onConnection(socket, index, api);
  });
  return new Promise((resolve) => {
    server.listen(0, '127.0.0.1', () => {
      (api as { port: number }).port = (server.address() as net.AddressInfo).port;
      resolve(api);
    });
  });
}

/** What a scripted server does for one request: bytes to write, or a function. */
export type Reply = string | Buffer | ((socket: net.Socket, request: Buffer) => void);

/**
 * On every connection, wait for a complete request head (and a body announced with
 * Content-Length) and answer it with the next reply of `replies[connectionIndex]`
 * (or of `replies` itself when it is a flat list for one connection).
 */
export function scriptedServer(replies: Reply[] | Reply[][]): Promise<RawServer> {
  const perConnection = (i: number): Reply[] =>
    Array.isArray(replies[0]) ? ((replies as Reply[][])[i] ?? []) : (replies as Reply[]);
  return rawServer((socket, index) => {
    const queue = [...perConnection(index)];
    let pending = Buffer.alloc(0);
    socket.on('data', (d: Buffer) => {
      pending = Buffer.concat([pending, d]);
      for (;;) {
        const end = pending.indexOf('\r\n\r\n');
        if (end === -1) return;
        const head = pending.subarray(0, end).toString('latin1');
        const m = /\r\ncontent-length:\s*(\d+)/i.exec(head);
        const total = end + 4 + (m ? Number(m[1]) : 0);
        if (pending.length < total) return;
        const request = pending.subarray(0, total);
        pending = pending.subarray(total);
        const reply = queue.shift();
        if (reply === undefined) return;
        if (typeof reply === 'function') reply(socket, request);
        else socket.write(typeof reply === 'string' ? Buffer.from(reply, 'latin1') : reply);
      }
    });
  });
}

export interface HttpServer {
  readonly port: number;
  readonly server: http.Server;
  /** Connections accepted so far. */
  connectionCount(): number;
  close(): Promise<void>;
}

export function httpServer(handler: http.RequestListener): Promise<HttpServer> {
  const server = http.createServer(handler);
  let count = 0;
  const sockets = new Set<net.Socket>();
  server.on('connection', (s: net.Socket) => {
    count++;
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  return new Promise((resolve) => {
    server.listen(0, '127.0.0.1', () => {
      resolve({
        port: (server.address() as net.AddressInfo).port,
        server,
        connectionCount: () => count,
        close() {
          for (const s of sockets) s.destroy();
          return new Promise((r) => server.close(() => r()));
        },
      });
    });
  });
}

/** A TCP port on 127.0.0.1 that nothing listens on (a server is opened and closed). */
export async function closedPort(): Promise<number> {
  const srv = await rawServer(() => {});
  const port = srv.port;
  await srv.close();
  return port;
}

/** Read a request body on a node:http server. */
export async function readBody(req: http.IncomingMessage): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const chunk of req) parts.push(chunk as Buffer);
  return Buffer.concat(parts);
}

/**
 * Write `data` one byte per TCP write, yielding to the event loop (`setImmediate`)
 * between writes, so that the client sees the bytes in many small pieces; then end the
 * socket if `end` is true. Stops quietly if the socket goes away.
 */
export async function trickle(
  socket: net.Socket,
  data: string | Buffer,
  end = false,
): Promise<void> {
  const bytes = typeof data === 'string' ? Buffer.from(data, 'latin1') : data;
  for (let i = 0; i < bytes.length; i++) {
    if (socket.destroyed || socket.writableEnded) return;
    socket.write(bytes.subarray(i, i + 1));
    await new Promise<void>((resolve) => setImmediate(resolve));
  }
  if (end && !socket.destroyed) socket.end();
}

/**
 * Resolves once the peer of a server-side socket has closed or reset its end (the
 * socket saw EOF, an error or its own close), at once if that already happened.
 */
export function peerClosed(socket: net.Socket): Promise<void> {
  if (socket.readableEnded || socket.destroyed) return Promise.resolve();
  return new Promise((resolve) => {
    const done = (): void => {
      socket.off('end', done);
      socket.off('error', done);
      socket.off('close', done);
      resolve();
    };
    socket.on('end', done);
    socket.on('error', done);
    socket.on('close', done);
    // 'end' is only emitted while the socket is read: make sure it flows.
    socket.resume();
  });
}

/** The kinds of active resource that keep the process alive and that tests may leak. */
export const LEAK_KINDS: readonly string[] = ['Timeout', 'TCPSocketWrap', 'TCPServerWrap'];

/**
 * How many timers, TCP sockets and TCP servers keep the process alive right now
 * (`process.getActiveResourcesInfo()` lists only ref'ed handles and timers).
 */
export function liveResources(): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const kind of LEAK_KINDS) counts[kind] = 0;
  for (const kind of process.getActiveResourcesInfo()) {
    if (kind in counts) counts[kind] = (counts[kind] as number) + 1;
  }
  return counts;
}

/**
 * Until closed handles have run their close callbacks. A `setImmediate` callback runs in
 * the check phase, which comes before the close phase of the same loop iteration: the
 * second one runs after that close phase.
 */
export async function nextTurn(): Promise<void> {
  await new Promise((resolve) => setImmediate(resolve));
  await new Promise((resolve) => setImmediate(resolve));
}

/**
 * A listener that completes no more TCP handshakes, so that a connect to it stays
 * pending until the client gives up: a deterministic connect timeout on loopback.
 *
 * How: a child Node process listens with a backlog of 1 and then blocks its event loop
 * (`Atomics.wait`), so it never calls accept(). Linux completes handshakes into the
 * accept queue until it is full (backlog + 1 connections) and then drops every further
 * SYN (with `net.ipv4.tcp_abort_on_overflow` = 0, the default), so the client's
 * connect() neither succeeds nor fails: it retransmits its SYN and waits. The filler
 * connections are opened here until one of them stays pending; every connect after
 * that pends too. `close()` destroys the fillers and kills the child.
 */
export interface StalledListener {
  readonly port: number;
  close(): Promise<void>;
}

export async function stalledListener(): Promise<StalledListener> {
  const { spawn } = await import('node:child_process');
  const script = `
    const net = require('node:net');
    const fs = require('node:fs');
    const server = net.createServer();
    server.listen({ port: 0, host: '127.0.0.1', backlog: 1 }, () => {
      fs.writeSync(1, server.address().port + '\\n');
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 120000);
      process.exit(0);
    });`;
  const child = spawn(process.execPath, ['-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const port = await new Promise<number>((resolve, reject) => {
    let text = '';
    child.stdout.on('data', (d: Buffer) => {
      text += d.toString('latin1');
      if (text.includes('\n')) resolve(Number(text.trim()));
    });
    child.once('exit', (code) => reject(new Error(`stalled listener exited early (${code})`)));
  });
  const fillers: net.Socket[] = [];
  const close = async (): Promise<void> => {
    for (const s of fillers) s.destroy();
    child.stdout.destroy();
    child.kill('SIGKILL');
    await exited;
  };
  for (let i = 0; i < 32; i++) {
    const socket = net.connect(port, '127.0.0.1');
    socket.on('error', () => {});
    fillers.push(socket);
    const connected = await new Promise<boolean>((resolve) => {
      // After a stall of the event loop, timers run before the poll phase that delivers a
      // handshake completed meanwhile: look again once that phase ran (the check phase
      // comes after it), lest a filler that did connect be taken for a stuck one.
      const timer = setTimeout(
        () => setImmediate(() => resolve(!socket.connecting && !socket.destroyed)),
        300,
      );
      socket.once('connect', () => {
        clearTimeout(timer);
        resolve(true);
      });
    });
    if (!connected) return { port, close };
  }
  await close();
  throw new Error('stalledListener: every connect completed; the accept queue never filled');
}

/**
 * Records the timers that code under `from` (default: the package's `src/`) creates from
 * now on, ref'ed or not (`liveResources()` sees only ref'ed ones), so that a test can
 * assert that none of them is still pending. Timers of peers (node:http caches its Date
 * header for a second with one) are not the library's and are not counted.
 */
export async function trackTimers(
  from = new URL('../../src/', import.meta.url).pathname,
): Promise<{ pending(): string[]; stop(): void }> {
  const { createHook } = await import('node:async_hooks');
  const timers: Array<[{ _destroyed?: boolean }, string]> = [];
  const hook = createHook({
    init(_id, type, _trigger, resource) {
      if (type !== 'Timeout') return;
      const limit = Error.stackTraceLimit;
      Error.stackTraceLimit = 30;
      const stack = new Error('timer created').stack ?? '';
      Error.stackTraceLimit = limit;
      if (stack.includes(from)) timers.push([resource as { _destroyed?: boolean }, stack]);
    },
  });
  hook.enable();
  return {
    // Node marks a Timeout `_destroyed` once it fired (and was not refreshed) or was
    // cleared. The creation stacks of those still pending are returned.
    pending: () => timers.filter(([t]) => t._destroyed !== true).map(([, stack]) => stack),
    stop: () => hook.disable(),
  };
}

/** Cleanups of scenarios still running: see `timeLimited` and `guarded`. */
const running = new Set<() => Promise<void>>();

/**
 * What a test file that may hang needs, for tests of `timeout` ms each:
 *
 * - `it(name, fn, ms?)`: node:test's `it` with its own generous time limit, so that a
 *   hang fails that test, not the run;
 * - an `after` hook that runs the cleanups of scenarios still running (`guarded`, or
 *   added to `running` by hand). A test that times out (a hang is how some bugs show)
 *   never reaches its own cleanup; this closes its servers and connections anyway, so
 *   the file's process can exit and report the failure.
 *
 * Call it once, at the top level of a test file (it registers that `after` hook).
 */
export function timeLimited(timeout: number): {
  it(name: string, fn: () => Promise<void> | void, ms?: number): void;
  running: Set<() => Promise<void>>;
} {
  after(async () => {
    for (const cleanup of running) await cleanup();
  });
  return {
    it(name, fn, ms = timeout) {
      void nodeIt(name, { timeout: ms }, fn);
    },
    running,
  };
}

/**
 * Run `fn`, then `cleanup` (which closes what `fn` used); if `fn` hangs, the `after` hook
 * of `timeLimited` runs `cleanup` instead.
 */
export async function guarded<T>(
  cleanup: () => Promise<void> | void,
  fn: () => Promise<T>,
): Promise<T> {
  const once = async (): Promise<void> => {
    running.delete(once);
    await cleanup();
  };
  running.add(once);
  try {
    return await fn();
  } finally {
    await once();
  }
}

/** How long `fn` took, what it returned or threw, and whether it returned. */
export async function elapsed<T>(fn: () => Promise<T>): Promise<[number, T | unknown, boolean]> {
  const start = performance.now();
  try {
    const value = await fn();
    return [performance.now() - start, value, true];
  } catch (err) {
    return [performance.now() - start, err, false];
  }
}

/**
 * For a whole test file: every `unhandledRejection` and `uncaughtException` is recorded
 * (the process hooks are added by a `before` hook and removed by an `after` hook, so
 * nothing escapes unnoticed and nothing crashes the file); `take()` returns what was
 * recorded since the last call, as text. Call it once, at the top level of the file.
 */
export function recordEscapes(): { take(): string[] } {
  const escaped: string[] = [];
  const onException = (err: unknown): void => {
    escaped.push(`uncaughtException: ${String(err)}`);
  };
  const onRejection = (reason: unknown): void => {
    escaped.push(`unhandledRejection: ${String(reason)}`);
  };
  before(() => {
    process.on('uncaughtException', onException);
    process.on('unhandledRejection', onRejection);
  });
  after(() => {
    process.off('uncaughtException', onException);
    process.off('unhandledRejection', onRejection);
  });
  return { take: () => escaped.splice(0) };
}

/**
 * For each test of the file (or of the `describe` it is called in): an
 * `unhandledRejection` or `uncaughtException` while the test runs fails that test, in an
 * `afterEach` hook (those that come from an earlier test are not blamed on it).
 */
export function failOnEscapes(): void {
  const escapes = recordEscapes();
  beforeEach(() => {
    escapes.take();
  });
  afterEach(() => {
    assert.deepEqual(escapes.take(), [], 'an unhandled rejection or uncaught exception');
  });
}
