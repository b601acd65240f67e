/**
 * Real failures carry their class and stable `code` (API.md "Errors carry codes"), over
 * real sockets on 127.0.0.1: a refused CONNECT tunnel is a `TunnelError` with the
 * proxy's `status`, `reason` and `headers`; a timeout names its phase, the peer's
 * `host:port` and the seconds (connect, tunnel, TLS handshake, send, head, body, through
 * a tunnel too); a request body that shrinks while it is sent is a `BodyLengthMismatch`;
 * a broken chunked body an `IncompleteRead` caused by a `FramingError`; a stricter-rule
 * response error an `HTTPException` with its rule's code.
 *
 * `unhandledRejection`/`uncaughtException` fail the test while it runs.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs/promises';
import type * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterEach, beforeEach, describe, it } from 'node:test';
import {
  BodyLengthMismatch,
  FramingError,
  HTTPConnection,
  HTTPException,
  HTTPSConnection,
  IncompleteRead,
  ssl,
  TimeoutError,
  TunnelError,
} from '../../src/index.ts';
import { rawServer, scriptedServer, stalledListener } from './servers.ts';
import { connectProxy } from './tls-peers.ts';

const AUTH = 'Basic dXNlcjpzM2NyZXQ=';

describe('errors carry their codes', () => {
  const cleanups: Array<() => Promise<void> | void> = [];
  const stray: unknown[] = [];
  const onStray = (err: unknown): void => {
    stray.push(err);
  };

  beforeEach(() => {
    process.on('unhandledRejection', onStray);
    process.on('uncaughtException', onStray);
  });

  afterEach(async () => {
    for (const fn of cleanups.splice(0).reverse()) await fn();
    process.off('unhandledRejection', onStray);
    process.off('uncaughtException', onStray);
    assert.deepEqual(stray.splice(0), [], 'an unhandled rejection or uncaught exception');
  });

  function later<T extends { close(): unknown }>(thing: T): T {
    cleanups.push(async () => {
      await thing.close();
    });
    return thing;
  }

  /** A rejection of `promise`, which must reject. */
  async function failure(promise: Promise<unknown>): Promise<unknown> {
    try {
      await promise;
    } catch (err) {
      return err;
    }
    assert.fail('expected a rejection');
  }

  /** How a TimeoutError's message names each phase (io/deadline.ts). */
  const WAITING: Record<string, string> = {
    connect: 'connecting to',
    tunnel: 'waiting for the CONNECT reply from',
    handshake: 'in the TLS handshake with',
    send: 'sending the request to',
    head: 'waiting for the response head from',
    body: 'waiting for the response body from',
  };

  /** `err` is a TimeoutError of `phase` with `host:port`, after `seconds`, and says so. */
  function assertTimeout(
    err: unknown,
    phase: string,
    host: string,
    port: number,
    seconds: number,
  ): void {
    assert.ok(err instanceof TimeoutError, `expected TimeoutError, got ${String(err)}`);
    assert.equal(err.code, 'ETIMEDOUT');
    assert.deepEqual(
      { phase: err.phase, host: err.host, port: err.port, seconds: err.seconds },
      { phase, host, port, seconds },
    );
    assert.equal(err.message, `timed out after ${seconds} s ${WAITING[phase]} ${host}:${port}`);
  }

  describe('a refused CONNECT tunnel is a TunnelError', () => {
    it("407 from a real proxy: status, reason, the proxy's headers, Python's message", async () => {
      const proxy = later(await connectProxy({ auth: AUTH }));
      const conn = later(new HTTPConnection('127.0.0.1', proxy.port, { timeout: 10 }));
      conn.set_tunnel('localhost', 8080);
      const err = await failure(conn.request('GET', '/'));
      assert.ok(err instanceof TunnelError, `expected TunnelError, got ${String(err)}`);
      assert.equal(err.name, 'TunnelError');
      assert.equal(err.code, 'ERR_HTTPLIB_TUNNEL');
      assert.equal(err.message, 'Tunnel connection failed: 407 Proxy Authentication Required');
      assert.equal(err.status, 407);
      assert.equal(err.reason, 'Proxy Authentication Required');
      assert.equal(err.headers?.getheader('Proxy-Authenticate'), 'Basic realm="test"');
      assert.equal(err.headers?.getheader('Content-Length'), '21');
      // Python 2.7: socket.error; Python 3: OSError. Not an HTTPException.
      assert.ok(!(err instanceof HTTPException));
      assert.equal(conn.sock, null, 'the connection is closed');
      assert.equal(proxy.heads.length, 1);
    });

    it('HTTPS through a proxy that answers 502: the same class', async () => {
      const reply = 'HTTP/1.1 502 Bad Gateway\r\nVia: test-proxy\r\nContent-Length: 0\r\n\r\n';
      const origin = later(await rawServer(() => {}));
      const proxy = later(await connectProxy({ mode: 'reply', reply, route: () => origin.port }));
      const context = ssl._create_unverified_context();
      const conn = later(new HTTPSConnection('127.0.0.1', proxy.port, { context, timeout: 10 }));
      conn.set_tunnel('localhost', 8443);
      const err = await failure(conn.request('GET', '/'));
      assert.ok(err instanceof TunnelError);
      assert.equal(err.status, 502);
      assert.equal(err.reason, 'Bad Gateway');
      assert.equal(err.headers?.getheader('Via'), 'test-proxy');
      assert.equal(err.message, 'Tunnel connection failed: 502 Bad Gateway');
    });

    it('a reply that is not HTTP: status null, no headers', async () => {
      const proxy = later(await connectProxy({ mode: 'http09' }));
      const conn = later(new HTTPConnection('127.0.0.1', proxy.port, { timeout: 10 }));
      conn.set_tunnel('localhost', 8080);
      const err = await failure(conn.request('GET', '/'));
      assert.ok(err instanceof TunnelError);
      assert.equal(err.code, 'ERR_HTTPLIB_TUNNEL');
      assert.equal(err.message, 'Invalid response from tunnel request');
      assert.deepEqual([err.status, err.headers], [null, null]);
    });
  });

  describe('TimeoutError names the phase, host:port and seconds', () => {
    it('connect: a listener whose accept queue is full', async () => {
      const listener = later(await stalledListener());
      const conn = later(new HTTPConnection('127.0.0.1', listener.port, { timeout: 0.3 }));
      assertTimeout(await failure(conn.connect()), 'connect', '127.0.0.1', listener.port, 0.3);
    });

    it('connect with timeout 0 fails at once, naming the peer', async () => {
      const srv = later(await rawServer(() => {}));
      const conn = later(new HTTPConnection('127.0.0.1', srv.port, { timeout: 0 }));
      assertTimeout(await failure(conn.request('GET', '/')), 'connect', '127.0.0.1', srv.port, 0);
    });

    it('tunnel: a proxy that never answers the CONNECT is named, not the origin', async () => {
      const proxy = later(await rawServer(() => {}));
      const conn = later(new HTTPConnection('127.0.0.1', proxy.port, { timeout: 0.3 }));
      conn.set_tunnel('origin.example', 8080);
      assertTimeout(
        await failure(conn.request('GET', '/')),
        'tunnel',
        '127.0.0.1',
        proxy.port,
        0.3,
      );
    });

    it('handshake: a server that accepts TCP and never speaks TLS', async () => {
      const srv = later(await rawServer(() => {}));
      const context = ssl._create_unverified_context();
      const conn = later(new HTTPSConnection('127.0.0.1', srv.port, { context, timeout: 0.3 }));
      assertTimeout(await failure(conn.connect()), 'handshake', '127.0.0.1', srv.port, 0.3);
    });

    it('send: a server that reads nothing while a large body waits for drain', async () => {
      const srv = later(await rawServer((socket) => socket.pause()));
      const conn = later(new HTTPConnection('127.0.0.1', srv.port, { timeout: 0.3 }));
      const body = Buffer.alloc(64 * 1024 * 1024);
      assertTimeout(
        await failure(conn.request('PUT', '/', body)),
        'send',
        '127.0.0.1',
        srv.port,
        0.3,
      );
    });

    it('head: a server that never answers (with and without a per-call signal)', async () => {
      const srv = later(await rawServer(() => {}));
      for (const signal of [undefined, new AbortController().signal]) {
        const conn = later(new HTTPConnection('127.0.0.1', srv.port, { timeout: 0.3 }));
        await conn.request('GET', '/');
        const got = signal === undefined ? conn.getresponse() : conn.getresponse({ signal });
        assertTimeout(await failure(got), 'head', '127.0.0.1', srv.port, 0.3);
      }
    });

    it('body: a server that stalls mid-body (read(), read(amt), read with a signal)', async () => {
      const head = 'HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n0123456789';
      const srv = later(await scriptedServer([head]));
      const reads: Array<
        (r: Awaited<ReturnType<HTTPConnection['getresponse']>>) => Promise<unknown>
      > = [
        (r) => r.read(),
        (r) => r.read(50),
        (r) => r.read(50, { signal: AbortSignal.timeout(60_000) }),
      ];
      for (const read of reads) {
        const conn = later(new HTTPConnection('127.0.0.1', srv.port, { timeout: 0.3 }));
        await conn.request('GET', '/');
        const r = await conn.getresponse();
        assert.deepEqual(await r.read(10), Buffer.from('0123456789'));
        assertTimeout(await failure(read(r)), 'body', '127.0.0.1', srv.port, 0.3);
      }
    });

    it('through a tunnel, the head and body waits name the origin, not the proxy', async () => {
      const origin = later(await rawServer(() => {}));
      const proxy = later(await connectProxy({ route: () => origin.port }));
      const conn = later(new HTTPConnection('127.0.0.1', proxy.port, { timeout: 0.3 }));
      conn.set_tunnel('origin.test', 8080);
      await conn.request('GET', '/');
      assertTimeout(await failure(conn.getresponse()), 'head', 'origin.test', 8080, 0.3);
    });

    it('a timeout of Infinity sets no timer: the connect goes through', async () => {
      const srv = later(await scriptedServer(['HTTP/1.1 204 No Content\r\n\r\n']));
      const conn = later(
        new HTTPConnection('127.0.0.1', srv.port, { timeout: Number.POSITIVE_INFINITY }),
      );
      await conn.request('GET', '/');
      assert.equal((await conn.getresponse()).status, 204);
    });
  });

  describe('body and response errors', () => {
    it('a file body that shrinks while it is sent: BodyLengthMismatch, the socket destroyed', async () => {
      const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'httplib-codes-'));
      cleanups.push(() => fs.rm(dir, { recursive: true, force: true }));
      const file = path.join(dir, 'body.bin');
      const size = 32 * 1024 * 1024;
      await fs.writeFile(file, Buffer.alloc(size, 0x61));
      // The server reads the head, then nothing until the file was truncated: the client
      // waits for drain with most of the file still unread.
      let headSeen: () => void = () => {};
      const seen = new Promise<void>((resolve) => {
        headSeen = resolve;
      });
      const srv = later(
        await rawServer((socket) => {
          socket.once('data', () => {
            socket.pause();
            headSeen();
          });
        }),
      );
      const handle = await fs.open(file);
      cleanups.push(() => handle.close());
      const conn = later(new HTTPConnection('127.0.0.1', srv.port, { timeout: 10 }));
      const sent = failure(conn.request('PUT', '/upload', handle));
      await seen;
      await fs.truncate(file, 1000);
      (srv.sockets[0] as net.Socket).resume();
      const err = await sent;
      assert.ok(
        err instanceof BodyLengthMismatch,
        `expected BodyLengthMismatch, got ${String(err)}`,
      );
      assert.equal(err.code, 'ERR_HTTPLIB_BODY_LENGTH_MISMATCH');
      assert.ok(err instanceof HTTPException);
      assert.equal(err.declared, size);
      assert.ok(err.got < size, `got ${err.got}`);
      assert.equal(err.message, `request body length mismatch: declared ${size}, got ${err.got}`);
      assert.equal(conn.sock?.destroyed ?? true, true, 'the half-sent connection is not kept');
    });

    it('a broken chunked body: IncompleteRead caused by a FramingError', async () => {
      const reply = 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\nzz\r\n';
      const srv = later(await scriptedServer([reply]));
      const conn = later(new HTTPConnection('127.0.0.1', srv.port, { timeout: 10 }));
      await conn.request('GET', '/');
      const r = await conn.getresponse();
      const err = await failure(r.read());
      assert.ok(err instanceof IncompleteRead, `expected IncompleteRead, got ${String(err)}`);
      assert.equal(err.code, 'ERR_HTTPLIB_INCOMPLETE_READ');
      assert.deepEqual(err.partial, Buffer.from('hello'));
      assert.ok(err.cause instanceof FramingError);
      assert.equal(err.cause.code, 'ERR_HTTPLIB_FRAMING');
    });

    for (const [what, reply, code] of [
      [
        'conflicting Content-Length values',
        'HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab',
        'ERR_HTTPLIB_BAD_CONTENT_LENGTH',
      ],
      [
        'a header line without a colon',
        'HTTP/1.1 200 OK\r\nNo colon here\r\n\r\n',
        'ERR_HTTPLIB_BAD_HEADER_LINE',
      ],
      [
        'more than 100 headers',
        `HTTP/1.1 200 OK\r\n${'X: y\r\n'.repeat(101)}\r\n`,
        'ERR_HTTPLIB_TOO_MANY_HEADERS',
      ],
    ] as const) {
      it(`${what}: an HTTPException with code ${code}`, async () => {
        const srv = later(await scriptedServer([reply]));
        const conn = later(new HTTPConnection('127.0.0.1', srv.port, { timeout: 10 }));
        await conn.request('GET', '/');
        const err = await failure(conn.getresponse());
        assert.ok(err instanceof HTTPException, `expected HTTPException, got ${String(err)}`);
        assert.equal(err.name, 'HTTPException');
        assert.equal(err.code, code);
      });
    }
  });
});
