/**
 * A request body of the caller's bytes that the socket could not take at once is sent
 * from the caller's memory while `request()` waits. A caller that transfers (detaches)
 * that memory meanwhile has other bytes sent in its place (memory freed, or another
 * owner's): Node gives no way to prevent it short of copying every large body. The
 * request must not then succeed: it rejects with a TypeError and the connection is
 * closed; the next request goes out whole on a new socket. Escapes fail the test.
 */
import assert from 'node:assert/strict';
import { Blob } from 'node:buffer';
import { mkdtemp, open, rm, writeFile } from 'node:fs/promises';
import * as net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { AbortError, HTTPConnection } from '../../src/index.ts';
import { failOnEscapes, rawServer } from './servers.ts';

failOnEscapes();

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

const HOST = '127.0.0.1';
const SIZE = 32 * 1024 * 1024;

/**
 * Reads nothing for 200 ms on the first connection; answers every request with 200 `ok`.
 * A plain server that counts a body's bytes instead of keeping them (rawServer() would
 * keep 32 MiB per request for nothing).
 */
async function server(): Promise<{ port: number; connections(): number; close(): Promise<void> }> {
  const sockets: net.Socket[] = [];
  const srv = net.createServer((socket) => {
    sockets.push(socket);
    socket.on('error', () => {});
    if (sockets.length === 1) {
      socket.pause();
      setTimeout(() => socket.resume(), 200);
    }
    let head = '';
    let left = 0;
    socket.on('data', (d: Buffer) => {
      while (d.length > 0) {
        if (left > 0) {
          const n = Math.min(left, d.length);
          left -= n;
          d = d.subarray(n);
          if (left === 0) socket.write('HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok');
          continue;
        }
        head += d.toString('latin1');
        d = Buffer.alloc(0);
        const end = head.indexOf('\r\n\r\n');
        if (end === -1) return;
        const m = /content-length: (\d+)/i.exec(head.slice(0, end));
        d = Buffer.from(head.slice(end + 4), 'latin1');
        head = '';
        left = m ? Number(m[1]) : 0;
        if (left === 0) socket.write('HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok');
      }
    });
  });
  await new Promise<void>((resolve) => srv.listen(0, HOST, resolve));
  return {
    port: (srv.address() as net.AddressInfo).port,
    connections: () => sockets.length,
    close() {
      for (const socket of sockets) socket.destroy();
      return new Promise((resolve) => srv.close(() => resolve()));
    },
  };
}

/** Resolves once the connection's socket has bytes queued: the body is being sent. */
async function socketHolds(conn: HTTPConnection): Promise<void> {
  while (((conn.sock as net.Socket | null)?.writableLength ?? 0) === 0) await sleep(2);
}

const sends = ['request(body)', 'send(body)', 'request(iterable)'] as const;

/**
 * Start sending `body` (SIZE bytes) the way `how` names. The send's promise comes back
 * in an object: an async function returning it would wait for it.
 */
async function startSend(
  conn: HTTPConnection,
  how: (typeof sends)[number],
  body: Uint8Array,
): Promise<{ pending: Promise<void> }> {
  if (how === 'request(body)') return { pending: conn.request('POST', '/', body) };
  if (how === 'request(iterable)') {
    return {
      pending: conn.request('POST', '/', [body], { 'Content-Length': String(SIZE) }),
    };
  }
  conn.putrequest('POST', '/');
  conn.putheader('Content-Length', String(SIZE));
  await conn.endheaders();
  return { pending: conn.send(body) };
}

