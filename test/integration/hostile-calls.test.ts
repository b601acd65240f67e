/**
 * Hostile call patterns on the public promise methods (shared/API.md, "Calls, promises
 * and closing"), the ones the lifecycle, fault-injection, misuse and keep-alive tests do
 * not already play (the table is in the cleanup helper's notes): `close()` while a
 * request body waits for its own source (a stream that stops giving, a generator that
 * waits), calls made without `await` one after another, the synchronous methods while a
 * request is still being sent, calls after `close()`, and bodies that fail before their
 * first byte (an errored stream, a closed `FileHandle`, a generator that throws at once)
 * or half-way through `send()` on a kept-alive connection; the source wait over TLS too.
 *
 * Real servers on 127.0.0.1; every test asserts the error class (and code), the state
 * afterwards, what the next request does, and what reached the wire.
 * `unhandledRejection`/`uncaughtException` fail the test (servers.ts, failOnEscapes);
 * nothing waits on a wall-clock margin: the waits are for conditions, under the
 * generous per-test limit of timeLimited.
 */
import assert from 'node:assert/strict';
import { createReadStream } from 'node:fs';
import * as fsp from 'node:fs/promises';
import { PassThrough, Readable } from 'node:stream';
import { after, before, describe } from 'node:test';
import * as tls from 'node:tls';
import {
  AbortError,
  CannotSendHeader,
  CannotSendRequest,
  HTTPConnection,
  HTTPException,
  type HTTPResponse,
  HTTPSConnection,
  IncompleteRead,
  ResponseNotReady,
  ssl,
} from '../../src/index.ts';
import {
  failOnEscapes,
  guarded,
  nextTurn,
  peerClosed,
  type RawServer,
  rawServer,
  scriptedServer,
  timeLimited,
} from './servers.ts';
import { makePki, type Pki, rawTlsServer } from './tls-peers.ts';

const HOST = '127.0.0.1';

/**
 * After a send the server reset with its answer (`size` body bytes) already arriving: as
 * in Python, whose `sendall()` raised with the request sent, `getresponse()` reads that
 * answer. The bytes the client had read before the reset are there; what was still in the
 * kernel behind a paused socket may be lost with it (the read fails with the reset).
 * The socket is never reused.
 */
async function earlyAnswerRead(conn: HTTPConnection, status: number, size: number): Promise<void> {
  const r = await conn.getresponse();
  assert.equal(r.status, status);
  try {
    assert.equal((await r.read()).length, size);
  } catch (err) {
    // The reset, as a read meets it (Python's recv() raises it too), or met at the end.
    const reset = err instanceof IncompleteRead ? err.cause : err;
    const code = (reset as NodeJS.ErrnoException | undefined)?.code;
    assert.ok(code === 'ECONNRESET' || code === 'EPIPE', String(err));
  }
  assert.equal(conn.sock, null);
}
const OK = 'HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok';

const { it } = timeLimited(30_000);
failOnEscapes();

/** Run `fn` with a connection to `srv`; close both afterwards (also on a hang). */
async function withConn(
  srv: RawServer,
  fn: (conn: HTTPConnection, srv: RawServer) => Promise<void>,
): Promise<void> {
  const conn = new HTTPConnection(HOST, srv.port);
  await guarded(
    async () => {
      conn.close();
      await srv.close();
    },
    () => fn(conn, srv),
  );
  // Late events (a socket closing, a source settling) run before the escape check.
  await nextTurn();
}

/** A server that answers every request on every connection with `OK`. */
function okServer(): Promise<RawServer> {
  return scriptedServer([OK, OK, OK, OK, OK, OK, OK, OK]);
}

/** Until `cond()` holds (polled on each turn of the event loop). */
async function until(cond: () => boolean): Promise<void> {
  while (!cond()) await new Promise((resolve) => setTimeout(resolve, 5));
}

/** What connection `i` received, as text. */
function wire(srv: RawServer, i: number): string {
  return (srv.received[i] ?? Buffer.alloc(0)).toString('latin1');
}

/** The request lines received on connection `i`. */
function requestLines(srv: RawServer, i: number): string[] {
  return [...wire(srv, i).matchAll(/^([A-Z]+ \S+) HTTP\/1\.1\r$/gm)].map((m) => m[1] as string);
}

async function fetchOk(conn: HTTPConnection, url: string): Promise<void> {
  await conn.request('GET', url);
  const r = await conn.getresponse();
  assert.equal((await r.read()).toString(), 'ok');
}

/** An AbortError that says the caller closed it (never TypeError, never the server's fault). */
function closedByCaller(err: unknown): true {
  assert.ok(err instanceof AbortError, `expected AbortError, got ${String(err)}`);
  assert.match(err.message, /closed by the caller/);
  assert.equal(err.code, 'ERR_HTTPLIB_CLOSED_BY_CALLER');
  return true;
}

/** How the call under test starts sending `body` (a request with a body of unknown length). */
const senders: Array<[string, (conn: HTTPConnection, body: unknown) => Promise<void>]> = [
  ['request()', (conn, body) => conn.request('POST', '/up', body as Readable)],
  [
    'endheaders(body)',
    (conn, body) => {
      conn.putrequest('POST', '/up');
      conn.putheader('Transfer-Encoding', 'chunked');
      return conn.endheaders(body as Readable, { encode_chunked: true });
    },
  ],
  [
    'send(body)',
    async (conn, body) => {
      conn.putrequest('POST', '/up');
      conn.putheader('Content-Length', 1000);
      await conn.endheaders();
      return conn.send(body as Readable);
    },
  ],
];

