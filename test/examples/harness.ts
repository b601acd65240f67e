/**
 * The programs of examples/ against local peers: what they must print, and what the peers
 * must have received. Shared by test/examples/examples.test.ts (Node with tsx, on the
 * sources, in `npm test`) and test/runtimes/smoke.ts (the packed package on Node 22 and
 * 24, Bun and Deno, in CI).
 *
 * The peers are real servers on 127.0.0.1: a node:http server answering like the Python
 * documentation's hosts and taking the streaming uploads, a node:https server with a
 * certificate from the test's private CA (asking for, not requiring, a client
 * certificate), two more with certificates security level 2 refuses (an RSA-1024 key, a
 * SHA-1 signature: every runtime must refuse them, Bun's TLS library having no security
 * level of its own), and a CONNECT proxy that wants a password.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { CliResult } from '../cli/cli-harness.ts';
import { type HttpServer, httpServer, readBody } from '../integration/servers.ts';
import {
  type ConnectProxy,
  connectProxy,
  type HttpsServer,
  httpsServer,
  makePki,
  type Pki,
} from '../integration/tls-peers.ts';

/** The CONNECT proxy's credentials (user:pass). */
const PROXY_USER = 'user:pass';
/**
 * The streaming example's upload file and download body (the README's streaming section,
 * test/docs/readme-blocks.test.ts, uses the same).
 */
export const UPLOAD = Buffer.alloc(100_000, 'upload ');
export const BIG = Buffer.from(Array.from({ length: 1 << 20 }, (_, i) => i % 251));

/** What the HTTP server received of one request. */
export interface Received {
  readonly method: string;
  readonly url: string;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly body: Buffer;
}

export interface Peers {
  readonly pki: Pki;
  readonly http: HttpServer;
  readonly https: HttpsServer;
  /** HTTPS servers presenting a weak certificate from the same CA: `weak` (RSA-1024), `sha1`. */
  readonly weak: HttpsServer;
  readonly sha1: HttpsServer;
  /** The HTTP requests that reached `weak` and `sha1` (none must). */
  readonly weakRequests: { weak: number; sha1: number };
  /** The HTTP requests that reached `https`. */
  readonly secureRequests: { count: number };
  readonly proxy: ConnectProxy;
  /** Every request the HTTP server received, in order. */
  readonly received: Received[];
  /** A directory for the examples' files. */
  readonly dir: string;
  close(): Promise<void>;
}

/** Start the peers (and write the upload file); `close()` stops them and removes the files. */
export async function startPeers(): Promise<Peers> {
  const pki = await makePki();
  const dir = fs.mkdtempSync(path.join(pki.dir, 'files-'));
  fs.writeFileSync(path.join(dir, 'upload.bin'), UPLOAD);
  const received: Received[] = [];
  const http = await httpServer(async (req, res) => {
    const body = await readBody(req);
    received.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body });
    const route = `${req.method} ${req.url}`;
    if (route === 'GET /index.html' || route === 'HEAD /index.html') {
      res.writeHead(200, { 'Content-Type': 'text/html' }).end('<p>The index page.</p>\n');
    } else if (route === 'POST /') {
      res.writeHead(302, { Location: '/issue12524' }).end();
    } else if (route === 'PUT /file') {
      res.writeHead(200).end();
    } else if (route === 'PUT /upload') {
      res.writeHead(201).end(`received ${body.length} bytes`);
    } else if (route === 'POST /upload') {
      const chunked = req.headers['transfer-encoding'] === 'chunked' ? ', chunked' : '';
      res.writeHead(200).end(`received ${body.length} bytes${chunked}`);
    } else if (route === 'GET /big') {
      res.writeHead(200, { 'Content-Type': 'application/octet-stream' }).end(BIG);
    } else {
      res.writeHead(404, { 'Content-Type': 'text/plain' }).end('Not Found');
    }
  });
  const secureRequests = { count: 0 };
  const https = await httpsServer(pki.clientCertServer(false), (req, res) => {
    secureRequests.count++;
    const socket = req.socket as import('node:tls').TLSSocket;
    const client = socket.authorized ? 'yes' : 'no';
    res.writeHead(200, { 'Content-Type': 'text/plain' });
    res.end(`secure hello, client certificate: ${client}\n`);
  });
  // At security level 0, so that they can present what clients must refuse.
  const weakRequests = { weak: 0, sha1: 0 };
  const weakServer = (leaf: 'weak' | 'sha1'): Promise<HttpsServer> =>
    httpsServer({ ...pki.pair(leaf), ciphers: 'DEFAULT@SECLEVEL=0' }, (_req, res) => {
      weakRequests[leaf]++;
      res.end(`a request reached the ${leaf} server\n`);
    });
  const [weak, sha1] = await Promise.all([weakServer('weak'), weakServer('sha1')]);
  const proxy = await connectProxy({
    auth: `Basic ${Buffer.from(PROXY_USER).toString('base64')}`,
  });
  return {
    pki,
    http,
    https,
    weak,
    sha1,
    weakRequests,
    secureRequests,
    proxy,
    received,
    dir,
    async close() {
      await Promise.all([http.close(), https.close(), weak.close(), sha1.close(), proxy.close()]);
      pki.remove();
    },
  };
}

