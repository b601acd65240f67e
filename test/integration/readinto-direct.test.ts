/**
 * `readinto(b)` on a plain connection lets the socket read straight into `b` (no copy
 * after the kernel's): these tests make the body arrive after the head, in pieces, so
 * that every read goes that way, and check what that must never break: Python's fill
 * semantics, the caller's memory outside the body's bytes, bytes after the body, and
 * every way a wait can end (timeout, abort, the server closing, the server resetting).
 */
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import type * as net from 'node:net';
import { describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  AbortError,
  HTTPConnection,
  type HTTPResponse,
  ImproperConnectionState,
  IncompleteRead,
  TimeoutError,
} from '../../src/index.ts';
import { failOnEscapes, httpServer, peerClosed, type RawServer, rawServer } from './servers.ts';

const HOST = '127.0.0.1';

/** A server that answers each request head with `head`, then the `pieces`, 30 ms apart. */
function piecewise(
  head: string,
  pieces: Array<string | Buffer>,
  after: 'keep' | 'end' | 'reset' | 'stall' = 'keep',
): Promise<RawServer> {
  return rawServer((socket) => {
    let seen = '';
    socket.on('data', async (d: Buffer) => {
      seen += d.toString('latin1');
      while (seen.includes('\r\n\r\n')) {
        seen = seen.slice(seen.indexOf('\r\n\r\n') + 4);
        socket.write(head);
        for (const p of pieces) {
          await sleep(30);
          if (socket.destroyed) return;
          socket.write(p);
        }
        if (after === 'end') socket.end();
        if (after === 'reset') {
          await sleep(30);
          socket.resetAndDestroy();
        }
      }
    });
  });
}

/**
 * Send a GET to `server` (a `piecewise` one) and run `fn` with its response; then close
 * the connection and the server.
 */
async function withResponse(
  server: Promise<RawServer>,
  fn: (r: HTTPResponse, conn: HTTPConnection, srv: RawServer) => Promise<void>,
  options?: { timeout?: number },
): Promise<void> {
  const srv = await server;
  const conn = new HTTPConnection(HOST, srv.port, options);
  try {
    await conn.request('GET', '/');
    await fn(await conn.getresponse(), conn, srv);
  } finally {
    conn.close();
    await srv.close();
  }
}

