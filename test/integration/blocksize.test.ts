/**
 * An explicit `blocksize` over a real socket (issue 12): CPython's test_blocksize_request
 * (`request('PUT', '/', file, {'Content-Length': '9'})` with blocksize 8 is 3 writes:
 * the head, 8 bytes, 1 byte) and test_blocksize_send (`send(file)`: 2 writes). The
 * socket is a real TCP connection to a raw server made through `createConnection`,
 * whose `write` calls are recorded (a server cannot see write boundaries reliably); the
 * server checks the bytes.
 */
import assert from 'node:assert/strict';
import { type FileHandle, mkdtemp, open, rm, writeFile } from 'node:fs/promises';
import * as net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { after, before, describe } from 'node:test';
import { AbortError, HTTPConnection, type HTTPConnectionOptions } from '../../src/index.ts';
import { guarded, peerClosed, type RawServer, scriptedServer, timeLimited } from './servers.ts';

const { it } = timeLimited(30_000);
const HOST = '127.0.0.1';
const NINE = 'aaaaaaaab';

let dir = '';
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'httplib-blocksize-'));
  await writeFile(join(dir, 'nine'), NINE);
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

interface Recorded {
  readonly srv: RawServer;
  readonly conn: HTTPConnection;
  /** The bytes of every `write` call on the connection's socket, in order. */
  readonly writes: string[];
  /** The 9-byte file, open. */
  readonly file: FileHandle;
}

/**
 * Run `fn` with a connection whose socket (a real TCP connection to a raw server, made
 * through `createConnection`) records every `write` call; everything is closed after.
 */
async function withRecorded(
  options: HTTPConnectionOptions,
  fn: (r: Recorded) => Promise<void>,
): Promise<void> {
  const srv = await scriptedServer([]);
  const writes: string[] = [];
  const conn = new HTTPConnection(HOST, srv.port, {
    ...options,
    createConnection: () => {
      const socket = net.connect(srv.port, HOST);
      const write = socket.write.bind(socket) as (...args: unknown[]) => boolean;
      socket.write = ((chunk: Buffer | string, ...rest: unknown[]) => {
        writes.push(typeof chunk === 'string' ? chunk : chunk.toString('latin1'));
        return write(chunk, ...rest);
      }) as typeof socket.write;
      return socket;
    },
  });
  const file = await open(join(dir, 'nine'));
  await guarded(
    async () => {
      await file.close();
      conn.close();
      await srv.close();
    },
    () => fn({ srv, conn, writes, file }),
  );
}

async function received(srv: RawServer, bytes: number): Promise<string> {
  const deadline = Date.now() + 5000;
  while ((srv.received[0]?.length ?? 0) < bytes && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  return (srv.received[0] ?? Buffer.alloc(0)).toString('latin1');
}

describe('an explicit blocksize on the wire', () => {
  for (const [label, options, bodyWrites] of [
    ['blocksize 8 (test_blocksize_request)', { blocksize: 8 }, ['aaaaaaaa', 'b']],
    ['the default blocksize: one write of the file', {}, [NINE]],
  ] as const) {
    it(`request(PUT, file): ${label}`, async () => {
      await withRecorded(options, async ({ srv, conn, writes, file }) => {
        await conn.request('PUT', '/', file, { 'Content-Length': '9' });
        const head = `PUT / HTTP/1.1\r\nHost: ${HOST}:${srv.port}\r\nAccept-Encoding: identity\r\nContent-Length: 9\r\n\r\n`;
        assert.deepEqual(writes, [head, ...bodyWrites]);
        assert.equal(await received(srv, head.length + 9), head + NINE);
      });
    });
  }

  it('send(file) with blocksize 8 (test_blocksize_send): 8 then 1', async () => {
    await withRecorded({ blocksize: 8 }, async ({ srv, conn, writes, file }) => {
      await conn.send(file);
      assert.deepEqual(writes, ['aaaaaaaa', 'b']);
      assert.equal(await received(srv, 9), NINE);
    });
  });

  it('blocksize changed after construction is honoured too', async () => {
    await withRecorded({}, async ({ conn, writes, file }) => {
      conn.blocksize = 4;
      await conn.send(file);
      assert.deepEqual(writes, ['aaaa', 'aaaa', 'b']);
    });
  });
});

/** What the server received once it holds `text` (or after 5 s: the assertion then fails). */
async function receivedUpTo(srv: RawServer, text: string): Promise<string> {
  const deadline = Date.now() + 5000;
  const got = (): string => (srv.received[0] ?? Buffer.alloc(0)).toString('latin1');
  while (!got().includes(text) && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  return got();
}

describe('a stream body re-cut by blocksize, stopped while a partial block is held', () => {
  // blocksize 4 and a stream that yields 'abcdef': 'abcd' goes out, 'ef' waits for more.
  // The stream is stopped only once the server has 'abcd', so the stop always meets the
  // held piece.
  for (const [framing, headers, sent] of [
    ['chunked', {}, '4\r\nabcd\r\n2\r\nef\r\n0\r\n\r\n'],
    ['Content-Length', { 'Content-Length': '6' }, 'abcdef'],
  ] as const) {
    it(`${framing}: the stream's end sends the held piece (the server counts every byte)`, async () => {
      await withRecorded({ blocksize: 4 }, async ({ srv, conn }) => {
        const stream = new Readable({ read() {} });
        const sending = conn.request('PUT', '/', stream, headers);
        stream.push('abcdef');
        await receivedUpTo(srv, 'abcd');
        stream.push(null);
        await sending;
        const all = await receivedUpTo(srv, sent);
        assert.equal(all.slice(all.indexOf('\r\n\r\n') + 4), sent);
      });
    });

    for (const [how, stop, check] of [
      [
        'the stream fails',
        (stream: Readable) => stream.destroy(new Error('disk gone')),
        (err: unknown) => err instanceof Error && err.message === 'disk gone',
      ],
      [
        'the connection is closed',
        (_stream: Readable, conn: HTTPConnection) => conn.close(),
        (err: unknown) => err instanceof AbortError,
      ],
    ] as const) {
      it(`${framing}: ${how}: the request rejects, the held piece is not sent and the connection is dropped`, async () => {
        await withRecorded({ blocksize: 4 }, async ({ srv, conn, writes }) => {
          const stream = new Readable({ read() {} });
          const sending = conn.request('PUT', '/', stream, headers);
          stream.push('abcdef');
          await receivedUpTo(srv, 'abcd');
          stop(stream, conn);
          await assert.rejects(sending, check);
          assert.equal(conn.sock, null);
          await peerClosed(srv.sockets[0] as net.Socket);
          const all = (srv.received[0] as Buffer).toString('latin1');
          const body = all.slice(all.indexOf('\r\n\r\n') + 4);
          assert.ok(!body.includes('ef') && !body.includes('0\r\n\r\n'), `the server got ${body}`);
          assert.ok(!writes.some((w) => w.includes('ef')), 'the held piece was written');
        });
      });
    }
  }
});
