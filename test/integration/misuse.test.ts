/**
 * Wrong calls, over a real socket on 127.0.0.1: each fails with Python's exception (or
 * `TypeError` for Python's `ValueError`) — thrown by the synchronous methods, a rejected
 * promise (never a throw) from the promise-returning ones, with the state unchanged —
 * and the server receives nothing of it. Where Python would not connect, no connection
 * is made at all.
 *
 * How "nothing was sent" is proven: after the wrong call, a correct request follows
 * (a "sentinel"); the server must then have exactly one connection, holding exactly the
 * sentinel's bytes. TCP keeps order, so anything written before would show up in front.
 *
 * shared/API.md (`HTTPConnection`, "Calls, promises and closing", "stricter than
 * CPython") and the reference's §4.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { describe } from 'node:test';
import {
  CannotSendHeader,
  CannotSendRequest,
  HTTP,
  HTTPConnection,
  HTTPException,
  InvalidURL,
  NotConnected,
  ResponseNotReady,
} from '../../src/index.ts';
import { guarded, type RawServer, scriptedServer, timeLimited } from './servers.ts';

const HOST = '127.0.0.1';
const OK = 'HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok';

const { it } = timeLimited(30_000);

/** A promise method refused: no throw, a promise that rejects with `cls`. */
async function rejects(call: () => Promise<unknown>, cls: new (...args: never[]) => Error) {
  let pending: Promise<unknown> | undefined;
  assert.doesNotThrow(() => {
    pending = call();
  }, 'a promise method must not throw');
  await assert.rejects(pending as Promise<unknown>, cls);
}

/** Run `fn` with a server answering every request with `OK`; close everything afterwards. */
async function withServer(fn: (conn: HTTPConnection, srv: RawServer) => Promise<void> | void) {
  const srv = await scriptedServer([OK, OK, OK, OK]);
  const conn = new HTTPConnection(HOST, srv.port);
  await guarded(
    async () => {
      conn.close();
      await srv.close();
    },
    async () => fn(conn, srv),
  );
}

/** The head `request('GET', url)` sends to this server. */
function getHead(srv: RawServer, url: string, extra = ''): string {
  return `GET ${url} HTTP/1.1\r\nHost: ${HOST}:${srv.port}\r\nAccept-Encoding: identity\r\n${extra}\r\n`;
}

/**
 * Close the connection, send a correct request, and check that it was the only thing
 * the server ever received, on its only connection.
 */
async function onlySentinelReceived(conn: HTTPConnection, srv: RawServer): Promise<void> {
  conn.close();
  await conn.request('GET', '/sentinel');
  const r = await conn.getresponse();
  assert.equal((await r.read()).toString(), 'ok');
  assert.equal(srv.sockets.length, 1, 'one connection only: the sentinel request');
  assert.equal((srv.received[0] as Buffer).toString('latin1'), getHead(srv, '/sentinel'));
}

/** Wait until connection `index` of `srv` has received at least `n` bytes. */
async function receivedAtLeast(srv: RawServer, index: number, n: number): Promise<void> {
  await srv.connections(index + 1);
  const socket = srv.sockets[index];
  while ((srv.received[index]?.length ?? 0) < n) {
    if (socket === undefined) throw new Error('no socket');
    await once(socket, 'data');
  }
}