describe('readinto straight into the caller memory', () => {
  it('fills b across pieces (Python fills until b is full or the body ends), then 0', async () => {
    const head = 'HTTP/1.1 200 OK\r\nContent-Length: 11\r\n\r\n';
    await withResponse(piecewise(head, ['hello', ' ', 'world']), async (r, conn, srv) => {
      const b = Buffer.alloc(11);
      assert.equal(await r.readinto(b), 11);
      assert.equal(b.toString(), 'hello world');
      assert.equal(await r.readinto(b), 0);
      assert.equal(r.isclosed(), true);
      // The connection is kept and carries the next request.
      await conn.request('GET', '/');
      const again = await conn.getresponse();
      const c = Buffer.alloc(4);
      assert.equal(await again.readinto(c), 4);
      assert.equal(c.toString(), 'hell');
      assert.equal(await again.readinto(c), 4);
      assert.equal(await again.readinto(c), 3);
      assert.equal(c.subarray(0, 3).toString(), 'rld');
      assert.equal(srv.sockets.length, 1);
    });
  });

  it('writes only the bytes of the body, only inside the view it was given', async () => {
    const head = 'HTTP/1.1 200 OK\r\nContent-Length: 8\r\n\r\n';
    await withResponse(piecewise(head, ['abc', 'defgh']), async (r) => {
      // A Uint8Array (not a Buffer) that is a window on a larger ArrayBuffer.
      const whole = new Uint8Array(40).fill(0xee);
      const view = whole.subarray(8, 28);
      assert.equal(await r.readinto(view), 8);
      assert.equal(Buffer.from(view.subarray(0, 8)).toString(), 'abcdefgh');
      assert.ok(
        whole.subarray(0, 8).every((x) => x === 0xee),
        'written before the view',
      );
      assert.ok(
        whole.subarray(16).every((x) => x === 0xee),
        'written past the body',
      );
    });
  });

  it('bytes sent after the body never reach the caller memory, and poison the connection', async () => {
    // The body's last piece and 'EXTRA' arrive in one write: the read into `b` is
    // limited to what is left of the body.
    const head = 'HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n';
    await withResponse(piecewise(head, ['he', 'lloEXTRA']), async (r, conn, srv) => {
      const b = Buffer.alloc(16, 0xee);
      assert.equal(await r.readinto(b), 5);
      assert.equal(b.subarray(0, 5).toString(), 'hello');
      assert.ok(
        b.subarray(5).every((x) => x === 0xee),
        'bytes after the body were written',
      );
      assert.equal(await r.readinto(b), 0);
      await peerClosed(srv.sockets[0] as net.Socket);
      // The next request goes out on a new connection and gets its own answer.
      await conn.request('GET', '/');
      const next = await conn.getresponse();
      assert.equal((await next.read()).toString(), 'hello');
      assert.equal(srv.sockets.length, 2);
    });
  });

  it('a timeout while it waits rejects with TimeoutError, closes, and writes nothing later', async () => {
    const head = 'HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n';
    await withResponse(
      piecewise(head, ['abc'], 'stall'),
      async (r, conn, srv) => {
        const b = Buffer.alloc(10, 0xee);
        await assert.rejects(r.readinto(b), TimeoutError);
        assert.equal(r.isclosed(), true);
        assert.equal(conn.sock, null);
        // Whatever the server sends now cannot reach `b`.
        (srv.sockets[0] as net.Socket).write('defg');
        await sleep(50);
        assert.equal(b.subarray(0, 3).toString(), 'abc');
        assert.ok(b.subarray(3).every((x) => x === 0xee));
      },
      { timeout: 0.25 },
    );
  });

  it('an AbortSignal ends the wait with AbortError and closes the response', async () => {
    const head = 'HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n';
    await withResponse(piecewise(head, [], 'stall'), async (r, _conn, srv) => {
      const controller = new AbortController();
      const b = Buffer.alloc(10, 0xee);
      const pending = r.readinto(b, { signal: controller.signal });
      setTimeout(() => controller.abort(), 50);
      await assert.rejects(pending, AbortError);
      assert.equal(r.isclosed(), true);
      // Whatever the server sends now cannot reach `b`.
      (srv.sockets[0] as net.Socket).write('abcdefghij');
      await sleep(50);
      assert.ok(b.every((x) => x === 0xee));
    });
    // An already aborted signal rejects at once, before any read.
    const short = 'HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\n';
    await withResponse(piecewise(short, ['abc']), async (r) => {
      await assert.rejects(
        r.readinto(Buffer.alloc(3), { signal: AbortSignal.abort() }),
        AbortError,
      );
    });
  });

  it('the server closing mid-body gives IncompleteRead with the bytes of this call', async () => {
    const head = 'HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n';
    await withResponse(piecewise(head, ['ab', 'c'], 'end'), async (r) => {
      await assert.rejects(r.readinto(Buffer.alloc(10)), (err: unknown) => {
        assert.ok(err instanceof IncompleteRead, String(err));
        assert.equal(err.partial.toString(), 'abc');
        assert.equal(err.expected, 7);
        return true;
      });
      assert.equal(r.isclosed(), true);
    });
  });

  it('a reset mid-body rejects (catchably) and closes the response', async () => {
    const head = 'HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n';
    await withResponse(piecewise(head, ['abc'], 'reset'), async (r) => {
      await assert.rejects(r.readinto(Buffer.alloc(10)), (err: unknown) => {
        assert.ok(err instanceof Error);
        assert.ok(
          err instanceof IncompleteRead || (err as NodeJS.ErrnoException).code === 'ECONNRESET',
          String(err),
        );
        return true;
      });
      assert.equal(r.isclosed(), true);
    });
  });

  it('a body framed by the close (no Content-Length) is read whole', async () => {
    const head = 'HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n';
    await withResponse(piecewise(head, ['one ', 'two'], 'end'), async (r) => {
      const b = Buffer.alloc(64);
      assert.equal(await r.readinto(b), 7);
      assert.equal(b.subarray(0, 7).toString(), 'one two');
      assert.equal(await r.readinto(b), 0);
      assert.equal(r.isclosed(), true);
    });
  });

  it('8 MiB in 7919-byte pieces arrive intact, twice on one connection', async () => {
    const body = randomBytes(8 * 1024 * 1024);
    const digest = createHash('sha256').update(body).digest('hex');
    const srv = await httpServer((_req, res) => {
      res.writeHead(200, { 'Content-Length': body.length });
      res.end(body);
    });
    try {
      const conn = new HTTPConnection(HOST, srv.port);
      for (let round = 0; round < 2; round++) {
        await conn.request('GET', '/');
        const r = await conn.getresponse();
        const hash = createHash('sha256');
        const b = Buffer.alloc(7919);
        let total = 0;
        for (;;) {
          const n = await r.readinto(b);
          if (n === 0) break;
          hash.update(b.subarray(0, n));
          total += n;
        }
        assert.equal(total, body.length);
        assert.equal(hash.digest('hex'), digest);
      }
      conn.close();
    } finally {
      await srv.close();
    }
  });
});

