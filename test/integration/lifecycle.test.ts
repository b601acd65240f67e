/**
 * The connection lifecycle as a new user meets it (issue 13, its eight scenarios), over
 * real sockets on 127.0.0.1, under `unhandledRejection`/`uncaughtException` hooks that
 * fail the file: overlapping `getresponse()`, a refused request whose body was a file
 * stream, a body that fails, `close()` while a read / the head / the connect / the TLS
 * handshake / the CONNECT tunnel waits, a forgotten `await`, misuse of promise methods
 * (they reject, never throw), and an idle kept-alive connection the server closed.
 *
 * shared/API.md, "Calls, promises and closing".
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import {
  closeSync,
  createReadStream,
  mkdtempSync,
  openSync,
  readSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { open } from 'node:fs/promises';
import type * as net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import { describe } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  AbortError,
  CannotSendHeader,
  HTTPConnection,
  type HTTPResponse,
  HTTPSConnection,
  InvalidURL,
  NotConnected,
  RemoteDisconnected,
  ResponseNotReady,
  ssl,
} from '../../src/index.ts';
import {
  closedPort,
  guarded,
  httpServer,
  nextTurn,
  type RawServer,
  rawServer,
  readBody,
  recordEscapes,
  scriptedServer,
  stalledListener,
  timeLimited,
} from './servers.ts';

const HOST = '127.0.0.1';
const OK = 'HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok';
const MISSING = '/nonexistent/httplib-ts-lifecycle-missing-file';

const { it } = timeLimited(30_000);

const escapes = recordEscapes();

/** Let late events run (an fs open failing, a socket closing), then check nothing escaped. */
async function nothingEscaped(): Promise<void> {
  await sleep(30);
  await new Promise((resolve) => setImmediate(resolve));
  assert.deepEqual(
    escapes.take(),
    [],
    'an error escaped as an unhandled rejection or an uncaught exception',
  );
}

/** Run `fn` with a connection to `srv`; close both afterwards (also on a hang). */
async function withConn(
  srv: RawServer,
  fn: (conn: HTTPConnection, srv: RawServer) => Promise<void>,
  options: ConstructorParameters<typeof HTTPConnection>[2] = {},
): Promise<void> {
  const conn = new HTTPConnection(HOST, srv.port, options);
  await guarded(
    async () => {
      conn.close();
      await srv.close();
    },
    () => fn(conn, srv),
  );
  await nothingEscaped();
}

/** An AbortError that says the caller closed it (never TypeError, never the server's fault). */
function closedByCaller(err: unknown): true {
  assert.ok(err instanceof AbortError, `expected AbortError, got ${String(err)}`);
  assert.match(err.message, /closed by the caller/);
  return true;
}

/** A head, then the body only when `release()` is called (once the head went out). */
function headThenBody(): { reply: (s: net.Socket) => void; release: () => Promise<void> } {
  let replied: (s: net.Socket) => void = () => {};
  const socket = new Promise<net.Socket>((resolve) => {
    replied = resolve;
  });
  return {
    reply: (s) => {
      s.write('HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n');
      replied(s);
    },
    release: async () => {
      (await socket).write('hello');
    },
  };
}

/** A well-behaved server: every request on every connection gets `OK`. */
function okServer(): Promise<RawServer> {
  return scriptedServer([OK, OK, OK, OK, OK, OK]);
}

/** The request lines received on connection `i`. */
function requestLines(srv: RawServer, i: number): string[] {
  const text = (srv.received[i] ?? Buffer.alloc(0)).toString('latin1');
  return [...text.matchAll(/^([A-Z]+ \S+) HTTP\/1\.[01]\r$/gm)].map((m) => m[1] as string);
}

async function fetchOk(conn: HTTPConnection, url = '/next'): Promise<void> {
  await conn.request('GET', url);
  const r = await conn.getresponse();
  assert.equal((await r.read()).toString(), 'ok');
}

describe('scenario 1: two getresponse() calls at once', () => {
  it('the body comes later: the second rejects with ResponseNotReady, the first is intact', async () => {
    const late = headThenBody();
    await withConn(await scriptedServer([late.reply]), async (conn) => {
      await conn.request('GET', '/');
      const p1 = conn.getresponse();
      const p2 = conn.getresponse();
      await assert.rejects(p2, ResponseNotReady);
      await late.release();
      const r1 = await p1;
      assert.equal((await r1.read()).toString(), 'hello');
    });
  });

  it('the body came with the head: the second cannot eat the first response body', async () => {
    const full = 'HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello';
    await withConn(await scriptedServer([full]), async (conn) => {
      await conn.request('GET', '/');
      const p1 = conn.getresponse();
      const p2 = conn.getresponse();
      await assert.rejects(p2, ResponseNotReady);
      const r1 = await p1;
      assert.equal((await r1.read()).toString(), 'hello');
    });
  });
});

