/**
 * The canary of the direct-read path (src/io/direct-read.ts): on this Node, `readinto`
 * on a plain TCP connection must have the socket read straight into the caller's memory
 * (Node's `_handle.useUserBuffer` and the socket's `kBuffer`, found by feature
 * detection). If a Node release moves those internals, the path silently falls back to
 * the queue and copies every byte: this test fails loudly instead, naming the version.
 * Run it on every supported Node: `npx -y node@22 --import tsx --test
 * test/io/direct-read.test.ts` (and node@24).
 *
 * The fallback (a socket read through 'data' events: a `createConnection` hook, TLS)
 * must give the same bytes without it.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import * as net from 'node:net';
import { after, before, describe, it } from 'node:test';
import { HTTPConnection, type HTTPConnectionOptions } from '../../src/index.ts';
import { directReadBytes } from '../../src/io/direct-read.ts';

const HOST = '127.0.0.1';
const SIZE = 8 * 1024 * 1024;

/** A body whose bytes all differ from their neighbours' (a misplaced piece shows). */
const BODY = Buffer.alloc(SIZE);
for (let i = 0; i < SIZE; i += 4) BODY.writeUInt32LE(i, i);
const DIGEST = createHash('sha256').update(BODY).digest('hex');

let server: net.Server;
let port = 0;

before(async () => {
  server = net.createServer((socket) => {
    socket.on('error', () => {});
    socket.once('data', () => {
      socket.write(`HTTP/1.1 200 OK\r\nContent-Length: ${SIZE}\r\n\r\n`);
      socket.write(BODY);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, HOST, resolve));
  port = (server.address() as net.AddressInfo).port;
});
after(() => new Promise<void>((resolve) => server.close(() => resolve())));

/** Read the whole body with `readinto` into one reused 64 KiB buffer; its digest. */
async function readAll(options: HTTPConnectionOptions = {}): Promise<string> {
  const conn = new HTTPConnection(HOST, port, options);
  try {
    await conn.request('GET', '/');
    const response = await conn.getresponse();
    const hash = createHash('sha256');
    const buf = Buffer.alloc(64 * 1024);
    for (let n = await response.readinto(buf); n > 0; n = await response.readinto(buf)) {
      hash.update(buf.subarray(0, n));
    }
    return hash.digest('hex');
  } finally {
    conn.close();
  }
}

describe(`direct reads on Node ${process.version}`, () => {
  it('readinto on plain TCP: the socket reads straight into the caller memory', async () => {
    const before = directReadBytes();
    assert.equal(await readAll(), DIGEST);
    const direct = directReadBytes() - before;
    assert.ok(
      direct >= SIZE / 2,
      `the direct-read path was not taken on Node ${process.version} ` +
        `(${direct} of ${SIZE} bytes read into the caller's memory): ` +
        "Node's _handle.useUserBuffer or the socket's kBuffer symbol moved; " +
        'see src/io/direct-read.ts',
    );
  });

  it('after a large body, the next answer’s head is read small: its body goes straight into read()’s Buffer', async () => {
    // A keep-alive server answering every request with 1 MiB. The first read after a
    // request took a block's free end before (~150-190 KiB of the body, copied again by
    // read()); now at most 8 KiB (src/io/direct-read.ts `begin`), as Python's buffered reader.
    const size = 1024 * 1024;
    const body = BODY.subarray(0, size);
    const keepAlive = net.createServer((socket) => {
      socket.on('error', () => {});
      let seen = '';
      socket.on('data', (data) => {
        seen += data.toString('latin1');
        for (let at = seen.indexOf('\r\n\r\n'); at >= 0; at = seen.indexOf('\r\n\r\n')) {
          seen = seen.slice(at + 4);
          socket.write(`HTTP/1.1 200 OK\r\nContent-Length: ${size}\r\n\r\n`);
          socket.write(body);
        }
      });
    });
    await new Promise<void>((resolve) => keepAlive.listen(0, HOST, resolve));
    const conn = new HTTPConnection(HOST, (keepAlive.address() as net.AddressInfo).port);
    try {
      const notDirect: number[] = [];
      for (let i = 0; i < 6; i++) {
        const before = directReadBytes();
        await conn.request('GET', '/');
        const response = await conn.getresponse();
        assert.ok((await response.read()).equals(body), `body ${i}`);
        notDirect.push(size - (directReadBytes() - before));
      }
      // The first answer has no large body before it; each after it does.
      for (const n of notDirect.slice(1)) {
        assert.ok(n <= 8 * 1024, `bytes not read straight into read()'s Buffer: ${notDirect}`);
      }
    } finally {
      conn.close();
      await new Promise<void>((resolve) => keepAlive.close(() => resolve()));
    }
  });

  it('the plain path (a socket read through data events) gives the same bytes', async () => {
    const before = directReadBytes();
    const digest = await readAll({ createConnection: ({ host, port }) => net.connect(port, host) });
    assert.equal(digest, DIGEST);
    assert.equal(directReadBytes(), before, 'no direct read without onread');
  });
});
