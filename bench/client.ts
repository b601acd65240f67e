/**
 * One benchmark measurement in a fresh process: bench/run.ts compiles this file (and src/)
 * to JavaScript and runs it, pinned with taskset, with a JSON `ClientSpec` as its argument.
 *
 * It opens `conns` connections, runs an untimed warm-up, then `count` requests spread over
 * the connections (each connection sequential: one request awaited before the next), and
 * prints `START` / `STOP` around the timed part (the runner samples the server's CPU time
 * there) and one `RESULT {json}` line.
 *
 * Every client is driven the way its users drive it:
 * - `httplib`: `request` → `getresponse` → `read()` / `read(65536)` loop / `readinto` loop
 *   on an `HTTPConnection` (an `HTTPSConnection` over TLS);
 * - `httplib-sync`: the same calls through `httplib-ts/sync`, without `await`
 *   (bench/client-sync.ts), in a synchronous loop;
 * - `node-http`: `http.request` with a keep-alive `Agent`, the body collected from `data`
 *   events and concatenated, or drained;
 * - `undici-request`: `Client.request` (a `Pool` for several connections), `body.bytes()`
 *   or `for await` over the body;
 * - `undici-dispatch`: `Client.dispatch` with a handler object per request;
 * - `raw`: the floor, a `net.Socket` writing a fixed request and finding Content-Length
 *   with a regular expression, nothing else parsed; `Buffer.concat` of the chunks or drain;
 * - `raw-onread`: the same with net's `onread` option (one reused 64 KiB read buffer);
 *   collecting copies the body once into a buffer sized from Content-Length.
 */

import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createReadStream, readFileSync, statSync, unlinkSync } from 'node:fs';
import { open } from 'node:fs/promises';
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import tls from 'node:tls';
import type { Dispatcher } from 'undici';
import { httplibSyncConns } from './client-sync.ts';

export type ClientKind =
  | 'httplib'
  /** httplib-ts/sync, the blocking API (bench/client-sync.ts) */
  | 'httplib-sync'
  | 'node-http'
  | 'undici-request'
  | 'undici-dispatch'
  | 'raw'
  | 'raw-onread'
  /** bench/py_client.py */
  | 'python'
  /** The `httplib` command (dist/cli/main.cjs, as built): `httplib -o FILE URL`, a process each */
  | 'httplib-cli'
  /** The same with NODE_EXTRA_CA_CERTS unset (Node parses that file at every start) */
  | 'httplib-cli-noca'
  /** `curl -s -o FILE URL`, a process each: the command line's reference */
  | 'curl';

/**
 * How the body is consumed. `all`: the whole body as one Buffer (httplib `read()`).
 * `amt`: httplib `read(65536)` until empty. `into`: httplib `readinto` of one reused 64 KiB
 * buffer. `drain`: the other clients' pieces, counted and dropped.
 */
export type ReadMode = 'all' | 'amt' | 'into' | 'drain';

export interface UploadSpec {
  kind: 'buffer' | 'file';
  size: number;
  /** The file to send (kind `file`). */
  file: string;
}

export interface ClientSpec {
  client: ClientKind;
  mode: ReadMode;
  host: string;
  port: number;
  /** Request target of the timed requests. */
  path: string;
  /** Request target of the warm-up requests. */
  warmPath: string;
  /** A CA file when the server speaks TLS. */
  ca: string | null;
  conns: number;
  count: number;
  warmup: number;
  upload: UploadSpec | null;
  /** Sample the RSS after every piece read; report the peak above the post-warm-up baseline. */
  rss: boolean;
  /** No new timed request starts after this many ms (the result says how many were made). */
  budgetMs: number;
  /** The same for the warm-up. */
  warmBudgetMs: number;
}