describe('scenario 2: a refused request whose body is a file stream', () => {
  it('a bad URL rejects with InvalidURL; the body is never touched, nothing escapes', async () => {
    await withConn(await okServer(), async (conn) => {
      const body = createReadStream(MISSING);
      // The stream is the caller's: a careful caller listens to its errors. What this
      // test checks is that the library started nothing that rejects unobserved.
      const seen: unknown[] = [];
      body.on('error', (err) => seen.push(err));
      const listeners = body.listenerCount('error');
      try {
        await conn.request('GET', '/bad path', body);
        assert.fail('request() should have rejected');
      } catch (err) {
        assert.ok(err instanceof InvalidURL, String(err));
      }
      await nothingEscaped();
      assert.equal(body.listenerCount('error'), listeners, 'no listener left on the stream');
      // The state is unchanged: the next request goes out.
      await fetchOk(conn);
    });
  });
});

describe('scenario 3: a body that fails', () => {
  it('a missing file rejects the request, and the connection then serves requests', async () => {
    await withConn(await okServer(), async (conn) => {
      await fetchOk(conn, '/first');
      const body = createReadStream(MISSING);
      await assert.rejects(conn.request('PUT', '/', body), { code: 'ENOENT' });
      assert.equal(body.listenerCount('error'), 0, 'no listener left on the stream');
      await fetchOk(conn, '/second');
      await fetchOk(conn, '/third');
    });
  });

  it('a missing file on a connection not yet open: ENOENT, nothing escapes, then requests', async () => {
    await withConn(await okServer(), async (conn) => {
      const body = createReadStream(MISSING);
      await assert.rejects(conn.request('PUT', '/', body), { code: 'ENOENT' });
      assert.equal(body.listenerCount('error'), 0, 'no listener left on the stream');
      await nothingEscaped();
      await fetchOk(conn, '/after');
    });
  });

  it('a file body whose connect is refused: no listener left once its stat is done', async () => {
    const srv = await rawServer(() => {});
    const port = srv.port;
    await srv.close();
    const conn = new HTTPConnection(HOST, port);
    const body = createReadStream(new URL(import.meta.url));
    try {
      await assert.rejects(conn.request('PUT', '/', body), { code: 'ECONNREFUSED' });
      // Its stat finishes after the refusal: then our listener must come off.
      while (body.pending) await sleep(5);
      await sleep(20);
      assert.equal(body.listenerCount('error'), 0, 'a listener was left on the stream');
    } finally {
      body.destroy();
      conn.close();
    }
    await nothingEscaped();
  });

  it("a stream that only emits 'error' before it is read (no destroy): the request rejects with it, then requests", async () => {
    // An emitter-style source or a wrapper: the stream does not keep the error, so only
    // the listener that saw it can report it; read, the stream would be waited on for ever.
    await withConn(await okServer(), async (conn) => {
      const body = new PassThrough();
      body.write('part one');
      const pending = conn.request('POST', '/upload', body);
      body.emit('error', new Error('source failed'));
      await assert.rejects(pending, /source failed/);
      assert.equal(body.listenerCount('error'), 0, 'no listener left on the stream');
      await fetchOk(conn, '/after');
    });
  });

  // finished() reports an 'error' without a value as the stream's end, and one with a
  // string as that string: only our guard saw them as failures, made Errors of ours.
  const cases: Array<[string, unknown[], RegExp, unknown]> = [
    ['no value', [], /emitted an error without a value/, undefined],
    [
      'a string',
      ['disk on fire'],
      /the body stream failed with a value that is not an Error/,
      'disk on fire',
    ],
  ];
  for (const [what, args, message, cause] of cases) {
    it(`a stream that emits 'error' with ${what} half-way: an Error of ours with a code, the body not taken as complete`, async () => {
      await withConn(await okServer(), async (conn) => {
        let pushed = false;
        const body = new Readable({
          read() {
            if (pushed) return;
            pushed = true;
            this.push('part one');
            setTimeout(() => this.emit('error', ...args), 20);
          },
        });
        body.on('error', () => {});
        await assert.rejects(conn.request('POST', '/upload', body), (err: unknown) => {
          assert.ok(err instanceof Error, String(err));
          assert.match(err.message, message);
          assert.equal((err as NodeJS.ErrnoException).code, 'ERR_HTTPLIB_NOT_AN_ERROR');
          assert.equal(err.cause, cause);
          return true;
        });
        await fetchOk(conn, '/after');
      });
    });
  }

  it('a stream failing half-way rejects; the half-sent connection is not reused', async () => {
    await withConn(await okServer(), async (conn) => {
      const failing = async function* (): AsyncGenerator<string> {
        yield 'part one';
        await sleep(10);
        throw new Error('source failed');
      };
      await assert.rejects(conn.request('POST', '/upload', failing()), /source failed/);
      await fetchOk(conn, '/after');
    });
  });
});