describe('two reads of one response at once', () => {
  // Each read gives back the body bytes it consumed (peek consumes none).
  const reads: Array<[string, (r: HTTPResponse) => Promise<string>]> = [
    ['read(3)', async (r) => (await r.read(3)).toString()],
    [
      'readinto(3 bytes)',
      async (r) => {
        const b = Buffer.alloc(3);
        return b.subarray(0, await r.readinto(b)).toString();
      },
    ],
    ['read1()', async (r) => (await r.read1()).toString()],
    ['peek()', async (r) => ((await r.peek()).length > 0 ? '' : 'nothing to peek')],
    ['readline()', async (r) => (await r.readline()).toString()],
  ];
  for (const [firstName, first] of reads) {
    for (const [secondName, second] of reads) {
      it(`${firstName} then ${secondName} while it waits: the second is refused, the first goes on`, async () => {
        const head = 'HTTP/1.1 200 OK\r\nContent-Length: 6\r\n\r\n';
        await withResponse(
          piecewise(head, ['abc', 'def']),
          async (r, conn, srv) => {
            // Both calls start before any body byte has arrived: the first one waits.
            const a = first(r);
            const b = second(r);
            await assert.rejects(b, (err: unknown) => {
              assert.ok(err instanceof ImproperConnectionState, String(err));
              assert.match(String(err), /another read of this response is still waiting/);
              return true;
            });
            // The first read got its bytes, and the rest of the body is still there, in order.
            const consumed = await a;
            const rest = (await r.read()).toString();
            assert.equal(consumed + rest, 'abcdef');
            assert.equal(r.isclosed(), true);
            // The connection carries the next request.
            await conn.request('GET', '/');
            assert.equal((await (await conn.getresponse()).read()).toString(), 'abcdef');
            assert.equal(srv.sockets.length, 1);
          },
          { timeout: 5 },
        );
      });
    }
  }
});

describe('readinto1(b): what has come, straight into b, with at most one wait (Python 3)', () => {
  failOnEscapes();

  it('returns each piece as it arrives, not once b is full; only inside b; then 0; the connection goes on', async () => {
    const head = 'HTTP/1.1 200 OK\r\nContent-Length: 11\r\n\r\n';
    await withResponse(piecewise(head, ['hello', ' ', 'world']), async (r, conn, srv) => {
      const whole = Buffer.alloc(64, 0xee);
      const b = whole.subarray(8, 40);
      const got: string[] = [];
      for (let n = await r.readinto1(b); n > 0; n = await r.readinto1(b)) {
        got.push(b.subarray(0, n).toString());
      }
      assert.deepEqual(got, ['hello', ' ', 'world']);
      assert.ok(
        whole.subarray(0, 8).every((x) => x === 0xee),
        'written before b',
      );
      assert.ok(
        whole.subarray(8 + 5).every((x) => x === 0xee),
        'written past the pieces',
      );
      assert.equal(r.isclosed(), true);
      assert.equal(await r.readinto1(b), 0);
      await conn.request('GET', '/');
      assert.equal((await (await conn.getresponse()).read()).toString(), 'hello world');
      assert.equal(srv.sockets.length, 1);
    });
  });

  it('a large body sent at once comes whole and in order, in pieces no larger than b, twice on one connection', async () => {
    const body = randomBytes(4 * 1024 * 1024 + 7);
    const srv = await httpServer((_req, res) => {
      res.writeHead(200, { 'Content-Length': body.length });
      res.end(body);
    });
    const conn = new HTTPConnection(HOST, srv.port);
    try {
      for (const size of [1 << 20, 100_003]) {
        await conn.request('GET', '/');
        const r = await conn.getresponse();
        const b = Buffer.alloc(size);
        const hash = createHash('sha256');
        let pieces = 0;
        let total = 0;
        for (let n = await r.readinto1(b); n > 0; n = await r.readinto1(b)) {
          assert.ok(n <= size);
          hash.update(b.subarray(0, n));
          total += n;
          pieces++;
        }
        assert.equal(total, body.length);
        assert.equal(hash.digest('hex'), createHash('sha256').update(body).digest('hex'));
        assert.ok(pieces >= Math.ceil(body.length / size), `${pieces} pieces`);
      }
      assert.equal(srv.connectionCount(), 1);
    } finally {
      conn.close();
      await srv.close();
    }
  });

  it('a chunked body: at most one chunk per call; an empty b reads nothing', async () => {
    const head = 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n';
    await withResponse(piecewise(head, ['3\r\nabc\r\n4\r\ndefg\r\n0\r\n\r\n']), async (r) => {
      const b = Buffer.alloc(16);
      assert.equal(await r.readinto1(Buffer.alloc(0)), 0);
      assert.equal(await r.readinto1(b), 3);
      assert.equal(b.subarray(0, 3).toString(), 'abc');
      assert.equal(await r.readinto1(b), 4);
      assert.equal(b.subarray(0, 4).toString(), 'defg');
      assert.equal(await r.readinto1(b), 0);
    });
  });

  it('while it waits: a second read is refused, close() settles it with AbortError; a timeout leaves the body cut', async () => {
    const head = 'HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n';
    await withResponse(piecewise(head, ['abc'], 'stall'), async (r) => {
      const b = Buffer.alloc(16);
      assert.equal(await r.readinto1(b), 3);
      const waiting = r.readinto1(b);
      await assert.rejects(r.readinto1(b), ImproperConnectionState);
      r.close();
      await assert.rejects(waiting, AbortError);
      assert.equal(await r.readinto1(b), 0);
    });
    await withResponse(
      piecewise(head, ['abc'], 'stall'),
      async (r) => {
        const b = Buffer.alloc(16);
        assert.equal(await r.readinto1(b), 3);
        await assert.rejects(r.readinto1(b), TimeoutError);
        await assert.rejects(r.readinto1(b), IncompleteRead);
      },
      { timeout: 0.3 },
    );
  });
});