export interface ClientResult {
  elapsedNs: number;
  cpuUserUs: number;
  cpuSystemUs: number;
  /** Timed requests made: `count`, or fewer when the time budget ran out. */
  requests: number;
  /** Body bytes received (downloads) or body bytes the server counted (uploads). */
  bytes: number;
  rssBaseline: number;
  rssPeak: number;
  maxRssKiB: number;
  /** Minor page faults of the client process over the timed part (all threads). */
  minorFaults: number;
  /**
   * Involuntary context switches of the client process over the timed part (all
   * threads): the times it was preempted, on one shared CPU mostly by the server.
   */
  preempted: number;
}

/** One connection's way of doing one request; resolves with the bytes to account. */
interface Conn {
  get(path: string): Promise<number>;
  /** The blocking API's request, made without a promise (drive() then runs no await). */
  getSync?: (path: string) => number;
  close(): void;
}

const PIECE = 65536;
let rssPeak = 0;

function sampleRss(): void {
  const rss = process.memoryUsage.rss();
  if (rss > rssPeak) rssPeak = rss;
}

/** A whole response body: its length, or for an upload the byte count the server sent. */
function account(spec: ClientSpec, body: Uint8Array): number {
  if (spec.upload === null) return body.length;
  return Number(Buffer.from(body.buffer, body.byteOffset, body.length).toString('latin1'));
}

function uploadHeaders(spec: ClientSpec): Record<string, string> | undefined {
  return spec.upload === null ? undefined : { 'Content-Length': String(spec.upload.size) };
}

/** GET, or POST for the upload scenarios. */
function requestMethod(spec: ClientSpec): 'GET' | 'POST' {
  return spec.upload === null ? 'GET' : 'POST';
}

/** `spec.conns` connections over one client that pools them itself (Agent, undici Pool). */
function pooled(spec: ClientSpec, get: Conn['get'], close: () => void): Conn[] {
  return Array.from({ length: spec.conns }, () => ({ get, close }));
}

// ---------------------------------------------------------------------------------------
// httplib-ts

async function httplibConns(spec: ClientSpec, uploadBody: Buffer | null): Promise<Conn[]> {
  const httplib = await import('../src/index.ts');
  const context = spec.ca === null ? null : httplib.ssl.create_default_context({ cafile: spec.ca });
  const method = requestMethod(spec);
  const conns: Conn[] = [];
  for (let i = 0; i < spec.conns; i++) {
    const conn =
      context === null
        ? new httplib.HTTPConnection(spec.host, spec.port)
        : new httplib.HTTPSConnection(spec.host, spec.port, { context });
    const into = Buffer.allocUnsafe(PIECE);
    const sample = spec.rss;
    conns.push({
      async get(path) {
        if (spec.upload?.kind === 'file') {
          const handle = await open(spec.upload.file);
          try {
            await conn.request(method, path, handle);
          } finally {
            await handle.close();
          }
        } else {
          await conn.request(method, path, uploadBody);
        }
        const res = await conn.getresponse();
        switch (spec.mode) {
          case 'all':
            return account(spec, await res.read());
          case 'amt': {
            let n = 0;
            for (;;) {
              const piece = await res.read(PIECE);
              if (piece.length === 0) return n;
              n += piece.length;
              if (sample) sampleRss();
            }
          }
          default: {
            let n = 0;
            for (;;) {
              const k = await res.readinto(into);
              if (k === 0) return n;
              n += k;
              if (sample) sampleRss();
            }
          }
        }
      },
      close: () => conn.close(),
    });
  }
  return conns;
}

// ---------------------------------------------------------------------------------------
// node:http with a keep-alive agent

