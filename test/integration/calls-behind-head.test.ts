/**
 * A forgotten `await` on `getresponse()` (shared/API.md, "Calls, promises and closing":
 * calls take effect in the order they are made). In Python `getresponse()` blocks until
 * the head is in, so in
 *
 *   await c.request('GET', '/a'); const g = c.getresponse(); await c.request('GET', '/b')
 *
 * it returned first (Idle, the response in hand, its body unread) and the second request
 * was sent (CPython 2.7 and 3 both: see the oracle run in /work/coord/notes-13c.md). Here
 * `request()`/`endheaders()`/`send()` made while a `getresponse()` reads the head wait
 * for that read to settle and then take effect as if made afterwards; `putrequest()`,
 * synchronous, cannot wait and throws `CannotSendRequest`.
 *
 * Real servers on 127.0.0.1; that the second request is not written before the first
 * head is in is read from the client socket's `bytesWritten` (what the client handed to
 * the socket, however fast the loopback is), while the server holds that head back until
 * the test releases it. `unhandledRejection`/`uncaughtException` fail the test; nothing
 * waits on a wall-clock margin.
 */
import assert from 'node:assert/strict';
import type * as net from 'node:net';
import { Readable } from 'node:stream';
import { describe } from 'node:test';
import { CallsBehindHead } from '../../src/client/calls-behind-head.ts';
import {
  AbortError,
  CannotSendHeader,
  CannotSendRequest,
  HTTPConnection,
  ImproperConnectionState,
  RemoteDisconnected,
  ResponseNotReady,
} from '../../src/index.ts';
import {
  failOnEscapes,
  guarded,
  nextTurn,
  type RawServer,
  rawServer,
  timeLimited,
} from './servers.ts';

const HOST = '127.0.0.1';

const { it } = timeLimited(30_000);
failOnEscapes();

/** What the server does with one request: answer with these bytes, or close the socket. */
type Answer = string | 'close';

interface HeldServer {
  readonly srv: RawServer;
  /** The test is over (its cleanup ran): waits for conditions give up. */
  closed: boolean;
  /** Let the answer to the first request of the first connection go. */
  release(): void;
}

/**
 * A server that answers request `n` of connection `c` with `answer(c, n, path)`, each
 * request as soon as its head is in — except the first request of the first connection,
 * held until `release()`.
 */
async function heldServer(
  answer: (c: number, n: number, path: string) => Answer,
): Promise<HeldServer> {
  let release = (): void => {};
  const released = new Promise<void>((resolve) => {
    release = resolve;
  });
  const srv = await rawServer((socket: net.Socket, c: number) => {
    let pending = '';
    let n = 0;
    let turn = c === 0 ? released : Promise.resolve();
    socket.on('data', (d: Buffer) => {
      pending += d.toString('latin1');
      for (let end = pending.indexOf('\r\n\r\n'); end !== -1; end = pending.indexOf('\r\n\r\n')) {
        const path = pending.slice(0, end).split(' ')[1] ?? '';
        pending = pending.slice(end + 4);
        const reply = answer(c, n++, path);
        turn = turn.then(() => {
          if (reply === 'close') socket.destroy();
          else if (!socket.destroyed) socket.write(reply);
        });
      }
    });
  });
  return { srv, release, closed: false };
}

/** A keep-alive answer whose body names the connection, the request and the path. */
function ok(c: number, n: number, path: string, extra = ''): string {
  const body = `${c}-${n}${path}`;
  return `HTTP/1.1 200 OK\r\n${extra}Content-Length: ${body.length}\r\n\r\n${body}`;
}

/** Run `fn` with a connection to `srv`; close both afterwards (also on a hang). */
async function withConn(
  held: HeldServer,
  fn: (conn: HTTPConnection, held: HeldServer) => Promise<void>,
): Promise<void> {
  const conn = new HTTPConnection(HOST, held.srv.port);
  await guarded(
    async () => {
      held.closed = true;
      conn.close();
      held.release();
      await held.srv.close();
    },
    () => fn(conn, held),
  );
  await nextTurn();
}

