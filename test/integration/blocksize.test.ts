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
import { after, before, describe } from 'node:test';
import { HTTPConnection, type HTTPConnectionOptions } from '../../src/index.ts';
import { guarded, type RawServer, scriptedServer, timeLimited } from './servers.ts';

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
