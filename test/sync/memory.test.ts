/**
 * Large reads through the blocking API keep memory flat: the worker reads into memory it
 * reuses and the caller copies out of a shared area it reuses, so a loop of 1 MiB reads
 * leaves nothing behind for the garbage collector to catch up on (a SharedArrayBuffer per
 * read, or memory made in one thread and freed in the other, piled up hundreds of MiB).
 * A synchronous loop of requests keeps nothing of each response once it is read, though
 * the script never returns to the event loop (where finalizers and the end of a job run).
 * Connections dropped without close() give their sockets back: once collected, when the
 * event loop runs; when their server closes them, even if it never runs.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import { after, before, it } from 'node:test';
import { setTimeout as sleep, setImmediate as turn } from 'node:timers/promises';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import type * as httplib from '../../src/sync.ts';
import { runNode, type TempDir, tempDir } from '../cli/cli-harness.ts';
import {
  connectionOn,
  newSocketsTo,
  noUncaught,
  type Peer,
  pattern,
  SYNC_ENTRY,
  socketsTo,
  startPeer,
} from './peer.ts';

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

/** `n` connections to `port`, each reads one response of `path` and is dropped (no close()). */
function dropConnections(direct: boolean, port: number, path: string, n: number): void {
  for (let i = 0; i < n; i++) {
    const conn = connectionOn(direct, port);
    conn.request('GET', path);
    assert.equal(conn.getresponse().read().toString(), 'hello');
  }
}

for (const direct of [true, false]) {
  const transport = direct ? 'direct' : 'worker';
  it(`connections dropped without close() have their sockets closed once collected (${transport} transport)`, async () => {
    const before = socketsTo(peer.raw);
    if (before === null) return; // (no /proc to tell)
    // /hello-kept: a kept-alive answer, and a server that never closes the socket.
    dropConnections(direct, peer.raw, '/hello-kept', 40);
    assert.equal(newSocketsTo(peer.raw, before)?.size, 40);
    // The job ends (the twins' WeakRefs let go), the collector runs, the finalizers queue
    // the frees, and the next call carries them to the worker, which closes the sockets.
    const deadline = Date.now() + 20_000;
    let open = 40;
    while (open > 0 && Date.now() < deadline) {
      await turn();
      gc();
      await turn();
      connectionOn(false, peer.http).close();
      await sleep(20);
      open = newSocketsTo(peer.raw, before)?.size ?? 0;
    }
    assert.equal(open, 0, 'sockets of dropped connections left open');
  });

  it(`a response goes on after its connection was dropped and collected (${transport} transport)`, async () => {
    const n = 200_000;
    let collected = false;
    const registry = new FinalizationRegistry(() => {
      collected = true;
    });
    const r = ((): ReturnType<httplib.HTTPConnection['getresponse']> => {
      const conn = connectionOn(direct, peer.http);
      registry.register(conn, null);
      conn.request('GET', `/bytes?n=${n}`);
      const response = conn.getresponse();
      assert.equal(response.read(10).length, 10);
      return response;
    })();
    // (A direct response holds its connection: it is not collected while the response lives.)
    const deadline = Date.now() + 20_000;
    while (!direct && !collected && Date.now() < deadline) {
      await turn();
      gc();
      await turn();
    }
    assert.equal(collected, !direct);
    await turn();
    // The next call carries the connection's free to the worker: the socket stays for the
    // response, as a Python response holds its socket, until its end.
    connectionOn(false, peer.http).close();
    assert.deepEqual(r.read(), pattern(n).subarray(10));
    assert.equal(r.isclosed(), true);
  });

  it(`connections dropped without close() have their sockets closed when their server closes them, the event loop never run (${transport} transport)`, () => {
    const before = socketsTo(peer.raw);
    if (before === null) return;
    // /hello-fin: a kept-alive answer, then the server's FIN 100 ms later.
    dropConnections(direct, peer.raw, '/hello-fin', 20);
    // Waits here, in this job (no finalizer can run), for the sockets to close.
    const pause = new Int32Array(new SharedArrayBuffer(4));
    const deadline = Date.now() + 10_000;
    let open = newSocketsTo(peer.raw, before)?.size ?? 0;
    while (open > 0 && Date.now() < deadline) {
      Atomics.wait(pause, 0, 0, 20);
      open = newSocketsTo(peer.raw, before)?.size ?? 0;
    }
    assert.equal(open, 0, 'sockets the server closed left open');
  });
}

for (const direct of [true, false]) {
  const transport = direct ? 'direct' : 'worker';
  it(`bursts of connections, all closed after each, do not grow the memory burst by burst (${transport} transport)`, () => {
    const burst = (): number => {
      const conns = [];
      for (let i = 0; i < 24; i++) {
        const conn = connectionOn(direct, peer.http);
        conn.request('GET', '/bytes?n=1048576');
        assert.equal(conn.getresponse().read().length, 1048576);
        conns.push(conn);
      }
      for (const conn of conns) conn.close();
      // (The second collection waits for the first one's freeing of array buffers, which
      // goes on in the background.)
      gc();
      gc();
      return process.memoryUsage().arrayBuffers;
    };
    const first = burst();
    burst();
    const grew = burst() - first;
    // (Each burst's rings stayed until the worker's own collection: 48 MiB more.)
    assert.ok(grew < 12 * 1024 * 1024, `grew by ${Math.round(grew / 1048576)} MiB`);
  });
}