describe('a failed request leaves no listener on the caller stream', () => {
  it('a refused connect, and close() during the connect', async () => {
    const srv = await rawServer(() => {});
    const port = srv.port;
    await srv.close();
    const conn = new HTTPConnection(HOST, port);
    const body = Readable.from(['never', 'sent']);
    const before = body.listenerCount('error');
    await assert.rejects(conn.request('POST', '/', body), { code: 'ECONNREFUSED' });
    assert.equal(body.listenerCount('error'), before, 'refused: a listener was left behind');
    const stalled = await stalledListener();
    try {
      conn.port = stalled.port;
      const pending = conn.request('POST', '/', body);
      assert.equal(body.listenerCount('error'), before + 1, 'ours while the request runs');
      await sleep(30);
      conn.close();
      await assert.rejects(pending, closedByCaller);
      assert.equal(body.listenerCount('error'), before, 'closed: a listener was left behind');
    } finally {
      conn.close();
      await stalled.close();
    }
    await nothingEscaped();
  });
});

describe('a failed call takes its own listener off a stream, not another call’s', () => {
  it('close() while the body waits for a piece: one listener comes off, the other call keeps its own', async () => {
    const body = new PassThrough();
    const before = body.listenerCount('error');
    const stalled = await stalledListener();
    const srv = await rawServer(() => {});
    const waiting = new HTTPConnection(HOST, stalled.port);
    const sending = new HTTPConnection(HOST, srv.port);
    try {
      // One call still connecting with the stream, another sending it (nothing to read yet).
      const first = waiting.request('POST', '/', body);
      first.catch(() => {});
      const second = sending.request('POST', '/', body);
      await srv.connections(1);
      await sleep(20);
      assert.ok(body.listenerCount('error') >= before + 2, 'a listener per call');
      sending.close();
      await assert.rejects(second, closedByCaller);
      await nextTurn();
      assert.equal(body.listenerCount('error'), before + 1, 'the waiting call lost its listener');
      waiting.close();
      await assert.rejects(first, closedByCaller);
      assert.equal(body.listenerCount('error'), before);
    } finally {
      waiting.close();
      sending.close();
      await stalled.close();
      await srv.close();
    }
    await nothingEscaped();
  });
});

describe('failed calls with an fs.ReadStream that is still opening', () => {
  const canFifo = process.platform !== 'win32' && spawnSync('mkfifo', ['--version']).status === 0;
  const EVENTS = ['error', 'open', 'close', 'readable', 'data', 'end'] as const;
  const listeners = (stream: Readable): Record<string, number> =>
    Object.fromEntries(EVENTS.map((e) => [e, stream.listenerCount(e)]));

  it('refused, closed, NotConnected: nothing piles up on it, and it is then sent whole', async () => {
    if (!canFifo) return;
    const dir = mkdtempSync(join(tmpdir(), 'httplib-fifo-'));
    const fifo = join(dir, 'body');
    spawnSync('mkfifo', [fifo]);
    // A FIFO without a writer: its open waits until one comes, so the stream is pending.
    const stream = createReadStream(fifo);
    const received: Buffer[] = [];
    const srv = await httpServer(async (req, res) => {
      received.push(await readBody(req));
      res.end('ok');
    });
    let writer: Promise<unknown> | null = null;
    const refusedPort = await closedPort();
    try {
      const before = listeners(stream);
      const failures: Array<[string, () => Promise<unknown>, (err: unknown) => boolean]> = [
        [
          'refused',
          () => new HTTPConnection(HOST, refusedPort).request('PUT', '/', stream),
          (err) => (err as { code?: string }).code === 'ECONNREFUSED',
        ],
        [
          'send() refused',
          () => new HTTPConnection(HOST, refusedPort).send(stream),
          (err) => (err as { code?: string }).code === 'ECONNREFUSED',
        ],
        [
          'close() in the middle',
          () => {
            const conn = new HTTPConnection(HOST, srv.port);
            const call = conn.request('PUT', '/', stream);
            conn.close();
            return call;
          },
          closedByCaller,
        ],
        [
          'auto_open off',
          () => {
            const conn = new HTTPConnection(HOST, srv.port);
            conn.auto_open = 0;
            return conn.request('PUT', '/', stream);
          },
          (err) => err instanceof NotConnected,
        ],
      ];
      let afterFirst: Record<string, number> | null = null;
      for (let round = 0; round < 3; round++) {
        for (const [what, call, expected] of failures) {
          await assert.rejects(call(), expected, what);
          assert.ok(stream.pending, 'the stream is still opening');
          afterFirst ??= listeners(stream);
          assert.deepEqual(
            listeners(stream),
            afterFirst,
            `${what} (round ${round}) left listeners`,
          );
        }
      }
      // At most one wait for the open ('open', 'error', 'close'), shared: nothing per call.
      for (const e of EVENTS) {
        assert.ok((afterFirst?.[e] ?? 0) <= (before[e] ?? 0) + 1, `${e} listeners`);
      }
      // A writer comes: the stream opens; nothing of ours is left on it, nothing was read.
      writer = (async () => {
        const handle = await open(fifo, 'w');
        await handle.writeFile('the whole body');
        await handle.close();
      })();
      await once(stream, 'open');
      await nextTurn();
      assert.deepEqual(listeners(stream), before, 'listeners left once it opened');
      assert.equal(stream.bytesRead, 0);
      await writer;
      const conn = new HTTPConnection(HOST, srv.port);
      try {
        await conn.request('PUT', '/', stream);
        const r = await conn.getresponse();
        assert.equal((await r.read()).toString(), 'ok');
      } finally {
        conn.close();
      }
      assert.equal(Buffer.concat(received).toString(), 'the whole body');
      assert.deepEqual(listeners(stream), before, 'listeners left after it was sent');
    } finally {
      if (writer === null) writer = open(fifo, 'w').then((h) => h.close());
      await writer.catch(() => {});
      stream.destroy();
      await srv.close();
      rmSync(dir, { recursive: true, force: true });
    }
    await nothingEscaped();
  });

  it('auto_open off, a missing file: NotConnected; its open error does not escape', async () => {
    const conn = new HTTPConnection(HOST, await closedPort());
    conn.auto_open = 0;
    const body = createReadStream(MISSING);
    try {
      await assert.rejects(conn.request('PUT', '/', body), NotConnected);
      await assert.rejects(conn.send(body), NotConnected);
      // Its open fails after the calls did (events.once would take the 'error' itself).
      await new Promise<void>((resolve) => body.once('close', () => resolve()));
      await nothingEscaped();
      assert.equal(body.listenerCount('error'), 0, 'a listener was left on the stream');
    } finally {
      conn.close();
    }
  });
});

