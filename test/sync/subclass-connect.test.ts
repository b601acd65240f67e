/**
 * A subclass's own `connect()` in the blocking entry, on both transports (the direct one,
 * and the worker's client: HTTPS, tunnels, HTTPLIB_SYNC_DIRECT=0): Python's requests open
 * the socket by calling `self.connect()` (`auto_open`), so code ported from Python that
 * overrides it (to set socket options, to log, to pick an address) sees its override run
 * for every socket a call opens, as on the main entry (test/integration/subclass-connect),
 * with the socket there once its `super.connect()` returned.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { testHook, tuning } from '../../src/sync/channel.ts';
import * as httplib from '../../src/sync.ts';
import { makePki, type Pki } from '../integration/tls-peers.ts';
import { connectionOn, noUncaught, type Peer, startPeer, thrown } from './peer.ts';

noUncaught();
let pki: Pki;
let peer: Peer;
before(async () => {
  pki = await makePki();
  peer = await startPeer({ cert: pki.file('server.pem'), key: pki.file('server.key') });
  httplib.setdefaulttimeout(10);
});
after(async () => {
  httplib.setdefaulttimeout(null);
  await peer.close();
  pki.remove();
});

/** What the override does this time, and what it saw. */
interface Script {
  mode:
    | 'open'
    | 'skip'
    | 'fail-before'
    | 'fail-after'
    | 'open-twice'
    | 'port'
    | 'refused'
    | 'refused-caught'
    | 'nested';
  calls: number;
  /** Where `sock` was connected once the override's super.connect() returned. */
  seen: Array<httplib.SocketInfo | null>;
  /** What it threw, if it did. */
  thrown: Error | null;
  /** The port mode `port` sets before its super.connect(); the call mode `nested` makes. */
  port: number;
  nested: (() => void) | null;
}

function newScript(): Script {
  return { mode: 'open', calls: 0, seen: [], thrown: null, port: 0, nested: null };
}

type Conn = httplib.HTTPConnection;

/** What the override does, around its `super.connect()` (`open`). */
function override(conn: Conn, script: Script, open: () => void): void {
  script.calls++;
  if (script.mode === 'skip') return;
  if (script.mode === 'fail-before') {
    script.thrown = new Error('refused by the subclass');
    throw script.thrown;
  }
  if (script.mode === 'nested') script.nested?.();
  // Picks the address, as an override may (the attribute is read when opening).
  if (script.mode === 'port' || script.mode.startsWith('refused')) conn.port = script.port;
  if (script.mode === 'refused-caught') {
    try {
      open();
    } catch {
      // Its own business: the call fails with that all the same, as on the main entry.
    }
    return;
  }
  open();
  if (script.mode === 'open-twice') open();
  script.seen.push(conn.sock);
  if (script.mode === 'fail-after') {
    script.thrown = new Error('failed after opening');
    throw script.thrown;
  }
}

function mine(script: Script): typeof httplib.HTTPConnection {
  return class Mine extends httplib.HTTPConnection {
    override connect(): void {
      override(this, script, () => super.connect());
    }
  };
}

function mineTls(script: Script): typeof httplib.HTTPSConnection {
  return class MineTls extends httplib.HTTPSConnection {
    override connect(): void {
      override(this, script, () => super.connect());
    }
  };
}

function fetch(conn: Conn, url: string): string {
  conn.request('GET', url);
  return conn.getresponse().read().toString();
}

/** Waits until the peer holds no socket open (the client closed its last one). */
async function peerIdle(): Promise<void> {
  while ((await peer.connections()).open > 0) await sleep(5);
}

/** The requests the peer received whose URL starts with `prefix` (once they all came). */
async function received(prefix: string, n = 0): Promise<string[]> {
  for (;;) {
    const urls = (await peer.records()).map((r) => r.url).filter((u) => u.startsWith(prefix));
    if (urls.length >= n) return urls;
    await sleep(5);
  }
}

