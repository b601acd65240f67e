/**
 * While other connections of the process wait for responses, a request head is handed
 * to the kernel at the end of the event loop's poll phase rather than inside the call
 * that wrote it (io/byte-reader.ts `deferFlush`: the requests that answer a batch of
 * responses go out together). What callers see must not change: a request written
 * before `close()` still reaches the server, a Buffer of the caller's is sent before
 * `send()` resolves (the caller may transfer its memory next), and many connections at
 * once each get every answer. One connection is kept waiting for a response throughout,
 * which is what turns the deferral on. Escapes fail the test.
 */
import assert from 'node:assert/strict';
import * as net from 'node:net';
import { Duplex } from 'node:stream';
import { describe, it } from 'node:test';
import { HTTPConnection } from '../../src/index.ts';
import { failOnEscapes, httpServer, peerClosed, rawServer, readBody } from './servers.ts';

failOnEscapes();

const HOST = '127.0.0.1';

/** A connection whose request the server (connection 0 of `port`) never answers. */
async function waitingConnection(port: number): Promise<HTTPConnection> {
  const conn = new HTTPConnection(HOST, port);
  await conn.request('GET', '/never');
  return conn;
}

describe('request heads written while other connections wait', { timeout: 30_000 }, () => {
  it('go to the kernel at the end of the poll phase; alone, a connection writes at once', async () => {
    const srv = await rawServer(() => {});
    const conn = new HTTPConnection(HOST, srv.port);
    let busy: HTTPConnection | null = null;
    try {
      await conn.request('GET', '/alone');
      assert.equal(conn.sock?.writableLength, 0, 'a lone connection writes inside the call');
      busy = await waitingConnection(srv.port);
      const other = new HTTPConnection(HOST, srv.port);
      await other.connect();
      await other.request('GET', '/batched');
      const head = 'GET /batched HTTP/1.1\r\nHost: 127.0.0.1:'.length;
      assert.ok((other.sock?.writableLength ?? 0) > head, 'queued until the check phase');
      await new Promise((resolve) => setImmediate(resolve));
      assert.equal(other.sock?.writableLength, 0);
      other.close();
    } finally {
      busy?.close();
      conn.close();
      await srv.close();
    }
  });

  /**
   * `leave` makes a request on a connection to `port` and leaves it (its socket then ends
   * or fails by the server's doing); 200 ms later a lone connection must write at once.
   */
  async function loneAfter(port: number, leave: (c: HTTPConnection) => Promise<void>) {
    const srv = await rawServer(() => {});
    const dropped = new HTTPConnection(HOST, port);
    const conn = new HTTPConnection(HOST, srv.port);
    try {
      await leave(dropped);
      await new Promise((resolve) => setTimeout(resolve, 200));
      await conn.request('GET', '/alone-again');
      assert.equal(conn.sock?.writableLength, 0, 'a lone connection writes inside the call');
    } finally {
      dropped.close();
      conn.close();
      await srv.close();
    }
  }

  it('a closed socket whose response is never read or closed no longer counts as waiting', async () => {
    const closing = await httpServer((_req, res) => {
      res.setHeader('Connection', 'close');
      res.end('x');
    });
    try {
      await loneAfter(closing.port, async (dropped) => {
        await dropped.request('GET', '/');
        // Neither read nor closed: the response holds the socket, which the server ends.
        assert.equal((await dropped.getresponse()).status, 200);
      });
    } finally {
      await closing.close();
    }
  });

  it('a socket reset while its answer was never asked for no longer counts as waiting', async () => {
    const resetting = await rawServer((socket) => {
      socket.once('data', () => socket.resetAndDestroy());
    });
    try {
      // getresponse() is never called: the reset is met by the socket alone.
      await loneAfter(resetting.port, (dropped) => dropped.request('GET', '/'));
    } finally {
      await resetting.close();
    }
  });

  it('a request written just before close() still reaches the server', async () => {
    const srv = await rawServer(() => {});
    const busy = await waitingConnection(srv.port);
    const conn = new HTTPConnection(HOST, srv.port);
    try {
      await conn.request('GET', '/last', null, { 'X-Marker': 'sent' });
      conn.close();
      await srv.connections(2);
      await peerClosed(srv.sockets[1] as (typeof srv.sockets)[0]);
      const got = (srv.received[1] as Buffer).toString('latin1');
      assert.match(got, /^GET \/last HTTP\/1\.1\r\n/);
      assert.match(got, /\r\nX-Marker: sent\r\n\r\n$/);
    } finally {
      busy.close();
      conn.close();
      await srv.close();
    }
  });

  it("send() of the caller's Buffer has sent it when it resolves (its memory may go next)", async () => {
    const srv = await httpServer(async (req, res) => {
      if (req.url === '/never') return;
      const body = await readBody(req);
      res.end(
        `${body.length}:${body.toString('latin1', 0, 4)}:${body.toString('latin1', body.length - 4)}`,
      );
    });
    const busy = await waitingConnection(srv.port);
    const conn = new HTTPConnection(HOST, srv.port);
    try {
      conn.putrequest('POST', '/upload');
      conn.putheader('Content-Length', '1024');
      await conn.endheaders();
      const memory = new ArrayBuffer(1024);
      const body = Buffer.from(memory);
      body.fill('a', 0, 512);
      body.fill('z', 512);
      await conn.send(body);
      // Transferring the memory detaches it: a write still queued would send nothing.
      structuredClone(memory, { transfer: [memory] });
      assert.equal(body.length, 0);
      const res = await conn.getresponse();
      assert.equal(res.status, 200);
      assert.equal((await res.read()).toString(), '1024:aaaa:zzzz');
    } finally {
      busy.close();
      conn.close();
      await srv.close();
    }
  });

  it("a createConnection hook's own stream (not a net.Socket) is written at once", async () => {
    const srv = await rawServer(() => {});
    const busy = await waitingConnection(srv.port);
    const written: string[] = [];
    const conn = new HTTPConnection(HOST, srv.port, {
      createConnection: ({ host, port }) => {
        const inner = net.connect(port, host);
        const outer = new Duplex({
          write(chunk: Buffer, _encoding, callback) {
            written.push(chunk.toString('latin1'));
            inner.write(chunk, callback);
          },
          read() {},
          destroy(err, callback) {
            inner.destroy();
            callback(err);
          },
        });
        inner.on('data', (d: Buffer) => outer.push(d));
        inner.on('error', (err) => outer.destroy(err));
        return outer;
      },
    });
    try {
      await conn.request('GET', '/own-stream');
      assert.equal(written.length, 1, 'written inside the call');
      assert.match(written[0] as string, /^GET \/own-stream HTTP\/1\.1\r\n/);
    } finally {
      busy.close();
      conn.close();
      await srv.close();
    }
  });

  it('a socket whose held-back write throws fails the request it carried, not the process', async () => {
    // Node's Writable does not catch a throwing _write: uncork() in setImmediate would
    // let it escape as an uncaught exception.
    const srv = await rawServer(() => {});
    const busy = await waitingConnection(srv.port);
    const conn = new HTTPConnection(HOST, srv.port, {
      createConnection: ({ host, port }) => {
        const socket = net.connect(port, host);
        const boom = (): never => {
          throw new Error('boom from _write');
        };
        Object.assign(socket, { _write: boom, _writev: boom });
        return socket;
      },
    });
    try {
      await conn.request('GET', '/held-back');
      await assert.rejects(conn.getresponse(), /boom from _write/);
      assert.equal(conn.sock, null);
    } finally {
      busy.close();
      conn.close();
      await srv.close();
    }
  });

  it('ten connections at once, each sending heads and chunked bodies, get every answer', async () => {
    const srv = await httpServer(async (req, res) => {
      if (req.url === '/never') return;
      const body = await readBody(req);
      res.end(`${req.method} ${req.url} ${body.toString('latin1')}`);
    });
    const busy = await waitingConnection(srv.port);
    const conns = Array.from({ length: 10 }, () => new HTTPConnection(HOST, srv.port));
    try {
      const answers = await Promise.all(
        conns.map(async (conn, c) => {
          const got: string[] = [];
          for (let i = 0; i < 20; i++) {
            if (i % 2 === 0) {
              await conn.request('GET', `/c${c}/r${i}`);
            } else {
              async function* pieces(): AsyncGenerator<Buffer> {
                yield Buffer.from(`c${c}`);
                yield Buffer.from(`-r${i}`);
              }
              await conn.request('POST', `/c${c}/r${i}`, pieces(), null, {
                encode_chunked: true,
              });
            }
            const res = await conn.getresponse();
            got.push((await res.read()).toString('latin1'));
          }
          return got;
        }),
      );
      answers.forEach((got, c) => {
        assert.deepEqual(
          got,
          Array.from({ length: 20 }, (_, i) =>
            i % 2 === 0 ? `GET /c${c}/r${i} ` : `POST /c${c}/r${i} c${c}-r${i}`,
          ),
        );
      });
    } finally {
      busy.close();
      for (const conn of conns) conn.close();
      await srv.close();
    }
  });
});