describe('close() while a request body waits for its own source', () => {
  for (const [name, start] of senders) {
    it(`${name}, a stream that stops giving: AbortError at once, nothing more on the wire`, async () => {
      await withConn(await okServer(), async (conn, srv) => {
        const body = new Readable({ read() {} });
        const listeners = body.listenerCount('error');
        body.push('first part;');
        const pending = start(conn, body);
        // The head and the first part are out; the stream gives nothing more.
        await until(() => wire(srv, 0).includes('first part;'));
        const sent = wire(srv, 0);
        conn.close();
        await assert.rejects(pending, closedByCaller);
        assert.equal(conn.sock, null);
        assert.equal(body.destroyed, false, 'the caller owns the stream: not destroyed');
        // The stream gives more, then ends: none of it may reach the closed connection.
        body.push('second part;');
        body.push(null);
        await peerClosed(srv.sockets[0] as import('node:net').Socket);
        assert.equal(wire(srv, 0), sent, 'bytes after close()');
        await until(() => body.listenerCount('error') === listeners);
        // The object serves the next request, on a new connection.
        await fetchOk(conn, '/next');
        assert.deepEqual(requestLines(srv, 1), ['GET /next']);
      });
    });

    it(`${name}, an async generator that waits: AbortError at once, the generator finished`, async () => {
      await withConn(await okServer(), async (conn, srv) => {
        let resume: () => void = () => {};
        const gate = new Promise<void>((resolve) => {
          resume = resolve;
        });
        let finished = false;
        const body = (async function* () {
          try {
            yield 'first part;';
            await gate;
            yield 'second part;';
          } finally {
            finished = true;
          }
        })();
        const pending = start(conn, body);
        await until(() => wire(srv, 0).includes('first part;'));
        const sent = wire(srv, 0);
        conn.close();
        await assert.rejects(pending, closedByCaller);
        // Once the generator goes on, its next piece is not sent and it is finished.
        resume();
        await until(() => finished);
        await peerClosed(srv.sockets[0] as import('node:net').Socket);
        assert.equal(wire(srv, 0), sent, 'bytes after close()');
        await fetchOk(conn, '/next');
        assert.deepEqual(requestLines(srv, 1), ['GET /next']);
      });
    });
  }

  it('request() with its own signal, aborted while the stream gives nothing: AbortError', async () => {
    await withConn(await okServer(), async (conn, srv) => {
      const body = new Readable({ read() {} });
      body.push('first part;');
      const controller = new AbortController();
      const pending = conn.request('POST', '/up', body, null, { signal: controller.signal });
      await until(() => wire(srv, 0).includes('first part;'));
      controller.abort();
      const err = await pending.then(
        () => assert.fail('request() should have rejected'),
        (e: unknown) => e,
      );
      assert.ok(err instanceof AbortError, String(err));
      assert.doesNotMatch(err.message, /closed by the caller/);
      assert.equal(err.code, 'ABORT_ERR', "a signal's abort keeps Node's code");
      // The half-sent request is never followed by another on that socket.
      await peerClosed(srv.sockets[0] as import('node:net').Socket);
      body.push(null);
      await fetchOk(conn, '/next');
      assert.deepEqual(requestLines(srv, 0), ['POST /up']);
      assert.deepEqual(requestLines(srv, 1), ['GET /next']);
    });
  });

  it("getresponse({signal}) aborted while the request not awaited still sends: both reject with the signal's AbortError, not a close by the caller", async () => {
    await withConn(await okServer(), async (conn, srv) => {
      const body = new Readable({ read() {} });
      body.push('first part;');
      const controller = new AbortController();
      const sending = conn.request('POST', '/up', body);
      sending.catch(() => {});
      const head = conn.getresponse({ signal: controller.signal });
      head.catch(() => {});
      await until(() => wire(srv, 0).includes('first part;'));
      controller.abort(new Error('given up'));
      for (const [name, pending] of [
        ['request()', sending],
        ['getresponse()', head],
      ] as const) {
        const err = await pending.then(
          () => assert.fail(`${name} should have rejected`),
          (e: unknown) => e,
        );
        assert.ok(err instanceof AbortError, `${name}: ${String(err)}`);
        // Before: request() said "closed by the caller while sending the request".
        assert.doesNotMatch(err.message, /closed by the caller/, name);
        assert.equal(err.code, 'ABORT_ERR', name);
        assert.equal((err.cause as Error | undefined)?.message, 'given up', name);
      }
      body.push(null);
      await fetchOk(conn, '/next');
      assert.deepEqual(requestLines(srv, 1), ['GET /next']);
    });
  });
});

describe('the peer resets or closes while a request body waits for its own source', () => {
  /** Connection 0 answers nothing (the test ends it); the next ones answer `OK`. */
  const server = (): Promise<RawServer> => scriptedServer([[], [OK, OK]]);
  const ends = [
    ['a reset (RST)', (s: import('node:net').Socket) => s.resetAndDestroy(), 'ECONNRESET'],
    ['a close (FIN)', (s: import('node:net').Socket) => s.destroy(), 'EPIPE'],
  ] as const;

  /** The socket's error, a system error (not the package's, not a close by the caller). */
  const socketError = (code: string) => (err: unknown) => {
    assert.ok(err instanceof Error, String(err));
    assert.ok(!(err instanceof AbortError) && !(err instanceof HTTPException), String(err));
    assert.equal((err as NodeJS.ErrnoException).code, code, String(err));
    return true;
  };

  /** After the failed send: no socket, Python's Idle, and the next request on a new one. */
  async function closedThenReopens(conn: HTTPConnection, srv: RawServer): Promise<void> {
    assert.equal(conn.sock, null);
    await assert.rejects(conn.getresponse(), ResponseNotReady);
    await fetchOk(conn, '/next');
    assert.equal(srv.sockets.length, 2);
    assert.deepEqual(requestLines(srv, 0), ['POST /up']);
    assert.deepEqual(requestLines(srv, 1), ['GET /next']);
  }

  for (const [name, start] of senders) {
    for (const [how, end, code] of ends) {
      it(`${name}, a stream that stops giving, ${how}: ${code} at once, the stream let go`, async () => {
        await withConn(await server(), async (conn, srv) => {
          const body = new Readable({ read() {} });
          const listeners = body.listenerCount('error');
          body.push('first part;');
          const pending = start(conn, body);
          await until(() => wire(srv, 0).includes('first part;'));
          end(srv.sockets[0] as import('node:net').Socket);
          await assert.rejects(pending, socketError(code));
          // Let go as on close(): our listeners off, the caller's stream not destroyed.
          await until(() => body.listenerCount('error') === listeners);
          assert.equal(body.listenerCount('readable'), 0);
          assert.equal(body.destroyed, false, 'the caller owns the stream: not destroyed');
          await closedThenReopens(conn, srv);
        });
      });

      it(`${name}, an async generator that waits, ${how}: ${code} at once, the generator finished`, async () => {
        await withConn(await server(), async (conn, srv) => {
          let resume: () => void = () => {};
          const gate = new Promise<void>((resolve) => {
            resume = resolve;
          });
          let finished = false;
          let after = false;
          const body = (async function* () {
            try {
              yield 'first part;';
              await gate;
              after = true;
              yield 'second part;';
              yield 'third part;';
            } finally {
              finished = true;
            }
          })();
          const pending = start(conn, body);
          await until(() => wire(srv, 0).includes('first part;'));
          end(srv.sockets[0] as import('node:net').Socket);
          await assert.rejects(pending, socketError(code));
          await closedThenReopens(conn, srv);
          // As on close(): once the generator goes on, its piece is not taken further.
          resume();
          await until(() => finished);
          assert.equal(after, true);
        });
      });
    }
  }

  it('an early answer then FIN (the server still reads): the send goes on, getresponse() reads it', async () => {
    const early =
      'HTTP/1.1 413 Payload Too Large\r\nConnection: close\r\nContent-Length: 3\r\n\r\nbig';
    await withConn(await server(), async (conn, srv) => {
      const body = new Readable({ read() {} });
      body.push('first part;');
      const pending = conn.request('POST', '/up', body);
      await until(() => wire(srv, 0).includes('first part;'));
      const socket = srv.sockets[0] as import('node:net').Socket;
      const client = conn.sock as import('node:net').Socket;
      socket.end(early);
      // The client has the answer and the FIN while the body waits for its source.
      await until(() => client.readableEnded);
      // Python sends the rest (the server reads it), then reads the answer.
      body.push('second part;');
      body.push(null);
      await pending;
      const r = await conn.getresponse();
      assert.equal(r.status, 413);
      assert.equal((await r.read()).toString(), 'big');
      await until(() => wire(srv, 0).endsWith('0\r\n\r\n'));
      assert.match(wire(srv, 0), /second part;/);
    });
  });
});