for (const direct of [true, false]) {
  const transport = direct ? 'direct' : 'worker';

  /** A connection of the subclass to `port` on this transport, closed after `fn`. */
  async function withMine(
    fn: (conn: Conn, script: Script) => unknown,
    port = peer.http,
  ): Promise<void> {
    const script = newScript();
    const conn = connectionOn(direct, port, mine(script));
    try {
      await fn(conn, script);
    } finally {
      conn.close();
    }
  }

  describe(`a subclass connect() runs for every socket a call opens (${transport} transport)`, () => {
    it('request(): once per socket, its super.connect() opening the socket the request goes on', async () => {
      await withMine((conn, script) => {
        assert.equal(fetch(conn, '/hello'), 'hello\n');
        assert.equal(script.calls, 1);
        assert.notEqual(script.seen[0], null);
        assert.deepEqual(script.seen[0], conn.sock);
        const first = conn.sock?.localPort;
        // Kept alive: the next requests reuse the socket, nothing opens.
        assert.equal(fetch(conn, '/close'), 'bye\n');
        assert.equal(script.calls, 1);
        // The response closed it: the next request opens again, through the override.
        assert.equal(fetch(conn, '/hello'), 'hello\n');
        assert.equal(script.calls, 2);
        assert.deepEqual(script.seen[1], conn.sock);
        assert.notEqual(conn.sock?.localPort, first);
      });
    });

    it('the server closed the idle kept-alive socket: the next request opens through it', async () => {
      await peerIdle();
      await withMine(async (conn, script) => {
        assert.equal(fetch(conn, '/hello-fin'), 'hello');
        // The server's FIN: the connection closes its idle socket.
        await peerIdle();
        assert.equal(fetch(conn, '/hello-kept'), 'hello');
        assert.equal(script.calls, 2);
      }, peer.raw);
    });

    it('putrequest()/endheaders() open through it; send() then writes on that socket', async () => {
      await withMine((conn, script) => {
        conn.putrequest('POST', '/echo?endheaders');
        conn.putheader('Content-Length', 3);
        conn.endheaders();
        assert.equal(script.calls, 1);
        conn.send('abc');
        assert.equal(script.calls, 1);
        const echoed = JSON.parse(conn.getresponse().read().toString()) as { body: string };
        assert.equal(echoed.body, 'abc');
      });
    });

    it('send() with no socket opens through it (auto_open)', async () => {
      await withMine(async (conn, script) => {
        conn.send(`GET /hello?${transport}-bare-send HTTP/1.1\r\nHost: x\r\n\r\n`);
        assert.equal(script.calls, 1);
        assert.deepEqual(await received(`/hello?${transport}-bare-send`, 1), [
          `/hello?${transport}-bare-send`,
        ]);
      });
    });

    it('an explicit connect() is the one call: the request then writes on its socket', async () => {
      await withMine((conn, script) => {
        conn.connect();
        assert.equal(script.calls, 1);
        const port = conn.sock?.localPort;
        conn.request('GET', '/close');
        assert.equal(script.calls, 1);
        assert.equal(conn.sock?.localPort, port);
        assert.equal(conn.getresponse().read().toString(), 'bye\n');
        assert.equal(conn.sock?.localPort, undefined);
        // The request after: it opens, through the override.
        assert.equal(fetch(conn, '/hello'), 'hello\n');
        assert.equal(script.calls, 2);
        assert.notEqual(conn.sock?.localPort, port);
      });
    });

    it('an override written as a property (an arrow function) runs too', () => {
      let calls = 0;
      class Prop extends httplib.HTTPConnection {
        override connect = (): void => {
          calls++;
          super.connect();
        };
      }
      const conn = connectionOn(direct, peer.http, Prop);
      try {
        assert.equal(fetch(conn, '/hello'), 'hello\n');
        assert.equal(calls, 1);
        assert.notEqual(conn.sock, null);
      } finally {
        conn.close();
      }
    });

    it('super.connect() twice opens one socket for the request', async () => {
      const before = (await peer.connections()).accepted;
      await withMine((conn, script) => {
        script.mode = 'open-twice';
        assert.equal(fetch(conn, '/hello'), 'hello\n');
        assert.equal(script.calls, 1);
      });
      assert.equal((await peer.connections()).accepted - before, 1);
    });

    it('an address it picks before super.connect() is where the socket opens', async () => {
      await withMine((conn, script) => {
        script.mode = 'port';
        script.port = peer.http;
        assert.equal(fetch(conn, '/hello'), 'hello\n');
        assert.equal(conn.sock?.remotePort, peer.http);
        assert.equal(conn.port, peer.http);
      }, 1);
    });
  });

  describe(`a subclass connect() that fails or opens nothing fails the call (${transport} transport)`, () => {
    it('no super.connect(): NotConnected, nothing sent, and the next request opens', async () => {
      const before = (await peer.connections()).accepted;
      await withMine(async (conn, script) => {
        script.mode = 'skip';
        assert.ok(
          thrown(() => conn.request('GET', `/hello?${transport}-skipped`)) instanceof
            httplib.NotConnected,
        );
        assert.equal(conn.sock, null);
        assert.equal((await peer.connections()).accepted, before);
        // Idle again: the next request goes.
        script.mode = 'open';
        assert.equal(fetch(conn, `/hello?${transport}-after-skip`), 'hello\n');
        assert.equal(script.calls, 2);
      });
      assert.deepEqual(await received(`/hello?${transport}-skipped`), []);
    });

    it('no super.connect() for putrequest()/endheaders(): NotConnected, Idle afterwards', async () => {
      await withMine((conn, script) => {
        script.mode = 'skip';
        conn.putrequest('GET', '/hello');
        assert.ok(thrown(() => conn.endheaders()) instanceof httplib.NotConnected);
        script.mode = 'open';
        assert.equal(fetch(conn, '/hello'), 'hello\n');
      });
    });

    it('its exception before opening is the call’s; nothing opened; the next request opens', async () => {
      const before = (await peer.connections()).accepted;
      await withMine(async (conn, script) => {
        script.mode = 'fail-before';
        const err = thrown(() => conn.request('GET', `/hello?${transport}-refused`));
        assert.equal(err, script.thrown);
        assert.equal(conn.sock, null);
        assert.equal((await peer.connections()).accepted, before);
        script.mode = 'open';
        assert.equal(fetch(conn, '/hello'), 'hello\n');
        assert.equal(script.calls, 2);
      });
      assert.deepEqual(await received(`/hello?${transport}-refused`), []);
    });

    it('its exception after opening is the call’s; the socket stays, and the next request writes on it', async () => {
      const before = (await peer.connections()).accepted;
      await withMine(async (conn, script) => {
        script.mode = 'fail-after';
        const err = thrown(() => conn.request('GET', `/hello?${transport}-failed-after`));
        assert.equal(err, script.thrown);
        assert.notEqual(conn.sock, null);
        assert.deepEqual(conn.sock, script.seen[0]);
        script.mode = 'open';
        assert.equal(fetch(conn, `/hello?${transport}-next`), 'hello\n');
        assert.equal(script.calls, 1);
        assert.deepEqual(conn.sock, script.seen[0]);
      });
      assert.equal((await peer.connections()).accepted - before, 1);
      assert.deepEqual(await received(`/hello?${transport}-failed-after`), []);
    });

    it('its super.connect() refused: the call fails with that, caught by it or not; Idle afterwards', async () => {
      await withMine((conn, script) => {
        for (const mode of ['refused', 'refused-caught'] as const) {
          script.mode = mode;
          script.port = 1;
          const err = thrown(() => conn.request('GET', '/hello')) as { code?: string };
          assert.equal(err.code, 'ECONNREFUSED', mode);
          assert.equal(conn.sock, null);
        }
        script.mode = 'port';
        script.port = peer.http;
        assert.equal(fetch(conn, '/hello'), 'hello\n');
        assert.equal(script.calls, 3);
      });
    });

    it('a blocking call of another connection from inside it is refused; the call fails with that', async () => {
      const other = connectionOn(direct, peer.http);
      try {
        await withMine(async (conn, script) => {
          script.mode = 'nested';
          script.nested = () => other.request('GET', `/hello?${transport}-nested`);
          const err = thrown(() => conn.request('GET', `/hello?${transport}-outer`));
          assert.equal((err as { code?: string }).code, 'ERR_HTTPLIB_SYNC_NESTED_CALL');
          // Both connections go on.
          script.mode = 'open';
          assert.equal(fetch(conn, `/hello?${transport}-outer-again`), 'hello\n');
          assert.equal(fetch(other, `/hello?${transport}-other`), 'hello\n');
        });
      } finally {
        other.close();
      }
      assert.deepEqual(await received(`/hello?${transport}-nested`), []);
      assert.deepEqual(await received(`/hello?${transport}-outer`), [
        `/hello?${transport}-outer-again`,
      ]);
    });

    it('a tunnel: the override opens the socket to the proxy, the tunnel is made on it', async () => {
      await withMine((conn, script) => {
        conn.set_tunnel('tunnel.test', 80);
        conn.request('GET', '/echo-head');
        assert.match(conn.getresponse().read().toString(), /^GET \/echo-head HTTP\/1.1\r\n/);
        assert.equal(script.calls, 1);
        assert.deepEqual(script.seen[0], conn.sock);
      }, peer.raw);
    });
  });
}

