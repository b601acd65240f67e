/**
 * A process that used the blocking API exits by itself: the worker thread never keeps it
 * alive, whatever the caller left behind (an open connection, an unread response, a
 * worker that failed). Each case is a child process that must end, with code 0 and its
 * output, well within a bound.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { runNode, type TempDir, tempDir } from '../cli/cli-harness.ts';
import { noUncaught, type Peer, SYNC_ENTRY, startPeer } from './peer.ts';

noUncaught();
let peer: Peer;
let tmp: TempDir;
before(async () => {
  peer = await startPeer();
  tmp = tempDir();
});
after(async () => {
  tmp.remove();
  await peer.close();
});

/** Runs `body` (a module that imported the blocking API as `httplib`) in a child; checks it ends. */
async function exitsByItself(name: string, body: string, expected: string): Promise<void> {
  const file = tmp.file(`${name}.mts`);
  fs.writeFileSync(
    file,
    `import * as httplib from ${JSON.stringify(SYNC_ENTRY)};\nhttplib.setdefaulttimeout(10);\n${body}\n`,
  );
  const start = performance.now();
  // Killed after 20 s: a process kept alive fails here instead of hanging the run.
  const result = await runNode(['--import', 'tsx', file], { timeoutMs: 20_000 });
  const took = performance.now() - start;
  assert.equal(
    result.signal,
    null,
    `killed after ${Math.round(took)} ms: it did not exit by itself`,
  );
  assert.equal(result.code, 0, result.stderr);
  assert.equal(result.out, expected);
}

describe('a process that used the blocking API', () => {
  it('exits by itself with a kept-alive connection left open', async () => {
    await exitsByItself(
      'open',
      `const conn = new httplib.HTTPConnection('127.0.0.1', ${peer.http});
conn.request('GET', '/hello');
console.log(conn.getresponse().read().toString().trim());`,
      'hello\n',
    );
  });

  it('exits by itself with a response left unread', async () => {
    await exitsByItself(
      'unread',
      `const conn = new httplib.HTTPConnection('127.0.0.1', ${peer.http});
conn.request('GET', '/bytes?n=3000000');
console.log(conn.getresponse().status);`,
      '200\n',
    );
  });

  it('exits by itself when only a connection was made (the worker started)', async () => {
    await exitsByItself(
      'idle',
      "new httplib.HTTPConnection('localhost'); console.log('made');",
      'made\n',
    );
  });

  it('exits by itself after its worker failed', async () => {
    await exitsByItself(
      'failed',
      `const { testHook } = await import(${JSON.stringify(new URL('../../src/sync/channel.ts', import.meta.url).pathname)});
try { testHook('exit'); } catch (err) { console.log(err.code); }
const conn = new httplib.HTTPConnection('127.0.0.1', ${peer.http});
conn.request('GET', '/hello');
console.log(conn.getresponse().status);`,
      'ERR_HTTPLIB_SYNC_WORKER\n200\n',
    );
  });

  it('works and exits from an ES module given with -e (--input-type=module reaches the worker too)', async () => {
    const code = `import * as httplib from ${JSON.stringify(SYNC_ENTRY)};
const conn = new httplib.HTTPConnection('127.0.0.1', ${peer.http});
conn.request('GET', '/hello');
console.log(conn.getresponse().read().toString().trim());`;
    const start = performance.now();
    const result = await runNode(['--import', 'tsx', '--input-type=module', '-e', code], {
      timeoutMs: 20_000,
    });
    assert.equal(result.signal, null, `killed after ${Math.round(performance.now() - start)} ms`);
    assert.equal(result.code, 0, result.stderr);
    assert.equal(result.out, 'hello\n');
  });

  it('exits by itself when its event loop has timers of its own after the calls', async () => {
    await exitsByItself(
      'timers',
      `const conn = new httplib.HTTPConnection('127.0.0.1', ${peer.http});
conn.request('GET', '/hello');
conn.getresponse().read();
setTimeout(() => console.log('timer'), 50);`,
      'timer\n',
    );
  });
});
