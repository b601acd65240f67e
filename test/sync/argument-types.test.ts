/**
 * Arguments and attributes of the wrong type through the blocking entry (found by an
 * argument-type fuzzer): each fails the call that was given it, with the main entry's
 * TypeError where it has one, before a byte is sent; none of them may break the channel
 * to the worker or the worker itself, so the other connections carry on.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { currentWorker, transact } from '../../src/sync/channel.ts';
import { Encoder } from '../../src/sync/wire.ts';
import * as httplib from '../../src/sync.ts';
import { noUncaught, type Peer, startPeer, thrown } from './peer.ts';

noUncaught();
let peer: Peer;
before(async () => {
  peer = await startPeer();
  httplib.setdefaulttimeout(10);
});
after(async () => {
  httplib.setdefaulttimeout(null);
  await peer.close();
});

/** A new connection's request and response, which must not take long. */
function freshWorks(): void {
  const started = Date.now();
  const conn = new httplib.HTTPConnection('127.0.0.1', peer.http, { timeout: 3 });
  conn.request('GET', '/hello');
  assert.equal(conn.getresponse().read().toString(), 'hello\n');
  conn.close();
  assert.ok(Date.now() - started < 3000, 'a fresh connection answers at once');
}

describe('a port that is not an integer 0-65535, set after the constructor', () => {
  for (const port of [10n, 70_000, 1.5]) {
    it(`${typeof port} ${String(port)}: TypeError at the request, and every connection still works`, () => {
      const conn = new httplib.HTTPConnection('127.0.0.1', peer.http, { timeout: 3 });
      (conn as { port: unknown }).port = port;
      const err = thrown(() => conn.request('GET', '/hello')) as Error;
      assert.equal(err.name, 'TypeError');
      assert.equal(err.message, `port must be an integer 0-65535, got ${String(port)}`);
      // The same connection, its port mended, and a new one.
      conn.port = peer.http;
      conn.request('GET', '/hello');
      assert.equal(conn.getresponse().read().toString(), 'hello\n');
      conn.close();
      freshWorks();
    });
  }

  it('a command JSON cannot hold throws with nothing sent: the channel stays in step', () => {
    freshWorks();
    const encoder = new Encoder();
    // A value for the port goes with it: it must not be taken for the next command's.
    encoder.ported.push(new SharedArrayBuffer(64));
    assert.throws(
      () => transact({ c: 'nop', bad: 10n as never }, encoder, null),
      /serialize a BigInt/,
    );
    freshWorks();
  });

  it('a message too large for the shared area goes before its ported values, as they are taken', () => {
    const worker = currentWorker();
    const encoder = new Encoder();
    const args = [300_000, 200_000, 100_000].map((n) => encoder.bytes(Buffer.alloc(n)));
    assert.equal(encoder.ported.length, 1);
    assert.equal(transact({ c: 'nop', a: args }, encoder, null).json.v, null);
    assert.equal(currentWorker(), worker, 'the worker lives on');
    freshWorks();
  });
});
