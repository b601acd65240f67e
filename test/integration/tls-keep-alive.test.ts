/**
 * Bytes a server sends past a response's body must never be read as the next request's
 * response, over TLS too (keep-alive.test.ts holds the plain-TCP cases). A TLS socket
 * hands its records over one callback each, and the caller's code runs between them;
 * behind a paused socket, the rest waits in the kernel. A request made at once, in the
 * read's continuation, must still go out on a new connection and get its own answer,
 * directly over TLS and through a CONNECT tunnel.
 */
import assert from 'node:assert/strict';
import type * as net from 'node:net';
import { after, before, describe, it } from 'node:test';
import * as tls from 'node:tls';
import { HTTPSConnection, ImproperConnectionState, ssl } from '../../src/index.ts';
import { WHOLE_BODY_READS } from './read-styles.ts';
import { failOnEscapes } from './servers.ts';
import { type ConnectProxy, connectProxy, makePki, type Pki } from './tls-peers.ts';

failOnEscapes();

/** Bodies of more than the reader's high-water mark (256 KiB): it pauses the socket. */
const SIZES = [270_000, 1024 * 1024];
const FORGED = 'HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nevil';

/**
 * A TLS server: `/first` is answered with a `size`-byte body and then, 50 ms later (a TLS
 * record and a read of its own), a forged response; any other request with `next`.
 * `forged` resolves once the socket took the forged response's record (its write
 * callback), with the bytes the connection's TCP socket had taken by then: all it sent,
 * encrypted (handshake included).
 */
function forgingServer(
  pki: Pki,
  size: number,
): Promise<{
  port: number;
  connections: () => number;
  forged: Promise<number>;
  close(): Promise<void>;
}> {
  const sockets: net.Socket[] = [];
  const tcp: net.Socket[] = [];
  let forgedSent: (bytes: number) => void = () => {};
  const forged = new Promise<number>((resolve) => {
    forgedSent = resolve;
  });
  const server = tls.createServer(pki.pair('server'), (socket) => {
    sockets.push(socket);
    socket.on('error', () => {});
    let head = '';
    socket.on('data', (d: Buffer) => {
      head += d.toString('latin1');
      if (!head.includes('\r\n\r\n')) return;
      const first = head.startsWith('GET /first ');
      head = '';
      if (!first) {
        socket.write('HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nnext');
        return;
      }
      socket.write(`HTTP/1.1 200 OK\r\nContent-Length: ${size}\r\n\r\n`);
      socket.write(Buffer.alloc(size, 0x61));
      // Later: in reads of the client's socket of their own.
      setTimeout(
        () =>
          socket.write(FORGED, () => {
            const raw = tcp.find((t) => t.remotePort === socket.remotePort);
            forgedSent(raw?.bytesWritten ?? Number.NaN);
          }),
        50,
      );
    });
  });
  // The TCP socket under each TLS one: its count of bytes written is of encrypted bytes.
  server.on('connection', (raw: net.Socket) => tcp.push(raw));
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () =>
      resolve({
        port: (server.address() as net.AddressInfo).port,
        connections: () => sockets.length,
        forged,
        close() {
          for (const s of sockets) s.destroy();
          return new Promise((done) => server.close(() => done()));
        },
      }),
    ),
  );
}

/**
 * Until the proxy's latest tunnel relayed `bytes` from the origin and its socket to the
 * client took them all (none left in its buffer), for at most 10 s.
 */
async function relayed(proxy: ConnectProxy, bytes: number): Promise<void> {
  const done = (): boolean =>
    (proxy.downstream.at(-1)?.length ?? 0) >= bytes && proxy.sockets.at(-1)?.writableLength === 0;
  for (const until = Date.now() + 10_000; !done() && Date.now() < until; ) {
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  assert.ok(done(), `the proxy relayed ${proxy.downstream.at(-1)?.length} of ${bytes} bytes`);
}

/**
 * Until the client's socket took the head and the `size`-byte body of `/first` out of the
 * kernel (a body the reader takes whole before it pauses), for at most 10 s.
 */
async function queued(conn: HTTPSConnection, size: number): Promise<void> {
  const whole = `HTTP/1.1 200 OK\r\nContent-Length: ${size}\r\n\r\n`.length + size;
  for (const until = Date.now() + 10_000; (conn.sock?.bytesRead ?? 0) < whole; ) {
    assert.ok(Date.now() < until, `the client read ${conn.sock?.bytesRead} of ${whole} bytes`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

describe('bytes past a body over TLS are never the next response', () => {
  let pki: Pki;
  let proxy: ConnectProxy;
  before(async () => {
    pki = await makePki();
    proxy = await connectProxy();
  });
  after(async () => {
    await proxy.close();
    pki.remove();
  });

  for (const [tunnel, size] of [false, true].flatMap((t) => SIZES.map((n) => [t, n] as const))) {
    for (const [name, read] of WHOLE_BODY_READS) {
      // 270,000 bytes are all queued by the time they are read: the read needs no wait.
      it(`${tunnel ? 'through a CONNECT tunnel' : 'direct'}, ${size} bytes, ${name}: the next request, made at once, gets its own response on a new connection`, async () => {
        const srv = await forgingServer(pki, size);
        const context = ssl.create_default_context({ cafile: pki.file('ca.pem') });
        const conn = tunnel
          ? new HTTPSConnection('127.0.0.1', proxy.port, { context, timeout: 10 })
          : new HTTPSConnection('localhost', srv.port, { context, timeout: 10 });
        if (tunnel) conn.set_tunnel('localhost', srv.port);
        try {
          await conn.request('GET', '/first');
          const r1 = await conn.getresponse();
          // Everything is in the client's kernel before the body is read: the server's
          // socket took the forged bytes, (through the tunnel) the proxy passed them on,
          // and the kernel delivered them (loopback, on a busy machine: after a while;
          // 1 MiB: what a full receive window holds back follows the body's bytes).
          const sent = await srv.forged;
          if (tunnel) await relayed(proxy, sent);
          await new Promise((resolve) => setTimeout(resolve, 300));
          if (size === 270_000) await queued(conn, size);
          assert.equal(await read(r1), size);
          await conn.request('GET', '/next');
          const r2 = await conn.getresponse();
          assert.equal((await r2.read()).toString(), 'next');
          assert.equal(srv.connections(), 2, 'the next request went out on a new connection');
        } finally {
          conn.close();
          await srv.close();
        }
      });
    }
  }

  it('a second read while the one that ended the body still waits for its turn of the loop: ImproperConnectionState, as while any read waits', async () => {
    const srv = await forgingServer(pki, 270_000);
    const context = ssl.create_default_context({ cafile: pki.file('ca.pem') });
    const conn = new HTTPSConnection('localhost', srv.port, { context, timeout: 10 });
    try {
      await conn.request('GET', '/first');
      const r1 = await conn.getresponse();
      await srv.forged;
      await new Promise((resolve) => setTimeout(resolve, 300));
      await queued(conn, 270_000);
      // The whole body is queued: the first read needs no wait, but resolves a turn later.
      const [first, second] = await Promise.allSettled([r1.read(), r1.read()]);
      assert.equal(first.status === 'fulfilled' && first.value.length, 270_000);
      assert.ok(
        second.status === 'rejected' && second.reason instanceof ImproperConnectionState,
        String(second.status === 'rejected' ? second.reason : 'fulfilled'),
      );
    } finally {
      conn.close();
      await srv.close();
    }
  });
});
