/**
 * Large transfers over real sockets on 127.0.0.1 (issue 3): a 256 MiB download read in
 * 64 KiB pieces keeps the process's memory flat (the byte reader pauses the socket above
 * its high-water mark), and 64 MiB uploads from a file (`fs.ReadStream`, `FileHandle`),
 * a `Readable` and an async generator (chunked) arrive whole: the node:http server
 * checks their length and SHA-256 and answers with what it saw.
 *
 * RSS is measured in this process, sampled during the loop; the download's server runs
 * in a child process, so that only the client's memory is measured (a server in this
 * process made the figure depend on its own buffering and on when the GC ran).
 * The baseline is taken after a full GC (`--expose-gc`, set at run time).
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { createHash, randomFillSync } from 'node:crypto';
import { once } from 'node:events';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { performance } from 'node:perf_hooks';
import { Readable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { HTTPConnection, type RequestBody } from '../../src/index.ts';
import { type HttpServer, httpServer, scriptedServer } from './servers.ts';

const MiB = 1024 * 1024;
const DOWNLOAD = 256 * MiB;
const UPLOAD = 64 * MiB;
const RSS_LIMIT = 64 * MiB;

setFlagsFromString('--expose-gc');
/** V8's collector: the baseline is taken after the garbage of the setup is gone. */
const gc = runInNewContext('gc') as () => void;

function sha256(data: Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}

/** Deterministic pseudo-random bytes: `count` blocks of `size`, the same for every call. */
function* blocks(count: number, size: number): Generator<Buffer> {
  for (let i = 0; i < count; i++) {
    const b = Buffer.alloc(size);
    for (let j = 0; j < size; j += 4)
      b.writeUInt32LE((Math.imul(i * size + j, 2654435761) ^ i) >>> 0, j);
    yield b;
  }
}

/**
 * The download's server, in a child process: DOWNLOAD bytes of one 1 MiB block (byte i
 * is (i * 7 + 3) & 0xff), written with backpressure, on every GET. Prints its port.
 */
const DOWNLOAD_SERVER = `
const http = require('node:http');
const MiB = 1024 * 1024;
const DOWNLOAD = ${DOWNLOAD};
const block = Buffer.alloc(MiB);
for (let i = 0; i < MiB; i++) block[i] = (i * 7 + 3) & 0xff;
const server = http.createServer((req, res) => {
  res.writeHead(200, { 'Content-Length': String(DOWNLOAD) });
  let sent = 0;
  const pump = () => {
    while (sent < DOWNLOAD) {
      sent += MiB;
      if (!res.write(block)) { res.once('drain', pump); return; }
    }
    res.end();
  };
  pump();
});
server.listen(0, '127.0.0.1', () => process.stdout.write(server.address().port + '\\n'));
process.stdin.on('end', () => process.exit(0));
process.stdin.resume();
`;