/** One run of one example: its arguments, what it prints, what the peers saw. */
export interface ExampleCase {
  /** The file under examples/. */
  readonly file: string;
  /** What the run is called in reports: the file, or the file and what this run is about. */
  readonly name: string;
  readonly args: readonly string[];
  /** Its stdout, line by line (a RegExp where the text depends on the TLS library). */
  readonly stdout: ReadonlyArray<string | RegExp>;
  /** Its exit code: 0 unless said. */
  readonly exit?: number;
  /** What its stderr must show on `runtime` (`node`, `bun`, `deno`), when it must show something. */
  readonly stderr?: (runtime: string) => RegExp;
  /** What the peers must have received from this run. */
  check(peers: Peers, since: number): void;
}

/** The examples and their runs against `peers`. */
export function exampleCases(peers: Peers): ExampleCase[] {
  const host = `127.0.0.1:${peers.http.port}`;
  const secure = `https://localhost:${peers.https.port}/`;
  const output = path.join(peers.dir, 'copy.bin');
  return [
    {
      file: 'sessions.ts',
      name: 'sessions.ts',
      args: [host],
      stdout: [
        '200 OK',
        '404 Not Found',
        'true true',
        '200 OK',
        '0',
        '302 Found',
        '/issue12524',
        '200 OK',
      ],
      check(p, since) {
        const seen = p.received.slice(since);
        assert.deepEqual(
          seen.map((r) => `${r.method} ${r.url}`),
          ['GET /index.html', 'GET /parrot.spam', 'HEAD /index.html', 'POST /', 'PUT /file'],
        );
        assert.equal(seen[3]?.body.toString(), '%40number=12524&%40type=issue&%40action=show');
        assert.equal(seen[3]?.headers['content-type'], 'application/x-www-form-urlencoded');
        assert.equal(seen[4]?.body.toString(), '***filecontents***');
        assert.equal(seen[4]?.headers['content-length'], '18');
      },
    },
    {
      file: 'streaming.ts',
      name: 'streaming.ts',
      args: [
        `http://${host}/upload`,
        path.join(peers.dir, 'upload.bin'),
        `http://${host}/big`,
        output,
      ],
      stdout: [
        '201 Created received 100000 bytes',
        '200 OK received 23 bytes, chunked',
        `wrote ${BIG.length} bytes to ${output}`,
        `read ${BIG.length} bytes into a 64 KiB buffer`,
      ],
      check(p, since) {
        const seen = p.received.slice(since);
        assert.deepEqual(
          seen.map((r) => `${r.method} ${r.url}`),
          ['PUT /upload', 'POST /upload', 'GET /big', 'GET /big'],
        );
        assert.equal(seen[0]?.headers['content-length'], String(UPLOAD.length));
        assert.ok(seen[0]?.body.equals(UPLOAD), 'the file arrived whole');
        assert.equal(seen[1]?.headers['transfer-encoding'], 'chunked');
        assert.equal(seen[1]?.body.toString(), 'first part\nsecond part\n');
        assert.ok(fs.readFileSync(output).equals(BIG), 'the output file is the body');
      },
    },
    {
      file: 'https.ts',
      name: 'https.ts',
      args: [
        secure,
        peers.pki.file('ca.pem'),
        peers.pki.file('client.pem'),
        peers.pki.file('client-enc.key'),
        's3cret',
      ],
      stdout: [/^refused without the CA: \S.*$/, '200 OK secure hello, client certificate: yes'],
      check(p) {
        // The refused handshake, then the one that verified and sent the certificate.
        assert.equal(p.https.sessions.at(-1)?.servername, 'localhost');
        assert.equal(p.https.sessions.at(-1)?.authorized, true);
      },
    },
    // The encrypted key in the certificate's file, after the certificate: sent on every
    // runtime (Deno read the file's first block as the key, and sent no certificate).
    {
      file: 'https.ts',
      name: 'https.ts (key in the certificate file)',
      args: [
        secure,
        peers.pki.file('ca.pem'),
        peers.pki.file('client-combined.pem'),
        peers.pki.file('client-combined.pem'),
        's3cret',
      ],
      stdout: [/^refused without the CA: \S.*$/, '200 OK secure hello, client certificate: yes'],
      check(p, since) {
        assert.equal(p.secureRequests.count, since + 1);
      },
    },
    // A wrong password for the encrypted client key is refused by load_cert_chain on every
    // runtime (Deno's TLS layer took it and connected without presenting the certificate).
    {
      file: 'https.ts',
      name: 'https.ts (wrong key password)',
      args: [
        secure,
        peers.pki.file('ca.pem'),
        peers.pki.file('client.pem'),
        peers.pki.file('client-enc.key'),
        'not-the-password',
      ],
      stdout: [/^refused without the CA: \S.*$/],
      exit: 1,
      stderr: () => /SSLError\b[^\n]*cannot load certificate chain/,
      check(p, since) {
        // Refused before connecting: no request reached the server.
        assert.equal(p.secureRequests.count, since);
      },
    },
    // Security level 2 on every runtime: the CA is trusted, the certificate is not good
    // enough. The example fails on its request (exit 1) with OpenSSL's reason; Deno's TLS
    // layer refuses these chains itself, for a reason of its own.
    ...(
      [
        ['weak', 'EE certificate key too weak'],
        ['sha1', 'CA signature digest algorithm too weak'],
      ] as const
    ).map(
      ([leaf, reason]): ExampleCase => ({
        file: 'https.ts',
        name: `https.ts (${leaf} certificate)`,
        args: [`https://localhost:${peers[leaf].port}/`, peers.pki.file('ca.pem')],
        stdout: [/^refused without the CA: \S.*$/],
        exit: 1,
        stderr: (runtime) =>
          new RegExp(
            `SSLCertVerificationError\\b[^\\n]*certificate verify failed: ${runtime === 'deno' ? '' : reason}`,
          ),
        check(p) {
          // Refused before a byte of HTTP: no request reached the server.
          assert.equal(p.weakRequests[leaf], 0);
        },
      }),
    ),
    {
      file: 'tunnel.ts',
      name: 'tunnel.ts',
      args: [`${PROXY_USER}@127.0.0.1:${peers.proxy.port}`, secure, peers.pki.file('ca.pem')],
      stdout: [
        '200 OK secure hello, client certificate: no',
        'without credentials: Tunnel connection failed: 407 Proxy Authentication Required',
      ],
      check(p, since) {
        const heads = p.proxy.heads.slice(since);
        assert.equal(heads.length, 2);
        const connect = `CONNECT localhost:${p.https.port} HTTP/1.0\r\n`;
        assert.ok(heads[0]?.startsWith(connect), heads[0]);
        assert.match(heads[0] as string, /\r\nProxy-Authorization: Basic dXNlcjpwYXNz\r\n/);
        assert.ok(heads[1]?.startsWith(connect), heads[1]);
        assert.doesNotMatch(heads[1] as string, /Proxy-Authorization/);
      },
    },
  ];
}