describe('an early answer, then the server goes (a reset), while a large Buffer body waits for the socket', () => {
  it('send() rejects with the socket error, never resolves as if the body went out (a FIN woke the drain wait)', async () => {
    const size = 32 * 1024 * 1024;
    let received = 0;
    const srv = await rawServer((socket) => {
      socket.on('data', (d: Buffer) => {
        received += d.length;
        if (received > 0 && socket.listenerCount('data') > 0) {
          socket.removeAllListeners('data');
          socket.write(
            'HTTP/1.1 413 Payload Too Large\r\nConnection: close\r\nContent-Length: 3\r\n\r\nbig',
          );
          // Unread bytes in its queue: the kernel sends a reset.
          socket.destroy();
        }
      });
    });
    const conn = new HTTPConnection(HOST, srv.port, { timeout: 20 });
    try {
      conn.putrequest('POST', '/upload');
      conn.putheader('Content-Length', size);
      await conn.endheaders();
      await assert.rejects(conn.send(Buffer.alloc(size, 0x61)), (err: unknown) => {
        const code = (err as NodeJS.ErrnoException).code;
        assert.ok(code === 'ECONNRESET' || code === 'EPIPE', String(err));
        return true;
      });
      // Python 2.7 and 3: the send raises, getresponse() returns the 413.
      const r = await conn.getresponse();
      assert.equal(r.status, 413);
      assert.equal((await r.read()).toString(), 'big');
      assert.equal(conn.sock, null);
    } finally {
      conn.close();
      await srv.close();
    }
  });
});

describe('an early answer, then a reset, with getresponse() called while request() still sends', () => {
  it("request() rejects with the reset; the getresponse() made before it settled returns the answer (Python's order)", async () => {
    const size = 32 * 1024 * 1024;
    const srv = await rawServer((socket) => {
      socket.once('data', () => {
        socket.write(
          'HTTP/1.1 401 Unauthorized\r\nContent-Length: 6\r\nConnection: close\r\n\r\nlog in',
        );
        // Unread bytes in its queue: the kernel sends a reset.
        setTimeout(() => socket.destroy(), 20);
      });
    });
    const conn = new HTTPConnection(HOST, srv.port, { timeout: 20 });
    try {
      const sending = conn.request('PUT', '/up', Buffer.alloc(size, 0x61));
      const got = conn.getresponse();
      await assert.rejects(sending, (err: unknown) => {
        const code = (err as NodeJS.ErrnoException).code;
        assert.ok(code === 'ECONNRESET' || code === 'EPIPE', String(err));
        return true;
      });
      const r = await got;
      assert.equal(r.status, 401);
      assert.equal((await r.read()).toString(), 'log in');
      assert.equal(conn.sock, null);
      // The next request goes on a new connection.
      await assert.rejects(conn.getresponse(), ResponseNotReady);
    } finally {
      conn.close();
      await srv.close();
    }
  });
});

describe('an early answer, then a reset: the calls around the answer kept for getresponse()', () => {
  /** A server that answers 413 at once and closes with the body unread (a reset). */
  const refusing = (): Promise<RawServer> =>
    rawServer((socket) => {
      socket.once('data', () => {
        socket.write(
          'HTTP/1.1 413 Payload Too Large\r\nContent-Length: 3\r\nConnection: close\r\n\r\nbig',
        );
        setTimeout(() => socket.destroy(), 20);
      });
    });
  const cut = (err: unknown): true => {
    const code = (err as NodeJS.ErrnoException).code;
    assert.ok(code === 'ECONNRESET' || code === 'EPIPE', String(err));
    return true;
  };

  /** A 32 MiB upload, which the refusing server answers early and cuts. */
  const upload = (conn: HTTPConnection): Promise<void> =>
    conn.request('PUT', '/up', Buffer.alloc(32 * 1024 * 1024));
  /** Run `fn` with a connection to a refusing server whose first upload was cut. */
  async function afterCut(fn: (conn: HTTPConnection, srv: RawServer) => Promise<void>) {
    const srv = await refusing();
    const conn = new HTTPConnection(HOST, srv.port, { timeout: 20 });
    try {
      await assert.rejects(upload(conn), cut);
      await fn(conn, srv);
    } finally {
      conn.close();
      await srv.close();
    }
  }
  /** The connection is Idle with no socket: the next request goes on a new connection. */
  async function nextOnNewConnection(conn: HTTPConnection, srv: RawServer): Promise<void> {
    assert.equal(conn.sock, null);
    await assert.rejects(conn.getresponse(), ResponseNotReady);
    await assert.rejects(upload(conn), cut);
    assert.equal((await conn.getresponse()).status, 413);
    assert.equal(srv.sockets.length, 2);
  }

  it('getresponse() twice at once: the first reads the answer, the second is ResponseNotReady', async () => {
    await afterCut(async (conn) => {
      const first = conn.getresponse();
      await assert.rejects(conn.getresponse(), ResponseNotReady);
      const r = await first;
      assert.equal(r.status, 413);
      assert.equal((await r.read()).toString(), 'big');
    });
  });

  it('close() right after getresponse() of the kept answer: the response, already whole, reads on; Idle; the next request on a new connection', async () => {
    await afterCut(async (conn, srv) => {
      const reading = conn.getresponse();
      conn.close();
      // The whole answer was in: the response took the socket over (it will close it)
      // before close() came, as Python's getresponse() returned first; it reads on.
      const r = await reading;
      assert.equal(r.status, 413);
      assert.equal((await r.read()).toString(), 'big');
      assert.equal(r.isclosed(), true);
      await nextOnNewConnection(conn, srv);
    });
  });

  it('close() before getresponse(): the answer is dropped with the socket, Idle, the next request on a new connection', async () => {
    await afterCut(async (conn, srv) => {
      conn.close();
      await nextOnNewConnection(conn, srv);
    });
  });
});

