/**
 * CONNECT tunnels (`set_tunnel`) through a real proxy written for the tests (issue 4;
 * shared/reference/security.md §4 and checklist item 18): plain HTTP and HTTPS through
 * it, the exact CONNECT head, `Host` and SNI naming the tunnel's host, the proxy's
 * credentials going to the proxy only, TLS with the origin and never with the proxy,
 * the proxy's refusals and misbehaviours, CR/LF refused before any connection, and a
 * new tunnel after a response that closes the connection.
 *
 * Python 2.7.18's `_tunnel()` is the reference for the wire and the errors: `CONNECT
 * host:port HTTP/1.0`, the given headers and nothing else; a non-200 reply raises
 * `Tunnel connection failed: <code> <reason>` and closes; an HTTP/0.9-looking reply
 * raises `Invalid response from tunnel request`.
 */
import assert from 'node:assert/strict';
import * as diagnostics_channel from 'node:diagnostics_channel';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type * as net from 'node:net';
import { after, before, describe, it } from 'node:test';
import type * as tls from 'node:tls';
import {
  HTTPConnection,
  type HTTPConnectionOptions,
  HTTPException,
  HTTPSConnection,
  type HTTPSConnectionOptions,
  InvalidURL,
  ssl,
  TimeoutError,
} from '../../src/index.ts';
import { type HttpServer, httpServer, peerClosed, rawServer } from './servers.ts';
import {
  type ConnectProxy,
  type ConnectProxyOptions,
  connectProxy,
  type HttpsServer,
  httpsServer,
  makePki,
  type Pki,
} from './tls-peers.ts';

const TIMEOUT = 10;
/** `user:s3cret` */
const AUTH = 'Basic dXNlcjpzM2NyZXQ=';
/** A request header value that must never cross the proxy in clear over HTTPS. */
const SECRET = 'do-not-leak-7f3a9c1e5b';

/** What an origin server saw of one request. */
interface Seen {
  readonly host: string | undefined;
  readonly headers: IncomingMessage['headers'];
  readonly servername: string | false | undefined;
}

/** An origin handler that records what it saw; `/close` answers with `Connection: close`. */
function recorder(seen: Seen[]): (req: IncomingMessage, res: ServerResponse) => void {
  return (req, res) => {
    const socket = req.socket as tls.TLSSocket & { servername?: string | false };
    seen.push({ host: req.headers.host, headers: req.headers, servername: socket.servername });
    if (req.url === '/close') res.setHeader('Connection', 'close');
    res.end(`origin ${req.method} ${req.url} host=${req.headers.host ?? '-'}`);
  };
}

/** One request over `conn` (left open); resolves with `status body`. */
async function fetch(
  conn: HTTPConnection,
  url = '/',
  headers: Record<string, string> = {},
): Promise<string> {
  await conn.request('GET', url, null, headers);
  const response = await conn.getresponse();
  const body = await response.read();
  return `${response.status} ${body.toString('latin1')}`;
}

/** Resolves after a few turns of the event loop, for "nothing happened" checks. */
function settle(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, 50));
}

