/**
 * Timeouts and cancellation over real sockets on 127.0.0.1 (issue 3, io/deadline): a
 * connection's `timeout` bounds each blocking wait (connect, response head, body bytes,
 * drain) and rejects with `TimeoutError`; `setdefaulttimeout` gives the timeout of
 * connections built without one; an `AbortSignal` on the constructor, `request`,
 * `getresponse` or `read` rejects with `AbortError`. Either way the socket is destroyed,
 * and no timer or socket is left behind (ref'ed or not).
 *
 * Time bounds are loose on purpose (a loaded 2-core machine): a timeout must not fire
 * much before its time (`LOW_SLACK`), and must fire within `HIGH_SLACK` after it.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import * as net from 'node:net';
import { afterEach, beforeEach, describe, it } from 'node:test';
import {
  AbortError,
  type ConnectParams,
  getdefaulttimeout,
  HTTPConnection,
  HTTPException,
  HTTPSConnection,
  IncompleteRead,
  setdefaulttimeout,
  TimeoutError,
} from '../../src/index.ts';
import {
  elapsed,
  failOnEscapes,
  liveResources,
  nextTurn,
  type RawServer,
  rawServer,
  scriptedServer,
  stalledListener,
  trackTimers,
} from './servers.ts';

/** Milliseconds a timeout may fire before its nominal time (loop-time caching). */
const LOW_SLACK = 50;
/** Milliseconds a timeout may fire after its nominal time on a loaded machine. */
const HIGH_SLACK = 2000;

const HEAD_100 = 'HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n';

/** A server that accepts and never answers (it reads, so the request is not blocked). */
function silentServer(): Promise<RawServer> {
  return rawServer(() => {});
}

/** A server that answers each request with a head and 10 of 100 body bytes, then stalls. */
function stallingServer(): Promise<RawServer> {
  return scriptedServer([`${HEAD_100}0123456789`]);
}

/** Resolves when the server-side socket has seen the client close (FIN or RST). */
function clientGone(socket: net.Socket): Promise<void> {
  if (socket.readableEnded || socket.destroyed) return Promise.resolve();
  // The end is only seen by reading up to it.
  socket.resume();
  return new Promise((resolve) => {
    socket.once('end', resolve);
    socket.once('close', resolve);
    socket.once('error', () => resolve());
  });
}

function assertTimeout(err: unknown): void {
  assert.ok(err instanceof TimeoutError, `expected TimeoutError, got ${String(err)}`);
  assert.equal(err.name, 'TimeoutError');
  assert.equal(err.code, 'ETIMEDOUT');
  assert.ok(!(err instanceof HTTPException), 'TimeoutError is not an HTTPException');
}

function assertAbort(err: unknown, reason: unknown): void {
  assert.ok(err instanceof AbortError, `expected AbortError, got ${String(err)}`);
  assert.equal(err.name, 'AbortError');
  assert.equal(err.cause, reason);
}

function assertWithin(ms: number, seconds: number): void {
  const nominal = seconds * 1000;
  assert.ok(ms >= nominal - LOW_SLACK, `fired after ${ms.toFixed(0)} ms, before ${nominal} ms`);
  assert.ok(ms < nominal + HIGH_SLACK, `fired after ${ms.toFixed(0)} ms, nominal ${nominal} ms`);
}

/** Rejects if `promise` has not settled after `ms`: for "at once" and "never" checks. */
function settlesWithin<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const limit = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`did not settle within ${ms} ms`)), ms);
  });
  return Promise.race([promise, limit]).finally(() => clearTimeout(timer));
}

/** What a `createConnection` hook of {@link recordingHook} was given, and saw of it. */
interface HookCall {
  readonly signal: AbortSignal;
  /** How many times its signal fired ('abort' events). */
  fired: number;
  /** Resolves with the signal's reason when it fires. */
  readonly aborted: Promise<unknown>;
  /** The socket the hook made, if any. */
  socket: net.Socket | null;
}

/**
 * A `createConnection` hook whose connect never completes by itself, recording each
 * connect's signal:
 * - `pending`: its own work (say, a proxy dial) goes on until the signal fires, and the
 *   promise it returned rejects then;
 * - `connecting`: it returns a net.Socket still connecting, whose DNS lookup (the hook's
 *   own `lookup`) never answers;
 * - `late`: its promise resolves once the signal fired, with a socket connected to
 *   `port` (a hook that finishes what it started anyway).
 */
