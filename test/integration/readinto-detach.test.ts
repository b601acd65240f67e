/**
 * readinto(b) never hands b's memory to the socket unless it is a SharedArrayBuffer's: a
 * caller may transfer (detach) b's ArrayBuffer while the read waits, after which that
 * memory belongs to another ArrayBuffer and is freed with it, and a socket still reading
 * into it would write into freed memory (the kernel's EFAULT when it was unmapped, silent
 * corruption of whatever reuses it otherwise). The socket reads into a buffer of the
 * connection's instead, copied into b as it fills; a transferred b ends the read with a
 * TypeError and the body with it. Escapes fail the test.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import type * as net from 'node:net';
import { performance } from 'node:perf_hooks';
import { describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { HTTPConnection } from '../../src/index.ts';
import { directReadBytes } from '../../src/io/direct-read.ts';
import { OWN_ROOM_MAX } from '../../src/io/tuning.ts';
import { countMoves } from '../io/handle-moves.ts';
import { failOnEscapes, type RawServer, scriptedServer } from './servers.ts';

failOnEscapes();

setFlagsFromString('--expose-gc');
/** V8's collector, made callable without starting Node with --expose-gc. */
const gc = runInNewContext('gc') as () => void;

const HOST = '127.0.0.1';
const MiB = 1024 * 1024;

/** ES2024's resizable ArrayBuffer (Node 20+), which this project's TypeScript lib predates. */
type ResizableArrayBuffer = ArrayBuffer & { resize(length: number): void };
type ResizableArrayBufferConstructor = new (
  length: number,
  options: { maxByteLength: number },
) => ResizableArrayBuffer;
const SIZE = 8 * 1024 * 1024;
const BODY = Buffer.alloc(SIZE);
for (let i = 0; i < SIZE; i++) BODY[i] = (i * 31 + (i >> 12)) & 0xff;
const DIGEST = createHash('sha256').update(BODY).digest('hex');
const FIRST = 100;

/**
 * Answers the first connection's request with the head and FIRST body bytes, the rest
 * only after `release()`; later connections get the whole body at once.
 */
async function server(): Promise<RawServer & { release(): void }> {
  let socket: net.Socket | null = null;
  const head = `HTTP/1.1 200 OK\r\nContent-Length: ${SIZE}\r\n\r\n`;
  const srv = await scriptedServer([
    [
      (s) => {
        socket = s;
        s.write(head);
        s.write(BODY.subarray(0, FIRST));
      },
    ],
    [(s) => s.write(Buffer.concat([Buffer.from(head), BODY]))],
  ]);
  return Object.assign(srv, {
    release() {
      socket?.write(BODY.subarray(FIRST));
    },
  });
}

describe('readinto while its buffer is transferred', () => {
  for (const size of [64 * 1024, 4 * 1024 * 1024]) {
    it(`a ${size / 1024} KiB buffer transferred mid-read: TypeError, nothing written into freed memory, the next request on a new socket`, async () => {
      const srv = await server();
      const conn = new HTTPConnection(HOST, srv.port, { timeout: 20 });
      try {
        await conn.request('GET', '/');
        const r = await conn.getresponse();
        const given: Uint8Array[] = [];
        countMoves(conn.sock, (memory) => given.push(memory));
        const ab = new ArrayBuffer(size);
        const b = new Uint8Array(ab);
        const pending = r.readinto(b);
        await sleep(30);
        let moved: ArrayBuffer | null = structuredClone(ab, { transfer: [ab] });
        assert.equal(b.length, 0, 'transferred');
        assert.equal(moved.byteLength, size);
        moved = null;
        gc();
        // Memory freed with the transferred buffer may now be reused by these.
        const others = Array.from({ length: 16 }, () => Buffer.alloc(size, 0x5a));
        srv.release();
        await assert.rejects(pending, (err: unknown) => {
          assert.ok(err instanceof TypeError, String(err));
          assert.match(String(err), /detached \(transferred\) or shrunk/);
          assert.equal((err as NodeJS.ErrnoException).code, 'ERR_HTTPLIB_DETACHED_BUFFER');
          return true;
        });
        await sleep(50);
        for (const other of others) {
          assert.ok(
            other.every((x) => x === 0x5a),
            'memory reused after the transfer was written',
          );
        }
        assert.ok(
          given.every((memory) => memory.buffer !== ab),
          "the caller's memory was handed to the socket",
        );
        assert.equal(r.isclosed(), true);
        await conn.request('GET', '/');
        const next = await conn.getresponse();
        assert.equal(
          createHash('sha256')
            .update(await next.read())
            .digest('hex'),
          DIGEST,
        );
        assert.equal(srv.sockets.length, 2);
      } finally {
        conn.close();
        await srv.close();
      }
    });
  }
});

