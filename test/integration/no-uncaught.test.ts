/**
 * No socket `'error'` event, and no promise the library makes, escapes as an uncaught
 * exception or an unhandled rejection while servers misbehave (issue 6, item 5;
 * shared/reference/security.md §6 "Error delivery" and checklist item 25).
 *
 * While the battery runs, `process` listeners record every `uncaughtException`,
 * `unhandledRejection` and `MaxListenersExceededWarning` (a listener leak); the test
 * fails if any was recorded, and the listeners are removed afterwards. The battery uses
 * the client as a careful user would (every promise awaited, every rejection caught),
 * and has servers misbehave at every moment, also after the user has stopped listening:
 * resets before, during and after a request, while a body is read and while a kept-alive
 * connection is idle; garbage and cut heads; floods that are abandoned; timeouts and
 * aborts followed by late bytes; uploads cut off; tunnels that fail; and over TLS:
 * garbage instead of a ServerHello, a close or a reset in the middle of the handshake,
 * half a ServerHello, garbage records and resets after the handshake, a handshake that
 * never ends, a certificate that does not verify.
 */
import assert from 'node:assert/strict';
import * as net from 'node:net';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import * as tls from 'node:tls';
import {
  HTTPConnection,
  type HTTPResponse,
  HTTPSConnection,
  type HTTPSConnectionOptions,
  ssl,
} from '../../src/index.ts';
import { nextTurn, type RawServer, rawServer } from './servers.ts';
import { makePki, type Pki } from './tls-peers.ts';

const HOST = '127.0.0.1';
const OK = 'HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok';

const caught: Array<[string, unknown]> = [];
const onException = (err: unknown): void => {
  caught.push(['uncaughtException', err]);
};
const onRejection = (reason: unknown): void => {
  caught.push(['unhandledRejection', reason]);
};
const onWarning = (warning: Error): void => {
  if (warning.name === 'MaxListenersExceededWarning') caught.push(['warning', warning]);
};

/** Every outcome of a scenario step: a value, or an Error (never anything else thrown). */
async function outcome(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
    return 'ok';
  } catch (err) {
    assert.ok(err instanceof Error, `a non-Error was thrown: ${String(err)}`);
    return (err as NodeJS.ErrnoException).code ?? err.name;
  }
}

/** One request and a full read; resolves with how it ended. */
async function exchange(conn: HTTPConnection, url = '/'): Promise<string> {
  return outcome(
    (async () => {
      await conn.request('GET', url);
      const r = await conn.getresponse();
      await r.read();
    })(),
  );
}

/** A raw server that runs `onRequest` when the first bytes of a connection arrive. */
function onFirstData(onRequest: (socket: net.Socket, data: Buffer) => void): Promise<RawServer> {
  return rawServer((socket) => socket.once('data', (d: Buffer) => onRequest(socket, d)));
}

/**
 * A relay in front of `port`: bytes from the client pass through; bytes back to the
 * client pass through `toClient`, which may cut, replace or add to them.
 */
function relay(
  port: number,
  toClient: (client: net.Socket, data: Buffer, total: number) => void,
): Promise<RawServer> {
  return rawServer((client) => {
    const up = net.connect(port, HOST);
    up.on('error', () => client.destroy());
    client.on('error', () => up.destroy());
    client.on('data', (d: Buffer) => up.write(d));
    client.on('close', () => up.destroy());
    up.on('close', () => client.destroy());
    let total = 0;
    up.on('data', (d: Buffer) => {
      total += d.length;
      if (!client.destroyed) toClient(client, d, total);
    });
  });
}

