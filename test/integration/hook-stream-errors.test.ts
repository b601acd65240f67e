/**
 * A `createConnection` hook's stream whose `write`, `_write` or `destroy` throws. Node's
 * Writable does not catch a throwing `_write`, so it escaped as an uncaught exception
 * whenever the write was not made inside one of our calls: under TLS (Node's TLS layer
 * writes to a stream that is not a `net.Socket` from its C++ side, where a throw cannot
 * reach the caller) and when the stream flushes a write it had buffered, from its own
 * callback. A write's throw must become the call's rejection and end the connection; a
 * `destroy` that throws (called by close(), from an abort listener) must not escape.
 * Also a hook's socket that fails at odd moments: right after its connect (in its own
 * 'connect' listener, or a tick later: before the reader listens), twice in a row while
 * connecting, or with an 'error' value that is not an Error. Escapes fail the test.
 */
import assert from 'node:assert/strict';
import * as net from 'node:net';
import { Duplex } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { AbortError, HTTPConnection, HTTPSConnection, ssl } from '../../src/index.ts';
import { failOnEscapes, httpServer, rawServer } from './servers.ts';
import { type HttpsServer, httpsServer, makePki, type Pki } from './tls-peers.ts';

failOnEscapes();

const HOST = '127.0.0.1';
const BOOM = (err: unknown): boolean => err instanceof Error && err.message === 'boom from _write';

/**
 * A Duplex over a TCP connection to `port` whose `_write` throws once `throwsAt(n)` says
 * so for its n-th write (1-based; `writev`: its `_writev` too, a flush counting as one). `later`: a write's callback comes a turn after the
 * bytes are handed on, so the stream buffers the writes made meanwhile and flushes them
 * from that callback.
 */
function throwingStream(
  port: number,
  throwsAt: (n: number) => boolean,
  later = false,
  writev = false,
): Duplex {
  const inner = net.connect(port, HOST);
  let writes = 0;
  const write = (chunk: Buffer, callback: (err?: Error | null) => void): void => {
    writes++;
    if (throwsAt(writes)) throw new Error('boom from _write');
    inner.write(chunk, later ? () => setImmediate(callback) : callback);
  };
  const outer = new Duplex({
    write(chunk: Buffer, _encoding, callback) {
      write(chunk, callback);
    },
    // `writev`: several writes buffered meanwhile come here at once, as one.
    ...(writev
      ? {
          writev(chunks: Array<{ chunk: Buffer }>, callback: (err?: Error | null) => void) {
            write(Buffer.concat(chunks.map((c) => c.chunk)), callback);
          },
        }
      : {}),
    read() {},
    final(callback) {
      inner.end(callback);
    },
    destroy(err, callback) {
      inner.destroy();
      callback(err);
    },
  });
  inner.on('data', (d: Buffer) => outer.push(d));
  inner.on('end', () => outer.push(null));
  inner.on('error', (err) => outer.destroy(err));
  return outer;
}

