/**
 * The byte reader keeps one wait for bytes and one for the socket to drain; calls made at
 * the same time join the wait of their kind, and every one of them is woken. (It used to
 * keep one callback: a second `send()` waiting for the drain replaced the first, whose
 * promise then never settled, not even at the timeout.)
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import * as net from 'node:net';
import { describe, it } from 'node:test';
import { HTTPConnection, TimeoutError } from '../../src/index.ts';

const HOST = '127.0.0.1';
const MiB = 1024 * 1024;

/** A server that reads nothing for `delayMs`, then hashes everything it receives. */
async function slowReader(delayMs: number): Promise<{
  port: number;
  received: () => Promise<{ length: number; sha256: string }>;
  close: () => Promise<void>;
}> {
  let done: (v: { length: number; sha256: string }) => void = () => {};
  const result = new Promise<{ length: number; sha256: string }>((r) => {
    done = r;
  });
  const sockets: net.Socket[] = [];
  const server = net.createServer((socket) => {
    sockets.push(socket);
    socket.on('error', () => {});
    socket.pause();
    const hash = createHash('sha256');
    let length = 0;
    socket.on('data', (d: Buffer) => {
      hash.update(d);
      length += d.length;
    });
    socket.on('end', () => done({ length, sha256: hash.digest('hex') }));
    if (delayMs >= 0) setTimeout(() => socket.resume(), delayMs);
  });
  await new Promise<void>((r) => server.listen(0, HOST, () => r()));
  return {
    port: (server.address() as net.AddressInfo).port,
    received: () => result,
    close: () => {
      for (const s of sockets) s.destroy();
      return new Promise<void>((r) => server.close(() => r()));
    },
  };
}

describe('waits made at the same time', () => {
  it('two send() calls that both wait for the drain both resolve, bytes in order', {
    timeout: 30_000,
  }, async () => {
    const srv = await slowReader(200);
    try {
      const conn = new HTTPConnection(HOST, srv.port, { timeout: 10 });
      const a = Buffer.alloc(32 * MiB, 0x61);
      const b = Buffer.alloc(32 * MiB, 0x62);
      conn.putrequest('POST', '/');
      conn.putheader('Content-Length', a.length + b.length);
      await conn.endheaders();
      const results = await Promise.allSettled([conn.send(a), conn.send(b)]);
      assert.deepEqual(
        results.map((r) => r.status),
        ['fulfilled', 'fulfilled'],
      );
      conn.sock?.end();
      const seen = await srv.received();
      const head = `POST / HTTP/1.1\r\nHost: ${HOST}:${srv.port}\r\nAccept-Encoding: identity\r\nContent-Length: ${a.length + b.length}\r\n\r\n`;
      const expected = createHash('sha256').update(head).update(a).update(b).digest('hex');
      assert.equal(seen.length, head.length + a.length + b.length);
      assert.equal(seen.sha256, expected);
      conn.close();
    } finally {
      await srv.close();
    }
  });

  it('two send() calls to a server that never reads both reject at the timeout', {
    timeout: 30_000,
  }, async () => {
    const srv = await slowReader(-1);
    try {
      const conn = new HTTPConnection(HOST, srv.port, { timeout: 0.3 });
      conn.putrequest('POST', '/');
      conn.putheader('Content-Length', 128 * MiB);
      await conn.endheaders();
      const started = Date.now();
      const results = await Promise.allSettled([
        conn.send(Buffer.alloc(64 * MiB)),
        conn.send(Buffer.alloc(64 * MiB)),
      ]);
      for (const r of results) {
        assert.equal(r.status, 'rejected');
        assert.ok((r as PromiseRejectedResult).reason instanceof TimeoutError, String(r));
      }
      assert.ok(Date.now() - started < 5000, 'the timeout did not end both waits');
      conn.close();
    } finally {
      await srv.close();
    }
  });
});