describe('no uncaught exception or unhandled rejection while servers misbehave', () => {
  let pki: Pki;
  const servers: Array<{ close(): Promise<void> }> = [];
  const connections: HTTPConnection[] = [];
  const tlsServers: tls.Server[] = [];
  const tlsSockets = new Set<net.Socket>();

  before(async () => {
    process.on('uncaughtException', onException);
    process.on('unhandledRejection', onRejection);
    process.on('warning', onWarning);
    pki = await makePki();
  });
  after(async () => {
    for (const c of connections) c.close();
    for (const s of servers) await s.close();
    for (const s of tlsSockets) s.destroy();
    for (const s of tlsServers) await new Promise((resolve) => s.close(resolve));
    pki?.remove();
    process.off('uncaughtException', onException);
    process.off('unhandledRejection', onRejection);
    process.off('warning', onWarning);
  });

  async function server(make: Promise<RawServer>): Promise<RawServer> {
    const s = await make;
    servers.push(s);
    return s;
  }
  function http(port: number, timeout = 5): HTTPConnection {
    const conn = new HTTPConnection(HOST, port, { timeout });
    connections.push(conn);
    return conn;
  }
  function https(port: number, options: HTTPSConnectionOptions = {}): HTTPSConnection {
    const conn = new HTTPSConnection(HOST, port, {
      timeout: 5,
      context: ssl.create_default_context({ cafile: pki.file('ca.pem') }),
      ...options,
    });
    connections.push(conn);
    return conn;
  }

  /**
   * A TLS server with the test certificate answering every request head on a
   * connection with `answer(socket)`.
   */
  async function tlsServer(answer: (socket: tls.TLSSocket) => void): Promise<number> {
    const srv = tls.createServer(pki.pair('server'), (socket) => {
      socket.on('error', () => {});
      let pending = '';
      socket.on('data', (d: Buffer) => {
        pending += d.toString('latin1');
        while (pending.includes('\r\n\r\n')) {
          pending = pending.slice(pending.indexOf('\r\n\r\n') + 4);
          answer(socket);
        }
      });
    });
    srv.on('connection', (s: net.Socket) => {
      tlsSockets.add(s);
      s.on('close', () => tlsSockets.delete(s));
    });
    srv.on('tlsClientError', () => {});
    tlsServers.push(srv);
    await new Promise<void>((resolve) => srv.listen(0, HOST, () => resolve()));
    return (srv.address() as net.AddressInfo).port;
  }

  /** Scenarios: each returns the outcomes it saw (for the log), never throws. */
  const plain: Array<[string, () => Promise<string[]>]> = [
    [
      'reset on accept, before the request is written',
      async () => {
        const srv = await server(rawServer((s) => s.resetAndDestroy()));
        return [await exchange(http(srv.port))];
      },
    ],
    [
      'reset on the request, before any reply',
      async () => {
        const srv = await server(onFirstData((s) => s.resetAndDestroy()));
        return [await exchange(http(srv.port))];
      },
    ],
    [
      'reset in the middle of the head, and of the body',
      async () => {
        const srv = await server(
          onFirstData((s, d) => {
            const body = d.includes('/body');
            s.write(
              body ? 'HTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\nabc' : 'HTTP/1.1 200 OK\r\nX',
            );
            setTimeout(() => s.resetAndDestroy(), 20);
          }),
        );
        return [await exchange(http(srv.port), '/head'), await exchange(http(srv.port), '/body')];
      },
    ],
    [
      'reset and close while a kept-alive connection is idle, nobody reading',
      async () => {
        const srv = await server(
          onFirstData((s, d) => {
            s.write(OK);
            setTimeout(() => (d.includes('/rst') ? s.resetAndDestroy() : s.end()), 30);
          }),
        );
        const a = http(srv.port);
        const b = http(srv.port);
        const out = [await exchange(a, '/rst'), await exchange(b, '/fin')];
        await sleep(80);
        return out;
      },
    ],
    [
      'stray bytes then a reset on an idle connection, nobody reading',
      async () => {
        const srv = await server(
          onFirstData((s) => {
            s.write(OK);
            setTimeout(() => s.write(`${OK}${OK}`), 20);
            setTimeout(() => s.resetAndDestroy(), 40);
          }),
        );
        const out = [await exchange(http(srv.port))];
        await sleep(80);
        return out;
      },
    ],
    [
      'garbage, binary noise and NULs instead of a response',
      async () => {
        const replies = [
          'SSH-2.0-OpenSSH_9.6\r\n',
          Buffer.alloc(65536, 0),
          Buffer.from([0xff, 0xfe, 0x0d, 0x0a, 0x0d, 0x0a, 0x80]),
          'HTTP/1.1 200 OK\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n',
        ];
        const srv = await server(
          onFirstData((s, d) => {
            const i = Number(/^GET \/(\d)/.exec(d.toString('latin1'))?.[1]);
            s.end(replies[i] ?? '');
          }),
        );
        const out: string[] = [];
        for (const strict of [false, true]) {
          for (let i = 0; i < replies.length; i++) {
            const conn = new HTTPConnection(HOST, srv.port, { timeout: 5, strict });
            connections.push(conn);
            out.push(await exchange(conn, `/${i}`));
          }
        }
        return out;
      },
    ],
    [
      'a flood the user abandons (never read, never closed), then a reset',
      async () => {
        const srv = await server(
          onFirstData((s) => {
            s.write('HTTP/1.1 200 OK\r\nContent-Length: 1000000000\r\n\r\n');
            const chunk = Buffer.alloc(65536, 0x61);
            const pump = (): void => {
              while (!s.destroyed && s.write(chunk));
              if (!s.destroyed) s.once('drain', pump);
            };
            pump();
            setTimeout(() => s.resetAndDestroy(), 100);
          }),
        );
        const conn = http(srv.port);
        await conn.request('GET', '/');
        const r: HTTPResponse = await conn.getresponse();
        void r; // dropped on purpose
        await sleep(200);
        return ['abandoned'];
      },
    ],
    [
      'a timeout, then late bytes and a reset',
      async () => {
        const srv = await server(
          onFirstData((s) => {
            setTimeout(() => s.write(OK), 300);
            setTimeout(() => s.resetAndDestroy(), 350);
          }),
        );
        const out = [await exchange(http(srv.port, 0.1))];
        await sleep(400);
        return out;
      },
    ],
    [
      'an abort while reading, then more bytes and a reset',
      async () => {
        const srv = await server(
          onFirstData((s) => {
            s.write('HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nab');
            setTimeout(() => s.write('cd'), 60);
            setTimeout(() => s.resetAndDestroy(), 90);
          }),
        );
        const conn = http(srv.port);
        await conn.request('GET', '/');
        const r = await conn.getresponse();
        const out = [await outcome(r.read(null, { signal: AbortSignal.timeout(20) }))];
        await sleep(120);
        return out;
      },
    ],
    [
      'an upload cut off: the server resets, or answers 401 and closes, mid-body',
      async () => {
        const srv = await server(
          onFirstData((s, d) => {
            if (d.includes('/rst')) s.resetAndDestroy();
            else
              s.end('HTTP/1.1 401 Unauthorized\r\nContent-Length: 0\r\nConnection: close\r\n\r\n');
          }),
        );
        const out: string[] = [];
        for (const url of ['/rst', '/401']) {
          const conn = http(srv.port);
          const body = Buffer.alloc(16 * 1024 * 1024, 0x62);
          out.push(await outcome(conn.request('POST', url, body)));
          out.push(await outcome(conn.getresponse().then((r) => r.read())));
        }
        return out;
      },
    ],
    [
      'a tunnel whose proxy answers garbage, resets after the CONNECT, or accepts and resets',
      async () => {
        const srv = await server(
          onFirstData((s, d) => {
            const text = d.toString('latin1');
            if (text.includes('garbage.test')) s.end('\x00\x01\x02 not http\r\n\r\n');
            else if (text.includes('reset.test')) s.resetAndDestroy();
            else {
              s.write('HTTP/1.0 200 Connection established\r\n\r\n');
              s.once('data', () => s.resetAndDestroy());
            }
          }),
        );
        const out: string[] = [];
        for (const host of ['garbage.test', 'reset.test', 'late.test']) {
          const conn = http(srv.port);
          conn.set_tunnel(host, 80);
          out.push(await exchange(conn));
        }
        return out;
      },
    ],
  ];

  const overTls: Array<[string, () => Promise<string[]>]> = [
    [
      'garbage instead of a ServerHello',
      async () => {
        const srv = await server(
          onFirstData((s) => s.end('HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n')),
        );
        return [await exchange(https(srv.port))];
      },
    ],
    [
      'a close, and a reset, in the middle of the handshake',
      async () => {
        let n = 0;
        const srv = await server(
          onFirstData((s) => (n++ % 2 === 0 ? s.end() : s.resetAndDestroy())),
        );
        return [await exchange(https(srv.port)), await exchange(https(srv.port))];
      },
    ],
    [
      'half a ServerHello, then a close or a reset',
      async () => {
        const port = await tlsServer((s) => s.write(OK));
        let n = 0;
        const srv = await server(
          relay(port, (client, d) => {
            client.write(d.subarray(0, Math.min(d.length, 40)));
            if (n++ % 2 === 0) client.destroy();
            else client.resetAndDestroy();
          }),
        );
        return [await exchange(https(srv.port)), await exchange(https(srv.port))];
      },
    ],
    [
      'garbage records in the middle of a body, after the handshake',
      async () => {
        let inject: net.Socket | null = null;
        const port = await tlsServer((s) => {
          s.write('HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nabc');
          setTimeout(() => inject?.write(Buffer.alloc(64, 0x17)), 50);
        });
        const srv = await server(
          relay(port, (client, d) => {
            inject = client;
            client.write(d);
          }),
        );
        return [await exchange(https(srv.port))];
      },
    ],
    [
      'a reset of an idle kept-alive TLS connection, nobody reading',
      async () => {
        let sockets: net.Socket[] = [];
        const port = await tlsServer((s) => s.write(OK));
        const srv = await server(
          relay(port, (client, d) => {
            sockets.push(client);
            client.write(d);
          }),
        );
        const out = [await exchange(https(srv.port))];
        for (const s of sockets) if (!s.destroyed) s.resetAndDestroy();
        sockets = [];
        await sleep(50);
        return out;
      },
    ],
    [
      'a tunnel that accepts the CONNECT, then closes or resets during the TLS handshake',
      async () => {
        let n = 0;
        const srv = await server(
          onFirstData((s) => {
            s.write('HTTP/1.0 200 Connection established\r\n\r\n');
            s.once('data', () => (n++ % 2 === 0 ? s.end() : s.resetAndDestroy()));
          }),
        );
        const out: string[] = [];
        for (let i = 0; i < 2; i++) {
          const conn = https(srv.port);
          conn.set_tunnel('localhost', 443);
          out.push(await exchange(conn));
        }
        return out;
      },
    ],
    [
      'a handshake that never ends (timeout), and a certificate that does not verify',
      async () => {
        const silent = await server(rawServer(() => {}));
        const port = await tlsServer((s) => s.write(OK));
        return [
          await exchange(https(silent.port, { timeout: 0.2 })),
          await exchange(https(port, { context: ssl.create_default_context(), timeout: 5 })),
        ];
      },
    ],
  ];

  /** What the listeners recorded from index `from` on, readable in a failure message. */
  const recorded = (from = 0): string[] =>
    caught
      .slice(from)
      .map(([kind, err]) => `${kind}: ${err instanceof Error ? err.stack : String(err)}`);

  for (const [name, run] of [...plain, ...overTls]) {
    it(name, { timeout: 30_000 }, async () => {
      const from = caught.length;
      const outcomes = await run();
      await sleep(20);
      await nextTurn();
      console.log(`# ${name}: ${outcomes.join(', ')}`);
      assert.deepEqual(recorded(from), []);
    });
  }

  it('after the battery, late errors and closes of sockets nobody holds: nothing escaped', async () => {
    await sleep(200);
    await nextTurn();
    assert.deepEqual(recorded(), []);
  });
});