describe('readinto while its buffer shrinks', () => {
  // A length-tracking view of a resizable ArrayBuffer shrinks with it. A readinto larger
  // than the connection's own room (OWN_ROOM_MAX) is woken each time the room is full;
  // those bytes still fit and are copied in, and the read must stop there, before the
  // rest is asked of the socket (its synchronous read would be handed a range past the
  // buffer's end; a read that went on waiting would end in the timeout, not in the
  // TypeError: the server sends nothing more).
  it('shrunk mid-read below what the read asked for: the bytes that came are copied in, then TypeError at once', async () => {
    const srv = await server();
    const conn = new HTTPConnection(HOST, srv.port, { timeout: 5 });
    try {
      await conn.request('GET', '/');
      const r = await conn.getresponse();
      const ab = new (ArrayBuffer as unknown as ResizableArrayBufferConstructor)(MiB, {
        maxByteLength: MiB,
      });
      const b = new Uint8Array(ab);
      const pending = r.readinto(b);
      await sleep(30);
      ab.resize(MiB / 2);
      assert.equal(b.length, MiB / 2, 'the view tracks the buffer');
      const sent = OWN_ROOM_MAX + 40 * 1024;
      const started = performance.now();
      srv.sockets[0]?.write(BODY.subarray(FIRST, FIRST + sent));
      await assert.rejects(pending, (err: unknown) => {
        assert.ok(err instanceof TypeError, String(err));
        assert.match(String(err), /detached \(transferred\) or shrunk/);
        assert.equal((err as NodeJS.ErrnoException).code, 'ERR_HTTPLIB_DETACHED_BUFFER');
        return true;
      });
      assert.ok(performance.now() - started < 2000, 'it did not wait for more bytes');
      const kept = FIRST + OWN_ROOM_MAX;
      assert.ok(
        Buffer.from(ab, 0, kept).equals(BODY.subarray(0, kept)),
        'the bytes of the first room are in the buffer',
      );
      assert.equal(r.isclosed(), true);
    } finally {
      conn.close();
      await srv.close();
    }
  });
});

describe('readinto and the memory it may hand to the socket', () => {
  const kinds: Array<[string, () => Uint8Array, boolean]> = [
    ['a Buffer', () => Buffer.alloc(256 * 1024), false],
    ['a Float64Array', () => new Uint8Array(new Float64Array(32 * 1024).buffer), false],
    [
      'a view of a SharedArrayBuffer',
      () => new Uint8Array(new SharedArrayBuffer(256 * 1024)),
      true,
    ],
  ];
  for (const [name, make, shared] of kinds) {
    it(`${name}: every byte in order; ${shared ? 'read into directly' : 'never handed to the socket'}`, async () => {
      const srv = await server();
      const conn = new HTTPConnection(HOST, srv.port, { timeout: 20 });
      try {
        await conn.request('GET', '/');
        const r = await conn.getresponse();
        const b = make();
        const given: Uint8Array[] = [];
        countMoves(conn.sock, (memory) => given.push(memory));
        const before = directReadBytes();
        const hash = createHash('sha256');
        setTimeout(() => srv.release(), 30);
        for (let n = await r.readinto(b); n > 0; n = await r.readinto(b)) {
          hash.update(b.subarray(0, n));
        }
        assert.equal(hash.digest('hex'), DIGEST);
        const handed = given.filter((memory) => memory.buffer === b.buffer).length;
        if (shared) assert.ok(handed > 0, "the SharedArrayBuffer's memory was not read into");
        else assert.equal(handed, 0, "the caller's memory was handed to the socket");
        // Either way most of the body came through the socket's direct reads.
        assert.ok(directReadBytes() - before > SIZE / 2, 'bytes read through offered memory');
      } finally {
        conn.close();
        await srv.close();
      }
    });
  }
});