describe('an early answer larger than the socket queues, then a reset, while the body waits for its source', () => {
  // Above the high-water mark (256 KiB, io/tuning.ts) the socket is paused, and a paused
  // socket is not polled: the reset must be seen all the same (an empty write, or for TLS
  // a question to the TCP socket, every 200 ms), not when the source gives again.
  const N = 3 * 1024 * 1024;
  const EARLY = `HTTP/1.1 200 OK\r\nContent-Length: ${N}\r\n\r\n`;
  const LIMIT = 15_000;

  /**
   * Connection 0 answers its first request early, as soon as the head is in (and resets
   * 300 ms later when `reset`, or ends its side, FIN, right after the answer when `fin`);
   * every other request is answered `OK`.
   */
  function earlyServer(reset: boolean, fin = false): Promise<RawServer> {
    return rawServer((socket, index) => {
      let seen = '';
      let answered = 0;
      socket.on('data', (d: Buffer) => {
        seen += d.toString('latin1');
        for (const heads = seen.split('\r\n\r\n').length - 1; answered < heads; answered++) {
          if (index > 0 || answered > 0) {
            socket.write(OK);
            continue;
          }
          socket.write(EARLY);
          socket.write(Buffer.alloc(N, 'x'));
          if (reset) setTimeout(() => socket.resetAndDestroy(), 300);
          if (fin) socket.end();
        }
      });
    });
  }

  const resetCode = (err: unknown): true => {
    assert.ok(err instanceof Error, String(err));
    assert.ok(!(err instanceof AbortError) && !(err instanceof HTTPException), String(err));
    const code = (err as NodeJS.ErrnoException).code;
    assert.ok(code === 'ECONNRESET' || code === 'EPIPE', String(err));
    return true;
  };

  const bodies: Array<[string, () => unknown]> = [
    [
      'a stream that stops giving',
      () => {
        const body = new Readable({ read() {} });
        body.push('first part;');
        return body;
      },
    ],
    [
      'an async generator that waits',
      () =>
        (async function* () {
          yield 'first part;';
          // Never given again.
          await new Promise(() => {});
        })(),
    ],
  ];

  for (const [what, make] of bodies) {
    it(
      `plain TCP, ${what}: ECONNRESET (or EPIPE), not a hang; then getresponse() reads the answer that came, and the next request goes on a new connection`,
      async () => {
        await withConn(await earlyServer(true), async (conn, srv) => {
          const pending = conn.request('PUT', '/up', make() as Readable, {
            'Content-Length': '1000',
          });
          await assert.rejects(pending, resetCode);
          assert.match(wire(srv, 0), /^PUT \/up HTTP\/1\.1\r\n[\s\S]*\r\n\r\nfirst part;$/);
          await earlyAnswerRead(conn, 200, N);
          await fetchOk(conn, '/next');
          assert.deepEqual(requestLines(srv, 1), ['GET /next']);
        });
      },
      LIMIT,
    );
  }

  /**
   * A PUT whose body (a stream) gave `first part;` and waits, once that reached the server
   * and the early answer filled the queue: the client's socket is paused.
   */
  async function pausedUpload(
    conn: HTTPConnection,
    srv: RawServer,
  ): Promise<{ body: Readable; pending: Promise<void> }> {
    const body = new Readable({ read() {} });
    body.push('first part;');
    const pending = conn.request('PUT', '/up', body, { 'Content-Length': '1000' });
    await until(() => wire(srv, 0).endsWith('first part;'));
    const client = conn.sock as import('node:net').Socket;
    await until(() => client.isPaused());
    return { body, pending };
  }

  it(
    'plain TCP, no reset: while the socket is paused and the body waits, nothing more goes on the wire',
    async () => {
      await withConn(await earlyServer(false), async (conn, srv) => {
        const { body, pending } = await pausedUpload(conn, srv);
        const sent = wire(srv, 0);
        // Long enough for several probes (every 200 ms): none may put a byte on the wire.
        await new Promise((resolve) => setTimeout(resolve, 1000));
        assert.equal(wire(srv, 0), sent, 'bytes while the body waited');
        body.push('y'.repeat(989));
        body.push(null);
        await pending;
        await until(() => wire(srv, 0).length >= sent.length + 989);
        assert.equal(wire(srv, 0), `${sent}${'y'.repeat(989)}`, 'the body as sent, nothing else');
        const r = await conn.getresponse();
        assert.equal((await r.read()).length, N);
        await fetchOk(conn, '/next');
      });
    },
    LIMIT,
  );

  it(
    'plain TCP, a FIN (no reset) behind the early answer: the probes of the paused socket do not fail the send, the body goes out whole and the answer is read',
    async () => {
      // The server ends its side after answering but still reads: Python's send goes on
      // (its writes succeed) and getresponse() reads the answer. A FIN is not a reset:
      // the paused socket's probe (an empty write) must not turn it into a failure.
      await withConn(await earlyServer(false, true), async (conn, srv) => {
        const { body, pending } = await pausedUpload(conn, srv);
        // Several probes (every 200 ms) while the FIN waits behind the queued answer.
        await new Promise((resolve) => setTimeout(resolve, 1000));
        body.push('y'.repeat(989));
        body.push(null);
        await pending;
        await until(() => wire(srv, 0).endsWith('y'.repeat(989)));
        assert.match(wire(srv, 0), /\r\n\r\nfirst part;y{989}$/);
        const r = await conn.getresponse();
        assert.equal((await r.read()).length, N);
      });
    },
    LIMIT,
  );
});

describe('HTTPS: an early answer larger than the socket queues, then a reset, while the body waits', {
  timeout: 60_000,
}, () => {
  let pki: Pki;
  before(async () => {
    pki = await makePki();
  });
  after(() => pki?.remove());
  const N = 3 * 1024 * 1024;

  it('request() over TLS, a stream that stops giving: ECONNRESET (or EPIPE), not a hang; then the answer that came, and a new connection', async () => {
    const tcp: import('node:net').Socket[] = [];
    const received: string[] = [];
    const server = tls.createServer(pki.pair('server'), (socket) => {
      const index = received.length;
      received.push('');
      socket.on('error', () => {});
      let answered = 0;
      socket.on('data', (d: Buffer) => {
        const seen = (received[index] as string) + d.toString('latin1');
        received[index] = seen;
        for (const heads = seen.split('\r\n\r\n').length - 1; answered < heads; answered++) {
          if (index > 0) {
            socket.write(OK);
            continue;
          }
          socket.write(`HTTP/1.1 200 OK\r\nContent-Length: ${N}\r\n\r\n`);
          socket.write(Buffer.alloc(N, 'x'));
          // A TLS socket cannot reset: its TCP socket does.
          setTimeout(() => tcp[index]?.resetAndDestroy(), 300);
        }
      });
    });
    server.on('connection', (s: import('node:net').Socket) => {
      s.on('error', () => {});
      tcp.push(s);
    });
    server.on('tlsClientError', () => {});
    await new Promise<void>((resolve) => server.listen(0, HOST, () => resolve()));
    const port = (server.address() as import('node:net').AddressInfo).port;
    const conn = new HTTPSConnection('localhost', port, {
      context: ssl.create_default_context({ cafile: pki.file('ca.pem') }),
    });
    await guarded(
      async () => {
        conn.close();
        for (const s of tcp) s.destroy();
        await new Promise((resolve) => server.close(resolve));
      },
      async () => {
        const body = new Readable({ read() {} });
        body.push('first part;');
        const pending = conn.request('PUT', '/up', body, { 'Content-Length': '1000' });
        await assert.rejects(pending, (err: unknown) => {
          assert.ok(err instanceof Error, String(err));
          const code = (err as NodeJS.ErrnoException).code;
          assert.ok(code === 'ECONNRESET' || code === 'EPIPE', String(err));
          return true;
        });
        assert.match(received[0] as string, /^PUT \/up HTTP\/1\.1\r\n[\s\S]*\r\n\r\nfirst part;$/);
        await earlyAnswerRead(conn, 200, N);
        await fetchOk(conn, '/next');
        assert.match(received[1] as string, /^GET \/next HTTP\/1\.1\r\n/);
      },
    );
    await nextTurn();
  }, 30_000);
});

