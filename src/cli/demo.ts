/**
 * The seed's four example sessions (Python 2.7's httplib documentation: GET then 404 on
 * one connection, HEAD, the form POST, PUT), translated by shared/API.md's rules and
 * played against a small node:http server of our own on 127.0.0.1, since the seed's
 * hosts (www.python.org, bugs.python.org) are not reachable from tests or a fresh clone.
 *
 * `httplib-ts demo` (and `npm start`) prints them as a Python transcript; the tests use
 * `seedServer` and `runSeedSessions` directly. (examples/sessions.ts is the same sessions
 * as a standalone program a user can copy.)
 *
 * It ships in dist with the CLI, so it uses only the package's public API (`../index.ts`)
 * and nothing from test/ or examples/.
 */
import type * as http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import * as httplib from '../index.ts';
import { pyrepr } from '../protocol/pytext.ts';

/** Answers like the servers of the seed's sessions. */
export function seedServer(): http.Server {
  // node:http (and the dozen modules it loads) only for the demo: the `httplib` command
  // is one module (scripts/bundle-cli.mjs), and a static import would load it at every
  // start.
  const { createServer } = process.getBuiltinModule('node:http') as typeof http;
  return createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString();
      if (req.method === 'POST' && req.url === '/') {
        const number = new URLSearchParams(body).get('@number');
        const target = `http://bugs.python.org/issue${number}`;
        res.writeHead(302, { Location: target, 'Content-Type': 'text/plain' });
        res.end(`Redirecting to <a href="${target}">${target}</a>`);
      } else if (req.method === 'PUT' && req.url === '/file') {
        res.writeHead(200, { 'Content-Type': 'text/plain' });
        res.end(`stored ${body.length} bytes`);
      } else if (req.url === '/index.html') {
        res.writeHead(200, { 'Content-Type': 'text/html' });
        res.end(req.method === 'HEAD' ? undefined : '<html><body>Welcome</body></html>');
      } else {
        res.writeHead(404, { 'Content-Type': 'text/plain' });
        res.end('Not Found');
      }
    });
  });
}

/** How `runSeedSessions` prints. */
export interface SeedSessionOptions {
  /**
   * Print the sessions as the seed shows them: each Python statement as a `>>> ` line,
   * then what Python would print. Without it, only the results are printed (what
   * test/integration/seed-sessions.test.ts checks).
   */
  transcript?: boolean | undefined;
  /** Turn on `set_debuglevel(1)` on every connection, its trace written here. */
  debugOutput?: httplib.DebugOutput | undefined;
}

/**
 * Play the seed's sessions against `host:port`, printing each step as the seed does.
 * Resolves to the results as the plain listing prints them (`SEED_RESULTS` when every
 * answer was the seed's), whichever way they were printed.
 */
