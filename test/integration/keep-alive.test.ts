/**
 * Connection reuse over real sockets on 127.0.0.1: which responses keep the connection
 * (counted on the server side), what a response that closes it does to `sock`, the
 * server closing an idle kept-alive connection, bytes arriving on an idle connection,
 * a response closed half-way, and Python's rule that a response must be read to its end
 * before the next `getresponse()` (while the next request may already be sent).
 *
 * shared/API.md ("Reading a response", "stricter than CPython"), and the reference's
 * §4 (state machine) and §17 (keep-alive and server-side close).
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import type * as net from 'node:net';
import { describe } from 'node:test';
import {
  HTTPConnection,
  type HTTPResponse,
  RemoteDisconnected,
  ResponseNotReady,
} from '../../src/index.ts';
import {
  httpServer,
  peerClosed,
  type RawServer,
  type Reply,
  readBody,
  timeLimited,
} from './servers.ts';
import { NEXT, withSession } from './sessions.ts';

const HOST = '127.0.0.1';

const { it, running } = timeLimited(30_000);

/** Register a connection and its server for the `after` hook; returns their cleanup. */
function track(conn: HTTPConnection, srv: { close(): Promise<void> }): () => Promise<void> {
  const cleanup = async (): Promise<void> => {
    running.delete(cleanup);
    conn.close();
    await srv.close();
  };
  running.add(cleanup);
  return cleanup;
}

/** Run `fn` with a connection to a scripted server; close everything afterwards. */
function withScripted(
  replies: Reply[][],
  fn: (
    conn: HTTPConnection,
    srv: RawServer,
    keep: (r: HTTPResponse) => HTTPResponse,
  ) => Promise<void>,
): Promise<void> {
  return withSession(replies, (s) => fn(s.conn, s.srv, s.keep));
}

async function get(conn: HTTPConnection, url: string, method = 'GET'): Promise<HTTPResponse> {
  await conn.request(method, url);
  return conn.getresponse();
}

/** The request lines the server received on connection `i`, in order. */
function requestLines(srv: RawServer, i: number): string[] {
  const text = (srv.received[i] ?? Buffer.alloc(0)).toString('latin1');
  return [...text.matchAll(/^([A-Z]+ \S+) HTTP\/1\.1\r$/gm)].map((m) => m[1] as string);
}

