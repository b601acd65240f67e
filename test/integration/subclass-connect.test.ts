/**
 * A subclass's own `connect()`: Python's requests open the socket by calling
 * `self.connect()` (`auto_open`), so code ported from Python that overrides it (to set
 * socket options, to log, to pick an address) sees its override run for every socket a
 * request opens, with the socket there once its `super.connect()` settled. Over real
 * sockets on 127.0.0.1, under hooks that fail a test when an error escapes.
 */
import assert from 'node:assert/strict';
import type * as net from 'node:net';
import { describe } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { AbortError, HTTPConnection, NotConnected } from '../../src/index.ts';
import { failOnEscapes, guarded, type RawServer, scriptedServer, timeLimited } from './servers.ts';

const HOST = '127.0.0.1';
const OK = 'HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok';
const CLOSING = 'HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok';

const { it } = timeLimited(30_000);
failOnEscapes();

/** What the override does this time, and what it saw. */
interface Script {
  mode: 'open' | 'skip' | 'fail-before' | 'fail-after' | 'open-twice' | 'wait';
  calls: number;
  /** The socket `sock` was once the override's super.connect() settled. */
  seen: Array<net.Socket | null>;
  /** Resolves the wait of mode `wait`, once it waits. */
  go: (() => void) | null;
}

function subclass(script: Script): typeof HTTPConnection {
  return class Mine extends HTTPConnection {
    override async connect(): Promise<void> {
      script.calls++;
      // A turn of the event loop first, as an override that looks something up would.
      await sleep(1);
      if (script.mode === 'wait') await new Promise<void>((resolve) => (script.go = resolve));
      if (script.mode === 'skip') return;
      if (script.mode === 'fail-before') throw new Error('refused by the subclass');
      await super.connect();
      if (script.mode === 'open-twice') await super.connect();
      script.seen.push(this.sock);
      if (script.mode === 'fail-after') throw new Error('failed after opening');
    }
  };
}

async function withSubclass(
  replies: string[][],
  fn: (conn: HTTPConnection, script: Script, srv: RawServer) => Promise<void>,
): Promise<void> {
  const srv = await scriptedServer(replies);
  const script: Script = { mode: 'open', calls: 0, seen: [], go: null };
  const conn = new (subclass(script))(HOST, srv.port);
  await guarded(
    async () => {
      conn.close();
      await srv.close();
    },
    () => fn(conn, script, srv),
  );
}

async function fetch(conn: HTTPConnection, url = '/'): Promise<string> {
  await conn.request('GET', url);
  const response = await conn.getresponse();
  return String(await response.read());
}

describe('a subclass connect() runs for every socket a request opens', () => {
  it('request(): once per socket, with its socket there after super.connect()', async () => {
    await withSubclass([[OK, CLOSING], [OK]], async (conn, script, srv) => {
      assert.equal(await fetch(conn, '/1'), 'ok');
      assert.equal(script.calls, 1);
      assert.equal(script.seen[0], conn.sock);
      assert.notEqual(script.seen[0], null);
      // Kept alive: the next request reuses the socket, nothing opens.
      assert.equal(await fetch(conn, '/2'), 'ok');
      assert.equal(script.calls, 1);
      // The server closed it: the next request opens again, through the override.
      assert.equal(await fetch(conn, '/3'), 'ok');
      assert.equal(script.calls, 2);
      assert.equal(srv.sockets.length, 2);
    });
  });

  it('putrequest()/endheaders() and send() open through it too', async () => {
    await withSubclass([[OK]], async (conn, script, srv) => {
      conn.putrequest('POST', '/upload');
      conn.putheader('Content-Length', '3');
      await conn.endheaders();
      assert.equal(script.calls, 1);
      await conn.send('abc');
      const response = await conn.getresponse();
      assert.equal(String(await response.read()), 'ok');
      assert.match(srv.received[0]?.toString('latin1') ?? '', /\r\n\r\nabc$/);
      assert.equal(script.calls, 1);
    });
  });

  it('an explicit connect() is the one call: the request then writes', async () => {
    await withSubclass([[OK]], async (conn, script) => {
      await conn.connect();
      assert.equal(script.calls, 1);
      assert.equal(await fetch(conn), 'ok');
      assert.equal(script.calls, 1);
    });
  });

  it('super.connect() twice opens one socket for the request', async () => {
    await withSubclass([[OK]], async (conn, script, srv) => {
      script.mode = 'open-twice';
      assert.equal(await fetch(conn), 'ok');
      assert.equal(script.calls, 1);
      assert.equal(srv.sockets.length, 1);
    });
  });
});

describe('a subclass connect() that fails or opens nothing fails the request', () => {
  it('no super.connect(): NotConnected, nothing sent, the next request opens', async () => {
    await withSubclass([[OK]], async (conn, script, srv) => {
      script.mode = 'skip';
      await assert.rejects(conn.request('GET', '/'), NotConnected);
      assert.equal(srv.sockets.length, 0);
      script.mode = 'open';
      assert.equal(await fetch(conn), 'ok');
      assert.equal(script.calls, 2);
    });
  });

  it('its rejection before opening is the request’s; the next request opens', async () => {
    await withSubclass([[OK]], async (conn, script, srv) => {
      script.mode = 'fail-before';
      await assert.rejects(conn.request('GET', '/'), /refused by the subclass/);
      assert.equal(srv.sockets.length, 0);
      script.mode = 'open';
      assert.equal(await fetch(conn), 'ok');
      assert.equal(script.calls, 2);
    });
  });

  it('its rejection after opening is the request’s; nothing was sent on that socket', async () => {
    await withSubclass([[OK]], async (conn, script, srv) => {
      script.mode = 'fail-after';
      await assert.rejects(conn.request('GET', '/first'), /failed after opening/);
      await srv.connections(1);
      script.mode = 'open';
      // The socket it opened stays, as Python's sock does: the next request writes on it.
      assert.equal(await fetch(conn, '/second'), 'ok');
      assert.equal(script.calls, 1);
      assert.doesNotMatch(srv.received[0]?.toString('latin1') ?? '', /first/);
    });
  });

  it('close() while it runs: the request is given up, with AbortError', async () => {
    await withSubclass([[OK]], async (conn, script, srv) => {
      script.mode = 'wait';
      const pending = conn.request('GET', '/');
      while (script.go === null) await sleep(1);
      conn.close();
      await assert.rejects(pending, (err) => err instanceof AbortError);
      assert.equal(conn.sock, null);
      // It goes on after the close: its super.connect() is an ordinary connect() then.
      script.mode = 'open';
      script.go();
      assert.equal(await fetch(conn), 'ok');
      assert.ok(srv.sockets.length >= 1);
    });
  });

  it('the request’s signal while it runs: AbortError, and the connection goes on', async () => {
    await withSubclass([[OK]], async (conn, script) => {
      script.mode = 'wait';
      const controller = new AbortController();
      const pending = conn.request('GET', '/', null, null, { signal: controller.signal });
      while (script.go === null) await sleep(1);
      controller.abort();
      await assert.rejects(pending, (err) => err instanceof AbortError);
      script.mode = 'open';
      script.go();
      assert.equal(await fetch(conn), 'ok');
    });
  });
});