describe('CONNECT tunnels through a real proxy (issue 4)', { timeout: 60_000 }, () => {
  let pki: Pki;
  let origin: HttpServer;
  let secureOrigin: HttpsServer;
  let wrongnameOrigin: HttpsServer;
  const seen: Seen[] = [];
  const proxies: ConnectProxy[] = [];
  const caContext = (): ssl.SSLContext =>
    ssl.create_default_context({ cafile: pki.file('ca.pem') });

  before(async () => {
    pki = await makePki();
    origin = await httpServer(recorder(seen));
    secureOrigin = await httpsServer(pki.pair('server'), recorder(seen));
    wrongnameOrigin = await httpsServer(pki.pair('wrongname'), recorder(seen));
  });
  after(async () => {
    for (const p of proxies) await p.close();
    await origin?.close();
    await secureOrigin?.close();
    await wrongnameOrigin?.close();
    pki?.remove();
  });

  /** A proxy closed at the end of the file. */
  async function proxy(options: ConnectProxyOptions = {}): Promise<ConnectProxy> {
    const p = await connectProxy(options);
    proxies.push(p);
    return p;
  }
  const viaHttp = (p: ConnectProxy, options: HTTPConnectionOptions = {}): HTTPConnection =>
    new HTTPConnection('127.0.0.1', p.port, { timeout: TIMEOUT, ...options });
  const viaHttps = (p: ConnectProxy, options: HTTPSConnectionOptions = {}): HTTPSConnection =>
    new HTTPSConnection('127.0.0.1', p.port, {
      timeout: TIMEOUT,
      context: caContext(),
      ...options,
    });

  describe('HTTP through the tunnel', () => {
    it('sends the exact CONNECT head, and the origin sees the tunnel host', async () => {
      const p = await proxy({ auth: AUTH });
      const conn = viaHttp(p);
      conn.set_tunnel('localhost', origin.port, {
        'Proxy-Authorization': AUTH,
        'X-Tunnel-Note': 'for the proxy',
      });
      const from = seen.length;
      try {
        assert.equal(
          await fetch(conn, '/a', { 'X-Secret': SECRET }),
          `200 origin GET /a host=localhost:${origin.port}`,
        );
        // Kept alive: the second request goes through the same tunnel.
        assert.match(await fetch(conn, '/b'), /^200 origin GET \/b /);
      } finally {
        conn.close();
      }
      assert.deepEqual(p.heads, [
        `CONNECT localhost:${origin.port} HTTP/1.0\r\n` +
          `Proxy-Authorization: ${AUTH}\r\n` +
          'X-Tunnel-Note: for the proxy\r\n\r\n',
      ]);
      assert.equal(p.sockets.length, 1);
      const [first, second] = seen.slice(from);
      assert.equal(first?.host, `localhost:${origin.port}`);
      assert.equal(second?.host, `localhost:${origin.port}`);
      for (const s of [first, second]) {
        assert.equal(s?.headers['proxy-authorization'], undefined);
        assert.equal(s?.headers['x-tunnel-note'], undefined);
      }
      assert.equal(first?.headers['x-secret'], SECRET);
      // Plain HTTP crosses the proxy in clear: the scan of the relayed bytes works.
      const relayed = p.relayed().toString('latin1');
      assert.ok(relayed.startsWith('GET /a HTTP/1.1\r\n'), relayed);
      assert.ok(relayed.includes(SECRET));
      assert.ok(!relayed.includes('Proxy-Authorization'));
    });

    it('httplib:tunnel tells each tunnel the proxy accepted, on the socket of httplib:connect; a refused one is not', async () => {
      const p = await proxy({ auth: AUTH });
      const connects: Array<Record<string, unknown>> = [];
      const tunnels: Array<Record<string, unknown>> = [];
      const onConnect = (m: unknown): void => void connects.push(m as Record<string, unknown>);
      const onTunnel = (m: unknown): void => void tunnels.push(m as Record<string, unknown>);
      diagnostics_channel.subscribe('httplib:connect', onConnect);
      diagnostics_channel.subscribe('httplib:tunnel', onTunnel);
      const conn = viaHttp(p);
      try {
        conn.set_tunnel('localhost', origin.port, { 'Proxy-Authorization': 'Basic d3Jvbmc6' });
        await assert.rejects(fetch(conn), /Tunnel connection failed: 407/);
        assert.equal(connects.length, 1);
        assert.equal(tunnels.length, 0, 'a refused CONNECT is no tunnel');
        conn.set_tunnel('localhost', origin.port, { 'Proxy-Authorization': AUTH });
        assert.match(await fetch(conn, '/a'), /^200 /);
        // Kept alive: the second request goes through the same tunnel, told once.
        assert.match(await fetch(conn, '/b'), /^200 /);
        assert.equal(tunnels.length, 1);
        const [told] = tunnels;
        assert.equal(told?.connection, conn);
        assert.equal(told?.host, 'localhost');
        assert.equal(told?.port, origin.port);
        assert.equal(told?.socket, connects[1]?.socket);
      } finally {
        conn.close();
        diagnostics_channel.unsubscribe('httplib:connect', onConnect);
        diagnostics_channel.unsubscribe('httplib:tunnel', onTunnel);
      }
    });

    it('Host has no port when the tunnel port is the default port', async () => {
      const p = await proxy({ route: () => origin.port });
      const conn = viaHttp(p);
      conn.set_tunnel('localhost');
      const from = seen.length;
      try {
        assert.equal(await fetch(conn), '200 origin GET / host=localhost');
      } finally {
        conn.close();
      }
      assert.deepEqual(p.heads, ['CONNECT localhost:80 HTTP/1.0\r\n\r\n']);
      assert.equal(seen[from]?.host, 'localhost');
    });
  });

  describe('HTTPS through the tunnel', () => {
    it('does TLS with the origin: SNI and Host name the tunnel host, the proxy sees ciphertext', async () => {
      const p = await proxy({ auth: AUTH });
      const conn = viaHttps(p);
      conn.set_tunnel('localhost', secureOrigin.port, { 'Proxy-Authorization': AUTH });
      const from = seen.length;
      const sessions = secureOrigin.sessions.length;
      try {
        assert.equal(
          await fetch(conn, '/secret', { 'X-Secret': SECRET }),
          `200 origin GET /secret host=localhost:${secureOrigin.port}`,
        );
        assert.match(await fetch(conn, '/again'), /^200 /);
      } finally {
        conn.close();
      }
      assert.deepEqual(p.heads, [
        `CONNECT localhost:${secureOrigin.port} HTTP/1.0\r\nProxy-Authorization: ${AUTH}\r\n\r\n`,
      ]);
      assert.equal(secureOrigin.sessions.length, sessions + 1);
      assert.equal(secureOrigin.sessions[sessions]?.servername, 'localhost');
      const [first] = seen.slice(from);
      assert.equal(first?.host, `localhost:${secureOrigin.port}`);
      assert.equal(first?.servername, 'localhost');
      assert.equal(first?.headers['x-secret'], SECRET);
      assert.equal(first?.headers['proxy-authorization'], undefined);
      // The proxy relayed a TLS handshake and records, never the request in clear.
      const relayed = p.relayed();
      assert.ok(relayed.length > 0);
      assert.equal(p.upstream[0]?.[0], 0x16, 'the first byte relayed starts a TLS handshake');
      for (const clear of [SECRET, 'X-Secret', '/secret', 'GET ', 'Host:', AUTH]) {
        assert.equal(relayed.indexOf(clear), -1, `${clear} crossed the proxy in clear`);
      }
    });

    it('Host has no port when the tunnel port is 443', async () => {
      const p = await proxy({ route: () => secureOrigin.port });
      const conn = viaHttps(p);
      conn.set_tunnel('localhost');
      const from = seen.length;
      try {
        assert.equal(await fetch(conn), '200 origin GET / host=localhost');
      } finally {
        conn.close();
      }
      assert.deepEqual(p.heads, ['CONNECT localhost:443 HTTP/1.0\r\n\r\n']);
      assert.equal(seen[from]?.host, 'localhost');
      assert.equal(seen[from]?.servername, 'localhost');
    });

    it('an IP literal tunnel host: no SNI, verified against the IP SAN', async () => {
      const p = await proxy();
      const conn = viaHttps(p);
      conn.set_tunnel('127.0.0.1', secureOrigin.port);
      const from = seen.length;
      try {
        assert.match(await fetch(conn), /^200 /);
      } finally {
        conn.close();
      }
      assert.equal(seen[from]?.host, `127.0.0.1:${secureOrigin.port}`);
      assert.ok(!seen[from]?.servername);
    });

    it('the origin certificate is checked against the tunnel host', async () => {
      const p = await proxy();
      const conn = viaHttps(p);
      conn.set_tunnel('localhost', wrongnameOrigin.port);
      try {
        await assert.rejects(fetch(conn), (err: Error) => {
          assert.ok(err instanceof ssl.SSLCertVerificationError, `${err.name}: ${err.message}`);
          assert.equal(err.verify_code, 62);
          assert.match(err.message, /not valid for 'localhost'/);
          return true;
        });
        assert.equal(conn.sock, null);
      } finally {
        conn.close();
      }
    });

    it('a proxy that terminates TLS itself fails verification (TLS is with the origin)', async () => {
      const p = await proxy({ mode: 'mitm', mitm: pki.pair('proxy') });
      const conn = viaHttps(p);
      conn.set_tunnel('localhost', secureOrigin.port);
      const sessions = secureOrigin.sessions.length;
      try {
        await assert.rejects(fetch(conn, '/', { 'X-Secret': SECRET }), (err: Error) => {
          assert.ok(err instanceof ssl.SSLCertVerificationError, `${err.name}: ${err.message}`);
          assert.equal(err.verify_code, 20);
          return true;
        });
      } finally {
        conn.close();
      }
      assert.equal(secureOrigin.sessions.length, sessions);
    });

    it('bytes right after the 200 reply reach the TLS layer (and break the handshake)', async () => {
      // If the client dropped them, the handshake with the real origin behind would succeed.
      const p = await proxy({ mode: 'reply', reply: 'HTTP/1.1 200 OK\r\n\r\nGARBAGE' });
      const conn = viaHttps(p);
      conn.set_tunnel('localhost', secureOrigin.port);
      try {
        await assert.rejects(fetch(conn), (err: Error) => {
          assert.ok(err instanceof ssl.SSLError, `${err.name}: ${err.message}`);
          assert.ok(!(err instanceof ssl.SSLCertVerificationError));
          return true;
        });
        assert.equal(conn.sock, null);
      } finally {
        conn.close();
      }
    });

    it('Content-Length and Transfer-Encoding on the 200 reply are ignored', async () => {
      const reply =
        'HTTP/1.1 200 Connection established\r\n' +
        'Content-Length: 10\r\nTransfer-Encoding: chunked\r\n\r\n';
      const p = await proxy({ mode: 'reply', reply });
      const secure = viaHttps(p);
      secure.set_tunnel('localhost', secureOrigin.port);
      const plain = viaHttp(p);
      plain.set_tunnel('localhost', origin.port);
      try {
        assert.match(await fetch(secure), /^200 origin GET \/ /);
        assert.match(await fetch(plain), /^200 origin GET \/ /);
      } finally {
        secure.close();
        plain.close();
      }
    });

    it('a 200 reply of any HTTP version opens the tunnel (Python’s _tunnel() checks only the status)', async () => {
      for (const version of ['HTTP/2.0', 'HTTP/1.2', 'HTTP/3']) {
        const p = await proxy({ mode: 'reply', reply: `${version} 200 OK\r\n\r\n` });
        const secure = viaHttps(p);
        secure.set_tunnel('localhost', secureOrigin.port);
        const plain = viaHttp(p);
        plain.set_tunnel('localhost', origin.port);
        try {
          assert.match(await fetch(secure), /^200 origin GET \/ /, version);
          assert.match(await fetch(plain), /^200 origin GET \/ /, version);
        } finally {
          secure.close();
          plain.close();
        }
      }
    });
  });

  describe('the proxy refuses or misbehaves', () => {
    for (const [kind, make] of [
      ['HTTP', viaHttp],
      ['HTTPS', viaHttps],
    ] as const) {
      it(`${kind}: 407 rejects with the tunnel error and closes the connection`, async () => {
        const p = await proxy({ auth: AUTH, keepOpenAfter407: true });
        const conn = make(p);
        const port = kind === 'HTTP' ? origin.port : secureOrigin.port;
        conn.set_tunnel('localhost', port, { 'Proxy-Authorization': 'Basic d3Jvbmc6d3Jvbmc=' });
        const from = seen.length;
        await assert.rejects(fetch(conn), (err: Error) => {
          assert.ok(err instanceof Error);
          assert.ok(
            !(err instanceof HTTPException),
            'Python raises socket.error, not HTTPException',
          );
          assert.equal(err.message, 'Tunnel connection failed: 407 Proxy Authentication Required');
          return true;
        });
        assert.equal(conn.sock, null);
        // The proxy kept its end open: the client closed the connection.
        await peerClosed(p.sockets[0] as net.Socket);
        assert.equal(seen.length, from, 'nothing reached the origin');
        // Not connected any more, so the tunnel may be set again, with the right login.
        conn.set_tunnel('localhost', port, { 'Proxy-Authorization': AUTH });
        try {
          assert.match(await fetch(conn), /^200 origin /);
        } finally {
          conn.close();
        }
        assert.equal(p.heads.length, 2);
      });

      it(`${kind}: after a 407, a header added to the object set_tunnel was given is not sent; set_tunnel again sends it`, async () => {
        // set_tunnel keeps a copy (as Python 3.12+); Python 2.7 keeps the caller's dict
        // and would send the added header with the second CONNECT (README's differences).
        const p = await proxy({ auth: AUTH });
        const conn = make(p);
        const port = kind === 'HTTP' ? origin.port : secureOrigin.port;
        const headers: Record<string, string> = { 'User-Agent': 'demo' };
        conn.set_tunnel('localhost', port, headers);
        const refused = { message: 'Tunnel connection failed: 407 Proxy Authentication Required' };
        await assert.rejects(fetch(conn), refused);
        headers['Proxy-Authorization'] = AUTH;
        await assert.rejects(fetch(conn), refused);
        conn.set_tunnel('localhost', port, headers);
        try {
          assert.match(await fetch(conn), /^200 origin /);
        } finally {
          conn.close();
        }
        const without = `CONNECT localhost:${port} HTTP/1.0\r\nUser-Agent: demo\r\n\r\n`;
        assert.deepEqual(p.heads, [
          without,
          without,
          `CONNECT localhost:${port} HTTP/1.0\r\nUser-Agent: demo\r\nProxy-Authorization: ${AUTH}\r\n\r\n`,
        ]);
      });
    }

    it('407 without credentials at all, the proxy closing after its answer', async () => {
      const p = await proxy({ auth: AUTH });
      const conn = viaHttp(p);
      conn.set_tunnel('localhost', origin.port);
      await assert.rejects(fetch(conn), {
        message: 'Tunnel connection failed: 407 Proxy Authentication Required',
      });
      assert.equal(conn.sock, null);
      conn.close();
    });

    it('another refusal (502) is reported with its code and reason', async () => {
      const reply = 'HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\n\r\n';
      const p = await proxy({ mode: 'reply', reply });
      const conn = viaHttps(p);
      conn.set_tunnel('localhost', secureOrigin.port);
      await assert.rejects(fetch(conn), { message: 'Tunnel connection failed: 502 Bad Gateway' });
      assert.equal(conn.sock, null);
      conn.close();
    });

    it('an HTTP/0.9-looking reply is an invalid tunnel response', async () => {
      for (const make of [viaHttp, viaHttps]) {
        const p = await proxy({ mode: 'http09' });
        const conn = make(p);
        conn.set_tunnel('localhost', 8080);
        await assert.rejects(fetch(conn), (err: Error) => {
          assert.ok(!(err instanceof HTTPException));
          assert.equal(err.message, 'Invalid response from tunnel request');
          return true;
        });
        assert.equal(conn.sock, null);
        conn.close();
      }
    });

    it('a proxy that never answers the CONNECT times out', async () => {
      const silent = await rawServer(() => {});
      try {
        const conn = new HTTPSConnection('127.0.0.1', silent.port, {
          timeout: 0.3,
          context: caContext(),
        });
        conn.set_tunnel('localhost', 443);
        await assert.rejects(fetch(conn), TimeoutError);
        assert.equal(conn.sock, null);
        conn.close();
        await peerClosed(silent.sockets[0] as net.Socket);
        assert.match(silent.received[0]?.toString('latin1') ?? '', /^CONNECT localhost:443 /);
      } finally {
        await silent.close();
      }
    });
  });

  describe('set_tunnel itself', () => {
    it('refuses CR/LF in the host or in header names and values, before any connection', async () => {
      const p = await proxy();
      const bad: Array<[string, Record<string, string> | undefined]> = [
        ['localhost\r\nX-Injected: 1', undefined],
        ['localhost\n', undefined],
        ['local\rhost', undefined],
        ['localhost\x00', undefined],
        ['localhost', { 'Proxy-Authorization': `${AUTH}\r\nX-Injected: 1` }],
        ['localhost', { 'Proxy-Authorization': `${AUTH}\n` }],
        ['localhost', { 'X-Note': 'a\rb' }],
        ['localhost', { 'X-Injected: 1\r\nProxy-Authorization': AUTH }],
        ['localhost', { 'Bad\nName': 'x' }],
        ['localhost', { 'Bad Name': 'x' }],
      ];
      for (const make of [viaHttp, viaHttps]) {
        for (const [host, headers] of bad) {
          const conn = make(p);
          assert.throws(
            () => conn.set_tunnel(host, 443, headers),
            (err: Error) => err instanceof TypeError || err instanceof InvalidURL,
            JSON.stringify([host, headers]),
          );
          conn.close();
        }
      }
      await settle();
      assert.equal(p.sockets.length, 0, 'the proxy saw no connection');
    });

    it('refuses a tunnel host that is no host (CONNECT takes host:port), naming it, before any connection', async () => {
      // Before, each went out: `CONNECT [localhost:8080]:9090`, `CONNECT [::1]:8080:9090`,
      // `CONNECT [:443`, `CONNECT user@origin.example:443`... (Python 2.7 sends them too).
      const p = await proxy();
      const notHost = (host: string, hint = ''): string =>
        `tunnel host is not a host name or IP address: '${host}'${hint}`;
      const twice = (host: string, port: number): string =>
        `tunnel host has a port, and port ${port} is given too: '${host}'`;
      const bad: Array<[string, number | null, string]> = [
        ['localhost:8080', 9090, twice('localhost:8080', 9090)],
        ['[::1]:8080', 9090, twice('[::1]:8080', 9090)],
        ['[', 443, notHost('[')],
        ['::1]', 443, notHost('::1]')],
        ['[[::1]]', 443, notHost('[[::1]]')],
        ['user@origin.example', 443, notHost('user@origin.example')],
        ['user@origin.example:443', null, notHost('user@origin.example:443')],
        ['origin.example/x', 443, notHost('origin.example/x')],
        ['origin.example?x', 443, notHost('origin.example?x')],
        ['origin.example#x', 443, notHost('origin.example#x')],
        ['origin\\example', 443, notHost('origin\\\\example')],
        ['localhost:8080:9090', null, notHost('localhost:8080:9090')],
        ['localhost:', 9090, notHost('localhost:')],
        ['1::2::3', 443, notHost('1::2::3')],
        ['[fe80::1%]', 443, notHost('[fe80::1%]')],
        // Python's split makes it host ':' and port 1.
        ['::1', null, notHost('::1', " (an IPv6 address takes brackets: '[::1]')")],
      ];
      for (const make of [viaHttp, viaHttps]) {
        for (const [host, port, message] of bad) {
          const conn = make(p);
          assert.throws(
            () => conn.set_tunnel(host, port),
            (err: Error) => err instanceof InvalidURL && err.message === message,
            JSON.stringify([host, port]),
          );
          assert.equal(conn._tunnel_host, null);
          conn.close();
        }
      }
      assert.equal(p.sockets.length, 0, 'the proxy saw no connection');
    });

    it('takes every form of a host: a name, IPv4, IPv6 with or without brackets or a zone id', async () => {
      const p = await proxy({ route: () => origin.port });
      const good: Array<[string, number | null, string]> = [
        ['localhost', 8080, 'localhost:8080'],
        ['localhost:8080', null, 'localhost:8080'],
        ['[localhost]', 8080, 'localhost:8080'],
        ['127.0.0.1', 8080, '127.0.0.1:8080'],
        ['::1', 8080, '[::1]:8080'],
        ['[::1]', 8080, '[::1]:8080'],
        ['[::1]:8080', null, '[::1]:8080'],
        ['::ffff:127.0.0.1', 8080, '[::ffff:127.0.0.1]:8080'],
        ['fe80::1%eth0', 8080, '[fe80::1%eth0]:8080'],
        ['[fe80::1%eth0]:8080', null, '[fe80::1%eth0]:8080'],
      ];
      for (const [host, port] of good) {
        const conn = viaHttp(p);
        conn.set_tunnel(host, port);
        try {
          assert.match(await fetch(conn), /^200 origin GET \/ /);
        } finally {
          conn.close();
        }
      }
      assert.deepEqual(
        p.heads,
        good.map(([, , target]) => `CONNECT ${target} HTTP/1.0\r\n\r\n`),
      );
    });

    it('a refused set_tunnel leaves no tunnel behind', async () => {
      const p = await proxy();
      const conn = viaHttp(p);
      conn.set_tunnel('localhost', origin.port);
      assert.throws(() => conn.set_tunnel('evil\r\n', origin.port), InvalidURL);
      try {
        await fetch(conn);
      } finally {
        conn.close();
      }
      // The earlier, valid tunnel is the one used.
      assert.deepEqual(p.heads, [`CONNECT localhost:${origin.port} HTTP/1.0\r\n\r\n`]);
    });

    it('throws once the connection is established', async () => {
      const p = await proxy();
      for (const make of [viaHttp, viaHttps]) {
        const conn = make(p);
        conn.set_tunnel('localhost', make === viaHttp ? origin.port : secureOrigin.port);
        try {
          await conn.connect();
          assert.throws(() => conn.set_tunnel('localhost', 1234), {
            message: "Can't setup tunnel for established connection.",
          });
        } finally {
          conn.close();
        }
      }
      // Directly connected, too.
      const direct = new HTTPConnection('127.0.0.1', origin.port, { timeout: TIMEOUT });
      try {
        await direct.connect();
        assert.throws(() => direct.set_tunnel('localhost', 1234), Error);
      } finally {
        direct.close();
      }
    });

    it('throws while a connect is under way, and the connect goes on untunnelled', async () => {
      // Before, it was taken: the socket being opened went to the proxy without a
      // CONNECT, and its requests carried the tunnel's Host there.
      const p = await proxy();
      for (const make of [viaHttp, viaHttps]) {
        for (const how of ['connect()', 'a request']) {
          const conn = make(p);
          try {
            const opening =
              how === 'connect()' ? conn.connect() : conn.request('GET', '/', null, {});
            assert.throws(() => conn.set_tunnel('localhost', origin.port), {
              message: "Can't setup tunnel for established connection.",
            });
            assert.equal(conn._tunnel_host, null, how);
            conn.close();
            await assert.rejects(opening, { name: 'AbortError' });
            // Closed, the connection may be given a tunnel again.
            conn.set_tunnel('localhost', origin.port);
            assert.equal(conn._tunnel_host, 'localhost', how);
          } finally {
            conn.close();
          }
        }
      }
      assert.ok(
        p.heads.every((head) => !head.startsWith('CONNECT ') && !head.includes('Host: localhost')),
        String(p.heads),
      );
    });

    it('after a Connection: close response the next request tunnels again', async () => {
      for (const [make, port] of [
        [viaHttp, () => origin.port],
        [viaHttps, () => secureOrigin.port],
      ] as const) {
        const p = await proxy({ auth: AUTH });
        const conn = make(p);
        conn.set_tunnel('localhost', port(), { 'Proxy-Authorization': AUTH });
        const from = seen.length;
        try {
          assert.match(await fetch(conn, '/close'), /^200 origin GET \/close /);
          assert.match(await fetch(conn, '/next'), /^200 origin GET \/next /);
        } finally {
          conn.close();
        }
        const head = `CONNECT localhost:${port()} HTTP/1.0\r\nProxy-Authorization: ${AUTH}\r\n\r\n`;
        assert.deepEqual(p.heads, [head, head]);
        assert.equal(p.sockets.length, 2);
        for (const s of seen.slice(from)) {
          assert.equal(s.host, `localhost:${port()}`);
          assert.equal(s.headers['proxy-authorization'], undefined);
        }
      }
    });
  });
});