describe('scenario 4: close() while a read waits', () => {
  const reads: Array<[string, (r: HTTPResponse) => Promise<unknown>]> = [
    ['read()', (r) => r.read()],
    ['read(3)', (r) => r.read(3)],
    ['readinto()', (r) => r.readinto(Buffer.alloc(4))],
    ['read1()', (r) => r.read1()],
    ['readline()', (r) => r.readline()],
    ['peek()', (r) => r.peek()],
    [
      'for await',
      async (r) => {
        for await (const chunk of r) void chunk;
      },
    ],
  ];
  for (const [name, readIt] of reads) {
    for (const closer of ['response.close()', 'conn.close()'] as const) {
      it(`${closer} while ${name} waits: AbortError saying the caller closed it`, async () => {
        const late = headThenBody();
        await withConn(await scriptedServer([[late.reply], [OK]]), async (conn) => {
          await conn.request('GET', '/');
          const r = await conn.getresponse();
          const pending = readIt(r);
          await sleep(10);
          if (closer === 'response.close()') r.close();
          else conn.close();
          // conn.close() leaves a response that owns its socket alone; this one is kept
          // alive, so the connection's close ends it.
          await assert.rejects(pending, closedByCaller);
          await late.release();
          await fetchOk(conn);
        });
      });
    }
  }
});

describe('scenario 5: close() while the connection waits', () => {
  it('while getresponse() waits for the head: AbortError, not RemoteDisconnected', async () => {
    await withConn(await scriptedServer([[() => {}], [OK]]), async (conn) => {
      await conn.request('GET', '/');
      const pending = conn.getresponse();
      await sleep(10);
      conn.close();
      await assert.rejects(pending, closedByCaller);
      await fetchOk(conn);
    });
  });

  it('while the TCP connect waits: AbortError; the object serves the next request', async () => {
    const stalled = await stalledListener();
    const srv = await okServer();
    const conn = new HTTPConnection(HOST, stalled.port);
    try {
      const pending = conn.request('GET', '/');
      await sleep(50);
      conn.close();
      await assert.rejects(pending, closedByCaller);
      conn.port = srv.port;
      await fetchOk(conn);
    } finally {
      conn.close();
      await stalled.close();
      await srv.close();
    }
    await nothingEscaped();
  });

  it('while the TLS handshake waits: AbortError, not a plain Error', async () => {
    // A server that accepts and never answers the ClientHello.
    const srv = await rawServer(() => {});
    const conn = new HTTPSConnection(HOST, srv.port, {
      context: ssl._create_unverified_context(),
    });
    try {
      const pending = conn.connect();
      await srv.connections(1);
      await sleep(20);
      conn.close();
      await assert.rejects(pending, closedByCaller);
    } finally {
      conn.close();
      await srv.close();
    }
    await nothingEscaped();
  });

  it('while the CONNECT tunnel waits for the proxy: AbortError', async () => {
    const proxy = await rawServer(() => {});
    const conn = new HTTPConnection(HOST, proxy.port);
    conn.set_tunnel('example.com', 80);
    try {
      const pending = conn.request('GET', '/');
      await proxy.connections(1);
      await sleep(20);
      conn.close();
      await assert.rejects(pending, closedByCaller);
    } finally {
      conn.close();
      await proxy.close();
    }
    await nothingEscaped();
  });

  it('while a body waits for the server to read it: AbortError', async () => {
    // The server reads nothing: a large body fills the socket buffers.
    const srv = await rawServer((s) => s.pause());
    await withConn(srv, async (conn) => {
      const pending = conn.request('PUT', '/', Buffer.alloc(32 * 1024 * 1024));
      await sleep(50);
      conn.close();
      await assert.rejects(pending, closedByCaller);
    });
  });
});

