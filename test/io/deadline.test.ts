/**
 * The one timeout / abort / close path (src/io/deadline.ts), without sockets: what ends
 * a wait early and with which error (the phase, the peer and the seconds of a timeout;
 * the phase of a close by the caller), that signals are listened to only while a wait
 * holds them, that no timer exists without a timeout, and that a deadline handed to a
 * response no longer hears `close()`.
 */
import assert from 'node:assert/strict';
import { getEventListeners } from 'node:events';
import { describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { callWait, Deadline, releasing, type WaitOptions } from '../../src/io/deadline.ts';
import { AbortError, TimeoutError } from '../../src/protocol/errors.ts';
import { trackTimers } from '../integration/servers.ts';

const PROXY = { host: 'proxy.test', port: 3128 };
const ORIGIN = { host: 'origin.test', port: 443 };

/** A deadline whose victim records what ended it. */
function deadline(epoch: AbortSignal | null = null): { d: Deadline; ended: Error[] } {
  const d = new Deadline(epoch, PROXY, ORIGIN);
  const ended: Error[] = [];
  d.victim = (err) => ended.push(err);
  return { d, ended };
}

describe('Deadline', () => {
  it('a timeout names the phase, the peer (the proxy for connect and tunnel) and the seconds', async () => {
    for (const [phase, peer] of [
      ['connect', PROXY],
      ['tunnel', PROXY],
      ['handshake', ORIGIN],
      ['head', ORIGIN],
      ['body', ORIGIN],
      ['send', ORIGIN],
    ] as const) {
      const { d, ended } = deadline();
      assert.equal(d.begin(phase, { timeoutMs: 20, seconds: 0.02 }), null);
      await sleep(60);
      const err = ended[0];
      assert.ok(err instanceof TimeoutError, `${phase}: ${String(err)}`);
      assert.equal(err.phase, phase);
      assert.equal(err.host, peer.host);
      assert.equal(err.port, peer.port);
      assert.equal(err.seconds, 0.02);
      assert.equal(ended.length, 1);
      d.dispose();
    }
  });

  it('timeout 0 fails at once (Python: a non-blocking socket); nothing is armed', async () => {
    const timers = await trackTimers();
    try {
      const { d, ended } = deadline();
      const err = d.begin('head', { timeoutMs: 0, seconds: 0 });
      assert.ok(err instanceof TimeoutError);
      assert.match(err.message, /^timed out after 0 s waiting for the response head from/);
      assert.deepEqual(ended, []);
      assert.deepEqual(timers.pending(), []);
    } finally {
      timers.stop();
    }
  });

  it('a wait that ended before its timeout is not failed; no timer without a timeout', async () => {
    const timers = await trackTimers();
    try {
      const { d, ended } = deadline();
      const wait: WaitOptions = { timeoutMs: 20, seconds: 0.02 };
      d.begin('body', wait);
      d.end(wait);
      await sleep(60);
      assert.deepEqual(ended, []);
      d.dispose();
      const untimed = deadline();
      untimed.d.begin('body', {});
      untimed.d.end({});
      assert.equal(timers.pending().length, 0, 'a timer without a timeout');
    } finally {
      timers.stop();
    }
  });

  it('close() (the epoch) ends the wait with AbortError naming what was waited for', () => {
    const closer = new AbortController();
    const { d, ended } = deadline(closer.signal);
    d.begin('head', {});
    closer.abort();
    assert.equal(ended.length, 1);
    const err = ended[0] as AbortError;
    assert.ok(err instanceof AbortError);
    assert.equal(
      err.message,
      'The connection was closed by the caller while waiting for the response head',
    );
    // After the close, a new wait is refused at once.
    const again = d.check('body', {});
    assert.ok(again instanceof AbortError && /closed by the caller/.test(again.message));
  });

  it('a deadline handed to a response (detach) no longer hears close()', () => {
    const closer = new AbortController();
    const { d, ended } = deadline(closer.signal);
    d.begin('body', {});
    d.detach();
    closer.abort();
    assert.deepEqual(ended, []);
    assert.equal(getEventListeners(closer.signal, 'abort').length, 0);
  });

  it('a signal is listened to while a wait holds it, once, and then let go', () => {
    const { d, ended } = deadline();
    const controller = new AbortController();
    const wait: WaitOptions = { signal: controller.signal };
    d.begin('body', wait);
    d.begin('send', wait);
    assert.equal(getEventListeners(controller.signal, 'abort').length, 1);
    d.end(wait);
    assert.equal(getEventListeners(controller.signal, 'abort').length, 1, 'still held');
    d.end(wait);
    assert.equal(getEventListeners(controller.signal, 'abort').length, 0);
    controller.abort();
    assert.deepEqual(ended, []);
    // An aborted signal refuses a wait at once.
    assert.ok(d.begin('body', wait) instanceof AbortError);
  });

  it('an abort ends the wait with AbortError carrying the reason', () => {
    const { d, ended } = deadline();
    const controller = new AbortController();
    d.begin('body', { signal: controller.signal });
    controller.abort(new Error('stop'));
    assert.equal(ended.length, 1);
    assert.ok(ended[0] instanceof AbortError);
    assert.equal(((ended[0] as Error).cause as Error).message, 'stop');
  });

  it('until(): resolves when its event comes, ends early on timeout, cleans up either way', async () => {
    const { d } = deadline();
    let cleaned = 0;
    await d.until('connect', { timeoutMs: 1000, seconds: 1 }, (settle) => {
      setImmediate(() => settle(null));
      return () => cleaned++;
    });
    assert.equal(cleaned, 1);
    // The deadline's timer does not keep the process alive (a socket does, in real use).
    const alive = setTimeout(() => {}, 5000);
    await assert.rejects(
      d.until('handshake', { timeoutMs: 20, seconds: 0.02 }, () => () => cleaned++),
      (err: unknown) => err instanceof TimeoutError && err.phase === 'handshake',
    );
    assert.equal(cleaned, 2);
    clearTimeout(alive);
    d.dispose();
  });

  describe("callWait(): a call's own signal joined to the connection's", () => {
    const listeners = (signal: AbortSignal): number => getEventListeners(signal, 'abort').length;

    it('fires with the reason of whichever fires first, then holds no listener', () => {
      for (const first of ['own', 'shared'] as const) {
        const own = new AbortController();
        const shared = new AbortController();
        const wait = callWait(20, own.signal, shared.signal);
        assert.equal(wait.timeoutMs, 20);
        const joined = wait.signal as AbortSignal;
        assert.notEqual(joined, own.signal);
        assert.notEqual(joined, shared.signal);
        assert.equal(listeners(own.signal), 1);
        assert.equal(listeners(shared.signal), 1);
        const reason = new Error(first);
        (first === 'own' ? own : shared).abort(reason);
        assert.equal(joined.aborted, true);
        assert.equal(joined.reason, reason);
        assert.equal(listeners(own.signal), 0);
        assert.equal(listeners(shared.signal), 0);
        (first === 'own' ? shared : own).abort(new Error('later'));
        assert.equal(joined.reason, reason, 'the first reason stays');
        wait.release();
      }
    });

    it('release() takes both listeners off: an abort after it does not reach the call', () => {
      const own = new AbortController();
      const shared = new AbortController();
      const wait = callWait(null, own.signal, shared.signal);
      wait.release();
      wait.release();
      assert.equal(listeners(own.signal), 0);
      assert.equal(listeners(shared.signal), 0);
      shared.abort();
      assert.equal((wait.signal as AbortSignal).aborted, false);
    });

    it('an input already aborted: the call is aborted at once with its reason (its own first)', () => {
      const own = new AbortController();
      const shared = new AbortController();
      own.abort(new Error('own'));
      shared.abort(new Error('shared'));
      const fresh = new AbortController().signal;
      for (const [a, b, reason] of [
        [own.signal, shared.signal, 'own'],
        [own.signal, fresh, 'own'],
        [fresh, shared.signal, 'shared'],
      ] as const) {
        const wait = callWait(null, a, b);
        const signal = wait.signal as AbortSignal;
        assert.equal(signal.aborted, true);
        assert.equal((signal.reason as Error).message, reason);
        wait.release();
        assert.equal(listeners(a) + listeners(b), 0, 'nothing listened to');
      }
    });

    it('no connection signal (or the same one): the call waits on its own signal alone', () => {
      const own = new AbortController().signal;
      assert.equal(callWait(null, own, null).signal, own);
      assert.equal(callWait(null, own, undefined).signal, own);
      assert.equal(callWait(null, own, own).signal, own);
      assert.equal(listeners(own), 0);
    });

    it('under a deadline: the connection signal ends the wait with its reason', async () => {
      const { d, ended } = deadline();
      const own = new AbortController();
      const shared = new AbortController();
      const wait = callWait(null, own.signal, shared.signal);
      const pending = releasing(
        d.until('body', wait, () => () => {}),
        wait,
      );
      shared.abort(new Error('connection'));
      await assert.rejects(pending, (err: unknown) => {
        assert.ok(err instanceof AbortError);
        assert.equal((err.cause as Error).message, 'connection');
        return true;
      });
      assert.deepEqual(ended, []);
      assert.equal(listeners(own.signal) + listeners(shared.signal), 0);
      assert.equal(listeners(wait.signal as AbortSignal), 0);
      d.dispose();
    });
  });
});