function nodeHttpConns(spec: ClientSpec, uploadBody: Buffer | null): Conn[] {
  const mod = spec.ca === null ? http : https;
  const agent =
    spec.ca === null
      ? new http.Agent({ keepAlive: true, maxSockets: spec.conns })
      : new https.Agent({ keepAlive: true, maxSockets: spec.conns, ca: readFileSync(spec.ca) });
  const method = requestMethod(spec);
  const headers = uploadHeaders(spec) ?? {};
  const collect = spec.mode === 'all';
  const sample = spec.rss;
  const get = (path: string): Promise<number> =>
    new Promise((resolve, reject) => {
      const req = mod.request(
        { host: spec.host, port: spec.port, path, method, agent, headers },
        (res) => {
          res.on('error', reject);
          if (collect) {
            const chunks: Buffer[] = [];
            res.on('data', (chunk: Buffer) => chunks.push(chunk));
            res.on('end', () => resolve(account(spec, Buffer.concat(chunks))));
          } else {
            let n = 0;
            res.on('data', (chunk: Buffer) => {
              n += chunk.length;
              if (sample) sampleRss();
            });
            res.on('end', () => resolve(n));
          }
        },
      );
      req.on('error', reject);
      if (spec.upload?.kind === 'file') {
        pipeline(createReadStream(spec.upload.file), req).catch(reject);
      } else if (uploadBody !== null) {
        req.end(uploadBody);
      } else {
        req.end();
      }
    });
  return pooled(spec, get, () => agent.destroy());
}

// ---------------------------------------------------------------------------------------
// undici Client / Pool

async function undiciDispatcher(spec: ClientSpec): Promise<Dispatcher> {
  const undici = await import('undici');
  const origin = `${spec.ca === null ? 'http' : 'https'}://${spec.host}:${spec.port}`;
  const connect = spec.ca === null ? {} : { connect: { ca: readFileSync(spec.ca) } };
  return spec.conns > 1
    ? new undici.Pool(origin, { connections: spec.conns, ...connect })
    : new undici.Client(origin, connect);
}

/** The options of an undici request to `path` (a file upload opens a new stream each time). */
function undiciOptions(
  spec: ClientSpec,
  uploadBody: Buffer | null,
): (path: string) => Dispatcher.DispatchOptions {
  const method = requestMethod(spec);
  const headers = uploadHeaders(spec);
  const file = spec.upload?.kind === 'file' ? spec.upload.file : null;
  return (path) => ({
    path,
    method,
    body: file === null ? uploadBody : createReadStream(file),
    ...(headers === undefined ? {} : { headers }),
  });
}

async function undiciRequestConns(spec: ClientSpec, uploadBody: Buffer | null): Promise<Conn[]> {
  const dispatcher = await undiciDispatcher(spec);
  const options = undiciOptions(spec, uploadBody);
  const sample = spec.rss;
  const get = async (path: string): Promise<number> => {
    const { body } = await dispatcher.request(options(path));
    if (spec.mode === 'all') return account(spec, await body.bytes());
    let n = 0;
    for await (const chunk of body) {
      n += (chunk as Buffer).length;
      if (sample) sampleRss();
    }
    return n;
  };
  return pooled(spec, get, () => void dispatcher.destroy().catch(() => {}));
}

class BenchHandler implements Dispatcher.DispatchHandler {
  readonly #resolve: (n: number) => void;
  readonly #reject: (err: Error) => void;
  readonly #spec: ClientSpec;
  readonly #chunks: Buffer[] | null;
  #n = 0;

  constructor(spec: ClientSpec, resolve: (n: number) => void, reject: (err: Error) => void) {
    this.#spec = spec;
    this.#resolve = resolve;
    this.#reject = reject;
    this.#chunks = spec.mode === 'all' ? [] : null;
  }

  onRequestStart(): void {}

  onResponseStart(): void {}

