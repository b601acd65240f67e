/**
 * Bodies over TLS. An `HTTPSConnection` without a tunnel or a `createConnection` hook
 * opens TCP and TLS in one step and reads through net's `onread` (io/transport.ts): the
 * TLS layer hands each decrypted record to the same reader as a plain socket's reads, and
 * read() / readinto receive straight into the caller's memory. These tests check the
 * bytes (every read method, every framing, large and small), that the direct path is
 * taken, the connection's reuse, a body cut short, a second read while one waits,
 * close() and abort in the middle, and the tunnelled path (read through 'data') beside
 * it. A real node:https server and a CONNECT proxy, certificates made at test time.
 */
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import diagnostics_channel from 'node:diagnostics_channel';
import type { IncomingMessage, ServerResponse } from 'node:http';
import * as net from 'node:net';
import { after, before, describe, it } from 'node:test';
import * as tls from 'node:tls';
import {
  AbortError,
  type HTTPResponse,
  HTTPSConnection,
  ImproperConnectionState,
  IncompleteRead,
  ssl,
  TimeoutError,
} from '../../src/index.ts';
import { directReadBytes } from '../../src/io/direct-read.ts';
import { recordEscapes } from './servers.ts';
import {
  type ConnectProxy,
  connectProxy,
  type HttpsServer,
  httpsServer,
  makePki,
  type Pki,
} from './tls-peers.ts';

const TIMEOUT = 10;
const MiB = 1024 * 1024;
const BODY = randomBytes(3 * MiB + 17);
const sha = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');
const escapes = recordEscapes();

/**
 * `/sha`: the SHA-256 of the request body; `/stall`: reads nothing and never answers;
 * `/len`: BODY with Content-Length; `/chunked`: BODY in 5000-byte chunks; `/small`: 100
 * bytes; `/cut`: Content-Length of BODY, half of it, then the connection is destroyed;
 * `/hold`: the head and 10 bytes of a 1 MiB body, then nothing (until the socket closes).
 */
function handler(req: IncomingMessage, res: ServerResponse): void {
  const url = req.url ?? '/';
  if (url === '/len') {
    res.setHeader('Content-Length', BODY.length);
    res.end(BODY);
  } else if (url === '/chunked') {
    for (let at = 0; at < BODY.length; at += 5000) res.write(BODY.subarray(at, at + 5000));
    res.end();
  } else if (url === '/small') {
    res.setHeader('Content-Length', 100);
    res.end(BODY.subarray(0, 100));
  } else if (url === '/cut') {
    res.setHeader('Content-Length', BODY.length);
    res.write(BODY.subarray(0, BODY.length >> 1), () => {
      setTimeout(() => res.socket?.destroy(), 20);
    });
  } else if (url === '/sha') {
    const hash = createHash('sha256');
    req.on('data', (d: Buffer) => hash.update(d));
    req.on('end', () => res.end(hash.digest('hex')));
  } else if (url === '/stall') {
    // Reads none of the request body and never answers: the client's writes back up.
    req.pause();
  } else {
    res.setHeader('Content-Length', MiB);
    res.write(BODY.subarray(0, 10));
  }
}