describe('calls without await, in call order', () => {
  it('connect() then request() then getresponse(), none awaited: one connection, in order', async () => {
    await withConn(await okServer(), async (conn, srv) => {
      const connected = conn.connect();
      const sent = conn.request('GET', '/one');
      const got = conn.getresponse();
      await connected;
      await sent;
      assert.equal((await (await got).read()).toString(), 'ok');
      assert.equal(srv.sockets.length, 1);
      assert.deepEqual(requestLines(srv, 0), ['GET /one']);
    });
  });

  it('endheaders(), send(body) and getresponse() not awaited: the body goes before the head is read', async () => {
    await withConn(await okServer(), async (conn, srv) => {
      conn.putrequest('POST', '/form');
      conn.putheader('Content-Length', 6);
      const head = conn.endheaders();
      const first = conn.send('abc');
      const second = conn.send(Readable.from(['d', 'ef']));
      const got = conn.getresponse();
      await Promise.all([head, first, second]);
      assert.equal((await (await got).read()).toString(), 'ok');
      assert.match(wire(srv, 0), /^POST \/form HTTP\/1\.1\r\n[\s\S]*\r\n\r\nabcdef$/);
    });
  });

  it('send() of raw bytes opening the connection, then request(), not awaited: one socket, in call order (as CPython)', async () => {
    for (const how of ['request', 'endheaders'] as const) {
      await withConn(await okServer(), async (conn, srv) => {
        let first: Promise<void>;
        let second: Promise<void>;
        if (how === 'request') {
          first = conn.send('RAW');
          second = conn.request('GET', '/b');
        } else {
          conn.putrequest('POST', '/a');
          first = conn.send('RAW');
          second = conn.endheaders('BODY');
        }
        await Promise.all([first, second]);
        assert.equal((await (await conn.getresponse()).read()).toString(), 'ok');
        assert.equal(srv.sockets.length, 1, `${how}: one socket`);
        assert.match(wire(srv, 0), /^RAW(GET \/b|POST \/a) HTTP\/1\.1\r\n/);
      });
    }
  });

  it('endheaders() sent, then send(slow body) and getresponse() not awaited: getresponse() settles after the send (an early answer notwithstanding)', async () => {
    // The server answers as soon as it has the head.
    const srv = await rawServer((socket) => {
      socket.once('data', () => socket.write(OK));
    });
    await withConn(srv, async (conn) => {
      conn.putrequest('POST', '/up');
      conn.putheader('Content-Length', 6);
      await conn.endheaders();
      const order: string[] = [];
      const body = (async function* (): AsyncGenerator<string> {
        yield 'abc';
        await nextTurn();
        await new Promise((resolve) => setTimeout(resolve, 50));
        yield 'def';
      })();
      const sending = conn.send(body).then(() => order.push('send'));
      const got = conn.getresponse().then((r) => {
        order.push('getresponse');
        return r;
      });
      await Promise.all([sending, got]);
      assert.deepEqual(order, ['send', 'getresponse']);
      assert.equal((await (await got).read()).toString(), 'ok');
    });
  });

  it('endheaders() twice at once: CannotSendHeader for the second, one request on the wire', async () => {
    await withConn(await okServer(), async (conn, srv) => {
      conn.putrequest('GET', '/once');
      const first = conn.endheaders();
      const second = conn.endheaders();
      await assert.rejects(second, CannotSendHeader);
      await first;
      assert.equal((await (await conn.getresponse()).read()).toString(), 'ok');
      assert.deepEqual(requestLines(srv, 0), ['GET /once']);
      assert.equal(wire(srv, 0).split('\r\n\r\n').length, 2, 'one head, nothing after it');
    });
  });

  it('putrequest()/putheader() while request() is being sent: they throw, the request is intact', async () => {
    await withConn(await okServer(), async (conn, srv) => {
      const sending = conn.request('GET', '/first');
      assert.throws(() => conn.putrequest('GET', '/second'), CannotSendRequest);
      assert.throws(() => conn.putheader('X-Stray', 'yes'), CannotSendHeader);
      await assert.rejects(conn.endheaders(), CannotSendHeader);
      await sending;
      assert.equal((await (await conn.getresponse()).read()).toString(), 'ok');
      await fetchOk(conn, '/third');
      assert.deepEqual(requestLines(srv, 0), ['GET /first', 'GET /third']);
      assert.doesNotMatch(wire(srv, 0), /X-Stray|second/);
    });
  });
});

describe('connect() elsewhere while a connect() not awaited is under way', () => {
  const FROM_B = 'HTTP/1.1 200 OK\r\nContent-Length: 6\r\n\r\nfrom B';

  /** Servers A and B, and a connection made to A; all closed afterwards. */
  async function withTwo(
    fn: (conn: HTTPConnection, a: RawServer, b: RawServer) => Promise<void>,
  ): Promise<void> {
    const b = await scriptedServer([FROM_B, FROM_B]);
    try {
      await withConn(await okServer(), (conn, a) => fn(conn, a, b));
    } finally {
      await b.close();
    }
  }

  it('the port changed, then connect() again: the request goes to the new port (as CPython, whose calls run in turn)', async () => {
    await withTwo(async (conn, a, b) => {
      const first = conn.connect();
      conn.port = b.port;
      const second = conn.connect();
      // Made after the second connect(): it waits for that socket.
      const sent = conn.request('GET', '/where');
      await Promise.all([first, second, sent]);
      // Before: the second connect() joined the first, and A answered.
      assert.equal((await (await conn.getresponse()).read()).toString(), 'from B');
      assert.deepEqual(requestLines(b, 0), ['GET /where']);
      await until(() => a.sockets.length === 1);
      await peerClosed(a.sockets[0] as import('node:net').Socket);
      assert.equal(wire(a, 0), '', 'nothing was sent to A');
    });
  });

  it("legacy HTTP: connect() not awaited, then connect(host, port) elsewhere: the reply is the new server's", async () => {
    const { HTTP } = await import('../../src/index.ts');
    await withTwo(async (_conn, a, b) => {
      const h = new HTTP(HOST, a.port);
      try {
        const first = h.connect();
        const second = h.connect(HOST, b.port);
        await Promise.all([first, second]);
        h.putrequest('GET', '/legacy');
        await h.endheaders();
        const [code, reason] = await h.getreply();
        assert.deepEqual([code, reason], [200, 'OK']);
        assert.equal((await (h.getfile() as HTTPResponse).read()).toString(), 'from B');
        assert.match(wire(b, 0), /^GET \/legacy HTTP\/1\.0\r\n/);
      } finally {
        h.close();
      }
    });
  });

  it('close() before the first connect is in: both connect() calls settle with AbortError; then it works', async () => {
    await withTwo(async (conn, _a, b) => {
      const first = conn.connect();
      conn.port = b.port;
      const second = conn.connect();
      conn.close();
      for (const pending of [first, second]) await assert.rejects(pending, closedByCaller);
      await conn.request('GET', '/after');
      assert.equal((await (await conn.getresponse()).read()).toString(), 'from B');
      assert.deepEqual(requestLines(b, 0), ['GET /after']);
    });
  });

  it('a third connect() to where the second goes joins it: the request made between goes on (review: it was given up)', async () => {
    await withTwo(async (conn, _a, b) => {
      const first = conn.connect();
      conn.port = b.port;
      const second = conn.connect();
      const sent = conn.request('GET', '/between');
      const third = conn.connect();
      await Promise.all([first, second, sent, third]);
      assert.equal((await (await conn.getresponse()).read()).toString(), 'from B');
      assert.equal(b.sockets.length, 1, 'one socket to B');
      assert.deepEqual(requestLines(b, 0), ['GET /between']);
    });
  });

  it('a request that was waiting for the first connect is given up (AbortError), as connect() gives up a request under way', async () => {
    await withTwo(async (conn, a, b) => {
      const first = conn.connect();
      const early = conn.request('GET', '/early');
      conn.port = b.port;
      const second = conn.connect();
      await assert.rejects(early, closedByCaller);
      await assert.rejects(first, closedByCaller);
      await second;
      await conn.request('GET', '/late');
      assert.equal((await (await conn.getresponse()).read()).toString(), 'from B');
      assert.deepEqual(requestLines(b, 0), ['GET /late']);
      assert.deepEqual(requestLines(a, 0), []);
    });
  });

  it('the first connect fails (refused): its error, and the second still connects to the new port', async () => {
    const closed = await rawServer(() => {});
    const refusedPort = closed.port;
    await closed.close();
    const b = await scriptedServer([FROM_B]);
    const conn = new HTTPConnection(HOST, refusedPort);
    try {
      const first = conn.connect();
      conn.port = b.port;
      const second = conn.connect();
      await assert.rejects(first, (err: NodeJS.ErrnoException) => err.code === 'ECONNREFUSED');
      await second;
      await conn.request('GET', '/b');
      assert.equal((await (await conn.getresponse()).read()).toString(), 'from B');
    } finally {
      conn.close();
      await b.close();
    }
  });
});