describe('the worker thread fails while a subclass connect() runs', () => {
  it('the call throws ERR_HTTPLIB_SYNC_WORKER, and the connection carries on in the next worker', () => {
    const saved = { ...tuning };
    Object.assign(tuning, { staleMs: 600, sliceMs: 50 });
    const script = newScript();
    const conn = connectionOn(false, peer.http, mine(script));
    try {
      script.mode = 'nested';
      script.nested = () => testHook('terminate');
      const err = thrown(() => conn.request('GET', '/hello')) as { code?: string };
      assert.equal(err.code, 'ERR_HTTPLIB_SYNC_WORKER');
      script.mode = 'open';
      assert.equal(fetch(conn, '/hello'), 'hello\n');
      assert.equal(script.calls, 2);
    } finally {
      Object.assign(tuning, saved);
      conn.close();
    }
  });
});

describe('a subclass connect() of HTTPSConnection', () => {
  it('runs for every socket a request opens; its super.connect() opens TLS', () => {
    const script = newScript();
    const MineTls = mineTls(script);
    const context = httplib.ssl.create_default_context({ cafile: pki.file('ca.pem') });
    const conn = new MineTls('localhost', peer.https, { context });
    try {
      assert.equal(fetch(conn, '/hello'), 'hello\n');
      assert.equal(script.calls, 1);
      assert.notEqual(script.seen[0], null);
      assert.deepEqual(script.seen[0], conn.sock);
      assert.equal(fetch(conn, '/close'), 'bye\n');
      assert.equal(script.calls, 1);
      script.mode = 'fail-after';
      assert.equal(
        thrown(() => conn.request('GET', '/hello')),
        script.thrown,
      );
      assert.equal(script.calls, 2);
      script.mode = 'open';
      assert.equal(fetch(conn, '/hello'), 'hello\n');
      assert.equal(script.calls, 2);
    } finally {
      conn.close();
    }
  });
});
