/**
 * The servers of the blocking API's tests, in a worker thread of their own (peer.ts
 * starts it): the test's thread blocks in every call of `httplib-ts/sync`, so a server on
 * that thread could never answer. All on 127.0.0.1, port 0:
 *
 * - `http` (node:http): `/hello`; `/echo` (the request as JSON: method, url, headers,
 *   body in latin1); `/bytes?n=N` (N bytes, `i % 251`); `/chunked?n=N&size=S`;
 *   `/slow?ms=M` (answers after M ms); `/close` (`Connection: close`); `/lines`; `/json`;
 *   `/status?code=C`; anything else 404.
 * - `raw` (net, one reply per connection, chosen by the request path): `/cut` (a body cut
 *   short), `/nothing` (closes without answering), `/hang` (never answers), `/http09`.
 * - `https` (node:https, when certificate files are given): the same routes, plus
 *   `/whoami` (the CN of the client certificate presented, or `none`).
 *
 * Every request the http servers see is recorded; the test thread asks for the records
 * with a message.
 */
import { readFileSync } from 'node:fs';
import * as http from 'node:http';
import * as https from 'node:https';
import type { AddressInfo } from 'node:net';
import * as net from 'node:net';
import { parentPort, workerData } from 'node:worker_threads';

export interface Recorded {
  method: string;
  url: string;
  /** Raw header pairs, as received. */
  headers: string[];
  body: string;
}

const records: Recorded[] = [];
const sockets = new Set<net.Socket>();
/** Connections the servers accepted so far (the test thread asks, with `connections`). */
let accepted = 0;

function bytes(n: number): Buffer {
  const out = Buffer.allocUnsafe(n);
  for (let i = 0; i < n; i++) out[i] = i % 251;
  return out;
}

const handler: http.RequestListener = (req, res) => {
  // No Date header: debug output compared across runs must not differ by the clock.
  res.sendDate = false;
  const parts: Buffer[] = [];
  req.on('data', (d: Buffer) => parts.push(d));
  req.on('end', () => {
    const body = Buffer.concat(parts).toString('latin1');
    const record = { method: req.method ?? '', url: req.url ?? '', headers: req.rawHeaders, body };
    records.push(record);
    const url = new URL(req.url ?? '/', 'http://x');
    const n = Number(url.searchParams.get('n') ?? 0);
    switch (url.pathname) {
      case '/hello':
        res.writeHead(200, { 'Content-Type': 'text/plain', 'Content-Length': 6 }).end('hello\n');
        return;
      case '/echo':
        res.writeHead(200, { 'Content-Type': 'application/json' }).end(JSON.stringify(record));
        return;
      case '/bytes':
        res.writeHead(200, { 'Content-Length': n }).end(bytes(n));
        return;
      case '/chunked': {
        const size = Number(url.searchParams.get('size') ?? 1000);
        const all = bytes(n);
        res.writeHead(200, { 'Transfer-Encoding': 'chunked' });
        for (let i = 0; i < n; i += size) res.write(all.subarray(i, i + size));
        res.end();
        return;
      }
      case '/slow':
        setTimeout(() => res.writeHead(200).end('late\n'), Number(url.searchParams.get('ms')));
        return;
      case '/close':
        res.writeHead(200, { Connection: 'close', 'Content-Length': 4 }).end('bye\n');
        return;
      case '/lines':
        res.writeHead(200).end('a\nbb\nccc\n');
        return;
      case '/json':
        res.writeHead(200, { 'Content-Type': 'application/json' }).end('{"a":[1,"two",null]}');
        return;
      case '/whoami': {
        const socket = req.socket as import('node:tls').TLSSocket;
        const cn = socket.getPeerCertificate?.()?.subject?.CN;
        res.writeHead(200).end(typeof cn === 'string' && socket.authorized ? cn : 'none');
        return;
      }
      case '/status':
        res.writeHead(Number(url.searchParams.get('code'))).end();
        return;
      default:
        res.writeHead(404).end('not here\n');
    }
  });
};

