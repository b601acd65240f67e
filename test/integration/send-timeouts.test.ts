/**
 * The timeout while a request body is sent bounds each wait for the socket, not the whole
 * send: a server that keeps reading, slowly, is never timed out, however long the body
 * takes (Python 2.7's `sendall` applies its timeout to each `send`). A large in-memory body
 * goes to the socket in one write, whose drain comes only when all of it left: what counts
 * is that bytes keep leaving (libuv's queue for the kernel going down). A server that
 * stops reading is still timed out after the timeout, plain or over TLS.
 */
import assert from 'node:assert/strict';
import * as net from 'node:net';
import { after, before, describe, it } from 'node:test';
import * as tls from 'node:tls';
import { HTTPConnection, HTTPSConnection, ssl, TimeoutError } from '../../src/index.ts';
import { failOnEscapes } from './servers.ts';
import { makePki, type Pki } from './tls-peers.ts';

failOnEscapes();

const HOST = '127.0.0.1';
/** The body: far more than the kernel's buffers on both sides hold. */
const SIZE = 48 * 1024 * 1024;
/** The server reads at most this much per tick… */
const PER_TICK = 1024 * 1024;
/** …one tick every TICK_MS: about 50 MB/s, a second or so for what the buffers do not hold. */
const TICK_MS = 20;
/** The connection's timeout: a fraction of the time the body takes to send. */
const TIMEOUT = 0.25;

interface Reader {
  readonly port: number;
  close(): Promise<void>;
}

/**
 * A server (plain, or TLS with `pki`) that reads the request's head and then its body at
 * PER_TICK bytes a tick, or not at all (`stalled`), and answers `got N` once it has it.
 */
function slowReader(stalled: boolean, pki: Pki | null): Promise<Reader> {
  const sockets = new Set<net.Socket>();
  const serve = (socket: net.Socket): void => {
    sockets.add(socket);
    socket.on('error', () => {});
    socket.on('close', () => sockets.delete(socket));
    let head = '';
    let body = -1;
    let declared = 0;
    let tick = 0;
    socket.on('data', (d: Buffer) => {
      if (body < 0) {
        head += d.toString('latin1');
        const end = head.indexOf('\r\n\r\n');
        if (end === -1) return;
        declared = Number(/content-length: *(\d+)/i.exec(head)?.[1] ?? 0);
        body = head.length - end - 4;
        if (stalled) socket.pause();
      } else {
        body += d.length;
      }
      if (body >= declared) {
        socket.write(
          `HTTP/1.1 200 OK\r\nContent-Length: ${String(body).length + 4}\r\n\r\ngot ${body}`,
        );
        body = -1;
        head = '';
        return;
      }
      tick += d.length;
      if (tick >= PER_TICK) {
        socket.pause();
        setTimeout(() => {
          tick = 0;
          socket.resume();
        }, TICK_MS);
      }
    });
  };
  const server =
    pki === null ? net.createServer(serve) : tls.createServer(pki.pair('server'), serve);
  return new Promise((resolve) =>
    server.listen(0, HOST, () =>
      resolve({
        port: (server.address() as net.AddressInfo).port,
        close() {
          for (const s of sockets) s.destroy();
          return new Promise((done) => server.close(() => done()));
        },
      }),
    ),
  );
}

describe('the timeout while a body is sent bounds each wait for the socket', () => {
  let pki: Pki;
  before(async () => {
    pki = await makePki();
  });
  after(() => pki.remove());

  const connect = (secure: boolean, port: number): HTTPConnection =>
    secure
      ? new HTTPSConnection('localhost', port, {
          timeout: TIMEOUT,
          context: ssl.create_default_context({ cafile: pki.file('ca.pem') }),
        })
      : new HTTPConnection(HOST, port, { timeout: TIMEOUT });

  for (const secure of [false, true]) {
    const over = secure ? 'TLS' : 'plain TCP';
    for (const how of ['request(body)', 'send(body)'] as const) {
      it(`${over}, ${how}: a server that keeps reading, slowly, gets the whole body`, async () => {
        const srv = await slowReader(false, secure ? pki : null);
        const conn = connect(secure, srv.port);
        try {
          const body = Buffer.alloc(SIZE, 0x61);
          const started = performance.now();
          if (how === 'request(body)') {
            await conn.request('PUT', '/upload', body);
          } else {
            conn.putrequest('PUT', '/upload');
            conn.putheader('Content-Length', SIZE);
            await conn.endheaders();
            await conn.send(body);
          }
          const sending = performance.now() - started;
          // The send is over once the last byte is in this side's kernel: the server still
          // drains the socket buffers (3-8 MiB at 1 MiB a tick) before it answers, which
          // outlasted a 0.25 s wait for the head on a busy machine. Not what this tests.
          conn.timeout = 10;
          const r = await conn.getresponse();
          assert.equal((await r.read()).toString(), `got ${SIZE}`);
          // Else the test shows nothing: the send must have outlasted the timeout.
          assert.ok(sending > 2 * TIMEOUT * 1000, `sent in ${sending.toFixed(0)} ms`);
        } finally {
          conn.close();
          await srv.close();
        }
      });
    }

    it(`${over}: a server that stops reading is timed out while the body is sent`, async () => {
      const srv = await slowReader(true, secure ? pki : null);
      const conn = connect(secure, srv.port);
      try {
        // The connect and the TLS handshake are not the send's waits (on a busy machine
        // they took seconds of the bound below).
        await conn.connect();
        const started = performance.now();
        await assert.rejects(conn.request('PUT', '/upload', Buffer.alloc(SIZE, 0x61)), (err) => {
          assert.ok(err instanceof TimeoutError, String(err));
          assert.equal(err.phase, 'send');
          return true;
        });
        const ms = performance.now() - started;
        assert.ok(ms < TIMEOUT * 1000 + 2000, `timed out after ${ms.toFixed(0)} ms`);
      } finally {
        conn.close();
        await srv.close();
      }
    });
  }
});
