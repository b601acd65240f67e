/**
 * The benchmark server (bench/server.ts) answers correctly however the requests are cut
 * into TCP segments: one response per request head, also when `\r\n\r\n` is split across
 * reads or several requests come at once, and uploads framed by Content-Length or chunked
 * are counted to their last byte.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import net from 'node:net';
import { createInterface } from 'node:readline';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';

const SERVER = fileURLToPath(new URL('../../bench/server.ts', import.meta.url));

let server: ChildProcess;
let ports: Record<string, number>;

/**
 * Writes `pieces` one at a time (each its own segment), reads until `until` says done,
 * then 20 ms more, so that an answer beyond the expected ones is in what it returns.
 */
async function exchange(
  port: number,
  pieces: Array<string | Buffer>,
  until: (received: string) => boolean,
): Promise<string> {
  const socket = net.connect({ host: '127.0.0.1', port, noDelay: true });
  await once(socket, 'connect');
  let received = '';
  const done = new Promise<void>((resolve, reject) => {
    socket.on('data', (chunk: Buffer) => {
      received += chunk.toString('latin1');
      if (until(received)) resolve();
    });
    socket.on('error', reject);
  });
  for (const piece of pieces) {
    socket.write(piece);
    await sleep(2);
  }
  await done;
  await sleep(20);
  socket.destroy();
  return received;
}

function count(text: string, needle: string): number {
  return text.split(needle).length - 1;
}

describe('bench/server.ts', () => {
  before(async () => {
    server = spawn(process.execPath, ['--import', 'tsx', SERVER, '{}'], {
      stdio: ['pipe', 'pipe', 'inherit'],
    });
    const lines = createInterface({ input: server.stdout as NodeJS.ReadableStream });
    const [line] = (await once(lines, 'line')) as [string];
    ports = (JSON.parse(line) as { ports: Record<string, number> }).ports;
  });
  after(() => {
    server.stdin?.end();
  });

  it('answers each request once, whatever the segments', async () => {
    const req = 'GET / HTTP/1.1\r\nHost: x\r\n\r\n';
    const port = ports.small as number;
    const bytewise = await exchange(port, [...req], (r) => r.endsWith('x'.repeat(100)));
    assert.equal(count(bytewise, 'HTTP/1.1 200 OK'), 1);
    const split = await exchange(
      port,
      [req.slice(0, -3), req.slice(-3) + req.slice(0, -1), `\n${req}${req}`],
      (r) => count(r, 'HTTP/1.1 200 OK') >= 4,
    );
    assert.equal(count(split, 'Content-Length: 100'), 4);
  });

  it('counts uploads framed by Content-Length and by chunks', async () => {
    const port = ports.upload as number;
    const body = Buffer.alloc(100_000, 0x61);
    const sized = await exchange(
      port,
      [
        'POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n\r',
        Buffer.concat([Buffer.from('\n'), body.subarray(0, 40_000)]),
        body.subarray(40_000),
      ],
      (r) => r.endsWith('100000'),
    );
    assert.match(sized, /\r\n\r\n100000$/);
    const chunked = [
      'POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n',
      'a;ext=1\r',
      '\n0123456789\r\n1',
      '0\r\nabcdefghijklmnop\r',
      '\n0\r\n',
      'X-Trailer: 1\r\n\r\n',
    ];
    const got = await exchange(port, chunked, (r) => /\r\n\r\n\d+$/.test(r));
    assert.match(got, /\r\n\r\n26$/);
  });

  it('serves any size from the sized listener', async () => {
    const got = await exchange(
      ports.sized as number,
      ['GET /?bytes=12345 HTTP/1.1\r\nHost: x\r\n\r\n'],
      (r) => r.length >= r.indexOf('\r\n\r\n') + 4 + 12345 && r.includes('\r\n\r\n'),
    );
    assert.match(got, /Content-Length: 12345\r\n/);
    assert.equal(got.length - got.indexOf('\r\n\r\n') - 4, 12345);
  });
});