describe('scenario 6: a forgotten await', () => {
  it('request() not awaited, then getresponse(), on a fresh connection', async () => {
    await withConn(await okServer(), async (conn) => {
      void conn.request('GET', '/one');
      const r = await conn.getresponse();
      assert.equal((await r.read()).toString(), 'ok');
      void conn.request('GET', '/two');
      const r2 = await conn.getresponse();
      assert.equal((await r2.read()).toString(), 'ok');
    });
  });

  it('a request that fails: getresponse() rejects with its error, nothing unhandled', async () => {
    const srv = await rawServer(() => {});
    const port = srv.port;
    await srv.close();
    const conn = new HTTPConnection(HOST, port);
    const ignored = conn.request('GET', '/');
    await assert.rejects(conn.getresponse(), { code: 'ECONNREFUSED' });
    await assert.rejects(ignored, { code: 'ECONNREFUSED' });
    conn.close();
    await nothingEscaped();
  });
});

describe('scenario 7: promise methods reject, never throw', () => {
  it('getresponse() before a request: a rejected promise (.catch sees ResponseNotReady)', async () => {
    await withConn(await okServer(), async (conn) => {
      let p: Promise<unknown> | undefined;
      assert.doesNotThrow(() => {
        p = conn.getresponse();
      });
      await assert.rejects(p as Promise<unknown>, ResponseNotReady);
      await fetchOk(conn);
    });
  });

  it('request() with bad headers, a bad URL or a bad method: rejected, state unchanged', async () => {
    await withConn(await okServer(), async (conn, srv) => {
      const calls: Array<[() => Promise<unknown>, unknown]> = [
        [() => conn.request('GET', '/', null, { 'X-A': 'a\r\nX-B: b' }), TypeError],
        [() => conn.request('GET', '/', null, { 'Bad Name': 'v' }), TypeError],
        [() => conn.request('GET', '/a b'), InvalidURL],
        [() => conn.request('G ET', '/'), TypeError],
        [() => conn.request('GET', '/', 42 as never), TypeError],
      ];
      for (const [call, cls] of calls) {
        let p: Promise<unknown> | undefined;
        assert.doesNotThrow(() => {
          p = call();
        });
        await assert.rejects(p as Promise<unknown>, cls as typeof Error);
      }
      assert.equal(conn.sock, null, 'nothing was connected');
      await fetchOk(conn);
      assert.deepEqual(requestLines(srv, 0), ['GET /next']);
    });
  });

  it('endheaders() and send() misuse: rejected promises', async () => {
    await withConn(await okServer(), async (conn) => {
      let p: Promise<unknown> | undefined;
      assert.doesNotThrow(() => {
        p = conn.endheaders();
      });
      await assert.rejects(p as Promise<unknown>, CannotSendHeader);
      conn.auto_open = 0;
      assert.doesNotThrow(() => {
        p = conn.send('data');
      });
      await assert.rejects(p as Promise<unknown>, NotConnected);
      conn.auto_open = 1;
      await fetchOk(conn);
    });
  });
});