describe("a createConnection hook's stream that throws or fails at odd moments", {
  timeout: 30_000,
}, () => {
  let pki: Pki;
  let server: HttpsServer;
  let context: ssl.SSLContext;

  before(async () => {
    pki = await makePki();
    server = await httpsServer(pki.pair('server'), (_req, res) => res.end('ok'));
    context = ssl.create_default_context({ cafile: pki.file('ca.pem') });
  });
  after(async () => {
    await server?.close();
    pki?.remove();
  });

  it('under TLS, at its first write (the ClientHello): request() rejects with it, at once', async () => {
    const srv = await rawServer(() => {});
    const hooks: Record<string, (port: number) => Duplex> = {
      _write: (port) => throwingStream(port, () => true),
      // Its own write() throwing, not the Writable's: before, the throw escaped and the
      // handshake waited for its timeout.
      write: (port) => {
        const stream = throwingStream(port, () => false);
        stream.write = (): never => {
          throw new Error('boom from _write');
        };
        return stream;
      },
    };
    try {
      for (const [which, hook] of Object.entries(hooks)) {
        const conn = new HTTPSConnection('localhost', srv.port, {
          context,
          timeout: 20,
          createConnection: ({ port }) => hook(port),
        });
        try {
          await assert.rejects(conn.request('GET', '/'), BOOM, which);
          assert.equal(conn.sock, null);
        } finally {
          conn.close();
        }
      }
    } finally {
      await srv.close();
    }
  });

  it('close() of a connection whose stream throws from destroy(): nothing escapes', async () => {
    for (const secure of [false, true]) {
      const srv = secure ? null : await httpServer((_req, res) => res.end('ok'));
      let destroyed = 0;
      const hook = ({ port }: { port: number }): Duplex => {
        const stream = throwingStream(port, () => false);
        const destroy = stream.destroy.bind(stream);
        stream.destroy = (err?: Error): never => {
          destroyed++;
          destroy(err);
          throw new Error('boom from destroy');
        };
        return stream;
      };
      const conn = secure
        ? new HTTPSConnection('localhost', server.port, { context, createConnection: hook })
        : new HTTPConnection(HOST, (srv as { port: number }).port, { createConnection: hook });
      try {
        await conn.request('GET', '/');
        const response = await conn.getresponse();
        assert.equal((await response.read()).toString(), 'ok');
        assert.doesNotThrow(() => conn.close());
        assert.ok(destroyed > 0, 'close() destroyed the stream');
        await new Promise((resolve) => setImmediate(resolve));
      } finally {
        conn.close();
        await srv?.close();
      }
    }
  });

  it('under TLS, after a request went through: the next request fails with it', async () => {
    let armed = false;
    const conn = new HTTPSConnection('localhost', server.port, {
      context,
      createConnection: ({ port }) => throwingStream(port, () => armed),
    });
    try {
      await conn.request('GET', '/first');
      const first = await conn.getresponse();
      assert.equal((await first.read()).toString(), 'ok');
      armed = true;
      await assert.rejects(
        (async () => {
          await conn.request('GET', '/second');
          await conn.getresponse();
        })(),
        BOOM,
      );
      assert.equal(conn.sock, null);
    } finally {
      conn.close();
    }
  });

  it('a write the stream buffered and flushes from its own callback: the request fails with it', async () => {
    const srv = await httpServer((_req, res) => res.end('ok'));
    const conn = new HTTPConnection(HOST, srv.port, {
      // The head is the first write; the body (larger than what is copied behind the
      // head) the second, buffered until the head's callback comes a turn later.
      createConnection: ({ port }) => throwingStream(port, (n) => n === 2, true),
    });
    try {
      await assert.rejects(
        (async () => {
          await conn.request('POST', '/', Buffer.alloc(64 * 1024, 0x61));
          await conn.getresponse();
        })(),
        BOOM,
      );
      assert.equal(conn.sock, null);
    } finally {
      conn.close();
      await srv.close();
    }
  });

  it('close() while the write that would throw is still buffered: AbortError, nothing escapes, the next request works', async () => {
    const srv = await httpServer((_req, res) => res.end('ok'));
    let streams = 0;
    let buffered = false;
    const conn: HTTPConnection = new HTTPConnection(HOST, srv.port, {
      createConnection: ({ port }) => {
        streams++;
        // The first connection's second write (the body, buffered behind the head whose
        // callback comes a turn later) would throw when flushed; close() comes first.
        const stream = throwingStream(port, (n) => streams === 1 && n === 2, true);
        if (streams === 1) {
          const write = stream.write.bind(stream) as (...args: unknown[]) => boolean;
          let writes = 0;
          stream.write = ((...args: unknown[]) => {
            const result = write(...args);
            if (++writes === 2) {
              buffered = stream.writableLength > 0;
              queueMicrotask(() => conn.close());
            }
            return result;
          }) as Duplex['write'];
        }
        return stream;
      },
    });
    try {
      const err = await conn.request('POST', '/', Buffer.alloc(64 * 1024, 0x61)).then(
        () => assert.fail('the request went through'),
        (e: unknown) => e,
      );
      assert.ok(buffered, 'the body was buffered when close() came');
      assert.ok(err instanceof AbortError, String(err));
      assert.match(err.message, /closed by the caller/);
      await conn.request('GET', '/next');
      assert.equal((await (await conn.getresponse()).read()).toString(), 'ok');
      assert.equal(streams, 2);
    } finally {
      conn.close();
      await srv.close();
    }
  });

  it('several buffered writes flushed at once through a throwing _writev: the request fails with it', async () => {
    const srv = await httpServer((_req, res) => res.end('ok'));
    let flushedAtOnce = false;
    const conn = new HTTPConnection(HOST, srv.port, {
      createConnection: ({ port }) => {
        const stream = throwingStream(port, (n) => n === 2, true, true);
        const writev = stream._writev as NonNullable<Duplex['_writev']>;
        stream._writev = function (chunks, callback) {
          flushedAtOnce = true;
          writev.call(this, chunks, callback);
        };
        return stream;
      },
    });
    try {
      // A chunked body: its framing and pieces are written while the head's callback
      // has yet to come, and flushed together when it does.
      await assert.rejects(
        (async () => {
          await conn.request('POST', '/', [Buffer.from('aa'), Buffer.from('bb')]);
          await conn.getresponse();
        })(),
        BOOM,
      );
      assert.ok(flushedAtOnce, 'the writes went through _writev');
      assert.equal(conn.sock, null);
    } finally {
      conn.close();
      await srv.close();
    }
  });

  it('a socket failed in its own connect listener, or a tick later: the request rejects with that', async () => {
    // Before, the 'error' came while nothing listened (uncaught), and the request
    // rejected with a write's made-up EPIPE.
    for (const secure of [false, true]) {
      for (const when of ['in the listener', 'a tick later'] as const) {
        const conn = new (secure ? HTTPSConnection : HTTPConnection)(
          secure ? 'localhost' : HOST,
          server.port,
          {
            ...(secure ? { context } : {}),
            createConnection: ({ port }) => {
              const socket = net.connect(port, HOST);
              socket.on('connect', () => {
                const fail = (): void => {
                  socket.destroy(new Error(`failed ${when}`));
                };
                if (when === 'in the listener') fail();
                else process.nextTick(fail);
              });
              return socket;
            },
          },
        );
        try {
          await assert.rejects(conn.request('GET', '/'), { message: `failed ${when}` });
          assert.equal(conn.sock, null);
        } finally {
          conn.close();
        }
      }
    }
  });

  it("a connecting socket that emits 'error' twice: the connect rejects with the first", async () => {
    const conn = new HTTPConnection(HOST, server.port, {
      createConnection: ({ port }) => {
        const socket = net.connect(port, HOST);
        setImmediate(() => {
          socket.emit('error', new Error('first'));
          socket.emit('error', new Error('second'));
        });
        return socket;
      },
    });
    try {
      await assert.rejects(conn.request('GET', '/'), { message: 'first' });
    } finally {
      conn.close();
    }
  });

  it("an 'error' value that is not an Error: the call rejects with an Error that has it as its cause, and a code", async () => {
    const srv = await httpServer((_req, res) => {
      setTimeout(() => res.end('ok'), 50);
    });
    try {
      // A null-prototype object has no toString: describing it must not throw.
      for (const value of [undefined, 'a string', null, Object.create(null), Symbol('s')]) {
        // While connecting (a tick after the hook: before any poll could connect it),
        // then once connected (while the response is awaited).
        for (const at of ['connect', 'response']) {
          const conn = new HTTPConnection(HOST, srv.port, {
            createConnection: ({ port }) => {
              const socket = net.connect(port, HOST);
              if (at === 'connect') process.nextTick(() => socket.emit('error', value));
              else socket.on('connect', () => setTimeout(() => socket.emit('error', value), 10));
              return socket;
            },
          });
          const expected = (err: unknown): boolean =>
            err instanceof Error &&
            err.cause === value &&
            /not an Error/.test(err.message) &&
            (err as NodeJS.ErrnoException).code === 'ERR_HTTPLIB_NOT_AN_ERROR';
          try {
            if (at === 'connect') {
              await assert.rejects(conn.request('GET', '/'), expected, `${typeof value} at ${at}`);
            } else {
              await conn.request('GET', '/');
              await assert.rejects(conn.getresponse(), expected, `${typeof value} at ${at}`);
            }
          } finally {
            conn.close();
          }
        }
      }
    } finally {
      await srv.close();
    }
  });

  it('a hook that throws or rejects with a value that is not an Error: the call rejects at once with an Error that has it as its cause, and a code', async () => {
    // Before: a null-prototype object made the conversion itself throw, an unhandled
    // rejection, and the connect waited for its timeout (for ever without one).
    for (const value of [Object.create(null), 'a string', Symbol('s'), 42, undefined]) {
      for (const how of ['throws', 'rejects'] as const) {
        const conn = new HTTPConnection(HOST, 9, {
          createConnection: () => {
            if (how === 'throws') throw value;
            return Promise.reject(value);
          },
        });
        try {
          await assert.rejects(
            conn.request('GET', '/'),
            (err: unknown) =>
              err instanceof Error &&
              err.cause === value &&
              /^createConnection failed with a value that is not an Error: /.test(err.message) &&
              (err as NodeJS.ErrnoException).code === 'ERR_HTTPLIB_NOT_AN_ERROR',
            `${typeof value}, ${how}`,
          );
        } finally {
          conn.close();
        }
      }
    }
  });

  it('a stream that gives strings (an encoding set): the call rejects with a TypeError that says so', async () => {
    // Before: an internal "chunk.subarray is not a function".
    const srv = await httpServer((_req, res) => res.end('ok'));
    try {
      for (const encoding of ['latin1', 'hex'] as const) {
        const conn = new HTTPConnection(HOST, srv.port, {
          createConnection: ({ port }) => net.connect(port, HOST).setEncoding(encoding),
        });
        try {
          await conn.request('GET', '/');
          await assert.rejects(conn.getresponse(), {
            name: 'TypeError',
            message: /^the socket gave a string, not bytes: .*\(setEncoding\)$/,
          });
          assert.equal(conn.sock, null);
        } finally {
          conn.close();
        }
      }
    } finally {
      await srv.close();
    }
  });
});