function recordingHook(
  kind: 'pending' | 'connecting' | 'late',
  port = 0,
): {
  hook: (p: ConnectParams) => net.Socket | Promise<net.Socket>;
  calls: HookCall[];
  called: Promise<HookCall>;
} {
  const calls: HookCall[] = [];
  let first: (call: HookCall) => void = () => {};
  const called = new Promise<HookCall>((resolve) => {
    first = resolve;
  });
  const hook = (p: ConnectParams): net.Socket | Promise<net.Socket> => {
    const signal = p.signal;
    assert.ok(signal instanceof AbortSignal, 'the hook is given a signal');
    const call: HookCall = {
      signal,
      fired: 0,
      socket: null,
      aborted: new Promise((resolve) => {
        signal.addEventListener('abort', () => {
          call.fired++;
          resolve(signal.reason);
        });
      }),
    };
    calls.push(call);
    first(call);
    if (kind === 'connecting') {
      const lookup = (): void => {};
      call.socket = net.connect({ host: 'blackhole.invalid', port: 80, lookup });
      return call.socket;
    }
    return new Promise((resolve, reject) => {
      signal.addEventListener('abort', () => {
        if (kind === 'pending') reject(signal.reason);
        else {
          call.socket = net.connect(port, '127.0.0.1');
          resolve(call.socket);
        }
      });
    });
  };
  return { hook, calls, called };
}

/** Resolves once `socket` is destroyed and closed. */
async function destroyed(socket: net.Socket | null): Promise<void> {
  assert.ok(socket !== null, 'the hook made a socket');
  if (!socket.closed) await once(socket, 'close');
  assert.equal(socket.destroyed, true);
}

