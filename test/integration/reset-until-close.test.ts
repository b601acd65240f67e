/**
 * A body read until the connection closes, cut by a reset (RST), is an error, never a
 * short body taken for complete (CPython 2.7: `error(104, 'Connection reset by peer')`).
 * Node reports a reset that comes while the socket is paused (the reader holds enough)
 * as an end, as it reports the peer's FIN: the two are told apart by whether the
 * connection is still there. A FIN still ends such a body as complete. Plain and TLS.
 */
import assert from 'node:assert/strict';
import * as net from 'node:net';
import { after, before, describe, it } from 'node:test';
import * as tls from 'node:tls';
import { HTTPConnection, HTTPSConnection, ssl } from '../../src/index.ts';
import { WHOLE_BODY_READS } from './read-styles.ts';
import { failOnEscapes } from './servers.ts';
import { makePki, type Pki } from './tls-peers.ts';

failOnEscapes();

/** More than the kernels' buffers and the reader's high-water mark hold. */
const SIZE = 8 * 1024 * 1024;

/** A server answering with SIZE bytes until the close, then ending with `how`. */
function server(
  pki: Pki | null,
  how: 'reset' | 'fin',
): Promise<{ port: number; close(): Promise<void> }> {
  const sockets: net.Socket[] = [];
  const serve = (socket: net.Socket): void => {
    sockets.push(socket);
    socket.on('error', () => {});
    socket.once('data', () => {
      socket.write('HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n');
      if (how === 'fin') {
        socket.end(Buffer.alloc(SIZE, 0x61));
        return;
      }
      socket.write(Buffer.alloc(SIZE, 0x61));
      // The TCP socket under TLS: the reset is the connection's, not a TLS alert.
      const raw = (socket as net.Socket & { _parent?: net.Socket })._parent ?? socket;
      setTimeout(() => raw.resetAndDestroy(), 100);
    });
  };
  const srv = pki === null ? net.createServer(serve) : tls.createServer(pki.pair('server'), serve);
  return new Promise((resolve) =>
    srv.listen(0, '127.0.0.1', () =>
      resolve({
        port: (srv.address() as net.AddressInfo).port,
        close() {
          for (const s of sockets) s.destroy();
          return new Promise((done) => srv.close(() => done()));
        },
      }),
    ),
  );
}

describe('a body read until the close', () => {
  let pki: Pki;
  before(async () => {
    pki = await makePki();
  });
  after(() => pki.remove());

  for (const secure of [false, true]) {
    const over = secure ? 'TLS' : 'plain TCP';
    const connect = (port: number): HTTPConnection =>
      secure
        ? new HTTPSConnection('localhost', port, {
            timeout: 10,
            context: ssl.create_default_context({ cafile: pki.file('ca.pem') }),
          })
        : new HTTPConnection('127.0.0.1', port, { timeout: 10 });
    for (const [name, read] of WHOLE_BODY_READS) {
      it(`${over}, ${name}: cut by a reset while the reader is paused, ECONNRESET, not a short body`, async () => {
        const srv = await server(secure ? pki : null, 'reset');
        const conn = connect(srv.port);
        try {
          await conn.request('GET', '/');
          const r = await conn.getresponse();
          // The reset comes while nothing reads: the reader paused at its high-water mark.
          await new Promise((resolve) => setTimeout(resolve, 300));
          await assert.rejects(read(r), (err: NodeJS.ErrnoException) => {
            assert.equal(err.code, 'ECONNRESET', String(err));
            return true;
          });
        } finally {
          conn.close();
          await srv.close();
        }
      });
    }

    it(`${over}: ended by the server's FIN, complete`, async () => {
      const srv = await server(secure ? pki : null, 'fin');
      const conn = connect(srv.port);
      try {
        await conn.request('GET', '/');
        const r = await conn.getresponse();
        await new Promise((resolve) => setTimeout(resolve, 300));
        assert.equal((await r.read()).length, SIZE);
      } finally {
        conn.close();
        await srv.close();
      }
    });
  }
});