const RAW: Record<string, (socket: net.Socket, head: string) => void> = {
  '/cut': (s) => s.end('HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nhello'),
  '/nothing': (s) => s.end(),
  // A length no buffer could have (2^53 - 1), then 4 bytes and the close.
  '/huge-tiny': (s) => s.end('HTTP/1.1 200 OK\r\nContent-Length: 9007199254740991\r\n\r\ntiny'),
  // 2 GiB declared, 3 MiB sent (byte i is i % 251), then the close.
  '/huge-3mib': (s) => {
    s.write('HTTP/1.1 200 OK\r\nContent-Length: 2147483648\r\n\r\n');
    s.end(Buffer.from(Array.from({ length: 3 * 1024 * 1024 }, (_, i) => i % 251)));
  },
  '/hang': () => {},
  // A head (Content-Length: 100) and 3 bytes of its body, then nothing (a stalled body).
  '/partial-stall': (s) => s.write('HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nabc'),
  // Reads nothing of the body: a reset once the head is in (an upload fails mid-way).
  '/reset': (s) => s.resetAndDestroy(),
  // The same a moment later: an upload whose body is waiting for its source by then.
  '/reset-later': (s) => {
    setTimeout(() => s.resetAndDestroy(), 300);
  },
  // An early answer (413, Connection: close) as soon as the head is in, then the close
  // with the body unread: the kernel resets the connection (a server refusing an upload).
  '/early-413': (s) => {
    s.removeAllListeners('data');
    s.write('HTTP/1.1 413 Payload Too Large\r\nContent-Length: 3\r\nConnection: close\r\n\r\nbig');
    setTimeout(() => s.destroy(), 20);
  },
  // An early answer larger than the blocking API's ring (1 MiB; 3 MiB, byte i is i % 251),
  // then a reset a moment later: an upload still waiting for its source by then.
  '/answer-reset-later': (s) => {
    const n = 3 * 1024 * 1024;
    s.write(`HTTP/1.1 200 OK\r\nContent-Length: ${n}\r\n\r\n`);
    s.write(bytes(n));
    setTimeout(() => s.resetAndDestroy(), 300);
  },
  // A FIN a moment after the head, with no answer, and the server still reading.
  '/fin-later': (s) => {
    setTimeout(() => s.end(), 300);
  },
  // A kept-alive answer, then a reset (RST) 200 ms later: the client's socket is destroyed
  // by Node and its descriptor freed while the connection looks idle.
  '/hello-reset': (s) => {
    s.write('HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello');
    setTimeout(() => s.resetAndDestroy(), 200);
  },
  // A kept-alive answer, and the socket kept open for ever (a server with no idle timeout).
  '/hello-kept': (s) => s.write('HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello'),
  // A kept-alive answer, then the server closes the idle connection (a FIN) 100 ms later.
  '/hello-fin': (s) => {
    s.write('HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello');
    setTimeout(() => s.end(), 100);
  },
  // A JSON body in UTF-16LE with a byte order mark (json.loads(bytes) reads it).
  '/json-utf16': (s) => {
    const body = Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from('{"a": "€"}', 'utf16le')]);
    s.write(`HTTP/1.1 200 OK\r\nContent-Length: ${body.length}\r\n\r\n`);
    s.write(body);
  },
  // A head (Content-Length: 100) and 3 bytes of its body, then a reset 200 ms later.
  '/partial-reset': (s) => {
    s.write('HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nabc');
    setTimeout(() => s.resetAndDestroy(), 200);
  },
  // A FIN right after the head, and the socket closed a moment later: bytes the client
  // sends after that are answered with a reset, and its next write fails (EPIPE).
  '/fin-close': (s) => {
    s.end();
    setTimeout(() => s.destroy(), 50);
  },
  // Chunked, kept alive: the whole body at once, and an empty body (only the last chunk).
  '/chunked-abc': (s) =>
    s.write('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n'),
  // Chunked, cut by the close inside its second chunk (4 of its 8 bytes sent).
  '/chunked-cut': (s) =>
    s.end('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n8\r\ndefg'),
  '/chunked-empty': (s) =>
    s.write('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n'),
  '/http09': (s) => s.end('just bytes\r\n'),
  // A CONNECT proxy's yes to `set_tunnel('tunnel.test', 80)`: the requests that follow
  // come on the same socket (`/echo-head` answers with its own head, byte for byte).
  'tunnel.test:80': (s) => s.write('HTTP/1.0 200 Connection established\r\n\r\n'),
  // A proxy that wants a login for `login.test:80`: 407 and close without a
  // Proxy-Authorization, else as `tunnel.test:80`.
  'login.test:80': (s, head) => {
    if (/\r\nproxy-authorization: /i.test(head)) {
      s.write('HTTP/1.0 200 Connection established\r\n\r\n');
    } else {
      s.end('HTTP/1.0 407 Proxy Authentication Required\r\n\r\n');
    }
  },
  '/echo-head': (s, head) =>
    s.write(`HTTP/1.1 200 OK\r\nContent-Length: ${head.length}\r\n\r\n${head}`, 'latin1'),
  // Reads the body at 1 MiB every 20 ms (a server that keeps reading, slowly), then
  // answers `got N`: a send that outlasts the client's timeout must still go through.
  '/throttled': (s, head) => {
    s.removeAllListeners('data');
    const declared = Number(/content-length: *(\d+)/i.exec(head)?.[1] ?? 0);
    let got = head.length - head.indexOf('\r\n\r\n') - 4;
    let tick = 0;
    const check = (): void => {
      if (got < declared) return;
      s.write(`HTTP/1.1 200 OK\r\nContent-Length: ${String(got).length + 4}\r\n\r\ngot ${got}`);
    };
    s.on('data', (d: Buffer) => {
      got += d.length;
      tick += d.length;
      check();
      if (tick >= 1024 * 1024) {
        s.pause();
        setTimeout(() => {
          tick = 0;
          s.resume();
        }, 20);
      }
    });
    check();
  },
};