describe('connect() while a send() of raw bytes waits for its source (Idle)', () => {
  it('the send settles with AbortError (closed by the caller), not EPIPE; the new socket serves the next request', async () => {
    await withConn(await okServer(), async (conn, srv) => {
      await conn.connect();
      const { PassThrough } = await import('node:stream');
      const body = new PassThrough();
      const sending = conn.send(body);
      body.write('part 1');
      await until(() => wire(srv, 0) === 'part 1');
      await conn.connect();
      await assert.rejects(sending, (err: unknown) => {
        assert.ok(err instanceof AbortError, String(err));
        assert.match(err.message, /closed by the caller/);
        return true;
      });
      await fetchOk(conn, '/next');
      assert.equal(srv.sockets.length, 2);
      assert.deepEqual(requestLines(srv, 1), ['GET /next']);
    });
  });
});

describe('calls after close()', () => {
  it('getresponse() after close(): a rejected ResponseNotReady; close() twice; then requests', async () => {
    await withConn(await okServer(), async (conn, srv) => {
      await conn.request('GET', '/first');
      conn.close();
      conn.close();
      let p: Promise<unknown> | undefined;
      assert.doesNotThrow(() => {
        p = conn.getresponse();
      });
      await assert.rejects(p as Promise<unknown>, ResponseNotReady);
      await fetchOk(conn, '/second');
      assert.equal(srv.sockets.length, 2);
      assert.deepEqual(requestLines(srv, 1), ['GET /second']);
    });
  });

  const reads: Array<[string, (r: HTTPResponse) => Promise<unknown>, unknown]> = [
    ['read()', (r) => r.read(), Buffer.alloc(0)],
    ['read(2)', (r) => r.read(2), Buffer.alloc(0)],
    ['readinto()', (r) => r.readinto(Buffer.alloc(4)), 0],
    ['read1()', (r) => r.read1(), Buffer.alloc(0)],
    ['readline()', (r) => r.readline(), Buffer.alloc(0)],
    ['peek()', (r) => r.peek(), Buffer.alloc(0)],
    [
      'for await',
      async (r) => {
        const chunks: Buffer[] = [];
        for await (const chunk of r) chunks.push(chunk);
        return chunks;
      },
      [],
    ],
  ];
  for (const closer of ['response.close()', 'conn.close()'] as const) {
    it(`every read after ${closer}, body already received: empty, as Python 3 (fp is None)`, async () => {
      await withConn(await okServer(), async (conn) => {
        for (const [name, read, empty] of reads) {
          await conn.request('GET', '/');
          const r = await conn.getresponse();
          // The body came with the head: it is queued, unread.
          if (closer === 'response.close()') r.close();
          else conn.close();
          assert.equal(r.isclosed(), true, name);
          assert.deepEqual(await read(r), empty, name);
          // The connection is usable again (a kept response closed half-way drops the socket).
          await fetchOk(conn, '/next');
        }
      });
    });
  }
});

describe('close() from the debug output while the head is being parsed', () => {
  // set_debuglevel(1) prints each header as it is parsed; a debugOutput function that
  // closes the connection then is a close() during a pending getresponse().
  for (const line of ['reply:', 'header:']) {
    it(`close() at the '${line}' line: AbortError, not a response; the next request connects anew`, async () => {
      await withConn(await okServer(), async (conn, srv) => {
        conn.set_debuglevel(1);
        let closes = 0;
        conn.debugOutput = (text: string) => {
          if (closes === 0 && text.startsWith(line)) {
            closes++;
            conn.close();
          }
        };
        await conn.request('GET', '/first');
        const err = await conn.getresponse().then(
          (r) => assert.fail(`a response came: ${r.status}`),
          (e: unknown) => e,
        );
        assert.ok(err instanceof AbortError, String(err));
        assert.match(err.message, /closed by the caller/);
        assert.equal(closes, 1);
        await fetchOk(conn, '/second');
        assert.equal(srv.sockets.length, 2);
        assert.deepEqual(requestLines(srv, 1), ['GET /second']);
      });
    });
  }
});