describe('a request body transferred while it is being sent', () => {
  // Kept: its new owner writes other bytes into it, which would go out as the body.
  // Freed: collected, its memory unmapped or reused; the kernel may refuse it (EFAULT).
  // Then close(): the call reports close()'s AbortError, not the transfer's TypeError,
  // whatever the pending write reports after (the connection's one cancellation path
  // settles it), and nothing escapes from the write's own promise.
  for (const how of sends) {
    for (const after of ['kept', 'freed', 'then close()'] as const) {
      it(`${how}, the memory ${after}: ${after === 'then close()' ? 'AbortError' : 'a rejection once the socket took it'}, the connection closed, the next request whole`, async () => {
        const srv = await server();
        const conn = new HTTPConnection(HOST, srv.port, { timeout: 20 });
        try {
          const ab = new ArrayBuffer(SIZE);
          const body = new Uint8Array(ab).fill(0x41);
          const { pending } = await startSend(conn, how, body);
          // Transferred once the socket holds part of it (a fixed sleep was too short on a
          // busy machine: the memory was taken before the send began).
          await socketHolds(conn);
          let moved: Uint8Array | null = new Uint8Array(structuredClone(ab, { transfer: [ab] }));
          assert.equal(body.length, 0);
          if (after === 'kept') {
            moved.fill(0x42);
          } else if (after === 'freed') {
            moved = null;
            gc();
          } else {
            conn.close();
          }
          await assert.rejects(pending, (err: unknown) => {
            if (after === 'then close()') {
              assert.ok(err instanceof AbortError, String(err));
              return true;
            }
            assert.ok(err instanceof Error, String(err));
            if (after === 'freed' && (err as NodeJS.ErrnoException).code === 'EFAULT') return true;
            assert.ok(err instanceof TypeError, String(err));
            assert.match(String(err), /detached \(transferred\) or shrunk while it was being sent/);
            assert.equal((err as NodeJS.ErrnoException).code, 'ERR_HTTPLIB_DETACHED_BUFFER');
            return true;
          });
          assert.equal(conn.sock, null, 'the connection is closed');
          assert.equal(moved?.length ?? SIZE, SIZE);
          // The next request goes out on a new socket.
          await conn.request('POST', '/', Buffer.alloc(1000, 0x42));
          const r = await conn.getresponse();
          assert.equal((await r.read()).toString(), 'ok');
          assert.equal(srv.connections(), 2);
        } finally {
          conn.close();
          await srv.close();
        }
      });
    }
  }

  it('a body the socket took at once, transferred afterwards: the request succeeds', async () => {
    const srv = await server();
    const conn = new HTTPConnection(HOST, srv.port, { timeout: 20 });
    try {
      await sleep(250);
      const ab = new ArrayBuffer(4096);
      const body = new Uint8Array(ab).fill(0x41);
      await conn.request('POST', '/', body);
      structuredClone(ab, { transfer: [ab] });
      const r = await conn.getresponse();
      assert.equal((await r.read()).toString(), 'ok');
    } finally {
      conn.close();
      await srv.close();
    }
  });
});

/** A resizable ArrayBuffer of 16 bytes (ES2024: Node has it, the project's lib does not). */
function resizable16(): ArrayBuffer & { resize(length: number): void } {
  const Resizable = ArrayBuffer as unknown as new (
    length: number,
    options: { maxByteLength: number },
  ) => ArrayBuffer & { resize(length: number): void };
  return new Resizable(16, { maxByteLength: 16 });
}

describe('a request body transferred or shrunk before it is written (while connecting)', () => {
  // request() measured it for Content-Length; the socket is not open yet. Written as it
  // is then, the head would promise bytes that are not there, and the next request on
  // the connection would be read as them.
  for (const change of ['transferred', 'shrunk'] as const) {
    it(`${change}: a TypeError, nothing of the request sent, the next request alone on the wire`, async () => {
      const srv = await rawServer((socket) =>
        socket.on('data', () => socket.write('HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok')),
      );
      const conn = new HTTPConnection(HOST, srv.port, { timeout: 20 });
      try {
        const ab = resizable16();
        const pending = conn.request('POST', '/upload', new Uint8Array(ab).fill(0x41));
        if (change === 'transferred') structuredClone(ab, { transfer: [ab] });
        else ab.resize(4);
        await assert.rejects(pending, (err: unknown) => {
          assert.ok(err instanceof TypeError, String(err));
          assert.equal((err as NodeJS.ErrnoException).code, 'ERR_HTTPLIB_DETACHED_BUFFER');
          assert.match(err.message, /before it was sent \(16 bytes when it was given, [04] now\)/);
          return true;
        });
        await conn.request('GET', '/next');
        const r = await conn.getresponse();
        assert.equal((await r.read()).toString(), 'ok');
        const wire = Buffer.concat(srv.received).toString('latin1');
        assert.match(wire, /^GET \/next HTTP\/1\.1\r\n/, 'the next request is all that was sent');
        assert.doesNotMatch(wire, /upload|AAAA/);
      } finally {
        conn.close();
        await srv.close();
      }
    });
  }
});