describe('scenario 8: the server closed an idle kept-alive connection', () => {
  /**
   * A server that answers with keep-alive responses and closes a connection once it
   * has been idle for `idleMs` (as nginx's keepalive_timeout, Apache's KeepAliveTimeout).
   */
  function closesIdle(idleMs: number): Promise<RawServer> {
    return scriptedServer(
      Array.from({ length: 4 }, () =>
        Array.from({ length: 4 }, () => (s: net.Socket) => {
          s.write(OK);
          setTimeout(() => s.end(), idleMs);
        }),
      ),
    );
  }

  it('EOF seen before anything of the next request was written: a new connection', async () => {
    const srv = await closesIdle(20);
    await withConn(srv, async (conn) => {
      await fetchOk(conn, '/first');
      const sock = conn.sock as net.Socket;
      // The client has seen the server's FIN before anything of the next request is
      // written (the socket is 'writeOnly', or already dropped by the client).
      if (!sock.readableEnded && !sock.destroyed) await once(sock, 'end');
      await fetchOk(conn, '/second');
      assert.equal(srv.sockets.length, 2);
      assert.deepEqual(requestLines(srv, 0), ['GET /first']);
      assert.deepEqual(requestLines(srv, 1), ['GET /second']);
    });
  });

  it('a close after the request was written stays an error: no silent retry', async () => {
    const srv = await scriptedServer([[OK, (s) => s.end()], [OK]]);
    await withConn(srv, async (conn) => {
      await fetchOk(conn, '/first');
      await conn.request('GET', '/second');
      await assert.rejects(conn.getresponse(), RemoteDisconnected);
      assert.equal(srv.sockets.length, 1, 'the request was not sent again');
      assert.deepEqual(requestLines(srv, 0), ['GET /first', 'GET /second']);
      await fetchOk(conn, '/third');
      assert.equal(srv.sockets.length, 2);
    });
  });

  it('a reset while idle: a new connection too', async () => {
    const srv = await scriptedServer([
      [
        (s) => {
          s.write(OK);
          setTimeout(() => s.resetAndDestroy(), 20);
        },
      ],
      [OK],
    ]);
    await withConn(srv, async (conn) => {
      await fetchOk(conn, '/first');
      await sleep(80);
      await fetchOk(conn, '/second');
      assert.equal(srv.sockets.length, 2);
    });
  });
});

describe('a stream body the call gave up on stays the caller’s, every piece of it', () => {
  for (const how of ['close()', 'its signal'] as const) {
    it(`${how} while the body waits for its next piece: the retry sends the pieces written after`, async () => {
      const srv = await rawServer(() => {});
      const conn = new HTTPConnection(HOST, srv.port, { timeout: 10 });
      try {
        const body = new PassThrough();
        body.write('first');
        const ac = new AbortController();
        const first = conn.request(
          'POST',
          '/one',
          body,
          null,
          how === 'close()' ? {} : { signal: ac.signal },
        );
        first.catch(() => {});
        while (!srv.received[0]?.toString('latin1').includes('first')) await sleep(5);
        if (how === 'close()') conn.close();
        else ac.abort();
        await assert.rejects(first, AbortError);
        // The caller still owns the stream: the rest of it goes with the next request.
        const retry = conn.request('POST', '/two', body);
        await sleep(20);
        body.write('SECOND');
        await sleep(20);
        body.end('THIRD');
        await retry;
        await srv.connections(2);
        while (!srv.received[1]?.toString('latin1').endsWith('0\r\n\r\n')) await sleep(5);
        const sent = srv.received[1]?.toString('latin1') ?? '';
        assert.match(sent, /^POST \/two HTTP\/1\.1\r\n/);
        assert.match(sent, /\r\n6\r\nSECOND\r\n5\r\nTHIRD\r\n0\r\n\r\n$/);
        await nothingEscaped();
      } finally {
        conn.close();
        await srv.close();
      }
    });
  }
});

