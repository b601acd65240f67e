/**
 * Starts the servers of peer-thread.ts in a worker thread (the calls of the blocking API
 * block the test's thread, so its servers must run elsewhere), and the helpers the
 * blocking API's tests share.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { after } from 'node:test';
import { Worker } from 'node:worker_threads';
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

export async function startPeer(tls?: { cert: string; key: string }): Promise<Peer> {
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
