/**
 * Every ```ts / ```js block of the README runs (issue 8), against local servers, and
 * prints what its comments say.
 *
 * - Blocks are found by their fence language: `ts`, `js` (and `typescript`, `javascript`,
 *   `mts`, `mjs`) run; `sh` and unlabelled blocks (shell sessions, the CLI synopsis) do
 *   not. A code block is skipped only when the line before its fence is
 *   `<!-- not-run: reason -->`.
 * - A block that imports something starts a new ES module; a block that does not
 *   continues the module of the block before it, as the README's sections continue one
 *   session (`conn` of the GET example is used by the HEAD example, as in Python's
 *   documentation).
 * - Each module is written to a temporary `.mts` file with the substitutions below, run
 *   with `node --import tsx` (it must exit 0 by itself: nothing may keep the process
 *   alive), and typechecked with the project's compiler options.
 * - Every `console.log(...)` line must end with a `// comment` giving what it prints; the
 *   printed lines must equal those comments, in order.
 * - The servers record what they received, and the test checks it: the README's
 *   requests really went out as written.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import type * as http from 'node:http';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import ts from 'typescript';
import { ROOT, runNode, type TempDir, tempDir } from '../cli/cli-harness.ts';
import { BIG, UPLOAD } from '../examples/harness.ts';
import {
  type HttpServer,
  httpServer,
  type RawServer,
  rawServer,
  readBody,
} from '../integration/servers.ts';
import {
  type ConnectProxy,
  connectProxy,
  type HttpsServer,
  httpsServer,
  makePki,
  type Pki,
} from '../integration/tls-peers.ts';
import { INDEX, SYNC, typecheckModules } from './typecheck.ts';

const README = fs.readFileSync(path.join(ROOT, 'README.md'), 'utf8');
const RUN_LANGUAGES = new Set(['ts', 'typescript', 'js', 'javascript', 'mts', 'mjs']);
const PROXY_AUTH = 'Basic dXNlcjpwYXNz';
/** The streaming example's paths (the tour's requests are checked without them). */
const STREAMING = new Set(['/upload', '/big']);

/** What the substitutions need to know about the local servers. */
interface Env {
  readonly http: number;
  readonly https: number;
  readonly proxy: number;
  /** A TCP server that answers like an SSH server: its banner, no HTTP. */
  readonly ssh: number;
  readonly pki: Pki;
  /** The directory the streaming example's files are in. */
  readonly files: string;
}

/**
 * The substitution table: each README text (exact, quotes included) is replaced in every
 * block where it appears; each entry must be used at least once, and no host but
 * localhost / 127.0.0.1 may be left in a block afterwards.
 */
const SUBSTITUTIONS: ReadonlyArray<{
  readonly from: string;
  readonly to: (env: Env) => string;
  readonly why: string;
}> = [
  {
    from: "from 'httplib-ts'",
    to: () => `from ${JSON.stringify(INDEX)}`,
    why: 'the package is its sources: src/index.ts, run by tsx (no build needed)',
  },
  {
    from: "from 'httplib-ts/sync'",
    to: () => `from ${JSON.stringify(SYNC)}`,
    why: 'the blocking entry is its sources too: src/sync.ts (its calls block the child running the block; the servers are in this process)',
  },
  {
    from: "new httplib.HTTPConnection('www.python.org')",
    to: (env) => `new httplib.HTTPConnection('127.0.0.1:${env.http}')`,
    why: "the seed's host: a node:http server on 127.0.0.1 answers the tour's requests",
  },
  {
    from: "new httplib.HTTPConnection('bugs.python.org')",
    to: (env) => `new httplib.HTTPConnection('127.0.0.1:${env.http}')`,
    why: "the seed's form POST: the same local server answers 302 Found",
  },
  {
    from: "new httplib.HTTPConnection('localhost', 8080)",
    to: (env) => `new httplib.HTTPConnection('localhost', ${env.http})`,
    why: "the seed's PUT: the same local server, on its own port",
  },
  {
    from: "open('upload.bin')",
    to: (env) => `open(${JSON.stringify(path.join(env.files, 'upload.bin'))})`,
    why: 'a 100,000-byte file the test writes first',
  },
  {
    from: "open('copy.bin', 'w')",
    to: (env) => `open(${JSON.stringify(path.join(env.files, 'copy.bin'))}, 'w')`,
    why: 'a file in the test directory, compared with the body the server sent',
  },
  {
    from: "{ cafile: 'ca.pem' }",
    to: (env) => `{ cafile: ${JSON.stringify(env.pki.file('ca.pem'))} }`,
    why: "the test PKI's CA (test/fixtures/tls/make-certs.sh)",
  },
  {
    from: "'localhost', 8443",
    to: (env) => `'localhost', ${env.https}`,
    why: "a node:https server with the test PKI's localhost certificate, asking for a client certificate",
  },
  {
    from: "load_cert_chain('client.pem', 'client.key', 'password')",
    to: (env) =>
      `load_cert_chain(${JSON.stringify(env.pki.file('client.pem'))}, ${JSON.stringify(
        env.pki.file('client-enc.key'),
      )}, 's3cret')`,
    why: "the test PKI's client certificate and its encrypted key (password s3cret)",
  },
  {
    from: "'localhost', 2222",
    to: (env) => `'localhost', ${env.ssh}`,
    why: 'a raw TCP server answering any request with an SSH banner (SSH-2.0-OpenSSH_9.6) and closing',
  },
  {
    from: "'proxy.example', 3128",
    to: (env) => `'127.0.0.1', ${env.proxy}`,
    why: `a real CONNECT proxy on 127.0.0.1 (test/integration/tls-peers.ts) requiring ${PROXY_AUTH}`,
  },
  {
    from: "set_tunnel('www.python.org', 443,",
    to: (env) => `set_tunnel('localhost', ${env.https},`,
    why: 'the tunnel leads to the local HTTPS server, whose certificate names localhost; the child runs with NODE_EXTRA_CA_CERTS set to the test CA, so the default context trusts it',
  },
];