export async function runSeedSessions(
  host: string,
  port: number,
  print: (line: string) => void = console.log,
  options: SeedSessionOptions = {},
): Promise<string[]> {
  const transcript = options.transcript === true;
  /** A Python statement: shown only in a transcript. */
  const py = (line: string): void => {
    if (transcript) print(`>>> ${line}`);
  };
  /** A result (or a comment): what the plain listing prints, and what a transcript prints. */
  const results: string[] = [];
  const show = (plain: string, python: string = plain): void => {
    results.push(plain);
    print(transcript ? python : plain);
  };
  /** A session's title; a transcript separates sessions with a blank line. */
  const section = (title: string): void => {
    if (transcript && results.length > 0) print('');
    show(title);
  };
  const connect = (): httplib.HTTPConnection => {
    py(`conn = httplib.HTTPConnection("${host}", ${port})`);
    const c = new httplib.HTTPConnection(host, port);
    if (options.debugOutput !== undefined) {
      c.debugOutput = options.debugOutput;
      c.set_debuglevel(1);
    }
    return c;
  };

  section('# GET, then a 404 on the same connection');
  py('import httplib');
  let conn = connect();
  py('conn.request("GET", "/index.html")');
  await conn.request('GET', '/index.html');
  py('r1 = conn.getresponse()');
  const r1 = await conn.getresponse();
  py('print r1.status, r1.reason');
  show(`${r1.status} ${r1.reason}`);
  py('data1 = r1.read()');
  const data1 = await r1.read();
  py('conn.request("GET", "/parrot.spam")');
  await conn.request('GET', '/parrot.spam');
  py('r2 = conn.getresponse()');
  const r2 = await conn.getresponse();
  py('print r2.status, r2.reason');
  show(`${r2.status} ${r2.reason}`);
  py('data2 = r2.read()');
  const data2 = await r2.read();
  py('conn.close()');
  conn.close();
  py('len(data1), len(data2)');
  show(`read ${data1.length} and ${data2.length} bytes`, `(${data1.length}, ${data2.length})`);

  section('# HEAD never returns any data');
  py('import httplib');
  conn = connect();
  py('conn.request("HEAD","/index.html")');
  await conn.request('HEAD', '/index.html');
  py('res = conn.getresponse()');
  let res = await conn.getresponse();
  py('print res.status, res.reason');
  show(`${res.status} ${res.reason}`);
  py('data = res.read()');
  const data = await res.read();
  py('print len(data)');
  show(String(data.length));
  py("data == ''");
  const empty = data.equals(Buffer.alloc(0));
  show(String(empty), empty ? 'True' : 'False');
  conn.close();

  section('# POST a form');
  py('import httplib, urllib');
  py("params = urllib.urlencode({'@number': 12524, '@type': 'issue', '@action': 'show'})");
  const params = new URLSearchParams({ '@number': '12524', '@type': 'issue', '@action': 'show' });
  py('headers = {"Content-type": "application/x-www-form-urlencoded",');
  if (transcript) print('...            "Accept": "text/plain"}');
  const headers = { 'Content-type': 'application/x-www-form-urlencoded', Accept: 'text/plain' };
  conn = connect();
  py('conn.request("POST", "", params, headers)');
  await conn.request('POST', '', params.toString(), headers);
  py('response = conn.getresponse()');
  res = await conn.getresponse();
  py('print response.status, response.reason');
  show(`${res.status} ${res.reason}`);
  py('data = response.read()');
  const posted = await res.read();
  py('data');
  show(posted.toString(), pyrepr(posted));
  py('conn.close()');
  conn.close();

  section('# PUT');
  py('# This creates an HTTP message');
  py('# with the content of BODY as the enclosed representation');
  py(`# for the resource http://${host}:${port}/file`);
  py('import httplib');
  py('BODY = "***filecontents***"');
  const BODY = '***filecontents***';
  conn = connect();
  py('conn.request("PUT", "/file", BODY)');
  await conn.request('PUT', '/file', BODY);
  py('response = conn.getresponse()');
  res = await conn.getresponse();
  py('print response.status, response.reason');
  // The seed shows `200, OK` for this session (a typo in Python's documentation, kept).
  show(`${res.status}, ${res.reason}`);
  await res.read();
  conn.close();
  return results;
}

/** What the seed's sessions print, in order, with `transcript` off. */
export const SEED_RESULTS: readonly string[] = Object.freeze([
  '# GET, then a 404 on the same connection',
  '200 OK',
  '404 Not Found',
  'read 33 and 9 bytes',
  '# HEAD never returns any data',
  '200 OK',
  '0',
  'true',
  '# POST a form',
  '302 Found',
  'Redirecting to <a href="http://bugs.python.org/issue12524">http://bugs.python.org/issue12524</a>',
  '# PUT',
  '200, OK',
]);

/**
 * `httplib demo`: start `seedServer()` on 127.0.0.1 (a free port), play the sessions as
 * a transcript through `print`, stop the server. Resolves to the first line that
 * differed from what the seed shows, or null when every result was the seed's.
 */
export async function runDemo(
  print: (line: string) => void,
  options: { debugOutput?: httplib.DebugOutput | undefined } = {},
): Promise<string | null> {
  const server = seedServer();
  const sockets = new Set<Socket>();
  server.on('connection', (s: Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  try {
    print("# The example sessions of Python 2.7's httplib documentation, played by httplib-ts");
    print(
      `# against an embedded server on 127.0.0.1:${port} standing in for www.python.org and bugs.python.org.`,
    );
    const results = await runSeedSessions('127.0.0.1', port, print, {
      transcript: true,
      ...options,
    });
    for (let i = 0; i < Math.max(results.length, SEED_RESULTS.length); i++) {
      if (results[i] !== SEED_RESULTS[i]) {
        return `expected ${JSON.stringify(SEED_RESULTS[i])}, got ${JSON.stringify(results[i])}`;
      }
    }
    print('');
    print('# Done: 4 sessions, 5 requests, every result as the documentation shows it.');
    return null;
  } finally {
    for (const s of sockets) s.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}