describe('a stream flowing to a listener of the caller’s (a progress counter) when a call takes it', () => {
  /** A server that answers OK once a chunked request body is complete. */
  function chunkedOk(): Promise<RawServer> {
    return rawServer((socket, i, srv) => {
      socket.on('data', () => {
        if (srv.received[i]?.toString('latin1').endsWith('\r\n0\r\n\r\n')) socket.write(OK);
      });
    });
  }

  /** The body of the chunked request on connection 0, its chunks joined; null before its end. */
  function chunkedBody(srv: RawServer): string | null {
    const wire = srv.received[0]?.toString('latin1') ?? '';
    let at = wire.indexOf('\r\n\r\n') + 4;
    let body = '';
    for (;;) {
      const eol = wire.indexOf('\r\n', at);
      if (at < 4 || eol === -1) return null;
      const size = Number.parseInt(wire.slice(at, eol), 16);
      if (size === 0) return body;
      body += wire.slice(eol + 2, eol + 2 + size);
      at = eol + 2 + size + 2;
    }
  }

  it('a PassThrough written to after request(): every piece goes out, each also seen by the listener', async () => {
    await withConn(await chunkedOk(), async (conn, srv) => {
      const body = new PassThrough();
      let seen = '';
      body.on('data', (d: Buffer) => {
        seen += d.toString('latin1');
      });
      const sent = conn.request('PUT', '/up', body);
      // Before the connection is even open: flowing, it went to the listener only.
      body.write('abc');
      await srv.connections(1);
      body.end('def');
      await sent;
      assert.equal((await (await conn.getresponse()).read()).toString(), 'ok');
      assert.match(srv.received[0]?.toString('latin1') ?? '', /^PUT \/up HTTP\/1\.1\r\n/);
      assert.equal(chunkedBody(srv), 'abcdef');
      assert.equal(seen, 'abcdef');
    });
  });

  for (const when of ['before', 'after'] as const) {
    it(`an fs.ReadStream (its listener made ${when} request()) whose request waits behind a head: its Content-Length counts what it read meanwhile, all of it goes out`, async () => {
      const dir = mkdtempSync(join(tmpdir(), 'httplib-flowing-'));
      try {
        const file = join(dir, 'one-mib.bin');
        const content = randomBytes(1 << 20);
        writeFileSync(file, content);
        // The first request's socket, once the server has it: answered when the test says.
        let took: (socket: net.Socket) => void = () => {};
        const firstSocket = new Promise<net.Socket>((resolve) => {
          took = resolve;
        });
        const srv = await scriptedServer([(socket) => took(socket), OK]);
        await withConn(srv, async (conn) => {
          await conn.request('GET', '/first');
          const first = conn.getresponse();
          const stream = createReadStream(file);
          let seen = 0;
          const progress = (d: string | Buffer): void => {
            seen += d.length;
          };
          if (when === 'before') stream.on('data', progress);
          // Made while the head is read: it waits, with its length stat-ed, until the head is in.
          const put = conn.request('PUT', '/file', stream);
          if (when === 'after') stream.on('data', progress);
          // What the stream reads meanwhile: held, it keeps it for the request (or, never
          // flowing before, reads nothing yet); flowing, its listener takes it.
          await once(stream, 'open');
          const held = (): boolean =>
            when === 'before' ? stream.readableLength > 0 : stream.readableFlowing === false;
          while (seen === 0 && !held()) await sleep(5);
          (await firstSocket).write(OK);
          assert.equal((await (await first).read()).toString(), 'ok');
          await put;
          assert.equal((await (await conn.getresponse()).read()).toString(), 'ok');
          const wire = srv.received[0] ?? Buffer.alloc(0);
          const at = wire.indexOf('PUT /file ');
          const head = wire.subarray(at, wire.indexOf('\r\n\r\n', at)).toString('latin1');
          assert.match(head, /\r\nContent-Length: 1048576(\r\n|$)/);
          const sent = wire.subarray(at + head.length + 4);
          assert.equal(sent.length, content.length);
          assert.ok(sent.equals(content), 'the bytes of the file, in order');
          assert.equal(seen, content.length);
        });
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });
  }

  it('a call that fails after taking a stream gives it back as it was (flowing, or not)', async () => {
    const conn = new HTTPConnection(HOST, await closedPort());
    try {
      const flowing = new PassThrough();
      let seen = '';
      flowing.on('data', (d: Buffer) => {
        seen += d.toString('latin1');
      });
      const idle = new PassThrough();
      await assert.rejects(conn.request('PUT', '/', flowing), { code: 'ECONNREFUSED' });
      await assert.rejects(conn.request('PUT', '/', idle), { code: 'ECONNREFUSED' });
      await nextTurn();
      assert.equal(flowing.readableFlowing, true);
      assert.equal(idle.readableFlowing, null);
      flowing.write('after');
      await nextTurn();
      assert.equal(seen, 'after');
    } finally {
      conn.close();
    }
    await nothingEscaped();
  });

  it('a web ReadableStream is locked from request() on, and unlocked (not cancelled) when a call gives it up', async () => {
    await withConn(await chunkedOk(), async (conn, srv) => {
      let control: ReadableStreamDefaultController<string | Buffer> | undefined;
      const web = new ReadableStream<string | Buffer>({
        start(c) {
          control = c;
        },
      });
      const sent = conn.request('PUT', '/up', web);
      // Taken: a reader of the caller's (or a tee()) cannot take pieces from the request.
      assert.equal(web.locked, true);
      assert.throws(() => web.getReader(), TypeError);
      control?.enqueue('abc');
      control?.enqueue(Buffer.from('def'));
      control?.close();
      await sent;
      assert.equal((await (await conn.getresponse()).read()).toString(), 'ok');
      assert.equal(chunkedBody(srv), 'abcdef');
    });
    const refused = new HTTPConnection(HOST, await closedPort());
    const web = new ReadableStream<string>({
      start(c) {
        c.enqueue('kept');
        c.close();
      },
    });
    await assert.rejects(refused.request('PUT', '/', web), { code: 'ECONNREFUSED' });
    assert.equal(web.locked, false);
    assert.deepEqual(await web.getReader().read(), { value: 'kept', done: false });
    refused.close();
    await nothingEscaped();
  });
});

describe('connect() while a request is in flight (Python would wait forever on the new socket)', () => {
  const silent = (): void => {};

  it('while getresponse() waits for the head: it rejects with AbortError, then requests work', async () => {
    await withConn(await scriptedServer([[silent], [OK, OK]]), async (conn) => {
      await conn.request('GET', '/unanswered');
      const head = conn.getresponse();
      head.catch(() => {});
      await sleep(20);
      await conn.connect();
      await assert.rejects(head, AbortError);
      await fetchOk(conn, '/second');
      await fetchOk(conn, '/third');
      await nothingEscaped();
    });
  });

  it('while the request waits for the socket being opened: connect() joins that connect, the request goes out', async () => {
    await withConn(await scriptedServer([OK]), async (conn) => {
      const sent = conn.request('GET', '/a');
      await conn.connect();
      await sent;
      assert.equal((await (await conn.getresponse()).read()).toString(), 'ok');
      await nothingEscaped();
    });
  });

  it('after the request, before getresponse(): the request is given up (ResponseNotReady Idle), then requests work', async () => {
    await withConn(await scriptedServer([[silent], [OK]]), async (conn) => {
      await conn.request('GET', '/unanswered');
      const connecting = conn.connect();
      await assert.rejects(conn.getresponse(), (err: unknown) => {
        assert.ok(err instanceof ResponseNotReady, String(err));
        assert.equal(err.message, 'Idle');
        return true;
      });
      await connecting;
      await fetchOk(conn, '/second');
      await nothingEscaped();
    });
  });

  it('a kept response still unread keeps its socket and its whole body; the request behind it is given up', async () => {
    const A = 'HTTP/1.1 200 OK\r\nContent-Length: 6\r\n\r\nbody-A';
    await withConn(await scriptedServer([[A, OK], [OK]]), async (conn) => {
      await conn.request('GET', '/A');
      const a = await conn.getresponse();
      await conn.request('GET', '/B');
      await conn.connect();
      assert.equal((await a.read()).toString(), 'body-A');
      await assert.rejects(conn.getresponse(), ResponseNotReady);
      await fetchOk(conn, '/C');
      await nothingEscaped();
    });
  });
});

describe('an fs.ReadStream made on a descriptor (process.stdin on a file) reads from where the descriptor stands', () => {
  const linux = process.platform === 'linux';

  /** What connection `i` carried, once the client closed it. */
  async function carried(srv: RawServer, i: number): Promise<{ head: string; body: string }> {
    while (!srv.sockets[i]?.readableEnded) await sleep(5);
    const text = (srv.received[i] as Buffer).toString('latin1');
    const end = text.indexOf('\r\n\r\n');
    return { head: text.slice(0, end), body: text.slice(end + 4) };
  }

  it('a descriptor already read from: the rest, its Content-Length what is left (Linux; chunked where the position cannot be read)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'httplib-fd-body-'));
    const file = join(dir, 'ten');
    writeFileSync(file, '0123456789');
    const fd = openSync(file, 'r');
    const fresh = openSync(file, 'r');
    try {
      readSync(fd, Buffer.alloc(4), 0, 4, null);
      for (const [descriptor, rest] of [
        [fd, '456789'],
        [fresh, '0123456789'],
      ] as const) {
        const srv = await scriptedServer([OK]);
        await withConn(srv, async (conn) => {
          const stream = createReadStream(null as never, { fd: descriptor, autoClose: false });
          await conn.request('PUT', '/fd', stream);
          assert.equal((await (await conn.getresponse()).read()).toString(), 'ok');
          conn.close();
          const { head, body } = await carried(srv, 0);
          // Before: Content-Length: 10 (the file's size), 6 bytes, BodyLengthMismatch.
          if (linux) {
            assert.match(head, new RegExp(`\\r\\nContent-Length: ${rest.length}(\\r\\n|$)`));
            assert.equal(body, rest);
          } else {
            assert.match(head, /\r\nTransfer-Encoding: chunked(\r\n|$)/);
            assert.equal(body, `${rest.length.toString(16)}\r\n${rest}\r\n0\r\n\r\n`);
          }
        });
      }
    } finally {
      closeSync(fd);
      closeSync(fresh);
      rmSync(dir, { recursive: true, force: true });
    }
  });

  // Elsewhere nothing tells before reading: the read fails after the head, as Python's.
  if (linux)
    it('a descriptor open for writing only: EBADF before a byte is sent (Linux)', async () => {
      const dir = mkdtempSync(join(tmpdir(), 'httplib-fd-body-'));
      const file = join(dir, 'ten');
      writeFileSync(file, '0123456789');
      const fd = openSync(file, 'a');
      try {
        const srv = await scriptedServer([OK, OK]);
        await withConn(srv, async (conn) => {
          const stream = createReadStream(null as never, { fd, autoClose: false });
          // Before: the head went out with Content-Length: 10, then the read failed.
          await assert.rejects(conn.request('PUT', '/fd', stream), (err: unknown) => {
            assert.equal((err as NodeJS.ErrnoException).code, 'EBADF');
            return true;
          });
          await fetchOk(conn, '/next');
          conn.close();
          assert.deepEqual(requestLines(srv, 0), ['GET /next']);
        });
      } finally {
        closeSync(fd);
        rmSync(dir, { recursive: true, force: true });
      }
    });
});
