/**
 * Starts the servers of peer-thread.ts in a worker thread (the calls of the blocking API
 * block the test's thread, so its servers must run elsewhere), and the helpers the
 * blocking API's tests share.
 */
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { once } from 'node:events';
import * as fs from 'node:fs';
import { after } from 'node:test';
import { Worker } from 'node:worker_threads';
import * as main from '../../src/index.ts';
import { directTransport } from '../../src/sync/direct.ts';
import * as blocking from '../../src/sync.ts';
import { type CliResult, runNode } from '../cli/cli-harness.ts';
import type { Recorded } from './peer-thread.ts';

export type { Recorded } from './peer-thread.ts';

export interface Peer {
  /** The node:http server. */
  readonly http: number;
  /** The raw net server (cut bodies, silent and hanging peers). */
  readonly raw: number;
  /** The node:https server (0 unless certificate files were given). */
  readonly https: number;
  /** Every request the http servers received so far, in order. */
  records(): Promise<Recorded[]>;
  /** Connections the servers accepted so far, and how many of them are still open. */
  connections(): Promise<{ accepted: number; open: number }>;
  close(): Promise<void>;
}

/**
 * The worker runs the TypeScript file through tsx, registered in it first: a loader of
 * this thread does not apply to a worker.
 */
const BOOT = `
const { workerData } = require('node:worker_threads');
(async () => {
  (await import(workerData.tsx)).register();
  await import(workerData.url);
})();
`;

export async function startPeer(tls?: { cert: string; key: string; ca?: string }): Promise<Peer> {
  const worker = new Worker(BOOT, {
    eval: true,
    workerData: {
      tsx: import.meta.resolve('tsx/esm/api'),
      url: new URL('./peer-thread.ts', import.meta.url).href,
      ...(tls ?? {}),
    },
  });
  const [first] = (await once(worker, 'message')) as [
    { ports: { http: number; raw: number; https: number } },
  ];
  return {
    ...first.ports,
    async records() {
      worker.postMessage('records');
      const [m] = (await once(worker, 'message')) as [{ records: Recorded[] }];
      return m.records;
    },
    async connections() {
      worker.postMessage('connections');
      const [m] = (await once(worker, 'message')) as [
        { connections: { accepted: number; open: number } },
      ];
      return m.connections;
    },
    async close() {
      worker.postMessage('close');
      await once(worker, 'exit');
    },
  };
}

/** The pattern of peer-thread.ts's `/bytes` bodies. */
export function pattern(n: number): Buffer {
  const out = Buffer.allocUnsafe(n);
  for (let i = 0; i < n; i++) out[i] = i % 251;
  return out;
}

/** `GET path` through a legacy `HTTP`/`HTTPS` object: the body of its 200 reply. */
export function legacyGet(h: blocking.HTTP, path: string): string {
  h.putrequest('GET', path);
  h.endheaders();
  assert.equal(h.getreply()[0], 200);
  return String(h.getfile()?.read());
}

/** Runs `fn`, which must throw; returns what it threw. */
export function thrown(fn: () => unknown): unknown {
  try {
    fn();
  } catch (err) {
    return err;
  }
  throw new Error('expected an exception, none was thrown');
}

/**
 * Fails the file if anything goes uncaught or unhandled in this thread while its tests
 * run (the worker's failures are reported through the calls themselves).
 */
export function noUncaught(): void {
  const caught: unknown[] = [];
  const onError = (err: unknown): void => {
    caught.push(err);
  };
  process.on('uncaughtException', onError);
  process.on('unhandledRejection', onError);
  after(() => {
    process.off('uncaughtException', onError);
    process.off('unhandledRejection', onError);
    assert.deepEqual(caught, [], 'nothing may go uncaught or unhandled');
  });
}

/** The blocking entry, by path, for scripts run in a child process. */
export const SYNC_ENTRY = new URL('../../src/sync.ts', import.meta.url).pathname;
export const MAIN_ENTRY = new URL('../../src/index.ts', import.meta.url).pathname;

/**
 * `steps` through both entries, each on a connection of its own to `port`: what each
 * call returned or threw, as text. The blocking entry must do what the main entry does,
 * whatever that is; returns the outcomes (both agree).
 */
export async function sameAsMain(
  port: number,
  steps: Array<(c: main.HTTPConnection, r: Responses) => unknown>,
): Promise<string[]> {
  const outcome = async (fn: () => unknown): Promise<string> => {
    try {
      const v = await fn();
      if (v === undefined) return 'ok';
      if (Buffer.isBuffer(v)) return `ok ${v.toString('latin1')}`;
      if (v instanceof main.HTTPResponse || (v as { msg?: unknown } | null)?.msg !== undefined) {
        return `ok response ${(v as main.HTTPResponse).status}`;
      }
      return `ok ${String(v)}`;
    } catch (err) {
      return `${(err as Error).name}: ${(err as Error).message}`;
    }
  };
  const play = async (conn: main.HTTPConnection): Promise<string[]> => {
    const responses: Responses = [];
    const out: string[] = [];
    for (const step of steps) {
      out.push(
        await outcome(async () => {
          const v = await step(conn, responses);
          if (v !== null && typeof v === 'object' && 'getheader' in v)
            responses.push(v as main.HTTPResponse);
          return v;
        }),
      );
    }
    conn.close();
    return out;
  };
  const ours = await play(
    new blocking.HTTPConnection('127.0.0.1', port) as unknown as main.HTTPConnection,
  );
  const theirs = await play(new main.HTTPConnection('127.0.0.1', port));
  assert.deepEqual(ours, theirs, 'the blocking entry does what the main entry does');
  return ours;
}

