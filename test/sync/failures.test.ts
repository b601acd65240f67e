/**
 * A worker that fails never leaves the caller blocked: an exception in it, its exit, its
 * thread stopped from outside, or a worker that stops answering (stuck) all become an
 * exception thrown from the call, within a bound; the next call starts a new worker, and
 * the caller's connections (and legacy HTTP objects) carry on there (as if they had been
 * closed).
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { after, before, describe, it } from 'node:test';
import { currentWorker, testHook, tuning } from '../../src/sync/channel.ts';
import * as httplib from '../../src/sync.ts';
import { legacyGet, noUncaught, type Peer, startPeer, thrown } from './peer.ts';

noUncaught();
let peer: Peer;
const saved = { ...tuning };
before(async () => {
  peer = await startPeer();
  httplib.setdefaulttimeout(10);
  tuning.staleMs = 600;
  tuning.sliceMs = 50;
});
after(async () => {
  Object.assign(tuning, saved);
  httplib.setdefaulttimeout(null);
  await peer.close();
});

/** A connection that made a request, its response read. */
function connected(): httplib.HTTPConnection {
  const conn = new httplib.HTTPConnection('127.0.0.1', peer.http);
  conn.request('GET', '/hello');
  assert.equal(conn.getresponse().read().toString(), 'hello\n');
  return conn;
}

/** `fn` throws the worker's failure, within `ms`. */
function failsWithin(ms: number, fn: () => void, message: RegExp): Error {
  const start = performance.now();
  const err = thrown(fn) as Error & { code?: string };
  const took = performance.now() - start;
  assert.ok(err instanceof Error, String(err));
  assert.equal(err.code, 'ERR_HTTPLIB_SYNC_WORKER', String(err));
  assert.match(err.message, message);
  assert.ok(took < ms, `took ${took} ms`);
  return err;
}

/** After a failure: a new worker serves new and old connections. */
function carriesOn(conn: httplib.HTTPConnection, old: unknown): void {
  conn.request('GET', '/hello');
  assert.equal(conn.getresponse().read().toString(), 'hello\n');
  assert.notEqual(currentWorker(), old, 'a new worker');
  const fresh = connected();
  fresh.close();
  conn.close();
}

describe('a worker that fails', () => {
  it('an uncaught exception in the worker: thrown from the call, with its message', () => {
    const conn = connected();
    const old = currentWorker();
    const err = failsWithin(
      3000,
      () => testHook('throw'),
      /failed: httplib-ts\/sync test hook: an exception in the worker/,
    );
    assert.ok((err as Error & { cause?: unknown }).cause instanceof Error);
    carriesOn(conn, old);
  });

  it('the worker exits during a call', () => {
    const conn = connected();
    const old = currentWorker();
    failsWithin(3000, () => testHook('exit'), /exited/);
    carriesOn(conn, old);
  });

  it('the worker is stuck (no heartbeat): the watchdog gives up after staleMs', () => {
    const conn = connected();
    const old = currentWorker();
    failsWithin(tuning.staleMs + 2000, () => testHook('hang'), /stopped responding/);
    carriesOn(conn, old);
  });

  it('the worker was terminated between calls: the next call throws, then all carries on', async () => {
    const conn = connected();
    const old = currentWorker();
    testHook('terminate');
    // The request may still go out on its socket (the direct transport writes it here):
    // then waiting for the response finds the worker gone.
    failsWithin(
      2 * tuning.staleMs + 2000,
      () => {
        conn.request('GET', '/hello');
        conn.getresponse();
      },
      /exited|stopped responding|replaced/,
    );
    carriesOn(conn, old);
    // The same, with the caller's event loop run in between: its 'exit' is seen at once.
    const again = connected();
    const before = currentWorker();
    assert.ok(before !== null);
    // Waits for the thread's end itself (a fixed sleep was too short on a loaded machine);
    // the channel's own 'exit' listener, added first, has run by then.
    const exited = once(before, 'exit');
    testHook('terminate');
    await exited;
    failsWithin(1000, () => again.request('GET', '/hello'), /exited/);
    carriesOn(again, before);
  });

  it('a response of the lost worker: reads throw, what was copied here still reads', () => {
    const conn = new httplib.HTTPConnection('127.0.0.1', peer.http);
    conn.request('GET', '/bytes?n=100');
    const r = conn.getresponse();
    failsWithin(3000, () => testHook('exit'), /exited/);
    assert.equal(r.status, 200);
    assert.equal(r.getheader('content-length'), '100');
    const err = thrown(() => r.read()) as Error & { code?: string };
    assert.equal(err.code, 'ERR_HTTPLIB_SYNC_WORKER');
    assert.match(err.message, /replaced/);
    r.close();
    conn.close();
  });

  it('a legacy HTTP object carries on in the new worker, as a connection does, with its attributes', () => {
    const h = new httplib.HTTP('127.0.0.1', peer.http);
    const get = (): string => legacyGet(h, '/hello');
    assert.equal(get(), 'hello\n');
    const debug: string[] = [];
    h._conn.debugOutput = (text) => debug.push(text);
    h.set_debuglevel(1);
    const old = currentWorker();
    failsWithin(3000, () => testHook('exit'), /exited/);
    // Before: every later call threw a plain Error ("this HTTP object belonged to a worker
    // thread that failed and was replaced"), with no code.
    assert.equal(get(), 'hello\n');
    assert.notEqual(currentWorker(), old, 'a new worker');
    // The debug level set before the failure is the new worker's object's too.
    assert.match(debug.join(''), /^send: 'GET \/hello HTTP\/1\.0/m);
    assert.equal(get(), 'hello\n');
    // As if closed: the reply's file of the lost worker is gone.
    failsWithin(3000, () => testHook('exit'), /exited/);
    h.close();
    assert.equal(h.getfile(), null);
    assert.equal(get(), 'hello\n');
    h.close();
  });

  it("an exception inside a command is that call's exception, and the worker goes on", () => {
    const conn = connected();
    const old = currentWorker();
    const err = thrown(() => testHook('no-such-hook' as never));
    assert.ok(err instanceof Error);
    assert.match((err as Error).message, /test hook: no-such-hook/);
    assert.equal(currentWorker(), old);
    conn.close();
  });
});
