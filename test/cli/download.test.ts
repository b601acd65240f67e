/**
 * `httplib URL -o FILE` (issue 14): the file is written while the body is read, in large
 * reads once the body streams fast and piece by piece while it trickles. The built
 * command runs against node:http and raw servers on 127.0.0.1: the file is byte for byte
 * the body (SHA-256) however it arrives; a write that fails (a file size limit, the
 * directory removed) exits 23 and a body cut short exits 18, with no file and no
 * temporary file left; an existing FIFO or device is written directly, and a FIFO read
 * slowly keeps the command's memory bounded (a slow disk cannot make it buffer the body).
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawnSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { after, before, describe, it } from 'node:test';
import { type HttpServer, httpServer, type RawServer, rawServer } from '../integration/servers.ts';
import {
  assertFailure,
  type CliResult,
  ensureBuilt,
  MAIN,
  runCli,
  runNode,
  runProgram,
  type TempDir,
  withTempDir,
} from './cli-harness.ts';

/** Random bytes: a piece written at the wrong place or twice changes the hash. */
const BODY = randomBytes(24 * 1024 * 1024 + 12_345);
const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex');
const pause = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Odd piece sizes (1 byte to just over 1 MiB), cycled. */
const ODD = [1, 7, 4093, 65_537, 1_048_583, 3, 300_001, 16_385];
const ODD_TOTAL = 9 * 1024 * 1024 + 77;

/** `res.write` that waits for the socket to drain; false once the client is gone. */
async function send(res: ServerResponse, piece: Buffer): Promise<boolean> {
  if (res.destroyed) return false;
  if (!res.write(piece)) {
    await new Promise<void>((r) => {
      res.once('drain', r);
      res.once('close', r);
    });
  }
  return !res.destroyed;
}

/** BODY[0, total) in ODD pieces, a short pause after every third piece. */
async function sendOdd(res: ServerResponse, total: number): Promise<void> {
  let at = 0;
  for (let i = 0; at < total; i++) {
    const n = Math.min(ODD[i % ODD.length] as number, total - at);
    if (!(await send(res, BODY.subarray(at, at + n)))) return;
    at += n;
    if (i % 3 === 2) await pause(2);
  }
  res.end();
}

const FIFO = {
  skip:
    process.platform !== 'win32' && spawnSync('mkfifo', ['--version']).status === 0
      ? false
      : 'needs mkfifo',
};

/** A FIFO at `path`. */
function mkfifo(path: string): void {
  const r = spawnSync('mkfifo', [path]);
  assert.equal(r.status, 0, String(r.stderr));
}

/**
 * A child process that reads the FIFO `path` at about `rate` bytes a second and prints
 * the SHA-256 and the count of what it read. `result(ms)`: its output, once the writer is
 * done (it is killed `ms` later if it has not finished: a FIFO nobody opened).
 */
function slowReader(path: string, rate: number): { result(ms: number): Promise<CliResult> } {
  const script = `
    const fs = require('node:fs');
    const hash = require('node:crypto').createHash('sha256');
    const fd = fs.openSync(${JSON.stringify(path)}, 'r');
    const buf = Buffer.alloc(65536);
    const wait = new Int32Array(new SharedArrayBuffer(4));
    const start = Date.now();
    let total = 0;
    for (;;) {
      const n = fs.readSync(fd, buf, 0, buf.length, null);
      if (n === 0) break;
      hash.update(buf.subarray(0, n));
      total += n;
      const ahead = (total / ${rate}) * 1000 - (Date.now() - start);
      if (ahead > 1) Atomics.wait(wait, 0, 0, ahead);
    }
    console.log(hash.digest('hex') + ' ' + total);`;
  let child: ChildProcess | null = null;
  const done = runNode(['-e', script], {
    timeoutMs: 120_000,
    onSpawn: (c) => {
      child = c;
    },
  });
  return {
    async result(ms) {
      const timer = setTimeout(() => (child as ChildProcess | null)?.kill('SIGKILL'), ms);
      try {
        return await done;
      } finally {
        clearTimeout(timer);
      }
    },
  };
}

/** The largest resident set of process `pid` seen until `stop()` (Linux /proc). */
function peakRss(pid: number): { stop(): number } {
  let peak = 0;
  const timer = setInterval(() => {
    try {
      const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
      const kb = Number(/^VmRSS:\s+(\d+) kB/m.exec(status)?.[1] ?? 0);
      peak = Math.max(peak, kb * 1024);
    } catch {
      // Gone already.
    }
  }, 10);
  return {
    stop() {
      clearInterval(timer);
      return peak;
    },
  };
}