/** Anything that looks like a host other than localhost / 127.0.0.1, or a README port. */
const FOREIGN =
  /\b(?:[a-z0-9-]+\.)+(?:org|com|net|example|invalid)\b|\b(?:8080|8443|3128|2222)\b|, 443\b/i;

interface Block {
  readonly line: number;
  readonly lang: string;
  readonly code: string;
  readonly skip: string | null;
}

function blocks(markdown: string): Block[] {
  const out: Block[] = [];
  const lines = markdown.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const open = /^```(\S*)\s*$/.exec(lines[i] as string);
    if (open === null) continue;
    const start = i;
    let end = i + 1;
    while (end < lines.length && lines[end] !== '```') end++;
    let prev = start - 1;
    while (prev >= 0 && (lines[prev] as string).trim() === '') prev--;
    const marker = prev >= 0 ? /^<!--\s*not-run:\s*(.+?)\s*-->$/.exec(lines[prev] as string) : null;
    out.push({
      line: start + 1,
      lang: (open[1] as string).toLowerCase(),
      code: lines.slice(start + 1, end).join('\n'),
      skip: marker === null ? null : (marker[1] as string),
    });
    i = end;
  }
  return out;
}

interface Session {
  readonly blocks: Block[];
  source: string;
  readonly expected: string[];
}

/** The runnable blocks, grouped into modules, with the substitutions made. */
function sessions(env: Env, used: number[]): Session[] {
  const out: Session[] = [];
  for (const block of blocks(README)) {
    if (!RUN_LANGUAGES.has(block.lang) || block.skip !== null) continue;
    let code = block.code;
    SUBSTITUTIONS.forEach((s, i) => {
      const parts = code.split(s.from);
      used[i] = (used[i] ?? 0) + parts.length - 1;
      code = parts.join(s.to(env));
    });
    const foreign = FOREIGN.exec(code.replace(/\/\/.*$/gm, ''));
    assert.equal(foreign, null, `README line ${block.line}: ${foreign?.[0]} has no substitution`);
    const expected: string[] = [];
    for (const line of block.code.split('\n')) {
      if (!line.includes('console.log(')) continue;
      const comment = /\/\/\s*(.*?)\s*$/.exec(line);
      assert.ok(
        comment,
        `README line ${block.line}: console.log without a comment saying what it prints`,
      );
      expected.push(comment[1] as string);
    }
    const starts = /^import\s/m.test(block.code);
    const current = out.at(-1);
    if (starts || current === undefined) {
      assert.ok(
        starts,
        `README line ${block.line}: the first block to run must import the package`,
      );
      out.push({ blocks: [block], source: `// README line ${block.line}\n${code}\n`, expected });
    } else {
      current.blocks.push(block);
      current.source += `\n// README line ${block.line}\n${code}\n`;
      current.expected.push(...expected);
    }
  }
  return out;
}