describe('keep-alive', () => {
  it('three requests on one HTTPConnection use one socket (node:http)', async () => {
    const srv = await httpServer((req, res) => {
      void readBody(req).then((body) => {
        if (req.url === '/chunked') {
          res.write('chunked ');
          res.end('answer');
          return;
        }
        res.end(`${req.method} ${req.url} ${body.toString()}`);
      });
    });
    const conn = new HTTPConnection(HOST, srv.port);
    const cleanup = track(conn, srv);
    try {
      const r1 = await get(conn, '/one');
      assert.equal(r1.will_close, false);
      assert.equal((await r1.read()).toString(), 'GET /one ');
      const sock = conn.sock;
      assert.notEqual(sock, null);

      await conn.request('POST', '/two', 'payload');
      const r2 = await conn.getresponse();
      assert.equal((await r2.read()).toString(), 'POST /two payload');
      assert.equal(conn.sock, sock, 'the same socket');

      const r3 = await get(conn, '/chunked');
      assert.equal(r3.chunked, true);
      assert.equal((await r3.read()).toString(), 'chunked answer');
      assert.equal(conn.sock, sock, 'the same socket');
      assert.equal(srv.connectionCount(), 1);
    } finally {
      await cleanup();
    }
  });

  it('Connection: close (node:http): the response keeps the socket, the next request reconnects', async () => {
    const srv = await httpServer((req, res) => {
      if (req.url === '/close') res.setHeader('Connection', 'close');
      res.end(`body of ${req.url}`);
    });
    const conn = new HTTPConnection(HOST, srv.port);
    const cleanup = track(conn, srv);
    try {
      const r1 = await get(conn, '/close');
      assert.equal(r1.will_close, true);
      assert.equal(conn.sock, null, 'the socket went with the response');
      assert.equal((await r1.read()).toString(), 'body of /close');
      const r2 = await get(conn, '/after');
      assert.equal((await r2.read()).toString(), 'body of /after');
      const r3 = await get(conn, '/again');
      assert.equal((await r3.read()).toString(), 'body of /again');
      assert.equal(srv.connectionCount(), 2);
    } finally {
      await cleanup();
    }
  });

  for (const [name, reply] of [
    [
      'Connection: close (any case)',
      'HTTP/1.1 200 OK\r\nConnection: CLOSE\r\nContent-Length: 2\r\n\r\nok',
    ],
    ['HTTP/1.0', 'HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nok'],
    [
      'HTTP/1.0 with keep-alive but no length',
      'HTTP/1.0 200 OK\r\nConnection: keep-alive\r\n\r\nok',
    ],
  ] as const) {
    it(`${name}: not reused even though the server keeps it open`, async () => {
      const first: Reply =
        name === 'HTTP/1.0 with keep-alive but no length' ? (s) => s.end(reply) : reply;
      await withScripted([[first, NEXT], [NEXT]], async (conn, srv, keep) => {
        const r1 = keep(await get(conn, '/first'));
        assert.equal(r1.will_close, true);
        assert.equal(conn.sock, null);
        assert.equal((await r1.read()).toString(), 'ok', 'the response is still readable');
        // The client closes the socket once the body is read.
        await peerClosed(srv.sockets[0] as net.Socket);
        const r2 = keep(await get(conn, '/next'));
        assert.equal((await r2.read()).toString(), 'next');
        assert.equal(srv.sockets.length, 2);
        assert.deepEqual(requestLines(srv, 0), ['GET /first']);
        assert.deepEqual(requestLines(srv, 1), ['GET /next']);
      });
    });
  }

  for (const [name, header] of [
    ['Connection: keep-alive', 'Connection: Keep-Alive'],
    ['a Keep-Alive header', 'Keep-Alive: timeout=5, max=100'],
  ] as const) {
    it(`HTTP/1.0 with ${name} and a length is reused`, async () => {
      const reply = `HTTP/1.0 200 OK\r\n${header}\r\nContent-Length: 2\r\n\r\nok`;
      await withScripted([[reply, NEXT]], async (conn, srv, keep) => {
        const r1 = keep(await get(conn, '/first'));
        assert.equal(r1.version, 10);
        assert.equal(r1.will_close, false);
        assert.notEqual(conn.sock, null);
        assert.equal((await r1.read()).toString(), 'ok');
        const r2 = keep(await get(conn, '/next'));
        assert.equal((await r2.read()).toString(), 'next');
        assert.equal(srv.sockets.length, 1);
        assert.deepEqual(requestLines(srv, 0), ['GET /first', 'GET /next']);
      });
    });
  }

  it('the server closing an idle kept-alive connection: the next request goes on a new one', async () => {
    const first: Reply = (s) => s.end('HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok');
    await withScripted([[first], [NEXT]], async (conn, srv, keep) => {
      const r1 = keep(await get(conn, '/first'));
      assert.equal(r1.will_close, false);
      assert.equal((await r1.read()).toString(), 'ok');
      const sock = conn.sock as net.Socket;
      assert.notEqual(sock, null);
      // The client has seen the server's FIN before it sends the next request: nothing
      // of that request went on the dead connection, so it goes on a new one (issue 13).
      if (!sock.readableEnded && !sock.destroyed) await once(sock, 'end');
      const r3 = keep(await get(conn, '/next'));
      assert.equal((await r3.read()).toString(), 'next');
      assert.equal(srv.sockets.length, 2);
      assert.deepEqual(requestLines(srv, 0), ['GET /first']);
      assert.deepEqual(requestLines(srv, 1), ['GET /next']);
    });
  });

  it('the server closing a kept-alive connection instead of answering: RemoteDisconnected, then a new connection', async () => {
    await withScripted(
      [['HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok', (s) => s.end()], [NEXT]],
      async (conn, srv, keep) => {
        const r1 = keep(await get(conn, '/first'));
        assert.equal((await r1.read()).toString(), 'ok');
        await conn.request('GET', '/second');
        await assert.rejects(conn.getresponse(), RemoteDisconnected);
        assert.equal(conn.sock, null);
        const r3 = keep(await get(conn, '/next'));
        assert.equal((await r3.read()).toString(), 'next');
        assert.equal(srv.sockets.length, 2);
        assert.deepEqual(requestLines(srv, 0), ['GET /first', 'GET /second']);
      },
    );
  });

  it('a response arriving on an idle connection is never returned to the next request', async () => {
    const stray = 'HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nstray';
    const first: Reply = (s) => {
      s.write('HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok');
      setTimeout(() => s.write(stray), 20);
    };
    await withScripted([[first, stray], [NEXT]], async (conn, srv, keep) => {
      const r1 = keep(await get(conn, '/first'));
      assert.equal((await r1.read()).toString(), 'ok');
      // Whenever the stray response arrives, the client drops the connection...
      await peerClosed(srv.sockets[0] as net.Socket);
      // ...and the next request goes on a new one and gets its own response.
      const r2 = keep(await get(conn, '/next'));
      assert.equal(r2.status, 200);
      assert.equal((await r2.read()).toString(), 'next');
      assert.equal(srv.sockets.length, 2);
      assert.deepEqual(requestLines(srv, 0), ['GET /first'], 'nothing more sent on the old one');
      assert.deepEqual(requestLines(srv, 1), ['GET /next']);
    });
  });

  // Bytes past the declared length, sent with the body and in the client's kernel before
  // it reads the body: the reads that ask the socket for exactly the body's remaining
  // bytes (read() of a large body, read(amt), readinto) left them there, and the next
  // request, made at once, got them as its answer (the forged response, or an HTTP/0.9
  // reading of it). (Bytes that arrive after the body was read, while the next request
  // goes out, cannot be told from its answer: not what this tests.)
  const forged = 'HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nevil';
  const reads: Array<[string, (r: HTTPResponse, size: number) => Promise<number>]> = [
    ['read()', async (r) => (await r.read()).length],
    ['read(size)', async (r, size) => (await r.read(size)).length],
    ['readinto(larger)', (r, size) => r.readinto(new Uint8Array(size + 1000))],
    [
      'readinto(64 KiB) loop',
      async (r) => {
        const target = Buffer.alloc(65536);
        let total = 0;
        for (let n = await r.readinto(target); n > 0; n = await r.readinto(target)) total += n;
        return total;
      },
    ],
    [
      'for await',
      async (r) => {
        let total = 0;
        for await (const chunk of r) total += chunk.length;
        return total;
      },
    ],
  ];
  for (const size of [5, 100_000, 1024 * 1024]) {
    for (const [name, read] of reads) {
      it(`bytes past a ${size}-byte Content-Length body, sent with it (${name}): the next request, made at once, gets its own response on a new connection`, async () => {
        let sent: Promise<void> = Promise.resolve();
        const first: Reply = (s) => {
          s.write(`HTTP/1.1 200 OK\r\nContent-Length: ${size}\r\n\r\n`);
          // A moment after the head, so that the body's reads are not the head's.
          sent = new Promise((resolve) => {
            setTimeout(() => {
              const bytes = Buffer.concat([Buffer.alloc(size, 0x61), Buffer.from(forged)]);
              s.write(bytes, () => resolve());
            }, 50);
          });
        };
        await withScripted([[first], [NEXT]], async (conn, srv, keep) => {
          const r1 = keep(await get(conn, '/first'));
          // Everything is in the client's kernel by then (1 MiB and the rest fit in it).
          await new Promise((resolve) => setTimeout(resolve, 60));
          await sent;
          await new Promise((resolve) => setTimeout(resolve, 50));
          assert.equal(await read(r1, size), size);
          const r2 = keep(await get(conn, '/next'));
          assert.equal((await r2.read()).toString(), 'next');
          assert.equal(srv.sockets.length, 2);
          assert.deepEqual(
            requestLines(srv, 0),
            ['GET /first'],
            'nothing more sent on the old one',
          );
        });
      });
    }
  }

  const halfWay = [
    ['Content-Length', 'HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabcde', 'fghij'],
    [
      'chunked',
      'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nabcde\r\n',
      '5\r\nfghij\r\n0\r\n\r\n',
    ],
  ] as const;
  for (const [name, start, rest] of halfWay) {
    for (const restSent of [true, false]) {
      const when = restSent ? 'whole body received' : 'rest of the body not sent yet';
      it(`closing a ${name} response half-way (${when}): the next request uses a new connection`, async () => {
        // If the old connection were reused, the rest of the old body would be read as
        // the next response (its status line would be garbage or HTTP/0.9). When the
        // rest is held back, the server sends it only as the answer to a second request
        // on the first connection.
        const replies: Reply[][] = restSent
          ? [[start + rest, NEXT], [NEXT]]
          : [[start, rest + NEXT], [NEXT]];
        await withScripted(replies, async (conn, srv, keep) => {
          const r1 = keep(await get(conn, '/first'));
          assert.equal((await r1.read(5)).toString(), 'abcde');
          r1.close();
          assert.equal(r1.closed, true);
          assert.equal(r1.isclosed(), true);
          await peerClosed(srv.sockets[0] as net.Socket);
          const r2 = keep(await get(conn, '/next'));
          assert.equal(r2.status, 200);
          assert.equal(r2.version, 11);
          assert.equal((await r2.read()).toString(), 'next');
          assert.equal(srv.sockets.length, 2);
          assert.deepEqual(requestLines(srv, 0), ['GET /first']);
        });
      });
    }
  }

  it('a response not read to its end: the next request may be sent, its getresponse() is ResponseNotReady', async () => {
    let answered: () => void = () => {};
    const replied = new Promise<void>((resolve) => {
      answered = resolve;
    });
    const second: Reply = (s) => {
      s.write('HTTP/1.1 200 OK\r\nContent-Length: 6\r\n\r\nsecond');
      answered();
    };
    await withScripted(
      [['HTTP/1.1 200 OK\r\nContent-Length: 6\r\n\r\nabcdef', second]],
      async (conn, srv, keep) => {
        const r1 = keep(await get(conn, '/first'));
        assert.equal((await r1.read(2)).toString(), 'ab');
        await conn.request('GET', '/second');
        await assert.rejects(conn.getresponse(), ResponseNotReady);
        await replied;
        assert.equal((await r1.read()).toString(), 'cdef');
        const r2 = keep(await conn.getresponse());
        assert.equal((await r2.read()).toString(), 'second');
        assert.equal(srv.sockets.length, 1);
        assert.deepEqual(requestLines(srv, 0), ['GET /first', 'GET /second']);
      },
    );
  });

  it('a request sent before the previous response was read: its response is read once that one ends', async () => {
    await withScripted(
      [
        [
          'HTTP/1.1 200 OK\r\nContent-Length: 6\r\n\r\nabcdef',
          'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n6\r\nsecond\r\n0\r\n\r\n',
          NEXT,
        ],
      ],
      async (conn, srv, keep) => {
        const r1 = keep(await get(conn, '/first'));
        await conn.request('GET', '/second');
        await assert.rejects(conn.getresponse(), ResponseNotReady);
        // Read the first response at once, whether or not the second has arrived.
        assert.equal((await r1.read()).toString(), 'abcdef');
        const r2 = keep(await conn.getresponse());
        assert.equal((await r2.read()).toString(), 'second');
        const r3 = keep(await get(conn, '/next'));
        assert.equal((await r3.read()).toString(), 'next');
        assert.equal(srv.sockets.length, 1);
        assert.deepEqual(requestLines(srv, 0), ['GET /first', 'GET /second', 'GET /next']);
      },
    );
  });
});