describe('httplib -o FILE downloads', () => {
  let server: HttpServer;
  let raw: RawServer;
  let base = '';
  const routes = new Map<string, (req: IncomingMessage, res: ServerResponse) => void>();
  /** Bodies of the routes that send BODY's first bytes, by path. */
  const lengths = new Map<string, number>();

  before(async () => {
    ensureBuilt();
    server = await httpServer((req, res) => {
      const route = routes.get((req.url ?? '').split('?')[0] as string);
      if (route) route(req, res);
      else {
        res.writeHead(404);
        res.end();
      }
    });
    base = `http://127.0.0.1:${server.port}`;
    // HTTP/1.0, no length: the body ends when the server closes.
    raw = await rawServer((socket) => {
      socket.once('data', () => {
        socket.write('HTTP/1.0 200 OK\r\nContent-Type: application/octet-stream\r\n\r\n');
        socket.end(BODY.subarray(0, 3 * 1024 * 1024 + 1));
      });
    });
    routes.set('/fast', (_req, res) => {
      res.writeHead(200, { 'Content-Length': BODY.length });
      res.end(BODY);
    });
    lengths.set('/fast', BODY.length);
    routes.set('/odd', (_req, res) => {
      res.writeHead(200, { 'Content-Length': ODD_TOTAL });
      void sendOdd(res, ODD_TOTAL);
    });
    lengths.set('/odd', ODD_TOTAL);
    routes.set('/chunked', (_req, res) => {
      res.writeHead(200); // no length: node:http sends it chunked
      void sendOdd(res, ODD_TOTAL);
    });
    lengths.set('/chunked', ODD_TOTAL);
    // Fast, then a trickle, then fast again: large reads, pieces, large reads.
    routes.set('/mixed', (_req, res) => {
      const total = 12 * 1024 * 1024 + 5;
      res.writeHead(200, { 'Content-Length': total });
      void (async () => {
        let at = 6 * 1024 * 1024;
        if (!(await send(res, BODY.subarray(0, at)))) return;
        await pause(300);
        for (let i = 0; i < 15; i++, at += 999) {
          if (!(await send(res, BODY.subarray(at, at + 999)))) return;
          await pause(15);
        }
        res.end(BODY.subarray(at, total));
      })();
    });
    lengths.set('/mixed', 12 * 1024 * 1024 + 5);
  });
  after(async () => {
    await server.close();
    await raw.close();
  });

  /** Assert the download into `tmp/out.bin` succeeded and is exactly `expected`. */
  function assertDownloaded(r: CliResult, tmp: TempDir, expected: Buffer): void {
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stderr, '');
    assert.equal(r.out, '');
    const got = fs.readFileSync(tmp.file('out.bin'));
    assert.equal(got.length, expected.length);
    assert.equal(sha(got), sha(expected), 'the file is the body, byte for byte');
    assert.deepEqual(fs.readdirSync(tmp.dir), ['out.bin'], 'no temporary file left');
  }

  for (const [path, what] of [
    ['/fast', 'a 24 MiB Content-Length body sent at once (large reads)'],
    ['/odd', 'a Content-Length body in odd pieces with pauses'],
    ['/chunked', 'a chunked body in odd pieces'],
    ['/mixed', 'a body that streams, trickles, then streams again'],
  ] as const) {
    it(`${what}: the file is the body`, async () => {
      await withTempDir(async (tmp) => {
        const r = await runCli([`${base}${path}`, '-o', tmp.file('out.bin')]);
        assertDownloaded(r, tmp, BODY.subarray(0, lengths.get(path)));
      });
    });
  }

  it('a body that ends when the server closes (HTTP/1.0): the file is the body', async () => {
    await withTempDir(async (tmp) => {
      const r = await runCli([`http://127.0.0.1:${raw.port}/`, '-o', tmp.file('out.bin')]);
      assertDownloaded(r, tmp, BODY.subarray(0, 3 * 1024 * 1024 + 1));
    });
  });

  it('with -i, the head and then the body, in order', async () => {
    await withTempDir(async (tmp) => {
      const r = await runCli(['-i', `${base}/fast`, '-o', tmp.file('out.bin')]);
      assert.equal(r.code, 0, r.stderr);
      const got = fs.readFileSync(tmp.file('out.bin'));
      const end = got.indexOf('\r\n\r\n') + 4;
      assert.match(got.subarray(0, end).toString('latin1'), /^HTTP\/1\.1 200 OK\r\n/);
      assert.equal(sha(got.subarray(end)), sha(BODY));
    });
  });

  describe('a body cut short: exit 18, no file, no temporary file', () => {
    it('during large reads: the count is exact', async () => {
      const sent = 5 * 1024 * 1024 + 321;
      routes.set('/cut-fast', (_req, res) => {
        res.writeHead(200, { 'Content-Length': BODY.length });
        res.write(BODY.subarray(0, sent), () => setTimeout(() => res.socket?.destroy(), 50));
      });
      await withTempDir(async (tmp) => {
        const r = await runCli([`${base}/cut-fast`, '-o', tmp.file('out.bin')]);
        assertFailure(r, 18, new RegExp(`closed after ${sent} bytes of ${BODY.length}`));
        assert.deepEqual(fs.readdirSync(tmp.dir), []);
      });
    });

    it('a chunked body', async () => {
      routes.set('/cut-chunked', (_req, res) => {
        res.writeHead(200);
        res.write(BODY.subarray(0, 2 * 1024 * 1024 + 17), () =>
          setTimeout(() => res.socket?.destroy(), 50),
        );
      });
      await withTempDir(async (tmp) => {
        const r = await runCli([`${base}/cut-chunked`, '-o', tmp.file('out.bin')]);
        assertFailure(r, 18, /closed after \d+ bytes before the end of the body/);
        assert.deepEqual(fs.readdirSync(tmp.dir), []);
      });
    });
  });

  describe('a write that fails: exit 23, no file, no temporary file', () => {
    /** The command under `ulimit -f` (512-byte blocks): writes past the limit get EFBIG. */
    function limited(blocks: number, args: readonly string[]): Promise<CliResult> {
      return runProgram('sh', [
        '-c',
        `ulimit -f ${blocks} && exec "$@"`,
        'sh',
        process.execPath,
        MAIN,
        ...args,
      ]);
    }
    const ULIMIT = { skip: process.platform === 'win32' ? 'needs sh and ulimit -f' : false };

    for (const path of ['/fast', '/odd', '/chunked'] as const) {
      it(`a file size limit (EFBIG) while writing ${path}`, ULIMIT, async () => {
        await withTempDir(async (tmp) => {
          const r = await limited(2048, [`${base}${path}`, '-o', tmp.file('out.bin')]);
          assertFailure(r, 23, /could not write to '.*out\.bin': .*EFBIG/);
          assert.deepEqual(fs.readdirSync(tmp.dir), []);
        });
      });
    }

    it('the directory removed before the end (the rename fails)', async () => {
      let release: () => void = () => {};
      const released = new Promise<void>((r) => {
        release = r;
      });
      routes.set('/hold', (_req, res) => {
        res.writeHead(200, { 'Content-Length': 4 * 1024 * 1024 });
        res.write(BODY.subarray(0, 1024 * 1024));
        void released.then(() => res.end(BODY.subarray(1024 * 1024, 4 * 1024 * 1024)));
      });
      await withTempDir(async (tmp) => {
        const dir = tmp.file('sub');
        fs.mkdirSync(dir);
        const r = await runCli([`${base}/hold`, '-o', `${dir}/out.bin`], {
          onSpawn: (child) => {
            const poll = setInterval(() => {
              if (fs.readdirSync(dir).some((n) => n.endsWith('.part'))) {
                clearInterval(poll);
                fs.rmSync(dir, { recursive: true });
                release();
              }
            }, 10);
            child.on('close', () => clearInterval(poll));
          },
        });
        release();
        assertFailure(r, 23, /could not write to '.*sub\/out\.bin': .*ENOENT/);
        assert.deepEqual(fs.readdirSync(tmp.dir), []);
      });
    });

    it('a burst, then a trickle: the file keeps growing with what comes (a whole buffer was awaited: minutes at a trickle)', async () => {
      let stop = false;
      let requested: () => void = () => {};
      const arrived = new Promise<void>((resolve) => {
        requested = resolve;
      });
      routes.set('/burst-trickle', (_req, res) => {
        requested();
        res.writeHead(200, { 'Content-Length': 2_000_000 });
        res.write(BODY.subarray(0, 256 * 1024));
        const tick = setInterval(() => {
          if (stop || res.destroyed) clearInterval(tick);
          else res.write(BODY.subarray(0, 100));
        }, 50);
      });
      await withTempDir(async (tmp) => {
        let size = -1;
        const r = await runCli([`${base}/burst-trickle`, '-o', tmp.file('out.bin')], {
          // 2 s from the request, not from the spawn: the command's start-up alone can
          // take that long on a busy machine (and its signal handlers are set by then).
          onSpawn: (child) => {
            void arrived.then(() =>
              setTimeout(() => {
                const part = fs.readdirSync(tmp.dir).find((n) => n.endsWith('.part'));
                size = part === undefined ? -2 : fs.statSync(tmp.file(part)).size;
                child.kill('SIGTERM');
              }, 2000),
            );
          },
        });
        stop = true;
        assert.equal(r.signal, 'SIGTERM', r.stderr);
        // 2 s of trickle: ~40 pieces of 100 bytes after the burst; at least some written.
        assert.ok(size >= 256 * 1024 + 1000, `${size} bytes written after 2 s`);
        assert.deepEqual(fs.readdirSync(tmp.dir), []);
      });
    });

    it('FILE is a directory: refused before the body is read', async () => {
      await withTempDir(async (tmp) => {
        const r = await runCli([`${base}/fast`, '-o', tmp.dir]);
        assertFailure(r, 23, /could not write to '.*': EISDIR/);
        assert.deepEqual(fs.readdirSync(tmp.dir), []);
      });
    });
  });

  describe('FILE that is a FIFO is written directly (a device: download-targets.test.ts)', () => {
    it('a FIFO gets the body, and stays a FIFO', FIFO, async () => {
      await withTempDir(async (tmp) => {
        const fifo = tmp.file('pipe');
        mkfifo(fifo);
        const reader = slowReader(fifo, 1e12);
        const r = await runCli([`${base}/odd`, '-o', fifo]);
        assert.equal(r.code, 0, r.stderr);
        assert.ok(fs.lstatSync(fifo).isFIFO(), 'not replaced by a file');
        const read = await reader.result(10_000);
        assert.equal(read.out.trim(), `${sha(BODY.subarray(0, ODD_TOTAL))} ${ODD_TOTAL}`);
        assert.deepEqual(fs.readdirSync(tmp.dir), ['pipe']);
      });
    });

    it('a 256 MiB body into a FIFO read slowly: memory stays bounded', {
      skip: FIFO.skip || (fs.existsSync('/proc/self/status') ? false : 'no /proc'),
    }, async () => {
      const TOTAL = 256 * 1024 * 1024;
      const expected = createHash('sha256');
      for (let at = 0; at < TOTAL; at += BODY.length) {
        expected.update(BODY.subarray(0, Math.min(BODY.length, TOTAL - at)));
      }
      routes.set('/huge', (_req, res) => {
        res.writeHead(200, { 'Content-Length': TOTAL });
        void (async () => {
          for (let at = 0; at < TOTAL; at += BODY.length) {
            if (!(await send(res, BODY.subarray(0, Math.min(BODY.length, TOTAL - at))))) {
              return;
            }
          }
          res.end();
        })();
      });
      await withTempDir(async (tmp) => {
        const fifo = tmp.file('pipe');
        mkfifo(fifo);
        // About 150 MB/s: several times slower than loopback, so an unbounded queue
        // would grow by most of the body.
        const reader = slowReader(fifo, 150e6);
        let rss: { stop(): number } | null = null;
        const r = await runCli([`${base}/huge`, '-o', fifo], {
          timeoutMs: 120_000,
          onSpawn: (child) => {
            rss = peakRss(child.pid as number);
          },
        });
        const peak = (rss as { stop(): number } | null)?.stop() ?? 0;
        assert.equal(r.code, 0, r.stderr);
        const read = await reader.result(10_000);
        assert.equal(read.out.trim(), `${expected.digest('hex')} ${TOTAL}`);
        // Node itself takes about 55 MB here, and freed pieces wait for the GC; a queue
        // that grew with the body would be far past this.
        assert.ok(peak > 0, 'the resident set was sampled');
        assert.ok(peak < 160 * 1024 * 1024, `peak RSS ${(peak / 2 ** 20).toFixed(1)} MiB`);
      });
    });
  });
});