describe('a body that fails before its first byte', () => {
  /** A TypeError of ours: the body stream cannot be read. */
  const unusable = (err: unknown): boolean =>
    err instanceof TypeError &&
    (err as NodeJS.ErrnoException).code === 'ERR_HTTPLIB_BODY_STREAM_UNUSABLE';
  /** Streams that cannot be read, as the call finds them, and what the call rejects with. */
  const deadStreams: Array<[string, () => Promise<unknown>, (err: unknown) => boolean]> = [
    [
      'a Readable destroyed before its end',
      async () => {
        const body = new PassThrough();
        body.write('never sent');
        body.destroy();
        return body;
      },
      unusable,
    ],
    [
      'a Readable destroyed with an error',
      async () => {
        const body = new Readable({ read() {} });
        body.on('error', () => {});
        body.destroy(new Error('already broken'));
        return body;
      },
      (err) => (err as Error).message === 'already broken',
    ],
    [
      'an fs.ReadStream whose file could not be opened',
      async () => {
        const body = createReadStream('/nonexistent/httplib-ts-hostile-missing-file');
        // Its 'error' came, then 'close' (events.once would reject with the error).
        await new Promise((resolve) =>
          body.on('error', () => {}).once('close', () => resolve(body)),
        );
        return body;
      },
      (err) => (err as NodeJS.ErrnoException).code === 'ENOENT',
    ],
    [
      'a locked web ReadableStream',
      async () => {
        const body = new ReadableStream<string>();
        body.getReader();
        return body;
      },
      unusable,
    ],
  ];
  for (const [name, make, expected] of deadStreams) {
    for (const [sender, send] of senders.slice(0, 2)) {
      it(`${name}, to ${sender}: refused before a byte is sent, the connection kept`, async () => {
        await withConn(await okServer(), async (conn, srv) => {
          await fetchOk(conn, '/first');
          const body = await make();
          await assert.rejects(send(conn, body), expected);
          await nextTurn();
          assert.deepEqual(requestLines(srv, 0), ['GET /first'], 'nothing of the refused request');
          if (sender === 'request()') {
            await fetchOk(conn, '/next');
            assert.equal(srv.sockets.length, 1);
            assert.deepEqual(requestLines(srv, 0), ['GET /first', 'GET /next']);
          }
        });
      });
    }
  }

  it('a FileHandle closed before the call: EBADF, nothing sent, the connection kept', async () => {
    await withConn(await okServer(), async (conn, srv) => {
      await fetchOk(conn, '/first');
      const handle = await fsp.open(new URL(import.meta.url));
      await handle.close();
      await assert.rejects(conn.request('PUT', '/up', handle), { code: 'EBADF' });
      await fetchOk(conn, '/next');
      // Its length could not be known: no head went out, the kept connection serves on.
      assert.equal(srv.sockets.length, 1);
      assert.deepEqual(requestLines(srv, 0), ['GET /first', 'GET /next']);
    });
  });

  for (const kind of ['a generator', 'an async generator'] as const) {
    it(`${kind} that throws at once, on a kept-alive connection: its error, no reuse after a head`, async () => {
      await withConn(await okServer(), async (conn, srv) => {
        await fetchOk(conn, '/first');
        // Each throws before its first yield (`fail` is true).
        const fail = (): boolean => true;
        const body =
          kind === 'a generator'
            ? (function* (): Generator<string> {
                if (fail()) throw new Error('no data');
                yield 'never';
              })()
            : (async function* (): AsyncGenerator<string> {
                if (fail()) throw new Error('no data');
                yield 'never';
              })();
        await assert.rejects(conn.request('POST', '/up', body), /no data/);
        let p: Promise<unknown> | undefined;
        assert.doesNotThrow(() => {
          p = conn.getresponse();
        });
        await assert.rejects(p as Promise<unknown>, ResponseNotReady);
        await fetchOk(conn, '/next');
        // The head of the failed request went out; that socket is never used again.
        assert.deepEqual(requestLines(srv, 0), ['GET /first', 'POST /up']);
        assert.doesNotMatch(wire(srv, 0), /\r\n0\r\n\r\n$/, 'no last chunk for a failed body');
        assert.deepEqual(requestLines(srv, 1), ['GET /next']);
      });
    });
  }
});

describe('a body that fails half-way through send() on a kept-alive connection', () => {
  it('its error; getresponse() is ResponseNotReady (Idle); the half-sent socket is never reused', async () => {
    await withConn(await okServer(), async (conn, srv) => {
      await fetchOk(conn, '/first');
      conn.putrequest('POST', '/up');
      conn.putheader('Content-Length', 10);
      await conn.endheaders();
      let fail: () => void = () => {};
      const failing = new Promise<void>((resolve) => {
        fail = resolve;
      });
      const body = (async function* (): AsyncGenerator<string> {
        yield 'abc';
        await failing;
        throw new Error('source failed');
      })();
      const sending = conn.send(body);
      await until(() => wire(srv, 0).endsWith('\r\n\r\nabc'));
      fail();
      await assert.rejects(sending, /source failed/);
      await assert.rejects(conn.getresponse(), ResponseNotReady);
      await fetchOk(conn, '/next');
      assert.deepEqual(requestLines(srv, 0), ['GET /first', 'POST /up']);
      assert.match(wire(srv, 0), /\r\n\r\nabc$/, 'nothing after the failed body');
      assert.deepEqual(requestLines(srv, 1), ['GET /next']);
    });
  });

  for (const kind of ['a missing file', 'a closed FileHandle'] as const) {
    it(`a send() after part of the body, whose body fails before its first byte (${kind}): the socket is never reused`, async () => {
      await withConn(await okServer(), async (conn, srv) => {
        await fetchOk(conn, '/first');
        conn.putrequest('POST', '/up');
        conn.putheader('Content-Length', 6);
        await conn.endheaders();
        await conn.send('aa');
        let body: unknown;
        if (kind === 'a missing file') {
          const { createReadStream } = await import('node:fs');
          body = createReadStream('/nonexistent/httplib-ts-body.bin');
        } else {
          const handle = await fsp.open(new URL(import.meta.url));
          await handle.close();
          body = handle;
        }
        await assert.rejects(conn.send(body as never), (err: unknown) => {
          const code = (err as NodeJS.ErrnoException).code;
          return code === 'ENOENT' || code === 'EBADF';
        });
        // The request is over (Idle); its socket, whose head promised 6 bytes, goes.
        await assert.rejects(conn.getresponse(), ResponseNotReady);
        await fetchOk(conn, '/next');
        assert.match(wire(srv, 0), /\r\n\r\naa$/, 'nothing after the part sent');
        assert.deepEqual(requestLines(srv, 1), ['GET /next']);
      });
    });
  }
});

describe('HTTPS: close() while the body waits for its source', { timeout: 60_000 }, () => {
  let pki: Pki;
  before(async () => {
    pki = await makePki();
  });
  after(() => pki?.remove());

  it('request() over TLS: AbortError at once; the next request handshakes anew', async () => {
    const srv = await rawTlsServer(pki.pair('server'), OK);
    const conn = new HTTPSConnection('localhost', srv.port, {
      context: ssl.create_default_context({ cafile: pki.file('ca.pem') }),
    });
    await guarded(
      async () => {
        conn.close();
        await srv.close();
      },
      async () => {
        const body = new Readable({ read() {} });
        body.push('first part;');
        const pending = conn.request('POST', '/up', body);
        const text = (i: number): string => (srv.received[i] ?? Buffer.alloc(0)).toString('latin1');
        await until(() => text(0).includes('first part;'));
        conn.close();
        await assert.rejects(pending, closedByCaller);
        body.push(null);
        await fetchOk(conn, '/next');
        assert.match(text(1), /^GET \/next HTTP\/1\.1\r\n/);
      },
    );
    await nextTurn();
  });
});