describe('timeouts and cancellation', () => {
  let before: Record<string, number>;
  let timers: Awaited<ReturnType<typeof trackTimers>>;
  const cleanups: Array<() => Promise<void> | void> = [];

  beforeEach(async () => {
    before = liveResources();
    timers = await trackTimers();
  });

  afterEach(async () => {
    for (const fn of cleanups.splice(0).reverse()) await fn();
    await nextTurn();
    timers.stop();
    setdefaulttimeout(null);
    assert.deepEqual(liveResources(), before, 'a timer, socket or server was left behind');
    assert.deepEqual(timers.pending(), [], "a timer (ref'ed or not) is still pending");
  });

  async function server(make: () => Promise<RawServer>): Promise<RawServer> {
    const s = await make();
    cleanups.push(() => s.close());
    return s;
  }

  function connection(port: number, options?: ConstructorParameters<typeof HTTPConnection>[2]) {
    const conn = new HTTPConnection('127.0.0.1', port, options);
    cleanups.push(() => conn.close());
    return conn;
  }

  describe('timeout', () => {
    it('a server that never answers: getresponse() rejects with TimeoutError', async () => {
      const srv = await server(silentServer);
      const conn = connection(srv.port, { timeout: 0.5 });
      await conn.request('GET', '/');
      const sock = conn.sock as net.Socket;
      const [ms, err, ok] = await elapsed(() => conn.getresponse());
      assert.equal(ok, false);
      assertTimeout(err);
      assertWithin(ms, 0.5);
      assert.equal(sock.destroyed, true, 'the socket is destroyed');
      assert.equal(conn.sock, null);
      await clientGone(srv.sockets[0] as net.Socket);
    });

    it('the timeout bounds each wait, not the whole response', async () => {
      // Six pieces 200 ms apart: 1.2 s in all, every gap well under the 1 s timeout.
      const srv = await server(() =>
        rawServer((socket) => {
          const pieces = ['HTTP/1.1 200 OK\r\n', 'Content-Length: 4\r\n', '\r\n', 'a', 'b', 'cd'];
          socket.once('data', () => {
            const timer = setInterval(() => {
              const piece = pieces.shift();
              if (piece === undefined || socket.destroyed) clearInterval(timer);
              else socket.write(piece);
            }, 200);
            socket.once('close', () => clearInterval(timer));
          });
        }),
      );
      const conn = connection(srv.port, { timeout: 1 });
      const [ms, body] = await elapsed(async () => {
        await conn.request('GET', '/');
        const r = await conn.getresponse();
        return r.read();
      });
      assert.deepEqual(body, Buffer.from('abcd'));
      assert.ok(ms >= 1000, `took ${ms.toFixed(0)} ms`);
    });

    it('timeout set to null after a timed request: a later slow answer is waited for', async () => {
      // The first answer at once, the second 1.3 s after its request.
      const srv = await server(() =>
        rawServer((socket) => {
          let requests = 0;
          socket.on('data', () => {
            const ok = 'HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok';
            if (++requests === 1) socket.write(ok);
            else setTimeout(() => socket.write(ok), 1300);
          });
        }),
      );
      const conn = connection(srv.port, { timeout: 1 });
      await conn.request('GET', '/fast');
      assert.equal((await (await conn.getresponse()).read()).toString(), 'ok');
      conn.timeout = null;
      const [ms, body] = await elapsed(async () => {
        await conn.request('GET', '/slow');
        return (await conn.getresponse()).read();
      });
      assert.deepEqual(body, Buffer.from('ok'));
      assert.ok(ms >= 1200, `took ${ms.toFixed(0)} ms`);
    });

    it('a server that stalls mid-body: read() and read(amt) reject with TimeoutError', async () => {
      const srv = await server(stallingServer);
      for (const amt of [undefined, 50]) {
        const conn = connection(srv.port, { timeout: 0.5 });
        await conn.request('GET', '/');
        const r = await conn.getresponse();
        assert.equal(r.status, 200);
        assert.deepEqual(await r.read(4), Buffer.from('0123'));
        const sock = conn.sock as net.Socket;
        const [ms, err, ok] = await elapsed(() => r.read(amt));
        assert.equal(ok, false);
        assertTimeout(err);
        assertWithin(ms, 0.5);
        assert.equal(sock.destroyed, true);
        assert.equal(r.isclosed(), true);
        assert.equal(conn.sock, null);
      }
    });

    describe('a body cut short by a failed read stays cut short: no later read passes for its end', () => {
      failOnEscapes();

      /** Every read method once more, after the failure; what each gave. */
      async function laterReads(r: Awaited<ReturnType<HTTPConnection['getresponse']>>) {
        const calls: Array<() => Promise<unknown>> = [
          () => r.read(),
          () => r.read(5),
          () => r.readinto(new Uint8Array(8)),
          () => r.read1(),
          () => r.readline(),
          () => r.peek(),
          () => r.text(),
          async () => {
            for await (const chunk of r) return chunk;
            return 'end';
          },
        ];
        const out: unknown[] = [];
        for (const call of calls) out.push(await call().catch((err: unknown) => err));
        return out;
      }

      function assertLost(
        results: unknown[],
        expected: number,
        cause: (err: unknown) => void,
      ): void {
        for (const err of results) {
          assert.ok(err instanceof IncompleteRead, `expected IncompleteRead, got ${String(err)}`);
          assert.equal(err.partial.length, 0);
          assert.equal(err.expected, expected);
          cause(err.cause);
        }
      }

      it('after a TimeoutError, every later read rejects with IncompleteRead (cause: the timeout)', async () => {
        const srv = await server(stallingServer);
        const conn = connection(srv.port, { timeout: 0.3 });
        await conn.request('GET', '/');
        const r = await conn.getresponse();
        assert.deepEqual(await r.read(4), Buffer.from('0123'));
        const [, err, ok] = await elapsed(() => r.read());
        assert.equal(ok, false);
        assertTimeout(err);
        assert.equal(r.length, 96);
        assertLost(await laterReads(r), 96, (cause) => assert.equal(cause, err));
        // The caller's close() ends it: b'' then, as Python's closed response.
        r.close();
        assert.deepEqual(await r.read(), Buffer.alloc(0));
      });

      it("after a read's own signal fired, likewise (cause: the AbortError)", async () => {
        const srv = await server(stallingServer);
        const conn = connection(srv.port);
        await conn.request('GET', '/');
        const r = await conn.getresponse();
        assert.deepEqual(await r.read(4), Buffer.from('0123'));
        const [, err, ok] = await elapsed(() => r.read(50, { signal: AbortSignal.timeout(100) }));
        assert.equal(ok, false);
        assert.ok(err instanceof AbortError);
        assertLost(await laterReads(r), 96, (cause) => assert.equal(cause, err));
      });

      it('after a reset mid-body, likewise (cause: ECONNRESET)', async () => {
        const srv = await server(() =>
          rawServer((socket) => {
            socket.once('data', () => {
              socket.write(`${HEAD_100}0123456789`);
              setTimeout(() => socket.resetAndDestroy(), 100);
            });
          }),
        );
        const conn = connection(srv.port);
        await conn.request('GET', '/');
        const r = await conn.getresponse();
        assert.deepEqual(await r.read(4), Buffer.from('0123'));
        const [, err, ok] = await elapsed(() => r.read());
        assert.equal(ok, false);
        assert.equal((err as NodeJS.ErrnoException).code, 'ECONNRESET');
        assertLost(await laterReads(r), 96, (cause) => assert.equal(cause, err));
      });

      it("after the caller's close() during a read, later reads give b'' (Python's closed response)", async () => {
        const srv = await server(stallingServer);
        for (const how of ['response', 'connection'] as const) {
          const conn = connection(srv.port);
          await conn.request('GET', '/');
          const r = await conn.getresponse();
          const pending = r.read();
          setTimeout(() => (how === 'response' ? r.close() : conn.close()), 50);
          const [, err, ok] = await elapsed(() => pending);
          assert.equal(ok, false);
          assert.ok(err instanceof AbortError, how);
          for (const got of await laterReads(r)) {
            assert.ok(!(got instanceof Error), `${how}: ${String(got)}`);
          }
          assert.deepEqual(await r.read(), Buffer.alloc(0));
        }
      });

      it("after the server's end cut the body (short of its Content-Length, or inside a chunk), every later read rejects with IncompleteRead again, as the first (Python 2.7 and 3 for a chunk)", async () => {
        for (const [reply, partial, expected] of [
          [`${HEAD_100}0123456789`, '789', 90],
          ['HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n8\r\ndefg', '', 4],
        ] as const) {
          const cut = await server(() => scriptedServer([(socket) => socket.end(reply)]));
          const conn = connection(cut.port);
          await conn.request('GET', '/');
          const r = await conn.getresponse();
          assert.equal((await r.read(7)).length, 7);
          const [, err, ok] = await elapsed(() => r.read(7));
          assert.equal(ok, false);
          assert.ok(err instanceof IncompleteRead, String(err));
          assert.deepEqual([err.partial.toString(), err.expected], [partial, expected]);
          assertLost(await laterReads(r), expected, (cause) => assert.equal(cause, undefined));
          // The caller's close() ends it: b'' then, as Python's closed response.
          r.close();
          assert.deepEqual(await r.read(), Buffer.alloc(0));
        }
      });
    });

    it('timeout 0: every wait fails at once, the connect included', async () => {
      const srv = await server(() =>
        scriptedServer(['HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n']),
      );
      // Python: a non-blocking socket, whose connect() fails with EINPROGRESS.
      const conn = connection(srv.port, { timeout: 0 });
      assert.equal(conn.timeout, 0);
      for (let i = 0; i < 5; i++) {
        const [ms, err, ok] = await elapsed(() => conn.request('GET', '/'));
        assert.equal(ok, false);
        assertTimeout(err);
        assert.ok(ms < 1000, `took ${ms.toFixed(0)} ms`);
        conn.close();
      }
      // Over a socket that is already connected, the wait for the response fails at
      // once too: nothing can have arrived when getresponse() starts.
      const connected = connection(srv.port, {
        timeout: 0,
        createConnection: async ({ host, port }) => {
          const s = net.connect(port, host);
          await once(s, 'connect');
          return s;
        },
      });
      await connected.request('GET', '/');
      const [ms, err, ok] = await elapsed(() => connected.getresponse());
      assert.equal(ok, false);
      assertTimeout(err);
      assert.ok(ms < 1000, `took ${ms.toFixed(0)} ms`);
    });

    it('a connect that never completes rejects with TimeoutError', async () => {
      // stalledListener(): a listener whose accept queue is full, so the kernel drops
      // our SYN and connect() just waits (see servers.ts).
      const listener = await stalledListener();
      cleanups.push(() => listener.close());
      const conn = connection(listener.port, { timeout: 0.5 });
      const [ms, err, ok] = await elapsed(() => conn.request('GET', '/'));
      assert.equal(ok, false);
      assertTimeout(err);
      assertWithin(ms, 0.5);
      assert.equal(conn.sock, null);
      const [ms2, err2] = await elapsed(() => conn.connect());
      assertTimeout(err2);
      assertWithin(ms2, 0.5);
    });
  });

  describe('setdefaulttimeout / getdefaulttimeout', () => {
    it('starts as null, takes seconds or null, refuses a negative value', () => {
      assert.equal(getdefaulttimeout(), null);
      setdefaulttimeout(2.5);
      assert.equal(getdefaulttimeout(), 2.5);
      setdefaulttimeout(null);
      assert.equal(getdefaulttimeout(), null);
      assert.throws(() => setdefaulttimeout(-1), TypeError);
      assert.equal(getdefaulttimeout(), null);
    });

    it('a connection built without timeout takes the default; timeout: null overrides it', async () => {
      // Answers after 1 s: longer than the 0.4 s default.
      const srv = await server(() =>
        scriptedServer([
          (socket) => {
            const timer = setTimeout(
              () => socket.write('HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok'),
              1000,
            );
            socket.once('close', () => clearTimeout(timer));
          },
        ]),
      );
      setdefaulttimeout(0.4);
      const byDefault = connection(srv.port);
      const never = connection(srv.port, { timeout: null });
      const own = connection(srv.port, { timeout: 5 });
      assert.equal(byDefault.timeout, 0.4);
      assert.equal(never.timeout, null);
      assert.equal(own.timeout, 5);

      await byDefault.request('GET', '/');
      const [ms, err] = await elapsed(() => byDefault.getresponse());
      assertTimeout(err);
      assertWithin(ms, 0.4);

      for (const conn of [never, own]) {
        await conn.request('GET', '/');
        const r = await conn.getresponse();
        assert.deepEqual(await r.read(), Buffer.from('ok'));
      }
    });
  });

  describe('AbortSignal', () => {
    const reason = new Error('stop it');

    it('on the constructor: cancels the wait for the response', async () => {
      const srv = await server(silentServer);
      const controller = new AbortController();
      const conn = connection(srv.port, { signal: controller.signal });
      await conn.request('GET', '/');
      const sock = conn.sock as net.Socket;
      setTimeout(() => controller.abort(reason), 100);
      const [, err, ok] = await elapsed(() => conn.getresponse());
      assert.equal(ok, false);
      assertAbort(err, reason);
      assert.equal(sock.destroyed, true);
      await clientGone(srv.sockets[0] as net.Socket);
    });

    it('on the constructor: cancels a connect that never completes', async () => {
      const listener = await stalledListener();
      cleanups.push(() => listener.close());
      const controller = new AbortController();
      const conn = connection(listener.port, { signal: controller.signal });
      setTimeout(() => controller.abort(reason), 100);
      const [ms, err] = await elapsed(() => conn.request('GET', '/'));
      assertAbort(err, reason);
      assert.ok(ms < HIGH_SLACK, `took ${ms.toFixed(0)} ms`);
      assert.equal(conn.sock, null);
    });

    it('on the constructor: still applies while a call passes its own signal', async () => {
      const srv = await server(silentServer);
      const controller = new AbortController();
      const conn = connection(srv.port, { signal: controller.signal });
      await conn.request('GET', '/');
      const sock = conn.sock as net.Socket;
      setTimeout(() => controller.abort(reason), 100);
      const own = new AbortController();
      const err = await settlesWithin(conn.getresponse({ signal: own.signal }), 5000).then(
        () => null,
        (e: unknown) => e,
      );
      assertAbort(err, reason);
      assert.equal(sock.destroyed, true);
    });

    it('on request(): cancels a body write that waits for the server to read', async () => {
      // The server never reads: the body fills the socket buffers and the write waits.
      const srv = await server(() => rawServer((socket) => socket.pause()));
      const conn = connection(srv.port);
      await conn.connect();
      const sock = conn.sock as net.Socket;
      const controller = new AbortController();
      let produced = 0;
      async function* body(): AsyncGenerator<Buffer> {
        // Bounded, so that a signal that does nothing fails the test instead of hanging.
        for (let i = 0; i < 1024; i++) {
          produced++;
          yield Buffer.alloc(64 * 1024, 0x61);
        }
      }
      setTimeout(() => controller.abort(reason), 200);
      const [, err, ok] = await elapsed(() =>
        conn.request('POST', '/', body(), {}, { signal: controller.signal }),
      );
      assert.equal(ok, false);
      assertAbort(err, reason);
      assert.ok(produced < 1024, 'the body stopped being read');
      assert.equal(sock.destroyed, true);
      // As in Python, a request that failed half-way leaves the connection in
      // Request-sent until close().
      await clientGone(srv.sockets[0] as net.Socket);
    });

    it('on request(): cancels the connect it starts', async () => {
      const listener = await stalledListener();
      cleanups.push(() => listener.close());
      const conn = connection(listener.port);
      const controller = new AbortController();
      setTimeout(() => controller.abort(reason), 100);
      const err = await settlesWithin(
        conn.request('GET', '/', null, {}, { signal: controller.signal }),
        5000,
      ).then(
        () => null,
        (e: unknown) => e,
      );
      assertAbort(err, reason);
      assert.equal(conn.sock, null);
    });

    it('on getresponse(): cancels the wait for the response', async () => {
      const srv = await server(silentServer);
      const conn = connection(srv.port);
      await conn.request('GET', '/');
      const sock = conn.sock as net.Socket;
      const controller = new AbortController();
      setTimeout(() => controller.abort(reason), 100);
      const [, err, ok] = await elapsed(() => conn.getresponse({ signal: controller.signal }));
      assert.equal(ok, false);
      assertAbort(err, reason);
      assert.equal(sock.destroyed, true);
      assert.equal(conn.sock, null);
    });

    it('on read(): cancels a read that waits for body bytes', async () => {
      const srv = await server(stallingServer);
      const conn = connection(srv.port);
      await conn.request('GET', '/');
      const r = await conn.getresponse();
      const sock = conn.sock as net.Socket;
      const controller = new AbortController();
      setTimeout(() => controller.abort(reason), 100);
      const [, err, ok] = await elapsed(() => r.read(null, { signal: controller.signal }));
      assert.equal(ok, false);
      assertAbort(err, reason);
      assert.equal(sock.destroyed, true);
      assert.equal(r.isclosed(), true);
    });

    it('an already-aborted signal on the constructor: nothing is connected', async () => {
      const srv = await server(silentServer);
      const conn = connection(srv.port, { signal: AbortSignal.abort(reason) });
      const err = await settlesWithin(conn.request('GET', '/'), 1000).catch((e: unknown) => e);
      assertAbort(err, reason);
      assert.equal(conn.sock, null);
      await nextTurn();
      assert.equal(srv.sockets.length, 0, 'no connection was made');
    });

    it('an already-aborted signal on request(): rejects at once, nothing is sent', async () => {
      const srv = await server(silentServer);
      const conn = connection(srv.port);
      // Connected first, so that only the request itself could be cancelled.
      await conn.connect();
      await srv.connections(1);
      const sock = conn.sock as net.Socket;
      const err = await settlesWithin(
        conn.request('GET', '/', 'body', {}, { signal: AbortSignal.abort(reason) }),
        1000,
      ).catch((e: unknown) => e);
      assertAbort(err, reason);
      assert.equal(sock.destroyed, true);
      await clientGone(srv.sockets[0] as net.Socket);
      assert.equal(srv.received[0]?.length, 0, 'the server saw no byte');
    });

    it('an already-aborted signal on request() with a large body and a large head', async () => {
      // Bodies over 16 KiB go out in a second write behind the head: neither may be
      // written, and the rejection of the second must not go unhandled.
      const srv = await server(silentServer);
      for (const headerSize of [10, 20000]) {
        const conn = connection(srv.port);
        await conn.connect();
        const sock = conn.sock as net.Socket;
        const err = await settlesWithin(
          conn.request(
            'POST',
            '/',
            Buffer.alloc(100_000),
            { 'X-Pad': 'p'.repeat(headerSize) },
            { signal: AbortSignal.abort(reason) },
          ),
          1000,
        ).catch((e: unknown) => e);
        assertAbort(err, reason);
        assert.equal(sock.destroyed, true);
      }
      await nextTurn();
      assert.deepEqual(srv.received, [Buffer.alloc(0), Buffer.alloc(0)]);
    });

    it('one signal shared by many reads, with a process.emitWarning that throws: no read fails for the warning, and the signal still cancels each', async () => {
      // Past 10 listeners on one signal Node warns (MaxListenersExceededWarning) through
      // process.emitWarning, after adding the listener. An emitWarning that throws threw
      // out of the library's addEventListener: on a connection with a signal of its own,
      // read() threw (instead of rejecting) and left its response refusing every later read.
      const N = 12;
      const srv = await server(() =>
        scriptedServer(['HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\n']),
      );
      const responses = [];
      for (let i = 0; i < 2 * N; i++) {
        const conn = connection(srv.port, { signal: new AbortController().signal });
        await conn.request('GET', '/');
        responses.push(await conn.getresponse());
      }
      const emitWarning = process.emitWarning;
      const refused = new Error('emitWarning refused');
      const shared = new AbortController();
      const doomed = new AbortController();
      const reads: Array<Promise<Buffer>> = [];
      const aborted: Array<Promise<Buffer>> = [];
      process.emitWarning = () => {
        throw refused;
      };
      try {
        for (const r of responses.slice(0, N)) reads.push(r.read(null, { signal: shared.signal }));
        for (const r of responses.slice(N)) aborted.push(r.read(null, { signal: doomed.signal }));
      } finally {
        process.emitWarning = emitWarning;
      }
      for (let i = 0; i < N; i++) (srv.sockets[i] as net.Socket).write('body');
      for (const read of reads) assert.equal((await read).toString(), 'body');
      doomed.abort(reason);
      for (const read of aborted) assertAbort(await read.catch((e: unknown) => e), reason);
    });

    it('an already-aborted signal on getresponse() and read(): rejects at once', async () => {
      // The answer has arrived before the calls: they must still be refused.
      const srv = await server(() => scriptedServer([`${HEAD_100}0123456789`]));
      const conn = connection(srv.port);
      await conn.request('GET', '/');
      const sock = conn.sock as net.Socket;
      await new Promise((resolve) => setTimeout(resolve, 100));
      const err = await settlesWithin(
        conn.getresponse({ signal: AbortSignal.abort(reason) }),
        1000,
      ).catch((e: unknown) => e);
      assertAbort(err, reason);
      assert.equal(sock.destroyed, true);

      await conn.request('GET', '/');
      const r = await conn.getresponse();
      const sock2 = conn.sock as net.Socket;
      assert.notEqual(sock2, sock);
      await new Promise((resolve) => setTimeout(resolve, 100));
      const err2 = await settlesWithin(
        r.read(5, { signal: AbortSignal.abort(reason) }),
        1000,
      ).catch((e: unknown) => e);
      assertAbort(err2, reason);
      assert.equal(sock2.destroyed, true);
      assert.equal(r.isclosed(), true);
    });
  });
  describe("a createConnection hook's signal: fires once, with why, whenever the connect is given up", () => {
    const kinds = ['pending', 'connecting'] as const;
    const classes = [HTTPConnection, HTTPSConnection] as const;

    for (const Conn of classes) {
      for (const kind of kinds) {
        it(`${Conn.name}, a hook ${kind === 'pending' ? 'whose promise waits' : 'whose socket never connects'}: the connect timeout fires it with the TimeoutError; close() later changes nothing`, async () => {
          const { hook, calls } = recordingHook(kind);
          const conn = new Conn('127.0.0.1', 9, { timeout: 0.3, createConnection: hook });
          cleanups.push(() => conn.close());
          const err = await settlesWithin(conn.request('GET', '/'), 10_000).catch(
            (e: unknown) => e,
          );
          assertTimeout(err);
          assert.equal((err as TimeoutError).phase, 'connect');
          assert.equal(calls.length, 1);
          const call = calls[0] as HookCall;
          assert.equal(await settlesWithin(call.aborted, 5000), err, 'the reason is the timeout');
          if (kind === 'connecting') await destroyed(call.socket);
          conn.close();
          await nextTurn();
          assert.equal(call.fired, 1);
          assert.equal(call.signal.reason, err);
          assert.equal(conn.sock, null);
        });
      }
    }

    it('timeout 0: a socket still connecting is given up at once, and the signal says so', async () => {
      const { hook, calls } = recordingHook('connecting');
      const conn = connection(9, { timeout: 0, createConnection: hook });
      const err = await settlesWithin(conn.connect(), 5000).catch((e: unknown) => e);
      assertTimeout(err);
      const call = calls[0] as HookCall;
      assert.equal(await settlesWithin(call.aborted, 5000), err);
      await destroyed(call.socket);
      assert.equal(call.fired, 1);
    });

    for (const kind of kinds) {
      it(`close() during the connect (${kind}): fires it once, with the close's AbortError; the socket goes`, async () => {
        const { hook, calls, called } = recordingHook(kind);
        const conn = connection(9, { timeout: null, createConnection: hook });
        const pending = conn.request('GET', '/').catch((e: unknown) => e);
        const call = await settlesWithin(called, 5000);
        await nextTurn();
        conn.close();
        const err = await settlesWithin(pending, 5000);
        assert.ok(err instanceof AbortError, `expected AbortError, got ${String(err)}`);
        assert.match(err.message, /closed by the caller/);
        const why = await settlesWithin(call.aborted, 5000);
        assert.ok(why instanceof AbortError, `the reason: ${String(why)}`);
        assert.match(why.message, /closed by the caller/);
        if (kind === 'connecting') await destroyed(call.socket);
        conn.close();
        await nextTurn();
        assert.equal(calls.length, 1);
        assert.equal(call.fired, 1);
      });

      it(`the call's signal and the connection's (${kind}): fire it once, with that signal's reason`, async () => {
        const reason = new Error('stop it');
        for (const on of ['request', 'constructor'] as const) {
          const { hook, calls, called } = recordingHook(kind);
          const controller = new AbortController();
          const conn = connection(9, {
            timeout: null,
            createConnection: hook,
            ...(on === 'constructor' ? { signal: controller.signal } : {}),
          });
          const options = on === 'request' ? { signal: controller.signal } : {};
          const pending = conn.request('GET', '/', null, {}, options).catch((e: unknown) => e);
          const call = await settlesWithin(called, 5000);
          await nextTurn();
          controller.abort(reason);
          const err = await settlesWithin(pending, 5000);
          assertAbort(err, reason);
          assert.equal(await settlesWithin(call.aborted, 5000), reason);
          if (kind === 'connecting') await destroyed(call.socket);
          conn.close();
          await nextTurn();
          assert.equal(calls.length, 1);
          assert.equal(call.fired, 1, on);
        }
      });
    }

    it('a socket the hook returns after the connect timed out is destroyed', async () => {
      const srv = await server(silentServer);
      const { hook, calls } = recordingHook('late', srv.port);
      const conn = connection(srv.port, { timeout: 0.3, createConnection: hook });
      const err = await settlesWithin(conn.request('GET', '/'), 10_000).catch((e: unknown) => e);
      assertTimeout(err);
      const call = calls[0] as HookCall;
      assert.equal(await settlesWithin(call.aborted, 5000), err);
      await destroyed(call.socket);
      assert.equal(conn.sock, null);
    });

    it('a connect that succeeded: nothing fires it any more (close() destroys the socket itself)', async () => {
      const srv = await server(() =>
        scriptedServer(['HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok']),
      );
      const given: AbortSignal[] = [];
      const conn = connection(srv.port, {
        timeout: 5,
        createConnection: (p) => {
          given.push(p.signal as AbortSignal);
          return net.connect(p.port, p.host);
        },
      });
      await conn.request('GET', '/');
      assert.equal((await (await conn.getresponse()).read()).toString(), 'ok');
      conn.close();
      await nextTurn();
      assert.equal(given.length, 1);
      assert.equal(given[0]?.aborted, false);
    });
  });
});