/** Until `cond()` holds (polled on each turn of the event loop), or the test is over. */
async function until(held: HeldServer, cond: () => boolean): Promise<void> {
  while (!cond()) {
    if (held.closed) throw new Error('the test ended first');
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

/** The request lines received on connection `i`. */
function requestLines(srv: RawServer, i: number): string[] {
  const text = (srv.received[i] ?? Buffer.alloc(0)).toString('latin1');
  return [...text.matchAll(/^([A-Z]+ \S+) HTTP\/1\.1\r$/gm)].map((m) => m[1] as string);
}

/**
 * `GET /a` sent and awaited, then `getresponse()` not awaited while the server holds the
 * head back; `calls` are made then. Once the server has the request, a few turns of the
 * event loop pass: nothing more may have been written. Returns the pending head and what
 * `calls` returned; the head is released.
 */
async function behindHeldHead<T>(
  conn: HTTPConnection,
  held: HeldServer,
  calls: () => T,
): Promise<[ReturnType<HTTPConnection['getresponse']>, T]> {
  await conn.request('GET', '/a');
  const sock = conn.sock as net.Socket;
  const written = sock.bytesWritten;
  const head = conn.getresponse();
  head.catch(() => {});
  const made = calls();
  await until(held, () => requestLines(held.srv, 0).length > 0);
  await nextTurn();
  assert.equal(sock.bytesWritten, written, 'nothing written before the first head is in');
  assert.deepEqual(requestLines(held.srv, 0), ['GET /a']);
  held.release();
  return [head, made];
}

/** The promise, marked handled (it is awaited later, after other awaits). */
function later<T>(p: Promise<T>): Promise<T> {
  p.catch(() => {});
  return p;
}

function closedByCaller(err: unknown): true {
  assert.ok(err instanceof AbortError, `expected AbortError, got ${String(err)}`);
  assert.match(err.message, /closed by the caller/);
  assert.equal(err.code, 'ERR_HTTPLIB_CLOSED_BY_CALLER');
  return true;
}

describe('request() while getresponse() reads the head (a forgotten await)', () => {
  it('kept alive: the request goes after the head, on the same socket; both responses right', async () => {
    await withConn(await heldServer(ok), async (conn, held) => {
      const [head, sent] = await behindHeldHead(conn, held, () => later(conn.request('GET', '/b')));
      const r1 = await head;
      // Code written after the call resumes after it took effect: Request-sent, as in Python.
      assert.throws(() => conn.putrequest('GET', '/c'), CannotSendRequest);
      await sent;
      assert.equal((await r1.read()).toString(), '0-0/a');
      const r2 = await conn.getresponse();
      assert.equal((await r2.read()).toString(), '0-1/b');
      assert.deepEqual(requestLines(held.srv, 0), ['GET /a', 'GET /b']);
      assert.equal(held.srv.sockets.length, 1);
    });
  });

  it('the head fails (the server closes): RemoteDisconnected, the request goes on a new connection', async () => {
    const answer = (c: number, n: number, path: string): Answer =>
      c === 0 ? 'close' : ok(c, n, path);
    await withConn(await heldServer(answer), async (conn, held) => {
      const [head, sent] = await behindHeldHead(conn, held, () => later(conn.request('GET', '/b')));
      await assert.rejects(head, RemoteDisconnected);
      await sent;
      assert.equal((await (await conn.getresponse()).read()).toString(), '1-0/b');
      assert.deepEqual(requestLines(held.srv, 0), ['GET /a']);
      assert.deepEqual(requestLines(held.srv, 1), ['GET /b']);
    });
  });

  it('the first response says Connection: close: it keeps its socket, the request gets a new one', async () => {
    const answer = (c: number, n: number, path: string): Answer =>
      ok(c, n, path, c === 0 ? 'Connection: close\r\n' : '');
    await withConn(await heldServer(answer), async (conn, held) => {
      const [head, sent] = await behindHeldHead(conn, held, () => later(conn.request('GET', '/b')));
      const r1 = await head;
      assert.equal(r1.will_close, true);
      await sent;
      const r2 = await conn.getresponse();
      assert.equal((await r2.read()).toString(), '1-0/b');
      assert.equal((await r1.read()).toString(), '0-0/a');
      assert.deepEqual(requestLines(held.srv, 0), ['GET /a']);
      assert.deepEqual(requestLines(held.srv, 1), ['GET /b']);
    });
  });

  it('close() while both wait: both settle with AbortError, nothing more sent; then requests', async () => {
    await withConn(await heldServer(ok), async (conn, held) => {
      await conn.request('GET', '/a');
      const sock = conn.sock as net.Socket;
      const written = sock.bytesWritten;
      const head = later(conn.getresponse());
      const body = Readable.from(['x', 'y']);
      const listeners = body.listenerCount('error');
      const sent = later(conn.request('POST', '/b', body));
      const raw = later(conn.send('zz'));
      conn.close();
      await assert.rejects(head, closedByCaller);
      await assert.rejects(sent, closedByCaller);
      await assert.rejects(raw, closedByCaller);
      assert.equal(sock.bytesWritten, written);
      assert.equal(body.listenerCount('error'), listeners, 'no listener left on the stream');
      // The connection object is usable: the next request opens a new connection.
      await conn.request('GET', '/c');
      assert.equal((await (await conn.getresponse()).read()).toString(), '1-0/c');
      assert.deepEqual(requestLines(held.srv, 0), ['GET /a']);
    });
  });

  it('getresponse() twice, then request(): ResponseNotReady for the second; the request goes after the head', async () => {
    await withConn(await heldServer(ok), async (conn, held) => {
      const [head, [second, sent]] = await behindHeldHead(conn, held, () => [
        later(conn.getresponse()),
        later(conn.request('GET', '/b')),
      ]);
      await assert.rejects(second, ResponseNotReady);
      const r1 = await head;
      await sent;
      assert.equal((await r1.read()).toString(), '0-0/a');
      assert.equal((await (await conn.getresponse()).read()).toString(), '0-1/b');
      assert.deepEqual(requestLines(held.srv, 0), ['GET /a', 'GET /b']);
    });
  });

  it('two requests while the head is read: the first goes, the second is CannotSendRequest (Python)', async () => {
    await withConn(await heldServer(ok), async (conn, held) => {
      const [head, [first, second]] = await behindHeldHead(conn, held, () => [
        later(conn.request('GET', '/b')),
        later(conn.request('GET', '/c')),
      ]);
      await (await head).read();
      await first;
      await assert.rejects(
        second,
        (e) => e instanceof CannotSendRequest && e.message === 'Request-sent',
      );
      assert.equal((await (await conn.getresponse()).read()).toString(), '0-1/b');
      assert.deepEqual(requestLines(held.srv, 0), ['GET /a', 'GET /b']);
    });
  });

  it('none awaited (the first request still being sent): in call order, one connection', async () => {
    await withConn(await heldServer(ok), async (conn, held) => {
      const first = later(conn.request('GET', '/a'));
      const head = later(conn.getresponse());
      const second = later(conn.request('GET', '/b'));
      await first;
      await until(held, () => requestLines(held.srv, 0).length > 0);
      await nextTurn();
      assert.deepEqual(requestLines(held.srv, 0), ['GET /a']);
      held.release();
      const r1 = await head;
      await second;
      assert.equal((await r1.read()).toString(), '0-0/a');
      assert.equal((await (await conn.getresponse()).read()).toString(), '0-1/b');
      assert.deepEqual(requestLines(held.srv, 0), ['GET /a', 'GET /b']);
    });
  });
});

describe('endheaders(), send() and putrequest() while getresponse() reads the head', () => {
  it('send() goes after the head; endheaders() is CannotSendHeader then (Idle), nothing of it sent', async () => {
    await withConn(await heldServer(ok), async (conn, held) => {
      const [head, [ended, raw]] = await behindHeldHead(conn, held, () => {
        // putrequest() is synchronous and cannot wait: it throws now (Request-sent).
        assert.throws(() => conn.putrequest('GET', '/x'), CannotSendRequest);
        return [later(conn.endheaders('body')), later(conn.send('GET /b HTTP/1.1\r\n\r\n'))];
      });
      const r1 = await head;
      await assert.rejects(ended, CannotSendHeader);
      await raw;
      assert.equal((await r1.read()).toString(), '0-0/a');
      await until(held, () => requestLines(held.srv, 0).length === 2);
      assert.deepEqual(requestLines(held.srv, 0), ['GET /a', 'GET /b']);
      assert.doesNotMatch((held.srv.received[0] as Buffer).toString('latin1'), /body|\/x/);
    });
  });

  it('request() with its own signal aborted while it waits: AbortError, nothing sent, the head unharmed', async () => {
    await withConn(await heldServer(ok), async (conn, held) => {
      const abort = new AbortController();
      const [head, sent] = await behindHeldHead(conn, held, () => {
        const p = later(conn.request('GET', '/b', null, null, { signal: abort.signal }));
        abort.abort();
        return p;
      });
      await assert.rejects(sent, AbortError);
      const r1 = await head;
      assert.equal((await r1.read()).toString(), '0-0/a');
      await conn.request('GET', '/c');
      assert.equal((await (await conn.getresponse()).read()).toString(), '0-1/c');
      assert.deepEqual(requestLines(held.srv, 0), ['GET /a', 'GET /c']);
    });
  });

  it('a body that fails once its turn comes: its error, then the next request goes out', async () => {
    await withConn(await heldServer(ok), async (conn, held) => {
      const body = new Readable({ read() {} });
      const [head, sent] = await behindHeldHead(conn, held, () =>
        later(conn.request('POST', '/b', body)),
      );
      // The request went behind the kept response; its source breaks once that is read.
      assert.equal((await (await head).read()).toString(), '0-0/a');
      await until(held, () => requestLines(held.srv, 0).length === 2);
      body.destroy(new Error('source broke'));
      await assert.rejects(sent, /source broke/);
      await conn.request('GET', '/c');
      assert.match((await (await conn.getresponse()).read()).toString(), /^\d-\d\/c$/);
    });
  });

  it("getresponse()'s own signal aborts while its request is sent: the request behind goes anew", async () => {
    await withConn(await heldServer(ok), async (conn, held) => {
      const abort = new AbortController();
      const first = later(conn.request('GET', '/a'));
      const head = later(conn.getresponse({ signal: abort.signal }));
      const second = later(conn.request('GET', '/b'));
      abort.abort();
      held.release();
      await assert.rejects(head, AbortError);
      await assert.rejects(first, AbortError);
      await second;
      assert.match((await (await conn.getresponse()).read()).toString(), /^\d-0\/b$/);
    });
  });
});

describe('a state that says a head is read after that read is over (a defect) fails the call', () => {
  it('instead of starting it again at once, for ever', async () => {
    const behind = new CallsBehindHead();
    const heading = Promise.resolve();
    behind.heading = heading;
    let starts = 0;
    let dropped = 0;
    // Each start finds the machine still reading the head (the defect): it waits again.
    const attempt = (): Promise<void> => {
      starts++;
      // Without the guard this would never end (and block every timer): stop it here.
      if (starts > 1000) return Promise.reject(new Error('started again and again'));
      return behind.wait(attempt, undefined, () => dropped++);
    };
    await assert.rejects(
      behind.wait(attempt, undefined, () => dropped++),
      (err: unknown) => {
        assert.ok(err instanceof ImproperConnectionState, String(err));
        assert.match(err.message, /a defect of httplib-ts/);
        return true;
      },
    );
    assert.equal(starts, 1);
    assert.equal(dropped, 1, 'what the call held is let go');
  });
});