/** The responses a `sameAsMain` session got so far, in order. */
export type Responses = main.HTTPResponse[];

/**
 * A connection of the blocking entry (of `cls`, a subclass of the caller's) made on the
 * direct transport (`direct`, where this platform has it) or on the worker's: the choice
 * is taken when it is made.
 */
export function connectionOn<C extends blocking.HTTPConnection = blocking.HTTPConnection>(
  direct: boolean,
  port: number,
  cls: new (host: string, port: number) => C = blocking.HTTPConnection as never,
): C {
  const saved = directTransport.enabled;
  directTransport.enabled = direct && saved;
  try {
    return new cls('127.0.0.1', port);
  } finally {
    directTransport.enabled = saved;
  }
}

/**
 * Runs `script` (written to `scriptFile`) in a child process, on the blocking API's direct
 * or worker transport, with `fifo` made a named pipe whose writer gave 3 bytes and keeps
 * it open for a minute: a body that waits for its next piece. A call that hangs blocks
 * its thread, so only the child's time limit (20 s) ends it.
 */
export async function runWithStalledPipe(
  fifo: string,
  scriptFile: string,
  script: string,
  direct: boolean,
): Promise<CliResult> {
  execFileSync('mkfifo', [fifo]);
  const end = fs.openSync(fifo, fs.constants.O_RDWR);
  const writer = spawn('sh', ['-c', 'printf abc; exec sleep 60'], {
    stdio: ['ignore', end, 'ignore'],
  });
  // The writer's end is the child's alone: once it is killed, reads of the pipe end.
  fs.closeSync(end);
  fs.writeFileSync(scriptFile, script);
  try {
    const env: NodeJS.ProcessEnv = { ...process.env };
    if (!direct) env.HTTPLIB_SYNC_DIRECT = '0';
    // Once the child answered, the writer goes: the pipe's reads end, and the child with
    // them (a read of the thread pool still blocked would hold its exit).
    return await runNode(['--import', 'tsx', scriptFile], {
      env,
      timeoutMs: 20_000,
      onStdout: (stdout) => stdout.once('data', () => writer.kill()),
    });
  } finally {
    writer.kill();
  }
}

/**
 * This process's TCP sockets connected to `127.0.0.1:port`, by the inode `/proc/self/fd`
 * links them to (`socket:[inode]`): the client sockets the blocking API's worker opened
 * to one of the peer's servers. Null where /proc does not tell (not Linux).
 */
export function socketsTo(port: number): Set<string> | null {
  if (!fs.existsSync('/proc/net/tcp') || !fs.existsSync('/proc/self/fd')) return null;
  const remote = `0100007F:${port.toString(16).toUpperCase().padStart(4, '0')}`;
  const inodes = new Set<string>();
  for (const line of fs.readFileSync('/proc/net/tcp', 'latin1').split('\n').slice(1)) {
    const fields = line.trim().split(/\s+/);
    // sl local_address rem_address st tx:rx tr:when retrnsmt uid timeout inode
    if (fields[2] === remote && fields[9] !== undefined && fields[9] !== '0') {
      inodes.add(fields[9]);
    }
  }
  const open = openSockets();
  return new Set([...inodes].filter((inode) => open.has(inode)));
}

/** The inodes of the sockets this process has a descriptor of. */
function openSockets(): Set<string> {
  const out = new Set<string>();
  for (const fd of fs.readdirSync('/proc/self/fd')) {
    try {
      const m = /^socket:\[(\d+)\]$/.exec(fs.readlinkSync(`/proc/self/fd/${fd}`));
      if (m !== null) out.add(m[1] as string);
    } catch {
      // Closed meanwhile.
    }
  }
  return out;
}

/**
 * The sockets of `socketsTo(port)` that were not in `before`: those a call just opened.
 * Null where /proc does not tell.
 */
export function newSocketsTo(port: number, before: Set<string> | null): Set<string> | null {
  const now = socketsTo(port);
  if (now === null || before === null) return null;
  return new Set([...now].filter((inode) => !before.has(inode)));
}

/**
 * Blocks this thread until no descriptor of the process is one of `sockets` any more (the
 * worker closed them), for at most 10 s; fails after that. Where /proc does not tell
 * (`sockets` null), waits `fallbackMs` instead.
 */
export function untilSocketsClosed(sockets: Set<string> | null, fallbackMs: number): void {
  const nap = new Int32Array(new SharedArrayBuffer(4));
  if (sockets === null) {
    Atomics.wait(nap, 0, 0, fallbackMs);
    return;
  }
  const until = Date.now() + 10_000;
  const left = (): string[] => {
    const open = openSockets();
    return [...sockets].filter((inode) => open.has(inode));
  };
  while (left().length > 0 && Date.now() < until) Atomics.wait(nap, 0, 0, 5);
  assert.deepEqual(left(), [], 'the sockets are closed within 10 s');
}