const raw = net.createServer((socket) => {
  sockets.add(socket);
  socket.on('error', () => {});
  socket.on('close', () => sockets.delete(socket));
  let head = '';
  socket.on('data', (d: Buffer) => {
    head += d.toString('latin1');
    if (!head.includes('\r\n\r\n')) return;
    const path = head.split(' ')[1] ?? '';
    (
      RAW[path] ?? ((s: net.Socket) => s.end('HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n'))
    )(socket, head);
    head = '';
  });
});

const plain = http.createServer(handler);
const setup = workerData as { cert?: string; key?: string; ca?: string } | null;
const secure =
  setup?.cert === undefined
    ? null
    : https.createServer(
        {
          cert: readFileSync(setup.cert),
          key: readFileSync(setup.key as string),
          // Asks for a client certificate from the test CA (for `/whoami`), refuses none.
          ...(setup.ca === undefined
            ? {}
            : { ca: readFileSync(setup.ca), requestCert: true, rejectUnauthorized: false }),
        },
        handler,
      );

function listen(server: net.Server): Promise<number> {
  server.on('connection', (s: net.Socket) => {
    accepted++;
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () => resolve((server.address() as AddressInfo).port)),
  );
}

const ports = {
  http: await listen(plain),
  raw: await listen(raw),
  https: secure === null ? 0 : await listen(secure),
};
const port = parentPort as NonNullable<typeof parentPort>;
port.on('message', (m: string) => {
  if (m === 'records') port.postMessage({ records });
  if (m === 'connections') port.postMessage({ connections: { accepted, open: sockets.size } });
  if (m === 'close') {
    for (const s of sockets) s.destroy();
    for (const server of [plain, raw, secure]) server?.close();
    port.close();
  }
});
port.postMessage({ ports });