/** What a server received of one request. */
interface Recorded {
  readonly method: string;
  readonly url: string;
  readonly headers: http.IncomingHttpHeaders;
  readonly body: string;
}

function recorded(req: http.IncomingMessage, body = ''): Recorded {
  return { method: req.method ?? '', url: req.url ?? '', headers: req.headers, body };
}

/**
 * The tour's requests (the async tour and its blocking twin send the same), in order,
 * with the POST's form body and the PUT's file body; returns the POST and the PUT.
 */
function assertTour(requests: readonly Recorded[]): [Recorded, Recorded] {
  assert.deepEqual(
    requests.map((r) => `${r.method} ${r.url}`),
    ['GET /index.html', 'GET /parrot.spam', 'HEAD /index.html', 'POST /', 'PUT /file'],
  );
  const [, , , post, put] = requests as [Recorded, Recorded, Recorded, Recorded, Recorded];
  assert.equal(post.body, '%40number=12524&%40type=issue&%40action=show');
  assert.equal(put.body, '***filecontents***');
  assert.equal(put.headers['content-length'], '18');
  return [post, put];
}

describe('README code blocks', () => {
  let pki: Pki;
  let plain: HttpServer;
  let secure: HttpsServer;
  let proxy: ConnectProxy;
  let ssh: RawServer;
  let tmp: TempDir;
  const received: Recorded[] = [];
  const secureReceived: Recorded[] = [];
  let all: Session[] = [];
  const used: number[] = [];

  before(async () => {
    pki = await makePki();
    tmp = tempDir();
    plain = await httpServer(async (req, res) => {
      const body = (await readBody(req)).toString('latin1');
      received.push(recorded(req, body));
      const route = `${req.method} ${req.url}`;
      if (route === 'GET /index.html' || route === 'HEAD /index.html') {
        res.writeHead(200, { 'Content-Type': 'text/html' }).end('<p>The index page.</p>\n');
      } else if (route === 'POST /') {
        res.writeHead(302, { Location: '/issue12524' }).end();
      } else if (route === 'PUT /file') {
        res.writeHead(body === '***filecontents***' ? 200 : 400).end();
      } else if (route === 'PUT /upload' || route === 'POST /upload') {
        const chunked = req.headers['transfer-encoding'] === 'chunked' ? ', chunked' : '';
        res
          .writeHead(req.method === 'PUT' ? 201 : 200)
          .end(`received ${Buffer.byteLength(body, 'latin1')} bytes${chunked}`);
      } else if (route === 'GET /big') {
        res.writeHead(200, { 'Content-Type': 'application/octet-stream' }).end(BIG);
      } else {
        res.writeHead(404).end('not here\n');
      }
    });
    // node:http's own (strict) parser: the folded-header example must get its 400 from it.
    ssh = await rawServer((socket) => {
      socket.once('data', () => socket.end('SSH-2.0-OpenSSH_9.6\r\n'));
    });
    secure = await httpsServer(pki.clientCertServer(false), (req, res) => {
      secureReceived.push(recorded(req));
      res.writeHead(200, { 'Content-Type': 'text/plain' }).end('secure hello\n');
    });
    proxy = await connectProxy({ auth: PROXY_AUTH });
    fs.writeFileSync(tmp.file('upload.bin'), UPLOAD);
    all = sessions(
      {
        http: plain.port,
        https: secure.port,
        proxy: proxy.port,
        ssh: ssh.port,
        pki,
        files: tmp.dir,
      },
      used,
    );
  });

  after(async () => {
    await Promise.all([plain?.close(), secure?.close(), proxy?.close(), ssh?.close()]);
    pki?.remove();
    tmp?.remove();
  });

  it('finds the blocks, and uses every substitution of its table', () => {
    const runnable = blocks(README).filter((b) => RUN_LANGUAGES.has(b.lang) && b.skip === null);
    assert.ok(runnable.length >= 6, `only ${runnable.length} runnable blocks`);
    assert.equal(
      all.reduce((n, s) => n + s.blocks.length, 0),
      runnable.length,
    );
    SUBSTITUTIONS.forEach((s, i) => {
      assert.ok((used[i] ?? 0) > 0, `substitution not used (stale table?): ${s.from}`);
    });
  });

  it('typechecks every block with the project compiler options', () => {
    const diagnostics = typecheckModules(
      tmp.dir,
      all.map((s) => s.source),
    );
    const text = ts.formatDiagnostics(diagnostics, {
      getCanonicalFileName: (f) => f,
      getCurrentDirectory: () => ROOT,
      getNewLine: () => '\n',
    });
    assert.equal(diagnostics.length, 0, text);
  });

  it('runs the tour (GET, HEAD, POST, PUT, a folded header, a refused header value) against a local HTTP server', async () => {
    const session = all.find((s) => s.source.includes("'GET', '/index.html'"));
    assert.ok(session, 'no tour session');
    await runSession(session, 'tour');
    const [post, put] = assertTour(received.filter((r) => !STREAMING.has(r.url)));
    assert.equal(post.headers['content-type'], 'application/x-www-form-urlencoded');
    assert.equal(put.headers['content-type'], 'text/plain');
    // The folded PUT got its 400 from node:http's parser (the handler never saw it), and
    // the refused header value sent nothing: five requests in all.
  });

  it('runs the HTTP/0.9 example: the lenient and the strict connection each sent a request', async () => {
    const session = all.find((s) => s.source.includes('strict: true'));
    assert.ok(session, 'no HTTP/0.9 session');
    await runSession(session, 'http09');
    assert.equal(ssh.received.length, 2);
    for (const request of ssh.received) {
      assert.match(request.toString('latin1'), /^GET \/ HTTP\/1\.1\r\n/);
    }
  });

  it('runs the streaming example: a file up, a generator up chunked, a body down to a file and into a buffer', async () => {
    const session = all.find((s) => s.source.includes("'/upload'"));
    assert.ok(session, 'no streaming session');
    await runSession(session, 'streaming');
    const streamed = received.filter((r) => STREAMING.has(r.url));
    assert.deepEqual(
      streamed.map((r) => `${r.method} ${r.url}`),
      ['PUT /upload', 'POST /upload', 'GET /big', 'GET /big'],
    );
    const [put, post] = streamed as [Recorded, Recorded];
    assert.equal(put.headers['content-length'], String(UPLOAD.length));
    assert.equal(put.body, UPLOAD.toString('latin1'));
    assert.equal(post.headers['transfer-encoding'], 'chunked');
    assert.equal(post.body, 'first part\nsecond part\n');
    assert.ok(fs.readFileSync(tmp.file('copy.bin')).equals(BIG), 'copy.bin differs');
  });

  it('runs the HTTPS and proxy examples against a local HTTPS server and CONNECT proxy', async () => {
    const session = all.find((s) => s.source.includes('create_default_context'));
    assert.ok(session, 'no HTTPS session');
    await runSession(session, 'https', { NODE_EXTRA_CA_CERTS: pki.file('ca.pem') });
    // The private-CA connection presented the client certificate, and it verified.
    assert.equal(secure.sessions[0]?.authorized, true);
    assert.equal(secure.sessions[0]?.servername, 'localhost');
    assert.equal(secureReceived.length, 2);
    // The tunnel: one CONNECT with the proxy credentials, then TLS with the origin.
    assert.equal(proxy.heads.length, 1);
    assert.match(
      proxy.heads[0] as string,
      new RegExp(`^CONNECT localhost:${secure.port} HTTP/1\\.0\\r\\n`),
    );
    assert.match(proxy.heads[0] as string, /\r\nProxy-Authorization: Basic dXNlcjpwYXNz\r\n/);
    assert.equal(secureReceived[1]?.headers.host, `localhost:${secure.port}`);
  });

  it('runs the blocking twin of the tour (httplib-ts/sync) against the same server', async () => {
    const session = all.find((s) => s.source.includes(JSON.stringify(SYNC)));
    assert.ok(session, 'no blocking session');
    const from = received.length;
    await runSession(session, 'blocking');
    assertTour(received.slice(from));
  });

  async function runSession(session: Session, name: string, env: NodeJS.ProcessEnv = {}) {
    const file = tmp.file(`${name}.mts`);
    fs.writeFileSync(file, session.source);
    const where = session.blocks.map((b) => b.line).join(', ');
    // A block that leaves a socket or timer behind never exits: killed after 30 s, a failure.
    const result = await runNode(['--import', 'tsx', file], {
      env: { ...process.env, ...env },
      timeoutMs: 30_000,
    });
    const context = `README blocks at lines ${where}\n--- stdout\n${result.out}--- stderr\n${result.stderr}--- module\n${session.source}`;
    assert.equal(result.code, 0, `exit ${result.code}\n${context}`);
    assert.deepEqual(result.out.split('\n').slice(0, -1), session.expected, context);
  }
});