async function downloadServer(): Promise<{ port: number; child: ChildProcess }> {
  const child = spawn(process.execPath, ['-e', DOWNLOAD_SERVER], {
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  let out = '';
  for await (const chunk of child.stdout as NodeJS.ReadableStream) {
    out += chunk.toString();
    if (out.includes('\n')) break;
  }
  const port = Number.parseInt(out, 10);
  assert.ok(port > 0, `the download server did not start: ${JSON.stringify(out)}`);
  return { port, child };
}

interface Seen {
  length: number;
  sha256: string;
  contentLength: string | null;
  transferEncoding: string | null;
}

describe('large transfers', () => {
  let server: HttpServer;
  let dir: string;

  before(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'httplib-ts-large-'));
    // The uploads' server (the download's is a child process: `downloadServer`): it
    // hashes each upload as it arrives and answers with what it saw.
    server = await httpServer((req, res) => {
      const hash = createHash('sha256');
      let length = 0;
      req.on('data', (chunk: Buffer) => {
        length += chunk.length;
        hash.update(chunk);
      });
      req.on('end', () => {
        const seen: Seen = {
          length,
          sha256: hash.digest('hex'),
          contentLength: req.headers['content-length'] ?? null,
          transferEncoding: req.headers['transfer-encoding'] ?? null,
        };
        res.end(JSON.stringify(seen));
      });
    });
  });

  after(async () => {
    await server.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('a 256 MiB body read with read(65536) keeps RSS growth under 64 MiB', async () => {
    const block = Buffer.alloc(MiB);
    for (let i = 0; i < MiB; i++) block[i] = (i * 7 + 3) & 0xff;
    const peer = await downloadServer();
    const start = performance.now();
    const conn = new HTTPConnection('127.0.0.1', peer.port, { timeout: 30 });
    // Measured from the moment the head has arrived: the connection, the server's
    // response and their buffers exist by then; what grows after it grows with the body.
    let baseline = 0;
    let peak = 0;
    try {
      await conn.request('GET', '/big');
      const r = await conn.getresponse();
      assert.equal(r.status, 200);
      assert.equal(r.length, DOWNLOAD);
      gc();
      baseline = process.memoryUsage().rss;
      peak = baseline;
      let total = 0;
      let reads = 0;
      for (;;) {
        const piece = await r.read(65536);
        if (piece.length === 0) break;
        assert.ok(piece.length <= 65536);
        // Spot-check the content against the server's block (offset modulo 1 MiB).
        const at = total % MiB;
        const end = Math.min(at + piece.length, MiB);
        assert.ok(piece.subarray(0, end - at).equals(block.subarray(at, end)), `bytes at ${total}`);
        total += piece.length;
        if (++reads % 16 === 0) peak = Math.max(peak, process.memoryUsage().rss);
      }
      peak = Math.max(peak, process.memoryUsage().rss);
      assert.equal(total, DOWNLOAD);
      assert.equal(r.isclosed(), true);
    } finally {
      conn.close();
      peer.child.stdin?.end();
      if (peer.child.exitCode === null) await once(peer.child, 'exit');
    }
    const growth = peak - baseline;
    const seconds = (performance.now() - start) / 1000;
    console.log(
      `# download: 256 MiB in ${seconds.toFixed(2)} s, RSS growth ${(growth / MiB).toFixed(1)} MiB` +
        ` (baseline ${(baseline / MiB).toFixed(0)} MiB after a GC)`,
    );
    assert.ok(growth < RSS_LIMIT, `RSS grew by ${(growth / MiB).toFixed(1)} MiB`);
  });

  describe('64 MiB uploads', () => {
    let file: string;
    let fileHash: string;

    before(() => {
      file = path.join(dir, 'upload.bin');
      const hash = createHash('sha256');
      const fd = fs.openSync(file, 'w');
      try {
        const chunk = Buffer.alloc(4 * MiB);
        for (let written = 0; written < UPLOAD; written += chunk.length) {
          randomFillSync(chunk);
          hash.update(chunk);
          fs.writeSync(fd, chunk);
        }
      } finally {
        fs.closeSync(fd);
      }
      fileHash = hash.digest('hex');
    });

    async function upload(
      body: RequestBody,
      headers: Record<string, string> = {},
    ): Promise<[Seen, number]> {
      const start = performance.now();
      const conn = new HTTPConnection('127.0.0.1', server.port, { timeout: 30 });
      try {
        await conn.request('PUT', '/upload', body, headers);
        const r = await conn.getresponse();
        assert.equal(r.status, 200);
        const seen = (await r.json()) as Seen;
        return [seen, performance.now() - start];
      } finally {
        conn.close();
      }
    }

    it('from fs.createReadStream: Content-Length from fstat, every byte', async () => {
      const stream = fs.createReadStream(file);
      const [seen, ms] = await upload(stream);
      console.log(`# upload (ReadStream): 64 MiB in ${(ms / 1000).toFixed(2)} s`);
      assert.deepEqual(seen, {
        length: UPLOAD,
        sha256: fileHash,
        contentLength: String(UPLOAD),
        transferEncoding: null,
      });
      if (!stream.destroyed) {
        stream.destroy();
        await once(stream, 'close');
      }
    });

    it('from an fs.promises FileHandle: Content-Length from stat, every byte', async () => {
      const handle = await fs.promises.open(file, 'r');
      try {
        const [seen, ms] = await upload(handle);
        console.log(`# upload (FileHandle): 64 MiB in ${(ms / 1000).toFixed(2)} s`);
        assert.deepEqual(seen, {
          length: UPLOAD,
          sha256: fileHash,
          contentLength: String(UPLOAD),
          transferEncoding: null,
        });
      } finally {
        await handle.close();
      }
    });

    it('from a Readable with the caller’s Content-Length: sent as it is', async () => {
      const hash = createHash('sha256');
      for (const b of blocks(64, MiB)) hash.update(b);
      const [seen, ms] = await upload(Readable.from(blocks(64, MiB)), {
        'Content-Length': String(UPLOAD),
      });
      console.log(`# upload (Readable): 64 MiB in ${(ms / 1000).toFixed(2)} s`);
      assert.deepEqual(seen, {
        length: UPLOAD,
        sha256: hash.digest('hex'),
        contentLength: String(UPLOAD),
        transferEncoding: null,
      });
    });

    it('from an async generator of unknown length: Transfer-Encoding: chunked', async () => {
      const hash = createHash('sha256');
      // Pieces of uneven sizes, so that chunk boundaries fall everywhere.
      const sizes = [1, 8191, 65536, 100_000, 3 * MiB + 5];
      const pieces: Buffer[] = [];
      let total = 0;
      for (let i = 0; total < UPLOAD; i++) {
        const size = Math.min(sizes[i % sizes.length] as number, UPLOAD - total);
        const piece = Buffer.alloc(size, i & 0xff);
        hash.update(piece);
        pieces.push(piece);
        total += size;
      }
      async function* generate(): AsyncGenerator<Buffer> {
        for (const piece of pieces) {
          yield piece;
          // An occasional real pause: the body is produced while it is being sent.
          if (piece.length === 1) await new Promise((resolve) => setImmediate(resolve));
        }
      }
      const [seen, ms] = await upload(generate());
      console.log(`# upload (async generator, chunked): 64 MiB in ${(ms / 1000).toFixed(2)} s`);
      assert.deepEqual(seen, {
        length: UPLOAD,
        sha256: hash.digest('hex'),
        contentLength: null,
        transferEncoding: 'chunked',
      });
    });
  });

  it('a head over 16 KiB before an in-memory body over 16 KiB: both arrive (no hang)', async () => {
    // The head alone fills the socket's buffer; the body follows it (b65adc2).
    let received: Buffer = Buffer.alloc(0);
    const srv = await scriptedServer([
      (socket, request) => {
        received = request;
        socket.write('HTTP/1.1 204 No Content\r\n\r\n');
      },
    ]);
    const conn = new HTTPConnection('127.0.0.1', srv.port, { timeout: 10 });
    try {
      const body = Buffer.alloc(MiB, 0x62);
      await conn.request('POST', '/', body, { 'X-Pad': 'p'.repeat(20_000) });
      const r = await conn.getresponse();
      assert.equal(r.status, 204);
      const end = received.indexOf('\r\n\r\n') + 4;
      assert.ok(received.subarray(0, end).toString('latin1').includes('p'.repeat(20_000)));
      assert.equal(sha256(received.subarray(end)), sha256(body));
    } finally {
      conn.close();
      await srv.close();
    }
  });
});