/**
 * Run one case with `run` (which spawns the example under some runtime) and check it:
 * exit 0 by itself, the expected stdout, what the peers saw.
 */
export async function checkExample(
  peers: Peers,
  c: ExampleCase,
  run: (file: string, args: readonly string[]) => Promise<CliResult>,
  runtime = 'node',
): Promise<void> {
  // `check` looks at what arrived during this run: the HTTP requests, the CONNECT heads or
  // the HTTPS server's requests.
  const since =
    c.file === 'tunnel.ts'
      ? peers.proxy.heads.length
      : c.file === 'https.ts'
        ? peers.secureRequests.count
        : peers.received.length;
  const r = await run(c.file, c.args);
  const context = `examples/${c.file} ${c.args.join(' ')}\n--- stdout\n${r.out}--- stderr\n${r.stderr}`;
  assert.equal(r.code, c.exit ?? 0, `exit ${r.code ?? r.signal}\n${context}`);
  if (c.stderr !== undefined) assert.match(r.stderr, c.stderr(runtime), context);
  const lines = r.out.split('\n').slice(0, -1);
  assert.equal(lines.length, c.stdout.length, context);
  c.stdout.forEach((want, i) => {
    if (typeof want === 'string') assert.equal(lines[i], want, context);
    else assert.match(lines[i] as string, want, context);
  });
  c.check(peers, since);
}
