/**
 * The four example sessions of Python 2.7's httplib documentation (GET then 404 on one
 * connection, HEAD, the form POST, PUT), translated by shared/API.md's rules and run
 * against a small server of our own on 127.0.0.1, since the seed's hosts
 * (www.python.org, bugs.python.org) are not reachable from tests.
 *
 *   node --import tsx examples/seed-sessions.ts
 *
 * `runSeedSessions` is also used by the tests, which assert what it prints.
 */
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as httplib from '../src/index.ts';

/** Answers like the servers of the seed's sessions. */
export function seedServer(): http.Server {
  return http.createServer((req, res) => {
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

/** Play the seed's sessions against `host:port`, printing each step as the seed does. */
export async function runSeedSessions(
  host: string,
  port: number,
  print: (line: string) => void = console.log,
): Promise<void> {
  // >>> conn = httplib.HTTPConnection("www.python.org")
  print('# GET, then a 404 on the same connection');
  let conn = new httplib.HTTPConnection(host, port);
  await conn.request('GET', '/index.html');
  const r1 = await conn.getresponse();
  print(`${r1.status} ${r1.reason}`);
  const data1 = await r1.read();
  await conn.request('GET', '/parrot.spam');
  const r2 = await conn.getresponse();
  print(`${r2.status} ${r2.reason}`);
  const data2 = await r2.read();
  conn.close();
  print(`read ${data1.length} and ${data2.length} bytes`);

  print('# HEAD never returns any data');
  conn = new httplib.HTTPConnection(host, port);
  await conn.request('HEAD', '/index.html');
  let res = await conn.getresponse();
  print(`${res.status} ${res.reason}`);
  const data = await res.read();
  print(String(data.length));
  print(String(data.equals(Buffer.alloc(0))));
  conn.close();

  print('# POST a form');
  const params = new URLSearchParams({ '@number': '12524', '@type': 'issue', '@action': 'show' });
  const headers = { 'Content-type': 'application/x-www-form-urlencoded', Accept: 'text/plain' };
  conn = new httplib.HTTPConnection(host, port);
  await conn.request('POST', '', params.toString(), headers);
  res = await conn.getresponse();
  print(`${res.status} ${res.reason}`);
  print((await res.read()).toString());
  conn.close();

  print('# PUT');
  const BODY = '***filecontents***';
  conn = new httplib.HTTPConnection(host, port);
  await conn.request('PUT', '/file', BODY);
  res = await conn.getresponse();
  print(`${res.status}, ${res.reason}`);
  await res.read();
  conn.close();
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const server = seedServer();
  server.listen(0, '127.0.0.1', () => {
    const { port } = server.address() as AddressInfo;
    runSeedSessions('127.0.0.1', port).then(
      () => server.close(),
      (err: unknown) => {
        console.error(err);
        process.exitCode = 1;
        server.close();
      },
    );
  });
}
