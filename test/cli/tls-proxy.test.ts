/**
 * The built `httplib` command over TLS and through proxies (issue 8, item 1): a
 * node:https server with the test PKI (test/fixtures/tls/make-certs.sh), --cacert,
 * --cert/--key, -k, the TLS failures (exit 35, 60, 58, 77); a real CONNECT proxy
 * (test/integration/tls-peers.ts) for https:// URLs with -x, and an HTTP forward proxy
 * that receives absolute-URI requests for http:// URLs.
 */
import assert from 'node:assert/strict';
import type * as http from 'node:http';
import type * as net from 'node:net';
import { after, before, describe, it } from 'node:test';
import { type HttpServer, httpServer, rawServer } from '../integration/servers.ts';
import {
  type ConnectProxy,
  connectProxy,
  type HttpsServer,
  httpsServer,
  makePki,
  type Pki,
} from '../integration/tls-peers.ts';
import { assertFailure, ensureBuilt, MAIN, runCli, runProgram } from './cli-harness.ts';

/** `user:s3cret` */
const AUTH = 'Basic dXNlcjpzM2NyZXQ=';

describe('httplib over TLS and through proxies', () => {
  let pki: Pki;
  let good: HttpsServer;
  let wrongName: HttpsServer;
  let expired: HttpsServer;
  let mutual: HttpsServer;
  let plain: HttpServer;
  const closers: Array<() => Promise<void>> = [];
  const origin = (req: http.IncomingMessage, res: http.ServerResponse): void => {
    res.end(`tls ${req.method} ${req.url} host=${req.headers.host}\n`);
  };

  before(async () => {
    ensureBuilt();
    pki = await makePki();
    good = await httpsServer(pki.pair('server'), origin);
    wrongName = await httpsServer(pki.pair('wrongname'), origin);
    expired = await httpsServer(pki.pair('expired'), origin);
    mutual = await httpsServer(pki.clientCertServer(true), (req, res) => {
      const socket = req.socket as import('node:tls').TLSSocket;
      res.end(`hello ${socket.getPeerCertificate().subject?.CN}\n`);
    });
    plain = await httpServer((_req, res) => res.end('plain\n'));
    for (const s of [good, wrongName, expired, mutual, plain]) closers.push(() => s.close());
  });
  after(async () => {
    for (const close of closers) await close();
    pki?.remove();
  });

  describe('HTTPS', () => {
    it('--cacert trusts the test CA: the request goes through', async () => {
      const r = await runCli([
        `https://localhost:${good.port}/secure`,
        '--cacert',
        pki.file('ca.pem'),
      ]);
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.out, `tls GET /secure host=localhost:${good.port}\n`);
      assert.equal(good.sessions.at(-1)?.servername, 'localhost', 'SNI names the host');
    });

    it('an IP address is checked against the certificate too', async () => {
      const r = await runCli([`https://127.0.0.1:${good.port}/ip`, '--cacert', pki.file('ca.pem')]);
      assert.equal(r.code, 0, r.stderr);
      // The wrong-name certificate names no IP address: 127.0.0.1 is refused.
      const wrong = await runCli([
        `https://127.0.0.1:${wrongName.port}/ip`,
        '--cacert',
        pki.file('ca.pem'),
      ]);
      assertFailure(wrong, 60, /IP address mismatch, certificate is not valid for '127\.0\.0\.1'/);
    });

    it('an unknown CA exits 60', async () => {
      const r = await runCli([`https://localhost:${good.port}/`]);
      assertFailure(
        r,
        60,
        /the certificate of localhost did not verify: unable to get local issuer certificate/,
      );
    });

    it('a certificate for another name exits 60', async () => {
      const r = await runCli([
        `https://localhost:${wrongName.port}/`,
        '--cacert',
        pki.file('ca.pem'),
      ]);
      assertFailure(r, 60, /Hostname mismatch, certificate is not valid for 'localhost'/);
    });

    it('an expired certificate exits 60', async () => {
      const r = await runCli([
        `https://localhost:${expired.port}/`,
        '--cacert',
        pki.file('ca.pem'),
      ]);
      assertFailure(r, 60, /certificate has expired/);
    });

    it('-k accepts what would not verify', async () => {
      for (const server of [good, wrongName, expired]) {
        const r = await runCli([`https://localhost:${server.port}/k`, '-k']);
        assert.equal(r.code, 0, r.stderr);
        assert.equal(r.out, `tls GET /k host=localhost:${server.port}\n`);
      }
      const r = await runCli([
        `https://localhost:${good.port}/k`,
        '--insecure',
        '--cacert',
        '/no/such.pem',
      ]);
      assert.equal(r.code, 0, `-k makes --cacert irrelevant: ${r.stderr}`);
    });

    it('--cert/--key present a client certificate', async () => {
      const r = await runCli([
        `https://localhost:${mutual.port}/`,
        '--cacert',
        pki.file('ca.pem'),
        '--cert',
        pki.file('client.pem'),
        '--key',
        pki.file('client.key'),
      ]);
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.out, 'hello httplib-ts test client\n');
      assert.equal(mutual.sessions.at(-1)?.authorized, true);
    });

    it('--cert with the key in the same file', async () => {
      const { writeFileSync } = await import('node:fs');
      const both = pki.file('client-both.pem');
      writeFileSync(both, Buffer.concat([pki.read('client.pem'), pki.read('client.key')]));
      const r = await runCli([
        `https://localhost:${mutual.port}/`,
        '--cacert',
        pki.file('ca.pem'),
        '--cert',
        both,
      ]);
      assert.equal(r.code, 0, r.stderr);
    });

    it('without the client certificate the server refuses (one line, non-zero)', async () => {
      const r = await runCli([`https://localhost:${mutual.port}/`, '--cacert', pki.file('ca.pem')]);
      // TLS 1.3 sends the refusal after the client finished its handshake: it arrives
      // as a TLS alert while the response is awaited.
      assert.ok(r.code === 35 || r.code === 56, `exit ${r.code}: ${r.stderr}`);
      assertFailure(
        r,
        r.code as number,
        /TLS with localhost failed|certificate required|ECONNRESET/,
      );
    });

    it('a --cert that cannot be loaded exits 58', async () => {
      const r = await runCli([
        `https://localhost:${good.port}/`,
        '--cert',
        pki.file('client.pem'),
        '--key',
        pki.file('server.key'),
      ]);
      assertFailure(r, 58, /could not load the client certificate/);
      const missing = await runCli([`https://localhost:${good.port}/`, '--cert', '/no/cert.pem']);
      assertFailure(missing, 58, /ENOENT/);
    });

    it('a --cacert that cannot be read exits 77', async () => {
      const r = await runCli([`https://localhost:${good.port}/`, '--cacert', '/no/ca.pem']);
      assertFailure(r, 77, /could not read CA certificates from '\/no\/ca\.pem': ENOENT/);
      const notPem = await runCli([
        `https://localhost:${good.port}/`,
        '--cacert',
        pki.file('ca.key'),
      ]);
      assertFailure(notPem, 77, /could not read CA certificates/);
    });

    it('an empty --cacert (an unset variable) exits 77, as curl does; an empty --key 58', async () => {
      // Before: the default store, silently (a public server would have verified).
      const empty = await runCli([`https://localhost:${good.port}/`, '--cacert', '']);
      assertFailure(empty, 77, /could not read CA certificates from '': no file name/);
      // Before: the key looked for in --cert's file, as if --key had not been given.
      const { writeFileSync } = await import('node:fs');
      const both = pki.file('client-and-key.pem');
      writeFileSync(both, Buffer.concat([pki.read('client.pem'), pki.read('client.key')]));
      const key = await runCli([
        `https://localhost:${mutual.port}/`,
        '--cacert',
        pki.file('ca.pem'),
        '--cert',
        both,
        '--key',
        '',
      ]);
      assertFailure(key, 58, /with the key '': ENOENT/);
    });

    it('an endless --cacert, --cert or --key (/dev/zero) exits 77 or 58 at once, as curl exits 77', {
      skip: process.platform === 'win32' ? 'needs /dev/zero, sh and ulimit -v' : false,
    }, async () => {
      // Under a 1 GB address-space limit, so that the failure this guards against (the
      // file read until memory ran out: 23 GB, then killed) stays small if it comes back.
      const limited = (args: string[]) =>
        runProgram(
          'sh',
          ['-c', 'ulimit -v 1000000 && exec "$@"', 'sh', process.execPath, MAIN, ...args],
          {
            timeoutMs: 60_000,
          },
        );
      const url = `https://localhost:${good.port}/`;
      const ca = await limited([url, '--cacert', '/dev/zero']);
      assertFailure(
        ca,
        77,
        /could not read CA certificates from '\/dev\/zero': .*more than 16 MiB/,
      );
      const cert = await limited([url, '--cacert', pki.file('ca.pem'), '--cert', '/dev/zero']);
      assertFailure(
        cert,
        58,
        /could not load the client certificate '\/dev\/zero'.*more than 16 MiB/,
      );
      const key = await limited([
        url,
        '--cacert',
        pki.file('ca.pem'),
        '--cert',
        pki.file('client.pem'),
        '--key',
        '/dev/zero',
      ]);
      assertFailure(key, 58, /with the key '\/dev\/zero'.*more than 16 MiB/);
    });

    it('https:// to a plain HTTP server is a TLS failure (exit 35)', async () => {
      const r = await runCli([`https://127.0.0.1:${plain.port}/`]);
      assertFailure(r, 35, /TLS with 127\.0\.0\.1 failed: \[SSL: /);
    });

    it('a server that never completes the handshake: --timeout exits 28', async () => {
      const silent = await rawServer(() => {});
      closers.push(() => silent.close());
      const r = await runCli([`https://127.0.0.1:${silent.port}/`, '--timeout', '0.5']);
      // The TCP connect succeeded: the wait was the handshake's.
      assertFailure(r, 28, /timed out after 0\.5 s while doing the TLS handshake$/);
    });

    it('-v traces the request inside TLS', async () => {
      const r = await runCli([
        `https://localhost:${good.port}/v`,
        '-v',
        '--cacert',
        pki.file('ca.pem'),
      ]);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stderr, /^send: 'GET \/v HTTP\/1\.1\\r\\nHost: localhost:\d+\\r\\n/);
      assert.match(r.stderr, /\nreply: 'HTTP\/1\.1 200 OK\\r\\n'\r?\n/);
    });
  });

  describe('-x with https:// URLs: a CONNECT tunnel', () => {
    let proxy: ConnectProxy;
    let authProxy: ConnectProxy;
    before(async () => {
      proxy = await connectProxy();
      authProxy = await connectProxy({ auth: AUTH });
      closers.push(
        () => proxy.close(),
        () => authProxy.close(),
      );
    });

    it('tunnels to the host, TLS with the host (not the proxy)', async () => {
      const r = await runCli([
        `https://localhost:${good.port}/through?q=1`,
        '-x',
        `127.0.0.1:${proxy.port}`,
        '--cacert',
        pki.file('ca.pem'),
      ]);
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.out, `tls GET /through?q=1 host=localhost:${good.port}\n`);
      assert.equal(proxy.heads.at(-1), `CONNECT localhost:${good.port} HTTP/1.0\r\n\r\n`);
      assert.ok(!proxy.relayed().includes('/through'), 'the proxy never sees the request in clear');
    });

    it('credentials in -x go to the proxy as Proxy-Authorization', async () => {
      const r = await runCli([
        `https://localhost:${good.port}/auth`,
        '--proxy',
        `http://user:s3cret@127.0.0.1:${authProxy.port}`,
        '--cacert',
        pki.file('ca.pem'),
      ]);
      assert.equal(r.code, 0, r.stderr);
      assert.equal(
        authProxy.heads.at(-1),
        `CONNECT localhost:${good.port} HTTP/1.0\r\nProxy-Authorization: ${AUTH}\r\n\r\n`,
      );
    });

    it('a proxy that refuses the tunnel exits 56', async () => {
      const r = await runCli([
        `https://localhost:${good.port}/`,
        '-x',
        `127.0.0.1:${authProxy.port}`,
        '--cacert',
        pki.file('ca.pem'),
      ]);
      assertFailure(
        r,
        56,
        new RegExp(
          `the proxy 127\\.0\\.0\\.1:${authProxy.port} refused the tunnel to localhost port ${good.port}: Tunnel connection failed: 407 Proxy Authentication Required`,
        ),
      );
    });

    it('a proxy that answers CONNECT with something that is not HTTP exits 56', async () => {
      const odd = await connectProxy({ mode: 'http09' });
      closers.push(() => odd.close());
      const r = await runCli([`https://localhost:${good.port}/`, '-x', `127.0.0.1:${odd.port}`]);
      assertFailure(
        r,
        56,
        new RegExp(
          `the proxy 127\\.0\\.0\\.1:${odd.port} refused the tunnel to localhost port ${good.port}: Invalid response from tunnel request`,
        ),
      );
    });

    for (const [what, answer, code, message] of [
      [
        'a status line, then silence',
        (s: net.Socket) => s.write('HTTP/1.1 200 OK\r\n'),
        28,
        /timed out after 0\.5 s while waiting for the proxy's answer to CONNECT$/,
      ],
      [
        'a status line, then a reset',
        (s: net.Socket) => {
          s.write('HTTP/1.1 200 OK\r\n');
          setTimeout(() => s.resetAndDestroy(), 50);
        },
        56,
        /the proxy 127\.0\.0\.1 port \d+ failed while answering the tunnel request to localhost/,
      ],
      [
        'half a status line, then the close',
        (s: net.Socket) => s.end('HTTP/1.1 200 Conn'),
        56,
        /the proxy 127\.0\.0\.1:\d+ closed the connection without answering the tunnel request/,
      ],
      [
        '101 header lines',
        (s: net.Socket) => s.write(`HTTP/1.1 200 OK\r\n${'X: y\r\n'.repeat(101)}\r\n`),
        56,
        /the proxy 127\.0\.0\.1:\d+ answered the tunnel request to localhost port \d+ badly: HTTPException: got more than 100 headers/,
      ],
    ] as const) {
      it(`a proxy that fails half-way through its answer to CONNECT (${what}) is the proxy's failure, not the host's TLS`, async () => {
        const half = await rawServer((s) => s.once('data', () => answer(s)));
        closers.push(() => half.close());
        const r = await runCli([
          `https://localhost:${good.port}/`,
          '-x',
          `127.0.0.1:${half.port}`,
          '--timeout',
          '0.5',
        ]);
        assertFailure(r, code, message);
      });
    }

    it("the host's certificate is checked through the tunnel (exit 60)", async () => {
      const r = await runCli([`https://localhost:${good.port}/`, '-x', `127.0.0.1:${proxy.port}`]);
      assertFailure(r, 60, /the certificate of localhost did not verify/);
    });
  });

  describe('-x with http:// URLs: absolute-URI requests', () => {
    let port = 0;
    const seen: Array<{ url: string; headers: http.IncomingHttpHeaders }> = [];
    before(async () => {
      const forward = await httpServer((req, res) => {
        seen.push({ url: req.url ?? '', headers: req.headers });
        res.end(`proxied ${req.method} ${req.url}\n`);
      });
      port = forward.port;
      closers.push(() => forward.close());
    });

    it('sends the absolute URL to the proxy, Host naming the origin', async () => {
      const r = await runCli(['http://origin.test:8080/a/b?c=d', '-x', `127.0.0.1:${port}`]);
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.out, 'proxied GET http://origin.test:8080/a/b?c=d\n');
      const s = seen.at(-1);
      assert.equal(s?.url, 'http://origin.test:8080/a/b?c=d');
      assert.equal(s?.headers.host, 'origin.test:8080');
      assert.equal(s?.headers['proxy-authorization'], undefined);
    });

    it('with credentials, and a body', async () => {
      const r = await runCli([
        'http://origin.test/form',
        '-d',
        'x=1',
        '-x',
        `http://user:s3cret@127.0.0.1:${port}`,
      ]);
      assert.equal(r.code, 0, r.stderr);
      const s = seen.at(-1);
      assert.equal(s?.url, 'http://origin.test/form');
      assert.equal(s?.headers.host, 'origin.test');
      assert.equal(s?.headers['proxy-authorization'], AUTH);
      assert.equal(r.out, 'proxied POST http://origin.test/form\n');
    });
  });
});