  onResponseData(_controller: Dispatcher.DispatchController, chunk: Buffer): void {
    if (this.#chunks !== null) this.#chunks.push(chunk);
    else {
      this.#n += chunk.length;
      if (this.#spec.rss) sampleRss();
    }
  }

  onResponseEnd(): void {
    this.#resolve(
      this.#chunks === null ? this.#n : account(this.#spec, Buffer.concat(this.#chunks)),
    );
  }

  onResponseError(_controller: Dispatcher.DispatchController, err: Error): void {
    this.#reject(err);
  }
}

async function undiciDispatchConns(spec: ClientSpec, uploadBody: Buffer | null): Promise<Conn[]> {
  const dispatcher = await undiciDispatcher(spec);
  const options = undiciOptions(spec, uploadBody);
  const get = (path: string): Promise<number> =>
    new Promise((resolve, reject) => {
      dispatcher.dispatch(options(path), new BenchHandler(spec, resolve, reject));
    });
  return pooled(spec, get, () => void dispatcher.destroy().catch(() => {}));
}

// ---------------------------------------------------------------------------------------
// The raw floors

const CRLFCRLF = Buffer.from('\r\n\r\n', 'latin1');
const CONTENT_LENGTH = /\r\ncontent-length: *(\d+)/i;

class RawConn implements Conn {
  readonly #spec: ClientSpec;
  readonly #collect: boolean;
  readonly #onread: boolean;
  readonly #requests = new Map<string, Buffer>();
  #socket: net.Socket | null = null;
  #head: Buffer | null = null;
  #need = -1;
  #got = 0;
  #parts: Buffer[] = [];
  #body: Buffer | null = null;
  #resolve: ((n: number) => void) | null = null;
  #reject: ((err: Error) => void) | null = null;

  constructor(spec: ClientSpec) {
    this.#spec = spec;
    this.#collect = spec.mode === 'all';
    this.#onread = spec.client === 'raw-onread';
  }