describe("an abort or close() in the same poll phase as a body's last bytes", () => {
  // A body read to its exact size wakes its read in the check phase (direct-read.ts), so
  // that bytes past it are seen first. Another socket's event in the same poll phase may
  // abort or close in between. Before: the read completed, and the failed socket was kept
  // as the idle connection: the next request rejected with the stale AbortError.
  for (const action of ['abort', 'response.close()', 'conn.close()'] as const) {
    for (const [style, size] of [
      ['readinto', 100],
      ['read(size)', 70_000],
    ] as const) {
      it(`${action} during ${style} of ${size} bytes: exact bytes or AbortError, and the next request works`, async () => {
        const body = Buffer.alloc(size, 0x62);
        let side: import('node:net').Socket | null = null;
        const sideServer = await rawServer((socket) => {
          side = socket;
        });
        const srv = await rawServer((socket, index) => {
          let heads = 0;
          socket.on('data', (d: Buffer) => {
            const n = d.toString('latin1').split('\r\n\r\n').length - 1;
            for (let k = 0; k < n; k++, heads++) {
              if (index === 0 && heads === 0) {
                socket.write(`HTTP/1.1 200 OK\r\nContent-Length: ${size}\r\n\r\n`);
                setTimeout(() => {
                  socket.write(body);
                  side?.write('x');
                }, 30);
              } else {
                socket.write('HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nnext');
              }
            }
          });
        });
        const { connect } = await import('node:net');
        const sideClient = connect(sideServer.port, HOST);
        const conn = new HTTPConnection(HOST, srv.port, { timeout: 10 });
        try {
          await new Promise((resolve) => sideClient.once('connect', resolve));
          await until(() => side !== null);
          await conn.request('GET', '/first');
          const r = await conn.getresponse();
          const controller = new AbortController();
          const options = action === 'abort' ? { signal: controller.signal } : undefined;
          const target = new Uint8Array(size);
          const reading =
            style === 'readinto' ? r.readinto(target, options) : r.read(size, options);
          sideClient.once('data', () => {
            if (action === 'abort') controller.abort();
            else if (action === 'response.close()') r.close();
            else conn.close();
          });
          const outcome = await reading.then(
            (v) => v,
            (e: unknown) => e,
          );
          if (outcome instanceof Error) assert.ok(outcome instanceof AbortError, String(outcome));
          else {
            const got = style === 'readinto' ? Buffer.from(target) : (outcome as Buffer);
            assert.ok(got.equals(body), 'the exact body');
          }
          await conn.request('GET', '/after');
          assert.equal((await (await conn.getresponse()).read()).toString(), 'next');
        } finally {
          conn.close();
          sideClient.destroy();
          await srv.close();
          await sideServer.close();
        }
      });
    }
  }
});

describe('a response that owns its socket', () => {
  it('conn.close() while its read waits: the read goes on to the end (Python passes the socket)', async () => {
    const srv = await rawServer((socket) => {
      socket.once('data', () => {
        socket.write('HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 10\r\n\r\nhello');
      });
    });
    await withConn(srv, async (conn) => {
      await conn.request('GET', '/');
      const r = await conn.getresponse();
      assert.equal(r.will_close, true);
      assert.deepEqual(await r.read(5), Buffer.from('hello'));
      const pending = r.read();
      conn.close();
      (srv.sockets[0] as import('node:net').Socket).end('world');
      assert.deepEqual(await pending, Buffer.from('world'));
      assert.equal(r.isclosed(), true);
    });
  });
});

describe('bad arguments to the reads of a response', () => {
  const LINES = 'HTTP/1.1 200 OK\r\nContent-Length: 12\r\n\r\nhello\nworld\n';

  /** `call` must reject (never throw) with a TypeError; the body is untouched after it. */
  async function refused(call: (r: HTTPResponse) => Promise<unknown>): Promise<void> {
    const srv = await scriptedServer([LINES]);
    await withConn(srv, async (conn) => {
      await conn.request('GET', '/');
      const r = await conn.getresponse();
      let pending: Promise<unknown>;
      try {
        pending = call(r);
      } catch (err) {
        assert.fail(`threw synchronously instead of rejecting: ${String(err)}`);
      }
      await assert.rejects(pending, TypeError);
      assert.equal(r.isclosed(), false, 'the response is still open');
      assert.equal((await r.read()).toString(), 'hello\nworld\n', 'the body is intact');
    });
  }

  // Python 3: "argument should be integer or None"; a NaN limit once looped forever in
  // read1() (the event loop frozen), and readline(NaN) returned an empty line.
  for (const bad of [Number.NaN, 2.5, Number.POSITIVE_INFINITY, '5', true, {}]) {
    const text = typeof bad === 'string' ? `'${bad}'` : String(bad);
    for (const method of ['read', 'read1', 'readline', 'peek'] as const) {
      it(`${method}(${text}): a rejected TypeError, the body intact`, () =>
        refused((r) => (r[method] as (n: unknown) => Promise<Buffer>).call(r, bad)));
    }
  }
  for (const bad of [null, undefined, 'abc', 12, [1, 2, 3], new ArrayBuffer(4)]) {
    const text = Array.isArray(bad)
      ? '[1, 2, 3]'
      : typeof bad === 'string'
        ? `'${bad}'`
        : String(bad);
    it(`readinto(${text}): a rejected TypeError, the body intact`, () =>
      refused((r) => r.readinto(bad as never)));
  }

  it('null and negative sizes mean no limit, as -1 does', async () => {
    const srv = await scriptedServer([LINES, LINES]);
    await withConn(srv, async (conn) => {
      await conn.request('GET', '/');
      const r = await conn.getresponse();
      assert.equal((await r.readline(null as never)).toString(), 'hello\n');
      assert.equal((await r.readline(-7)).toString(), 'world\n');
      await conn.request('GET', '/');
      const r2 = await conn.getresponse();
      assert.equal((await r2.read1(0)).length, 0);
      assert.equal((await r2.read1(null as never)).toString(), 'hello\nworld\n');
    });
  });

  it('readinto() takes any ArrayBuffer view and fills its bytes (Python: any writable buffer)', async () => {
    const srv = await scriptedServer([LINES]);
    await withConn(srv, async (conn) => {
      await conn.request('GET', '/');
      const r = await conn.getresponse();
      const words = new Uint16Array(3);
      assert.equal(await r.readinto(words as never), 6);
      assert.equal(Buffer.from(words.buffer).toString(), 'hello\n');
      const bytes = new DataView(new ArrayBuffer(8), 2, 6);
      assert.equal(await r.readinto(bytes as never), 6);
      assert.equal(Buffer.from(bytes.buffer, 2, 6).toString(), 'world\n');
      assert.equal(await r.readinto(new Uint8Array(4)), 0);
    });
  });

  it('readinto() of a view whose buffer was already transferred: 0 bytes, a promise (never a throw), for every kind of view', async () => {
    const srv = await scriptedServer([LINES]);
    await withConn(srv, async (conn) => {
      await conn.request('GET', '/');
      const r = await conn.getresponse();
      const detached = <V extends ArrayBufferView>(view: V): V => {
        structuredClone(view.buffer, { transfer: [view.buffer as ArrayBuffer] });
        return view;
      };
      const views: Array<[string, ArrayBufferView]> = [
        ['Uint8Array', detached(new Uint8Array(8))],
        ['Float64Array', detached(new Float64Array(1))],
        ['DataView', detached(new DataView(new ArrayBuffer(8)))],
      ];
      for (const [name, view] of views) {
        // Before: Float64Array and DataView threw a TypeError from the call itself.
        let pending: Promise<number> | undefined;
        assert.doesNotThrow(() => {
          pending = r.readinto(view as never);
        }, name);
        assert.equal(await pending, 0, name);
      }
      // The body is still all there.
      assert.equal((await r.read()).toString(), 'hello\nworld\n');
    });
  });
});
