/**
 * The four example sessions of Python 2.7's httplib documentation, in TypeScript: a GET
 * then a 404 on one kept-alive connection, a HEAD, a form POST, and a PUT.
 *
 * Usage:
 *   node examples/sessions.ts HOST[:PORT]      (Node >= 22.18 runs .ts files as they are;
 *                                               on Node 20: npx tsx examples/sessions.ts)
 *   bun examples/sessions.ts HOST[:PORT]
 *   deno run --allow-net --allow-env examples/sessions.ts HOST[:PORT]
 *
 * HOST[:PORT] is the server to ask: www.python.org and bugs.python.org in the
 * documentation, which today redirect every http:// request to https://, so point it at
 * a server of your own that answers as the documentation's did: `GET /index.html` 200,
 * `GET /parrot.spam` 404, `POST /` (a form) 302 with a `Location`, `PUT /file` 200.
 * Each session prints what the documentation's Python prints.
 */
import process from 'node:process';
import * as httplib from 'httplib-ts';

const host = process.argv[2];
if (host === undefined) {
  console.error('usage: sessions.ts HOST[:PORT]');
  process.exit(2);
}

// >>> conn = httplib.HTTPConnection("www.python.org")
const conn = new httplib.HTTPConnection(host);
await conn.request('GET', '/index.html');
const r1 = await conn.getresponse();
console.log(r1.status, r1.reason); // 200 OK
const data1 = await r1.read(); // the whole body, a Buffer
await conn.request('GET', '/parrot.spam'); // the same connection, kept alive
const r2 = await conn.getresponse();
console.log(r2.status, r2.reason); // 404 Not Found
const data2 = await r2.read();
conn.close();
console.log(data1.length > 0, data2.length > 0); // true true

// HEAD never returns any data.
const head = new httplib.HTTPConnection(host);
await head.request('HEAD', '/index.html');
const res = await head.getresponse();
console.log(res.status, res.reason); // 200 OK
const data = await res.read();
console.log(data.length); // 0
head.close();

// POST a form: the documentation's issue query, answered by a redirect.
const params = new URLSearchParams({ '@number': '12524', '@type': 'issue', '@action': 'show' });
const headers = { 'Content-type': 'application/x-www-form-urlencoded', Accept: 'text/plain' };
const post = new httplib.HTTPConnection(host);
await post.request('POST', '', params.toString(), headers); // '' is '/'
const response = await post.getresponse();
console.log(response.status, response.reason); // 302 Found
console.log(response.getheader('Location')); // where the issue is
await response.read();
post.close();

// PUT: this creates the resource http://HOST/file with the content of BODY.
const BODY = '***filecontents***';
const put = new httplib.HTTPConnection(host);
await put.request('PUT', '/file', BODY); // Content-Length: 18 is added
const stored = await put.getresponse();
console.log(stored.status, stored.reason); // 200 OK
await stored.read();
put.close();