  async connect(): Promise<void> {
    const spec = this.#spec;
    const onread = this.#onread
      ? {
          onread: {
            buffer: Buffer.allocUnsafe(PIECE),
            callback: (n: number, buf: Uint8Array): boolean => {
              this.#onBytes(buf as Buffer, n, false);
              return true;
            },
          },
        }
      : {};
    const socket =
      spec.ca === null
        ? net.connect({ host: spec.host, port: spec.port, noDelay: true, ...onread })
        : // tls.connect takes `onread` as net.connect does (@types/node 20 omits it).
          tls.connect({
            host: spec.host,
            port: spec.port,
            ca: readFileSync(spec.ca),
            ...onread,
          } as tls.ConnectionOptions);
    socket.setNoDelay(true);
    await once(socket, spec.ca === null ? 'connect' : 'secureConnect');
    if (!this.#onread)
      socket.on('data', (chunk: Buffer) => this.#onBytes(chunk, chunk.length, true));
    socket.on('error', (err) => this.#reject?.(err));
    socket.on('close', () => this.#reject?.(new Error('connection closed')));
    this.#socket = socket;
  }

  #request(path: string): Buffer {
    let req = this.#requests.get(path);
    if (req === undefined) {
      const spec = this.#spec;
      const method = requestMethod(spec);
      const length = spec.upload === null ? '' : `Content-Length: ${spec.upload.size}\r\n`;
      req = Buffer.from(
        `${method} ${path} HTTP/1.1\r\nHost: ${spec.host}:${spec.port}\r\n${length}\r\n`,
        'latin1',
      );
      this.#requests.set(path, req);
    }
    return req;
  }

  get(path: string, uploadBody: Buffer | null = null): Promise<number> {
    const socket = this.#socket as net.Socket;
    const done = new Promise<number>((resolve, reject) => {
      this.#resolve = resolve;
      this.#reject = reject;
    });
    const upload = this.#spec.upload;
    if (upload === null) {
      socket.write(this.#request(path));
    } else if (upload.kind === 'buffer') {
      socket.cork();
      socket.write(this.#request(path));
      socket.write(uploadBody as Buffer);
      socket.uncork();
    } else {
      socket.write(this.#request(path));
      return (async () => {
        for await (const chunk of createReadStream(upload.file, { highWaterMark: 256 * 1024 })) {
          if (!socket.write(chunk as Buffer)) await once(socket, 'drain');
        }
        return done;
      })();
    }
    return done;
  }

  /** Bytes from the socket: `buf[0, end)`; `own` when the chunk may be kept as it is. */
  #onBytes(buf: Buffer, end: number, own: boolean): void {
    let start = 0;
    if (this.#need < 0) {
      let chunk = end === buf.length ? buf : buf.subarray(0, end);
      if (this.#head !== null) chunk = Buffer.concat([this.#head, chunk]);
      const i = chunk.indexOf(CRLFCRLF);
      if (i === -1) {
        this.#head = own || this.#head !== null ? chunk : Buffer.from(chunk);
        return;
      }
      this.#head = null;
      const m = CONTENT_LENGTH.exec(chunk.toString('latin1', 0, i));
      this.#need = m?.[1] === undefined ? 0 : Number(m[1]);
      this.#got = 0;
      if (this.#collect && this.#onread) this.#body = Buffer.allocUnsafe(this.#need);
      buf = chunk;
      end = chunk.length;
      start = i + 4;
    }
    const n = Math.min(end - start, this.#need - this.#got);
    if (n > 0) {
      if (this.#collect) {
        if (this.#onread) buf.copy(this.#body as Buffer, this.#got, start, start + n);
        else
          this.#parts.push(start === 0 && n === buf.length ? buf : buf.subarray(start, start + n));
      } else if (this.#spec.rss) {
        sampleRss();
      }
      this.#got += n;
    }
    if (this.#got < this.#need) return;
    let result = this.#need;
    if (this.#collect) {
      let body: Buffer;
      if (this.#onread) body = this.#body as Buffer;
      else
        body = this.#parts.length === 1 ? (this.#parts[0] as Buffer) : Buffer.concat(this.#parts);
      result = account(this.#spec, body);
      this.#parts = [];
      this.#body = null;
    }
    this.#need = -1;
    const resolve = this.#resolve;
    this.#resolve = null;
    this.#reject = null;
    resolve?.(result);
  }

  close(): void {
    this.#reject = null;
    this.#socket?.destroy();
  }
}

async function rawConns(spec: ClientSpec, uploadBody: Buffer | null): Promise<Conn[]> {
  const conns: Conn[] = [];
  for (let i = 0; i < spec.conns; i++) {
    const raw = new RawConn(spec);
    await raw.connect();
    conns.push({ get: (path) => raw.get(path, uploadBody), close: () => raw.close() });
  }
  return conns;
}

// ---------------------------------------------------------------------------------------

async function makeConns(spec: ClientSpec, uploadBody: Buffer | null): Promise<Conn[]> {
  switch (spec.client) {
    case 'httplib':
      return httplibConns(spec, uploadBody);
    case 'node-http':
      return nodeHttpConns(spec, uploadBody);
    case 'undici-request':
      return undiciRequestConns(spec, uploadBody);
    case 'undici-dispatch':
      return undiciDispatchConns(spec, uploadBody);
    case 'raw':
    case 'raw-onread':
      return rawConns(spec, uploadBody);
    case 'httplib-sync': {
      const conns = await httplibSyncConns(spec, uploadBody, (b) => account(spec, b), sampleRss);
      return conns.map((c) => ({
        get: async (path) => c.getSync(path),
        getSync: (path) => c.getSync(path),
        close: () => c.close(),
      }));
    }
    case 'httplib-cli':
    case 'httplib-cli-noca':
    case 'curl':
      return [{ get: (path) => download(spec, path), close: () => {} }];
    case 'python':
      throw new Error('python rows run bench/py_client.py');
  }
}

// ---------------------------------------------------------------------------------------
// The command line: one download to a file per process, start-up included

/**
 * `httplib -o FILE URL` (the built, bundled dist/cli/main.cjs under this Node; the bench
 * runs from the repository root) or `curl -s -o FILE URL`, in a new process with this
 * process's environment and CPU pinning; resolves with the size of the file it wrote.
 */
async function download(spec: ClientSpec, path: string): Promise<number> {
  const file = join(tmpdir(), `httplib-bench-${process.pid}.out`);
  const url = `http://${spec.host}:${spec.port}${path}`;
  const [cmd, args] =
    spec.client === 'curl'
      ? ['curl', ['-s', '-o', file, url]]
      : [process.execPath, [join(process.cwd(), 'dist', 'cli', 'main.cjs'), '-o', file, url]];
  const env = { ...process.env };
  if (spec.client === 'httplib-cli-noca') delete env.NODE_EXTRA_CA_CERTS;
  const child = spawn(cmd, args, { stdio: ['ignore', 'ignore', 'pipe'], env });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => {
    stderr += d.toString();
  });
  const [code] = (await once(child, 'close')) as [number | null];
  if (code !== 0) throw new Error(`${cmd} ${args.join(' ')}: exit ${code} ${stderr.trim()}`);
  const size = statSync(file).size;
  unlinkSync(file);
  return size;
}

interface Driven {
  bytes: number;
  requests: number;
}

/**
 * `total` requests over `conns` sequential loops. A loop starts no new request once
 * `deadline` (a `performance.now()` time) has passed, so that a pathologically slow row
 * still ends; every loop makes at least one request.
 */
async function drive(conns: Conn[], total: number, path: string, deadline: number) {
  if (conns.every((c) => c.getSync !== undefined)) return driveSync(conns, total, path, deadline);
  const loops: Promise<Driven>[] = [];
  for (let c = 0; c < conns.length; c++) {
    const conn = conns[c] as Conn;
    const n = Math.floor(total / conns.length) + (c < total % conns.length ? 1 : 0);
    loops.push(
      (async () => {
        let bytes = 0;
        let i = 0;
        while (i < n) {
          bytes += await conn.get(path);
          i++;
          if (performance.now() > deadline) break;
        }
        return { bytes, requests: i };
      })(),
    );
  }
  const out: Driven = { bytes: 0, requests: 0 };
  for (const d of await Promise.all(loops)) {
    out.bytes += d.bytes;
    out.requests += d.requests;
  }
  return out;
}

/** `drive` for the blocking API: each connection's share in turn, no promise in the loop. */
function driveSync(conns: Conn[], total: number, path: string, deadline: number): Driven {
  const out: Driven = { bytes: 0, requests: 0 };
  for (let c = 0; c < conns.length; c++) {
    const get = (conns[c] as Conn).getSync as (path: string) => number;
    const n = Math.floor(total / conns.length) + (c < total % conns.length ? 1 : 0);
    for (let i = 0; i < n; i++) {
      out.bytes += get(path);
      out.requests++;
      if (performance.now() > deadline) break;
    }
  }
  return out;
}

async function main(): Promise<void> {
  const spec = JSON.parse(process.argv[2] ?? '') as ClientSpec;
  const uploadBody = spec.upload?.kind === 'buffer' ? Buffer.alloc(spec.upload.size, 0x79) : null;
  const conns = await makeConns(spec, uploadBody);
  // Warm-up: at least one request on every connection, so all of them are open.
  const warmDeadline = performance.now() + spec.warmBudgetMs;
  await drive(conns, Math.max(spec.warmup, conns.length), spec.warmPath, warmDeadline);
  const gc = (globalThis as { gc?: () => void }).gc;
  gc?.();
  const rssBaseline = process.memoryUsage.rss();
  rssPeak = rssBaseline;
  process.stdout.write('START\n');
  const usage0 = process.resourceUsage();
  const cpu0 = process.cpuUsage();
  const t0 = process.hrtime.bigint();
  const { bytes, requests } = await drive(
    conns,
    spec.count,
    spec.path,
    performance.now() + spec.budgetMs,
  );
  const t1 = process.hrtime.bigint();
  const cpu = process.cpuUsage(cpu0);
  const usage1 = process.resourceUsage();
  const faults = usage1.minorPageFault - usage0.minorPageFault;
  const preempted = usage1.involuntaryContextSwitches - usage0.involuntaryContextSwitches;
  process.stdout.write('STOP\n');
  if (spec.rss) sampleRss();
  const result: ClientResult = {
    elapsedNs: Number(t1 - t0),
    cpuUserUs: cpu.user,
    cpuSystemUs: cpu.system,
    requests,
    bytes,
    rssBaseline,
    rssPeak,
    maxRssKiB: process.resourceUsage().maxRSS,
    minorFaults: faults,
    preempted,
  };
  process.stdout.write(`RESULT ${JSON.stringify(result)}\n`);
  for (const conn of conns) conn.close();
  process.exit(0);
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