describe('bodies over TLS, read through onread', { timeout: 60_000 }, () => {
  let pki: Pki;
  let server: HttpsServer;
  let proxy: ConnectProxy;
  let context: ssl.SSLContext;

  before(async () => {
    pki = await makePki();
    server = await httpsServer(pki.pair('server'), handler);
    proxy = await connectProxy();
    context = ssl.create_default_context({ cafile: pki.file('ca.pem') });
  });
  after(async () => {
    await server?.close();
    await proxy?.close();
    pki?.remove();
    assert.deepEqual(escapes.take(), []);
  });

  /** A connection to the server, directly or through the proxy. */
  function connect(tunnelled = false): HTTPSConnection {
    if (!tunnelled)
      return new HTTPSConnection('localhost', server.port, { context, timeout: TIMEOUT });
    const conn = new HTTPSConnection('127.0.0.1', proxy.port, { context, timeout: TIMEOUT });
    conn.set_tunnel('localhost', server.port);
    return conn;
  }

  /** `fn` on a direct connection (`tunnelled`: through the proxy), closed after it. */
  async function withConn(
    fn: (conn: HTTPSConnection) => Promise<void>,
    tunnelled = false,
  ): Promise<void> {
    const conn = connect(tunnelled);
    try {
      await fn(conn);
    } finally {
      conn.close();
    }
  }

  const readers = {
    'read()': (r: HTTPResponse) => r.read(),
    'read(65536) loop': async (r: HTTPResponse) => {
      const parts: Buffer[] = [];
      for (;;) {
        const b = await r.read(65536);
        if (b.length === 0) return Buffer.concat(parts);
        assert.ok(b.length <= 65536);
        parts.push(b);
      }
    },
    'readinto(64 KiB) loop': async (r: HTTPResponse) => {
      const parts: Buffer[] = [];
      const into = Buffer.alloc(65536);
      for (;;) {
        const n = await r.readinto(into);
        if (n === 0) return Buffer.concat(parts);
        parts.push(Buffer.from(into.subarray(0, n)));
      }
    },
  };

  for (const tunnelled of [false, true]) {
    for (const [how, read] of Object.entries(readers)) {
      it(`${how} of a 3 MiB body, Content-Length then chunked, then a small one, on one connection${tunnelled ? ' (tunnelled: data events)' : ''}`, async () => {
        await withConn(async (conn) => {
          const before = directReadBytes();
          for (const path of ['/len', '/chunked', '/small']) {
            await conn.request('GET', path);
            const r = await conn.getresponse();
            assert.equal(r.status, 200);
            const body = await read(r);
            const want = path === '/small' ? BODY.subarray(0, 100) : BODY;
            assert.equal(body.length, want.length, path);
            assert.equal(sha(body), sha(want), path);
            assert.ok(r.isclosed(), path);
          }
          const direct = directReadBytes() - before;
          if (tunnelled) assert.equal(direct, 0, 'a tunnelled socket is read through data events');
          else if (how !== 'read(65536) loop') {
            // read() and readinto of the Content-Length body: most of it straight in.
            assert.ok(direct > MiB, `only ${direct} bytes went straight into memory`);
          }
        }, tunnelled);
      });
    }
  }

  it('a body cut short: read() rejects with IncompleteRead holding what arrived', async () => {
    await withConn(async (conn) => {
      await conn.request('GET', '/cut');
      const r = await conn.getresponse();
      await assert.rejects(r.read(), (err: unknown) => {
        assert.ok(err instanceof IncompleteRead, String(err));
        assert.equal(sha(err.partial), sha(BODY.subarray(0, err.partial.length)));
        assert.ok(err.partial.length >= BODY.length >> 1);
        assert.equal(err.expected, BODY.length - err.partial.length);
        return true;
      });
    });
  });

  it('readinto on a body cut short gives its bytes, then IncompleteRead', async () => {
    await withConn(async (conn) => {
      await conn.request('GET', '/cut');
      const r = await conn.getresponse();
      const into = Buffer.alloc(256 * 1024);
      let got = 0;
      const err = await (async () => {
        for (;;) {
          const n = await r.readinto(into);
          if (n === 0) return null;
          assert.equal(sha(into.subarray(0, n)), sha(BODY.subarray(got, got + n)));
          got += n;
        }
      })().catch((e: unknown) => e);
      assert.ok(err instanceof IncompleteRead, String(err));
      assert.ok(got + err.partial.length >= BODY.length >> 1);
    });
  });

  it('a second read while one waits is refused, close() in the middle settles the first with AbortError', async () => {
    const conn = connect();
    await conn.request('GET', '/hold');
    const r = await conn.getresponse();
    const first = r.read();
    await assert.rejects(r.read(), ImproperConnectionState);
    await new Promise((resolve) => setTimeout(resolve, 30));
    conn.close();
    await assert.rejects(first, AbortError);
  });

  it('connect() twice at once makes one TLS connection; close() twice; a request after close() opens anew', async () => {
    await withConn(async (conn) => {
      const before = server.connectionCount();
      const first = conn.connect();
      const second = conn.connect();
      await Promise.all([first, second]);
      assert.equal(server.connectionCount() - before, 1, 'the second connect() joined the first');
      conn.close();
      conn.close();
      await conn.request('GET', '/small');
      const r = await conn.getresponse();
      assert.equal(sha(await r.read()), sha(BODY.subarray(0, 100)));
      assert.equal(server.connectionCount() - before, 2);
    });
  });

  it("httplib:connect's socket: the TLS socket before its handshake here, the TCP one through a tunnel", async () => {
    const seen: unknown[] = [];
    const listen = (message: unknown): void => {
      const { socket } = message as { socket: net.Socket };
      // What a subscriber sees at that moment, not later.
      seen.push({
        tls: socket instanceof tls.TLSSocket,
        encrypted: (socket as tls.TLSSocket).encrypted === true,
        authorized: (socket as tls.TLSSocket).authorized === true,
      });
    };
    diagnostics_channel.subscribe('httplib:connect', listen);
    try {
      for (const tunnelled of [false, true]) {
        await withConn(async (conn) => {
          await conn.request('GET', '/small');
          await (await conn.getresponse()).read();
        }, tunnelled);
      }
    } finally {
      diagnostics_channel.unsubscribe('httplib:connect', listen);
    }
    assert.deepEqual(seen, [
      { tls: true, encrypted: true, authorized: false },
      { tls: false, encrypted: false, authorized: false },
    ]);
  });

  it('a request body that fails half-way over TLS: its error, and the next request on a new connection', async () => {
    await withConn(async (conn) => {
      await conn.request('GET', '/small');
      await (await conn.getresponse()).read();
      const before = server.connectionCount();
      const boom = new Error('the body failed half-way');
      const body = (async function* (): AsyncGenerator<Buffer> {
        yield Buffer.alloc(200_000, 0x61);
        throw boom;
      })();
      await assert.rejects(conn.request('POST', '/small', body), (err: unknown) => err === boom);
      await conn.request('GET', '/small');
      const again = await conn.getresponse();
      assert.equal(sha(await again.read()), sha(BODY.subarray(0, 100)));
      assert.equal(server.connectionCount() - before, 1, 'the half-sent socket was not reused');
    });
  });

  it('an abort signal ends a readinto that waits, and the connection opens anew', async () => {
    await withConn(async (conn) => {
      await conn.request('GET', '/hold');
      const r = await conn.getresponse();
      const into = Buffer.alloc(MiB);
      const controller = new AbortController();
      const pending = r.readinto(into, { signal: controller.signal });
      setTimeout(() => controller.abort(), 30);
      await assert.rejects(pending, AbortError);
      await conn.request('GET', '/small');
      const again = await conn.getresponse();
      assert.equal(sha(await again.read()), sha(BODY.subarray(0, 100)));
    });
  });
  for (const tunnelled of [false, true]) {
    it(`a 40 MiB in-memory request body goes out whole and in order, in pieces${tunnelled ? ' (tunnelled)' : ''}`, async () => {
      await withConn(async (conn) => {
        const body = Buffer.alloc(40 * MiB);
        for (let at = 0; at < body.length; at += BODY.length) BODY.copy(body, at);
        await conn.request('POST', '/sha', body);
        const r = await conn.getresponse();
        assert.equal((await r.read()).toString(), sha(body));
      }, tunnelled);
    });
  }

  it('a 64 MiB in-memory body to a server that reads none of it: a piece at a time on the socket, never the whole ciphertext, and the send times out', async () => {
    const conn = new HTTPSConnection('localhost', server.port, { context, timeout: 1 });
    try {
      await conn.connect();
      const socket = conn.sock as tls.TLSSocket;
      // Before: one write of all of it, which Node encrypts before it returns (the event
      // loop held for the whole body: over a second here, 28 s for 1 GiB) and queues.
      let most = 0;
      const watch = setInterval(() => {
        most = Math.max(most, socket.writableLength);
      }, 2);
      const sending = conn.request('POST', '/stall', Buffer.alloc(64 * MiB, 0x78));
      most = Math.max(most, socket.writableLength);
      await assert.rejects(sending, (err: unknown) => {
        assert.ok(err instanceof TimeoutError, String(err));
        assert.equal(err.phase, 'send');
        return true;
      });
      clearInterval(watch);
      assert.ok(most > 0, 'the body was being written');
      assert.ok(most <= 2 * MiB, `${most} bytes waited in the socket at once`);
    } finally {
      conn.close();
    }
  });
  it('close() while a 64 MiB body goes out in pieces: the send rejects with AbortError, no later piece is written, and the connection opens anew', async () => {
    const conn = new HTTPSConnection('localhost', server.port, { context, timeout: TIMEOUT });
    try {
      await conn.connect();
      const socket = conn.sock as tls.TLSSocket;
      let written = 0;
      const write = socket.write.bind(socket) as (...args: unknown[]) => boolean;
      (socket as unknown as { write: (...args: unknown[]) => boolean }).write = (
        ...args: unknown[]
      ) => {
        if (Buffer.isBuffer(args[0])) written += args[0].length;
        return write(...args);
      };
      const sending = conn.request('POST', '/stall', Buffer.alloc(64 * MiB, 0x78));
      // The server reads none of it: the first pieces fill the socket, then a drain waits.
      while (written === 0) await new Promise((resolve) => setTimeout(resolve, 5));
      await new Promise((resolve) => setTimeout(resolve, 50));
      const before = written;
      assert.ok(before < 64 * MiB, `${before} bytes were handed to the socket before close()`);
      conn.close();
      await assert.rejects(sending, (err: unknown) => {
        assert.ok(err instanceof AbortError, String(err));
        assert.equal((err as { code?: string }).code, 'ERR_HTTPLIB_CLOSED_BY_CALLER');
        return true;
      });
      await new Promise((resolve) => setTimeout(resolve, 50));
      assert.equal(written, before, 'no piece was written after close()');
      assert.ok(socket.destroyed);
      await conn.request('GET', '/small');
      const again = await conn.getresponse();
      assert.equal(sha(await again.read()), sha(BODY.subarray(0, 100)));
    } finally {
      conn.close();
    }
  });

  it("a TLS 1.3 server that never answers: the head's timeout fires after one timeout, its session tickets are no bytes coming", async () => {
    // The server sends its session tickets after the handshake, while the head is
    // awaited. Before: their ciphertext counted as a record arriving and re-armed the
    // timer, and the wait timed out after two timeouts (about 2 s here).
    const protocols: Array<string | null> = [];
    const silent = tls.createServer(pki.pair('server'), (s) => {
      s.on('error', () => {});
      protocols.push(s.getProtocol());
      s.resume();
    });
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const port = (silent.address() as net.AddressInfo).port;
    try {
      for (const tunnelled of [false, true]) {
        const conn = tunnelled
          ? new HTTPSConnection('127.0.0.1', proxy.port, { context, timeout: 1 })
          : new HTTPSConnection('localhost', port, { context, timeout: 1 });
        if (tunnelled) conn.set_tunnel('localhost', port);
        try {
          await conn.request('GET', '/never');
          const start = performance.now();
          await assert.rejects(conn.getresponse(), TimeoutError);
          const elapsed = performance.now() - start;
          assert.ok(elapsed >= 900 && elapsed < 1600, `tunnelled ${tunnelled}: ${elapsed} ms`);
        } finally {
          conn.close();
        }
      }
      assert.deepEqual(protocols, ['TLSv1.3', 'TLSv1.3']);
    } finally {
      await new Promise((resolve) => silent.close(resolve));
    }
  });

  it('a timeout does not fire while a TLS record arrives a few bytes at a time (ciphertext counts as bytes coming)', async () => {
    // A TLS server writes a 4000-byte body in one record; a relay passes it on 100 bytes
    // every 25 ms (about a second in all) to a client whose timeout is 0.5 s. Before: the
    // reader saw nothing until the record was whole, and timed out half-way.
    const body = BODY.subarray(0, 4000);
    const origin = tls.createServer(pki.pair('server'), (s) => {
      s.on('error', () => {});
      s.once('data', () => {
        s.write(`HTTP/1.1 200 OK\r\nContent-Length: ${body.length}\r\n\r\n`);
        s.write(body);
      });
    });
    await new Promise<void>((resolve) => origin.listen(0, '127.0.0.1', resolve));
    const sockets = new Set<net.Socket>();
    const relay = net.createServer((client) => {
      sockets.add(client);
      const upstream = net.connect((origin.address() as net.AddressInfo).port, '127.0.0.1');
      sockets.add(upstream);
      client.on('error', () => {});
      upstream.on('error', () => {});
      client.pipe(upstream);
      let queue = Buffer.alloc(0);
      upstream.on('data', (d: Buffer) => {
        queue = Buffer.concat([queue, d]);
      });
      // The handshake's small flights pass at once; the body's record drips.
      const drip = setInterval(() => {
        const n = queue.length < 1000 ? queue.length : 100;
        if (n > 0) client.write(queue.subarray(0, n));
        queue = queue.subarray(n);
      }, 25);
      client.on('close', () => {
        clearInterval(drip);
        upstream.destroy();
      });
    });
    await new Promise<void>((resolve) => relay.listen(0, '127.0.0.1', resolve));
    const port = (relay.address() as net.AddressInfo).port;
    const conn = new HTTPSConnection('localhost', port, { context, timeout: 0.5 });
    try {
      await conn.request('GET', '/drip');
      const r = await conn.getresponse();
      assert.equal(sha(await r.read()), sha(body));
    } finally {
      conn.close();
      for (const s of sockets) s.destroy();
      await new Promise((resolve) => relay.close(resolve));
      await new Promise((resolve) => origin.close(resolve));
    }
  });
});
