/**
 * An explicit `blocksize` over a real socket (issue 12): CPython's test_blocksize_request
 * (`request('PUT', '/', file, {'Content-Length': '9'})` with blocksize 8 is 3 writes:
 * the head, 8 bytes, 1 byte) and test_blocksize_send (`send(file)`: 2 writes). The
 * socket is a real TCP connection to a raw server made through `createConnection`,
 * whose `write` calls are recorded (a server cannot see write boundaries reliably); the
 * server checks the bytes.
 */
import assert from 'node:assert/strict';
import { mkdtemp, open, rm, writeFile } from 'node:fs/promises';
import * as net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe } from 'node:test';
import { HTTPConnection, type HTTPConnectionOptions } from '../../src/index.ts';
import { type RawServer, scriptedServer, timeLimited } from './servers.ts';

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

/** A connection whose socket records the bytes of every `write` call. */
function recorded(
  srv: RawServer,
  options: HTTPConnectionOptions,
): { conn: HTTPConnection; writes: string[] } {
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
  return { conn, writes };
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
      const srv = await scriptedServer([]);
      const { conn, writes } = recorded(srv, options);
      const file = await open(join(dir, 'nine'));
      try {
        await conn.request('PUT', '/', file, { 'Content-Length': '9' });
        const head = `PUT / HTTP/1.1\r\nHost: ${HOST}:${srv.port}\r\nAccept-Encoding: identity\r\nContent-Length: 9\r\n\r\n`;
        assert.deepEqual(writes, [head, ...bodyWrites]);
        assert.equal(await received(srv, head.length + 9), head + NINE);
      } finally {
        await file.close();
        conn.close();
        await srv.close();
      }
    });
  }

  it('send(file) with blocksize 8 (test_blocksize_send): 8 then 1', async () => {
    const srv = await scriptedServer([]);
    const { conn, writes } = recorded(srv, { blocksize: 8 });
    const file = await open(join(dir, 'nine'));
    try {
      await conn.send(file);
      assert.deepEqual(writes, ['aaaaaaaa', 'b']);
      assert.equal(await received(srv, 9), NINE);
    } finally {
      await file.close();
      conn.close();
      await srv.close();
    }
  });

  it('blocksize changed after construction is honoured too', async () => {
    const srv = await scriptedServer([]);
    const { conn, writes } = recorded(srv, {});
    conn.blocksize = 4;
    const file = await open(join(dir, 'nine'));
    try {
      await conn.send(file);
      assert.deepEqual(writes, ['aaaa', 'aaaa', 'b']);
    } finally {
      await file.close();
      conn.close();
      await srv.close();
    }
  });
});
