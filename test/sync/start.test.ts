/**
 * Starting the worker: a new thread may take long to run its first line (a busy machine,
 * the package compiled from its TypeScript sources, which blocks its heartbeat), far longer
 * than a running worker may go without one. The start is bounded by `startSilenceMs`, not
 * by `staleMs`: on a loaded 2-core machine a start that took longer than the short
 * `staleMs` of failures.test.ts was taken for a dead worker ("the worker thread did not
 * start (after 627 ms)").
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { currentWorker, testHook, tuning } from '../../src/sync/channel.ts';
import * as httplib from '../../src/sync.ts';
import { noUncaught, type Peer, startPeer, thrown } from './peer.ts';

noUncaught();
let peer: Peer;
const saved = { ...tuning };
before(async () => {
  peer = await startPeer();
});
after(async () => {
  Object.assign(tuning, saved);
  await peer.close();
});

function hello(): void {
  const conn = new httplib.HTTPConnection('127.0.0.1', peer.http);
  conn.request('GET', '/hello');
  assert.equal(conn.getresponse().read().toString(), 'hello\n');
  conn.close();
}

/** Ends the running worker, and lets this thread's event loop see its exit. */
async function withoutWorker(): Promise<void> {
  const old = currentWorker();
  if (old === null) return;
  testHook('terminate');
  await new Promise((resolve) => old.once('exit', resolve));
  // The call that meets the lost worker says so (failures.test.ts); the next one starts anew.
  assert.match(String(thrown(hello)), /exited/);
}

describe('starting the worker', () => {
  it('a worker that has not run its first line within startSilenceMs is given up, then the next call starts one', async () => {
    hello();
    await withoutWorker();
    Object.assign(tuning, { startSilenceMs: 1, sliceMs: 5 });
    const err = thrown(hello) as Error & { code?: string };
    Object.assign(tuning, saved);
    assert.ok(err instanceof Error, String(err));
    assert.equal(err.code, 'ERR_HTTPLIB_SYNC_WORKER');
    assert.match(err.message, /did not start/);
    hello();
  });
});