describe("a request body transferred or shrunk by the debug output (the caller's code, run within request() and send())", () => {
  // The `send:` line is printed before the bytes are written: a debugOutput function that
  // takes the memory away then had the head promise 16 bytes and none follow (a hang).
  for (const change of ['transferred', 'shrunk'] as const) {
    for (const call of ['request', 'send'] as const) {
      it(`${change} at the send: line of ${call}(): a TypeError, no body bytes sent, the next request alone on the wire`, async () => {
        const srv = await rawServer((socket) =>
          socket.on('data', () => socket.write('HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok')),
        );
        const ab = resizable16();
        const body = new Uint8Array(ab).fill(0x41);
        let armed = false;
        const conn = new HTTPConnection(HOST, srv.port, {
          timeout: 20,
          debugOutput: (text) => {
            if (!armed || !text.startsWith('send:')) return;
            armed = false;
            if (change === 'transferred') structuredClone(ab, { transfer: [ab] });
            else ab.resize(4);
          },
        });
        conn.set_debuglevel(1);
        try {
          let pending: Promise<void>;
          if (call === 'request') {
            armed = true;
            pending = conn.request('POST', '/upload', body);
          } else {
            conn.putrequest('POST', '/upload');
            conn.putheader('Content-Length', 16);
            await conn.endheaders();
            armed = true;
            pending = conn.send(body);
          }
          await assert.rejects(pending, (err: unknown) => {
            assert.ok(err instanceof TypeError, String(err));
            assert.equal((err as NodeJS.ErrnoException).code, 'ERR_HTTPLIB_DETACHED_BUFFER');
            return true;
          });
          assert.doesNotMatch(Buffer.concat(srv.received).toString('latin1'), /AAAA/);
          conn.close();
          conn.set_debuglevel(0);
          await conn.request('GET', '/next');
          const r = await conn.getresponse();
          assert.equal((await r.read()).toString(), 'ok');
          const last = srv.received.at(-1)?.toString('latin1') ?? '';
          assert.match(last, /^GET \/next HTTP\/1\.1\r\n/);
        } finally {
          conn.close();
          await srv.close();
        }
      });
    }
  }
});

describe("bodies whose pieces are memory of their own (a file's, a Blob's): sent without the check", () => {
  // PreparedBody.fresh: their sends that wait for the socket skip stayedAttached(); the
  // call must still end as any other when it is cut short.
  const kinds = [
    [
      'FileHandle',
      async (dir: string) => {
        const path = join(dir, 'body.bin');
        await writeFile(path, Buffer.alloc(SIZE, 0x43));
        return await open(path);
      },
    ],
    ['Blob', async () => new Blob([Buffer.alloc(SIZE, 0x44)])],
  ] as const;
  for (const [name, make] of kinds) {
    it(`${name}: close() while the send waits for the socket rejects with AbortError, the body's owner keeps it, the next request whole`, async () => {
      const dir = await mkdtemp(join(tmpdir(), 'httplib-fresh-'));
      const srv = await server();
      const conn = new HTTPConnection(HOST, srv.port, { timeout: 20 });
      const body = await make(dir);
      try {
        const pending = conn.request('POST', '/', body);
        await sleep(50);
        conn.close();
        await assert.rejects(pending, (err: unknown) => {
          assert.ok(err instanceof AbortError, String(err));
          return true;
        });
        assert.equal(conn.sock, null);
        if (!(body instanceof Blob)) assert.equal((await body.stat()).size, SIZE, 'still open');
        // Sent whole afterwards, on a new connection (the first one is paused for 200 ms).
        await conn.request('POST', '/', body);
        const r = await conn.getresponse();
        assert.equal((await r.read()).toString(), 'ok');
        assert.equal(srv.connections(), 2);
      } finally {
        conn.close();
        if (!(body instanceof Blob)) await body.close();
        await srv.close();
        await rm(dir, { recursive: true, force: true });
      }
    });
  }
});