describe('misuse of HTTPConnection', () => {
  it('putheader before putrequest: CannotSendHeader, nothing sent', async () => {
    await withServer(async (conn, srv) => {
      assert.throws(() => conn.putheader('X', 'y'), CannotSendHeader);
      await onlySentinelReceived(conn, srv);
    });
  });

  it('endheaders before putrequest: a rejected CannotSendHeader', async () => {
    await withServer(async (conn, srv) => {
      await rejects(() => conn.endheaders(), CannotSendHeader);
      await onlySentinelReceived(conn, srv);
    });
  });

  it('two putrequests: CannotSendRequest, and the first is dropped by close()', async () => {
    await withServer(async (conn, srv) => {
      conn.putrequest('GET', '/first');
      assert.throws(() => conn.putrequest('GET', '/second'), CannotSendRequest);
      // request() checks the state too (and rejects).
      await rejects(() => conn.request('GET', '/third'), CannotSendRequest);
      await onlySentinelReceived(conn, srv);
    });
  });

  it('endheaders twice: CannotSendHeader, nothing more sent', async () => {
    await withServer(async (conn, srv) => {
      conn.putrequest('GET', '/once');
      await conn.endheaders();
      await rejects(() => conn.endheaders(), CannotSendHeader);
      await rejects(() => conn.endheaders('body'), CannotSendHeader);
      assert.throws(() => conn.putheader('X', 'y'), CannotSendHeader);
      // send() works in any state: its bytes must follow the head directly.
      await conn.send('SENTINEL');
      const expected = `${getHead(srv, '/once')}SENTINEL`;
      await receivedAtLeast(srv, 0, expected.length);
      assert.equal((srv.received[0] as Buffer).toString('latin1'), expected);
      assert.equal(srv.sockets.length, 1);
    });
  });

  it('request() while the previous request awaits its response: CannotSendRequest', async () => {
    await withServer(async (conn, srv) => {
      await conn.request('GET', '/first');
      await rejects(() => conn.request('GET', '/second'), CannotSendRequest);
      const r = await conn.getresponse();
      assert.equal((await r.read()).toString(), 'ok');
      assert.equal((srv.received[0] as Buffer).toString('latin1'), getHead(srv, '/first'));
    });
  });

  it('getresponse before a request was sent: a rejected ResponseNotReady, no connection', async () => {
    await withServer(async (conn, srv) => {
      await rejects(() => conn.getresponse(), ResponseNotReady);
      conn.putrequest('GET', '/');
      await rejects(() => conn.getresponse(), ResponseNotReady);
      await onlySentinelReceived(conn, srv);
    });
  });

  it('a second getresponse: a rejected ResponseNotReady', async () => {
    await withServer(async (conn, srv) => {
      await conn.request('GET', '/first');
      const r = await conn.getresponse();
      await rejects(() => conn.getresponse(), ResponseNotReady);
      assert.equal((await r.read()).toString(), 'ok');
      await rejects(() => conn.getresponse(), ResponseNotReady);
      assert.equal((srv.received[0] as Buffer).toString('latin1'), getHead(srv, '/first'));
    });
  });

  for (const url of ['/a b', '/a\r\nX-Injected: 1', '/a\nb', '/a\rb', '/\x00', '/\x7f', '/\t']) {
    it(`putrequest(${JSON.stringify(url)}): InvalidURL, and the state stays Request-started until close()`, async () => {
      await withServer(async (conn, srv) => {
        assert.throws(
          () => conn.putrequest('GET', url),
          (err: unknown) => {
            assert.ok(err instanceof InvalidURL, String(err));
            assert.match(err.message, /^URL can't contain control characters\./);
            return true;
          },
        );
        // Python's quirk: the state moved before the URL was checked.
        assert.throws(() => conn.putrequest('GET', '/ok'), CannotSendRequest);
        await rejects(() => conn.request('GET', '/ok'), CannotSendRequest);
        await onlySentinelReceived(conn, srv);
      });
    });
  }

  it('request() with a bad URL: a rejected InvalidURL, and the state is unchanged (Idle)', async () => {
    await withServer(async (conn, srv) => {
      await rejects(() => conn.request('GET', '/a b'), InvalidURL);
      // Unlike putrequest (Python's quirk), request() checks before the state moves.
      conn.putrequest('GET', '/ok');
      await onlySentinelReceived(conn, srv);
    });
  });

  for (const method of ['GE T', 'GET\r\nX: y', '', 'G(ET', 'GET\x00', 'GÉT', 'GET\t']) {
    it(`method ${JSON.stringify(method)}: TypeError from putrequest and request`, async () => {
      await withServer(async (conn, srv) => {
        assert.throws(() => conn.putrequest(method, '/'), TypeError);
        // As for a bad URL, the state has moved on (Python 3's method check does the same).
        assert.throws(() => conn.putrequest('GET', '/'), CannotSendRequest);
        conn.close();
        await rejects(() => conn.request(method, '/'), TypeError);
        await onlySentinelReceived(conn, srv);
      });
    });
  }

  it('putheader with a bad name or value: TypeError, and nothing of it is sent', async () => {
    await withServer(async (conn, srv) => {
      conn.putrequest('GET', '/h');
      for (const name of ['Bad Name', 'X:Y', 'X\r\nY', '', 'Ü', 'X\x00']) {
        assert.throws(() => conn.putheader(name, 'v'), TypeError, `name ${JSON.stringify(name)}`);
      }
      for (const value of ['a\r\nX-Injected: 1', 'a\nb', 'a\rb', 'a\r\n', 'a\x00b', 'a\u0100']) {
        assert.throws(
          () => conn.putheader('X', value),
          TypeError,
          `value ${JSON.stringify(value)}`,
        );
        assert.throws(() => conn.putheader('X', 'fine', value), TypeError);
      }
      // A fold (CRLF + SP/HT) is allowed, and several values become continuation lines.
      conn.putheader('X-Fold', 'a\r\n b');
      conn.putheader('X-Multi', 'one', 'two');
      await conn.endheaders();
      const expected = getHead(srv, '/h', 'X-Fold: a\r\n b\r\nX-Multi: one\r\n\ttwo\r\n');
      await receivedAtLeast(srv, 0, expected.length);
      assert.equal((srv.received[0] as Buffer).toString('latin1'), expected);
    });
  });

  const evilValues: Array<[string, () => unknown]> = [
    ['a plain object', () => ({ 'X-A': 'a\r\nX-Injected: 1' })],
    ['a Map', () => new Map([['X-A', 'a\nX-Injected: 1']])],
    ['pairs', () => [['X-A', 'a\rX-Injected: 1']]],
    [
      'a generator of pairs',
      () =>
        (function* () {
          yield ['X-Ok', 'fine'] as const;
          yield ['X-A', 'a\r\n'] as const;
        })(),
    ],
    [
      'a value whose toString returns CRLF',
      () => ({ 'X-A': { toString: () => 'a\r\nX-Injected: 1' } }),
    ],
    ['a bad name in an object', () => ({ 'X A': 'fine' })],
    ['a bad name in pairs', () => [['X:A', 'fine']]],
  ];
  for (const [what, headers] of evilValues) {
    it(`request() with CR/LF or a bad name in ${what}: a rejected TypeError, nothing sent`, async () => {
      await withServer(async (conn, srv) => {
        await rejects(
          () => conn.request('GET', '/', null, headers() as Map<string, string>),
          TypeError,
        );
        await onlySentinelReceived(conn, srv);
      });
    });
  }

  it('a header value is converted once: what is checked is what is sent', async () => {
    await withServer(async (conn, srv) => {
      let calls = 0;
      const changing = {
        toString: () => (++calls === 1 ? 'a\r\nX-Injected: 1' : 'harmless'),
      };
      await rejects(() => conn.request('GET', '/', null, { 'X-A': changing as never }), TypeError);
      await onlySentinelReceived(conn, srv);

      calls = 0;
      const turning = { toString: () => (++calls === 1 ? 'harmless' : 'a\r\nX-Injected: 1') };
      conn.close();
      await conn.request('GET', '/turning', null, { 'X-A': turning as never });
      const r = await conn.getresponse();
      await r.read();
      const sent = (srv.received[1] as Buffer).toString('latin1');
      assert.equal(sent, getHead(srv, '/turning', 'X-A: harmless\r\n'));
      assert.equal(calls, 1);
    });
  });

  for (const host of ['127.0.0.1\r\nX: y', 'exa mple.com', 'host\x00', 'host\x7f', 'a\tb']) {
    it(`constructor with host ${JSON.stringify(host)}: InvalidURL`, () => {
      assert.throws(() => new HTTPConnection(host), InvalidURL);
    });
  }

  for (const host of ['127.0.0.1:8o', 'example.com:http', '[::1]:x']) {
    it(`constructor with host ${JSON.stringify(host)}: InvalidURL (non-numeric port)`, () => {
      assert.throws(
        () => new HTTPConnection(host),
        (err: unknown) => {
          assert.ok(err instanceof InvalidURL, String(err));
          assert.match(err.message, /^nonnumeric port: /);
          return true;
        },
      );
    });
  }

  it("an empty port ('h:') means the default port", () => {
    const conn = new HTTPConnection('example.com:');
    assert.equal(conn.host, 'example.com');
    assert.equal(conn.port, 80);
  });

  it('set_tunnel after connecting: Error, and no CONNECT is sent', async () => {
    await withServer(async (conn, srv) => {
      await conn.connect();
      assert.throws(
        () => conn.set_tunnel('example.com', 443),
        (err: unknown) => {
          assert.ok(err instanceof Error && !(err instanceof HTTPException), String(err));
          assert.equal(err.message, "Can't setup tunnel for established connection.");
          return true;
        },
      );
      // The request goes straight to the server, with the server's Host.
      await conn.request('GET', '/direct');
      const r = await conn.getresponse();
      assert.equal((await r.read()).toString(), 'ok');
      assert.equal(srv.sockets.length, 1);
      assert.equal((srv.received[0] as Buffer).toString('latin1'), getHead(srv, '/direct'));
    });
  });

  it('a request sent behind a response that is then closed half-way: NotConnected that says so', async () => {
    const long = 'HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n0123456789';
    const srv = await scriptedServer([long, long]);
    const conn = new HTTPConnection(HOST, srv.port);
    try {
      await conn.request('GET', '/first');
      const first = await conn.getresponse();
      // Python allows the next request before the body is read; it goes on this socket.
      await conn.request('GET', '/second');
      assert.equal((await first.read(3)).toString(), '012');
      first.close(); // discards the connection: the rest must never be read as a response
      await assert.rejects(conn.getresponse(), (err: unknown) => {
        assert.ok(err instanceof NotConnected, String(err));
        assert.match(String(err), /the connection it was sent on was closed/);
        return true;
      });
    } finally {
      conn.close();
      await srv.close();
    }
  });

  it('auto_open = 0: send() without a connection is a rejected NotConnected, no connection', async () => {
    await withServer(async (conn, srv) => {
      conn.auto_open = 0;
      await rejects(() => conn.send('data'), NotConnected);
      await rejects(() => conn.send(Buffer.from('data')), NotConnected);
      conn.auto_open = 1;
      await onlySentinelReceived(conn, srv);
    });
  });

  it('send(null) and send(undefined): a rejected TypeError (Python refuses None), nothing sent, then the body it owes', async () => {
    await withServer(async (conn, srv) => {
      const message = /^data should be a bytes-like object or an iterable, got (null|undefined)$/;
      // Refused before the auto_open connect: no connection.
      for (const data of [null, undefined]) {
        await rejects(() => conn.send(data as never), TypeError);
        await assert.rejects(conn.send(data as never), { name: 'TypeError', message });
      }
      assert.equal(srv.sockets.length, 0);
      conn.putrequest('POST', '/up');
      conn.putheader('Content-Length', 3);
      await conn.endheaders();
      for (const data of [null, undefined])
        await rejects(() => conn.send(data as never), TypeError);
      // The legacy class's send() is the connection's.
      const legacy = new HTTP(HOST, srv.port);
      legacy.putrequest('POST', '/legacy');
      legacy.putheader('Content-Length', 3);
      await legacy.endheaders();
      await rejects(() => legacy.send(null as never), TypeError);
      await legacy.send('xyz');
      assert.equal((await legacy.getreply())[0], 200);
      legacy.close();
      // Nothing went out for them: the body the head owes follows it directly.
      await conn.send('abc');
      assert.equal((await (await conn.getresponse()).read()).toString(), 'ok');
      const head = (srv.received[0] as Buffer).toString('latin1');
      assert.match(head, /^POST \/up HTTP\/1\.1\r\n.*\r\nContent-Length: 3\r\n\r\nabc$/s);
      assert.match((srv.received[1] as Buffer).toString('latin1'), /\r\n\r\nxyz$/);
    });
  });

  it('auto_open = 0: request() and endheaders() reject with NotConnected, the state unchanged', async () => {
    await withServer(async (conn, srv) => {
      conn.auto_open = 0;
      await rejects(() => conn.request('GET', '/'), NotConnected);
      // Python's endheaders() moves the state before send() fails; a promise method that
      // refuses leaves it as it was: Idle after request(), Request-started here.
      await rejects(() => conn.request('GET', '/'), NotConnected);
      conn.putrequest('GET', '/');
      await rejects(() => conn.endheaders(), NotConnected);
      assert.throws(() => conn.putrequest('GET', '/'), CannotSendRequest);
      conn.auto_open = 1;
      await onlySentinelReceived(conn, srv);
    });
  });

  it('auto_open = 0 after connect(): requests go over the open connection', async () => {
    await withServer(async (conn, srv) => {
      conn.auto_open = 0;
      await conn.connect();
      await conn.request('GET', '/one');
      const r = await conn.getresponse();
      assert.equal((await r.read()).toString(), 'ok');
      assert.equal((srv.received[0] as Buffer).toString('latin1'), getHead(srv, '/one'));
    });
  });
});
