/**
 * The worker transport's command loop wakes on the caller's notify; a wake-up that
 * brings no new command (a caller preempted between storing its command's number and
 * notifying: the worker may have run that command already, through its value check) must
 * not run the last command again. It did, about once in 70,000 requests: a send sent
 * twice, a read that found its body gone (0 bytes of 100), a `getresponse()` that found
 * the connection `Idle` (ResponseNotReady) right after its request.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { testHook } from '../../src/sync/channel.ts';
import { directTransport } from '../../src/sync/direct.ts';
import * as httplib from '../../src/sync.ts';
import { noUncaught, type Peer, startPeer } from './peer.ts';

noUncaught();
let peer: Peer;
const saved = directTransport.enabled;
before(async () => {
  peer = await startPeer();
  httplib.setdefaulttimeout(10);
  // The worker's client: the direct transport sends without commands.
  directTransport.enabled = false;
});
after(async () => {
  directTransport.enabled = saved;
  httplib.setdefaulttimeout(null);
  await peer.close();
});

describe('a wake-up of the worker with no new command', () => {
  it('runs nothing again: a send() goes out once', async () => {
    const conn = new httplib.HTTPConnection('127.0.0.1', peer.http);
    conn.putrequest('POST', '/echo?wake');
    conn.putheader('Content-Length', 4);
    conn.endheaders();
    conn.send('ab');
    // Once the worker waits for the next command (its reply came just before), a wake-up
    // with nothing new; then time for the worker to act on it.
    await sleep(100);
    testHook('wake');
    await sleep(200);
    conn.send('cd');
    const echoed = JSON.parse(conn.getresponse().read().toString()) as { body: string };
    assert.equal(echoed.body, 'abcd');
    conn.close();
  });

  it('runs nothing again: a read(amt) is not repeated', async () => {
    const conn = new httplib.HTTPConnection('127.0.0.1', peer.http);
    conn.request('GET', '/bytes?n=100');
    const response = conn.getresponse();
    assert.equal(response.read(50).length, 50);
    await sleep(100);
    testHook('wake');
    await sleep(200);
    assert.equal(response.read().length, 50);
    conn.close();
  });
});
