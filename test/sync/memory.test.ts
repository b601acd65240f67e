/**
 * Large reads through the blocking API keep memory flat: the worker reads into memory it
 * reuses and the caller copies out of a shared area it reuses, so a loop of 1 MiB reads
 * leaves nothing behind for the garbage collector to catch up on (a SharedArrayBuffer per
 * read, or memory made in one thread and freed in the other, piled up hundreds of MiB).
 * A synchronous loop of requests keeps nothing of each response once it is read, though
 * the script never returns to the event loop (where finalizers and the end of a job run).
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import { after, before, it } from 'node:test';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { runNode, type TempDir, tempDir } from '../cli/cli-harness.ts';
import { connectionOn, noUncaught, type Peer, SYNC_ENTRY, startPeer } from './peer.ts';

noUncaught();
setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

/** This thread's heap after full collections, in bytes. */
function heapAfterGc(): number {
  gc();
  gc();
  return process.memoryUsage().heapUsed;
}
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

it('400 reads of 1 MiB (and 64 KiB pieces of them) grow the process by well under 400 MiB', async () => {
  const file = tmp.file('rss.mts');
  fs.writeFileSync(
    file,
    `import * as httplib from ${JSON.stringify(SYNC_ENTRY)};
httplib.setdefaulttimeout(10);
const conn = new httplib.HTTPConnection('127.0.0.1', ${peer.http});
const get = () => { conn.request('GET', '/bytes?n=1048576'); return conn.getresponse(); };
for (let i = 0; i < 5; i++) get().read();
const base = process.memoryUsage.rss();
let peak = base;
for (let i = 0; i < 400; i++) {
  const r = get();
  if (i % 4 !== 3) r.read(); else while (r.read(65536).length > 0);
  peak = Math.max(peak, process.memoryUsage.rss());
}
console.log(Math.round((peak - base) / 1048576));
`,
  );
  const result = await runNode(['--import', 'tsx', file], { timeoutMs: 120_000 });
  assert.equal(result.code, 0, result.stderr);
  const grewMiB = Number(result.out.trim());
  assert.ok(grewMiB < 150, `RSS grew by ${grewMiB} MiB`);
});

for (const direct of [true, false]) {
  const transport = direct ? 'direct' : 'worker';
  it(`2500 responses read in a synchronous loop leave the heap flat (${transport} transport)`, () => {
    const conn = connectionOn(direct, peer.http);
    const get = (): void => {
      conn.request('GET', '/hello');
      assert.equal(conn.getresponse().read().length, 6);
    };
    for (let i = 0; i < 50; i++) get();
    // All in this one job: nothing may wait for its end, nor for the event loop.
    const base = heapAfterGc();
    for (let i = 0; i < 2500; i++) get();
    const grew = heapAfterGc() - base;
    conn.close();
    // (Each response stayed in memory, ~2 KB, while the loop ran: 5 MiB.)
    assert.ok(grew < 1024 * 1024, `the heap grew by ${Math.round(grew / 1024)} KiB`);
  });
}
