/**
 * The direct transport of the blocking API (plain HTTP on Node: this thread parses the
 * bytes the worker's socket puts in a ring of shared memory, and writes the requests on
 * the socket's descriptor) at its edges: a request larger than the socket takes at once
 * (the rest is written by the worker), responses whose heads, chunk framing and bodies
 * straddle the end of the ring, bodies larger than the ring (the socket pauses while the
 * ring is full), and a tunnel, which moves a connection to the worker's client.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import { after, before, describe, it } from 'node:test';
import * as httplib from '../../src/sync.ts';
import { runNode, tempDir } from '../cli/cli-harness.ts';
import {
  connectionOn,
  newSocketsTo,
  noUncaught,
  type Peer,
  pattern,
  runWithStalledPipe,
  SYNC_ENTRY,
  socketsTo,
  startPeer,
  thrown,
  untilSocketsClosed,
} from './peer.ts';

noUncaught();
let peer: Peer;
before(async () => {
  peer = await startPeer();
  httplib.setdefaulttimeout(30);
});
after(async () => {
  httplib.setdefaulttimeout(null);
  await peer.close();
});

describe('the direct transport', () => {
  it('sends a request body larger than the socket takes at once, whole and in order', async () => {
    const conn = new httplib.HTTPConnection('127.0.0.1', peer.http);
    const big = pattern(16 * 1024 * 1024 + 13);
    conn.request('PUT', '/bytes?n=5', big);
    const response = conn.getresponse();
    assert.equal(response.read().length, 5);
    // The same connection carries on.
    conn.request('GET', '/hello');
    assert.equal(conn.getresponse().read().toString(), 'hello\n');
    conn.close();
    const records = await peer.records();
    const put = records.find((r) => r.method === 'PUT');
    assert.ok(put !== undefined);
    assert.equal(put.body.length, big.length);
    assert.ok(Buffer.from(put.body, 'latin1').equals(big), 'the body arrived as sent');
  });

  it('reads heads, chunk framing and bodies that straddle the end of the ring', () => {
    const conn = new httplib.HTTPConnection('127.0.0.1', peer.http);
    // Sizes that are not powers of two, adding up to several times the ring (1 MiB), so
    // that heads, chunk-size lines and bodies all come to wrap around its end.
    let total = 0;
    for (let i = 0; total < 5 * 1024 * 1024; i++) {
      const n = 1 + ((i * 7919 + 104_729) % 150_001);
      total += n;
      const chunked = i % 3 === 0;
      conn.request('GET', chunked ? `/chunked?n=${n}&size=${1 + (i % 4093)}` : `/bytes?n=${n}`);
      const response = conn.getresponse();
      assert.equal(response.chunked, chunked);
      const body = i % 2 === 0 ? response.read() : Buffer.concat([...response]);
      assert.ok(body.equals(pattern(n)), `response ${i} (${n} bytes, chunked: ${chunked})`);
      assert.equal(response.isclosed(), true);
    }
    conn.close();
  });

  it('reads a body larger than the ring: whole, in pieces, into a buffer', () => {
    const n = 5 * 1024 * 1024 + 3;
    const expected = pattern(n);
    const conn = new httplib.HTTPConnection('127.0.0.1', peer.http);
    conn.request('GET', `/bytes?n=${n}`);
    assert.ok(conn.getresponse().read().equals(expected), 'read()');
    conn.request('GET', `/bytes?n=${n}`);
    let response = conn.getresponse();
    const pieces: Buffer[] = [];
    for (let piece = response.read(65536); piece.length > 0; piece = response.read(65536)) {
      assert.ok(piece.length === 65536 || response.isclosed(), 'read(amt) fills its size');
      pieces.push(piece);
    }
    assert.ok(Buffer.concat(pieces).equals(expected), 'read(65536)');
    conn.request('GET', `/bytes?n=${n}`);
    response = conn.getresponse();
    const into = Buffer.alloc(n + 10);
    // An odd offset: the copy out of the ring is then unaligned.
    assert.equal(response.readinto(into.subarray(1)), n);
    assert.ok(into.subarray(1, n + 1).equals(expected), 'readinto()');
    assert.equal(response.isclosed(), true);
    conn.close();
  });

  it('reads a body larger than the ring a few bytes at a time (the socket paused and resumed at every take)', () => {
    // Each take of 3 bytes wakes the worker, which reads 3 more into the full ring: the
    // pause, the room and the wake-up race every time (it once aborted the process).
    const n = 4 * 1024 * 1024 + 5;
    const expected = pattern(n);
    const conn = new httplib.HTTPConnection('127.0.0.1', peer.http);
    conn.request('GET', `/bytes?n=${n}`);
    let response = conn.getresponse();
    const pieces: Buffer[] = [];
    for (let piece = response.read1(3); piece.length > 0; piece = response.read1(3)) {
      pieces.push(piece);
    }
    assert.ok(Buffer.concat(pieces).equals(expected), 'read1(3)');
    conn.request('GET', `/bytes?n=${n}`);
    response = conn.getresponse();
    const got = Buffer.alloc(n);
    const small = Buffer.alloc(3);
    let at = 0;
    for (let k = response.readinto(small); k > 0; k = response.readinto(small)) {
      small.copy(got, at, 0, k);
      at += k;
    }
    assert.equal(at, n);
    assert.ok(got.equals(expected), 'readinto(3 bytes)');
    conn.close();
  });

  it('read1() and iteration give what is buffered at the call, never more than the ring holds, while the worker refills it', () => {
    // Before: a piece went on taking what the worker put in the ring meanwhile, so with
    // a fast peer one read1() or one step of a for...of loop took megabytes (the whole
    // body, for a few MiB), where the main entry gives what its queue held.
    const n = 32 * 1024 * 1024 + 7;
    const expected = pattern(n);
    const conn = new httplib.HTTPConnection('127.0.0.1', peer.http);
    for (const how of ['read1()', 'for...of']) {
      conn.request('GET', `/bytes?n=${n}`);
      const response = conn.getresponse();
      const pieces: Buffer[] = [];
      if (how === 'read1()') {
        for (let piece = response.read1(); piece.length > 0; piece = response.read1()) {
          pieces.push(piece);
        }
      } else {
        for (const piece of response) pieces.push(piece);
      }
      const largest = Math.max(...pieces.map((p) => p.length));
      assert.ok(largest <= 1024 * 1024, `${how}: a piece of ${largest} bytes`);
      assert.ok(Buffer.concat(pieces).equals(expected), how);
    }
    conn.close();
  });

  it('sock is null once the server closed the idle kept-alive socket, and set_tunnel() is accepted, as on the main entry', () => {
    const conn = new httplib.HTTPConnection('127.0.0.1', peer.raw);
    conn.request('GET', '/hello-fin');
    assert.equal(conn.getresponse().read().toString(), 'hello');
    assert.notEqual(conn.sock, null, 'kept alive');
    // Before: sock stayed set for ever (nothing looked at the socket's end), and
    // set_tunnel() threw "Can't setup tunnel for established connection."
    const until = Date.now() + 10_000;
    const nap = new Int32Array(new SharedArrayBuffer(4));
    while (conn.sock !== null && Date.now() < until) Atomics.wait(nap, 0, 0, 10);
    assert.equal(conn.sock, null);
    conn.set_tunnel('example.com', 443);
    assert.equal(conn._tunnel_host, 'example.com');
    conn.close();
  });

  it("gives a closed connection's ring to the next one, which its old socket does not reach", () => {
    const before = process.memoryUsage().arrayBuffers;
    for (let i = 0; i < 300; i++) {
      // Closed while the server still sends: the old socket's end comes after the close.
      const busy = new httplib.HTTPConnection('127.0.0.1', peer.http);
      busy.request('GET', `/bytes?n=${3 * 1024 * 1024}`);
      const cut = busy.getresponse();
      assert.ok(cut.read(10).equals(pattern(10)));
      busy.close();
      const next = new httplib.HTTPConnection('127.0.0.1', peer.http);
      next.request('GET', '/hello');
      const response = next.getresponse();
      assert.equal(response.read().toString(), 'hello\n', `connection ${i}`);
      next.request('GET', '/bytes?n=3000');
      assert.ok(next.getresponse().read().equals(pattern(3000)), `connection ${i}, again`);
      next.close();
    }
    // 600 connections of 1 MiB rings each: kept for reuse, not made anew.
    const grown = process.memoryUsage().arrayBuffers - before;
    assert.ok(grown < 32 * 1024 * 1024, `shared memory grew by ${grown} bytes`);
  });

  it("a kept response whose connection dropped the socket reads what was buffered, then IncompleteRead: never the next connection's bytes", () => {
    // A pipelined request whose send fails (here its debugOutput throws) makes the
    // connection destroy its socket while the response before it still reads its body.
    let armed = false;
    const conn = new httplib.HTTPConnection('127.0.0.1', peer.http, {
      debugOutput: () => {
        if (armed) throw new Error('refused by debugOutput');
      },
    });
    conn.set_debuglevel(1);
    const n = 3 * 1024 * 1024;
    conn.request('GET', `/bytes?n=${n}`);
    const response = conn.getresponse();
    assert.ok(response.read(10).equals(pattern(10)));
    armed = true;
    assert.throws(() => conn.request('GET', '/hello'), /refused by debugOutput/);
    armed = false;
    // The next connection may be given the dropped socket's memory: not under a reader.
    const next = new httplib.HTTPConnection('127.0.0.1', peer.http);
    next.request('GET', '/hello');
    const nextResponse = next.getresponse();
    const pieces: Buffer[] = [];
    let failure: unknown = null;
    try {
      for (let piece = response.read1(65536); piece.length > 0; piece = response.read1(65536)) {
        pieces.push(piece);
      }
    } catch (err) {
      failure = err;
    }
    assert.ok(failure instanceof httplib.IncompleteRead, String(failure));
    const got = Buffer.concat(pieces);
    assert.ok(got.length > 0, 'what was buffered is read');
    assert.ok(got.equals(pattern(10 + got.length).subarray(10)), 'the body as sent, nothing else');
    assert.equal(nextResponse.read().toString(), 'hello\n');
    next.close();
    conn.close();
  });

  for (const direct of [true, false]) {
    const transport = direct ? 'direct' : 'worker';
    // The worker's transport is the main entry's client, whose socket pauses the same way
    // once 256 KiB are queued (io/byte-reader.ts), and probes it the same way while sending.
    it(`a reset while the ring is full and the body waits for its source: ECONNRESET at once, not a hang (${transport} transport)`, async (t) => {
      if (process.platform === 'win32') {
        t.skip('no named pipes made by mkfifo here');
        return;
      }
      // The server answers early with 3 MiB (more than the ring) and resets a moment later,
      // while the body, a named pipe whose writer gave a few bytes and keeps it open, waits
      // for its next piece (for a minute). The full ring stopped the reading: the reset
      // must be seen all the same. Run in a child: a call that hangs blocks its thread.
      const tmp = tempDir();
      const fifo = tmp.file(`answer-reset-${transport}.fifo`);
      const script = tmp.file(`answer-reset-${transport}.mts`);
      try {
        const result = await runWithStalledPipe(
          fifo,
          script,
          `import * as fs from 'node:fs';
import * as httplib from ${JSON.stringify(SYNC_ENTRY)};
const conn = new httplib.HTTPConnection('127.0.0.1', ${peer.raw});
const stream = fs.createReadStream(${JSON.stringify(fifo)});
let outcome = 'no error';
try {
  conn.request('PUT', '/answer-reset-later', stream, { 'Content-Length': '1000' });
} catch (err) {
  outcome = err instanceof Error ? String(err.code) : 'not an Error: ' + String(err);
}
let then = 'no response';
try {
  then = 'status ' + conn.getresponse().status;
} catch (err) {
  then = err instanceof Error ? err.name : String(err);
}
conn.close();
const next = new httplib.HTTPConnection('127.0.0.1', ${peer.http});
next.request('GET', '/hello');
console.log(outcome, then, JSON.stringify(next.getresponse().read().toString()));
process.exit(0);
`,
          direct,
        );
        assert.equal(result.code, 0, `${result.out}\n${result.stderr}`);
        // As in Python (and the main entry): the send fails, getresponse() reads the
        // answer that had come.
        assert.match(result.out, /^(ECONNRESET|EPIPE) status 200 "hello\\n"\n$/);
      } finally {
        tmp.remove();
      }
    });

    it(`an iterable body whose write fails is let go (its return()) within the call, and the next calls carry on (${transport} transport)`, () => {
      // The server resets a moment after the head while the iterable still gives pieces:
      // a write fails. Its return() used to be asked for after the call's reply, which the
      // caller then took for the reply to its next command.
      const conn = connectionOn(direct, peer.raw);
      let returned = false;
      let given = 0;
      const pause = new Int32Array(new SharedArrayBuffer(4));
      const body = (function* () {
        try {
          for (; given < 200; given++) {
            yield `piece ${given};`;
            Atomics.wait(pause, 0, 0, 50);
          }
        } finally {
          returned = true;
        }
      })();
      const err = thrown(() =>
        conn.request('PUT', '/reset-later', body, { 'Content-Length': '100000' }),
      ) as NodeJS.ErrnoException;
      assert.match(String(err.code), /^(ECONNRESET|EPIPE)$/, String(err));
      // Carried from the thread that met it as net words it: "write EPIPE" (or "read
      // ECONNRESET"), with its syscall.
      assert.match(err.message, /^(write|read) (ECONNRESET|EPIPE)$/, String(err));
      assert.equal(err.syscall, err.message.split(' ')[0]);
      assert.ok(given < 200, 'the send failed before the iterable ended');
      assert.equal(returned, true, 'the iterable was let go before the call returned');
      conn.close();
      for (let i = 0; i < 3; i++) {
        const next = connectionOn(direct, peer.http);
        next.request('GET', '/hello');
        assert.equal(next.getresponse().read().toString(), 'hello\n');
        next.close();
      }
    });
  }

  it("a send() on a socket the server closed fails with net's 'write EPIPE', from this thread's own write", () => {
    // The direct transport writes on the socket's descriptor here (ring.ts `write`), not
    // in the worker: its failure must be worded as net words a failed write, with the
    // system call, as the worker's are (fs.writeSync's own is "EPIPE: broken pipe, write").
    const conn = connectionOn(true, peer.raw);
    const pause = new Int32Array(new SharedArrayBuffer(4));
    conn.putrequest('PUT', '/fin-close');
    conn.putheader('Content-Length', '100000');
    conn.endheaders();
    let sent = 0;
    const err = thrown(() => {
      // The first piece after the close is taken by the kernel and answered with a reset;
      // a later one fails.
      for (; sent < 20; sent++) {
        Atomics.wait(pause, 0, 0, 100);
        conn.send(Buffer.from('piece'));
      }
    }) as NodeJS.ErrnoException;
    assert.ok(sent < 20, 'a send failed');
    assert.match(String(err.code), /^(EPIPE|ECONNRESET)$/, String(err));
    assert.equal(err.message, `write ${err.code}`);
    assert.equal(err.syscall, 'write');
    conn.close();
  });

  it("never writes on a descriptor the worker closed: a reset socket's number reused by a file", () => {
    // Node destroys the worker's socket on a reset, which frees its descriptor; the next
    // file opened takes that number. endheaders() used to write the request into the file.
    const tmp = tempDir();
    const victim = tmp.file('victim.txt');
    const conn = connectionOn(true, peer.raw);
    try {
      const before = socketsTo(peer.raw);
      conn.request('GET', '/hello-reset');
      assert.equal(conn.getresponse().read().toString(), 'hello');
      const mine = newSocketsTo(peer.raw, before);
      conn.putrequest('GET', '/after-reset');
      // The reset comes (200 ms after the answer), and the worker closes the socket: its
      // descriptor is gone from the process (not `conn.sock`, which would drop the socket).
      untilSocketsClosed(mine, 600);
      fs.writeFileSync(victim, 'original\n');
      const fd = fs.openSync(victim, 'r+');
      try {
        conn.endheaders();
      } finally {
        fs.closeSync(fd);
      }
      assert.equal(fs.readFileSync(victim, 'latin1'), 'original\n');
      // As the main entry: the reset socket is dropped and the request opens a new one.
      assert.equal(conn.getresponse().status, 404);
    } finally {
      conn.close();
      tmp.remove();
    }
  });

  it("never writes on a descriptor the worker closed: a reset socket's number reused by another connection", () => {
    const a = connectionOn(true, peer.raw);
    const b = connectionOn(true, peer.http);
    try {
      const before = socketsTo(peer.raw);
      a.request('GET', '/partial-reset');
      // The reset comes (200 ms after the head), and the worker closes a's socket.
      untilSocketsClosed(newSocketsTo(peer.raw, before), 600);
      // b's new socket takes the number a's had.
      b.putrequest('POST', '/echo');
      b.putheader('Content-Length', '10');
      b.endheaders();
      const err = thrown(() => a.send('FROM-CONNA')) as NodeJS.ErrnoException;
      assert.equal(err.code, 'ECONNRESET', String(err));
      b.send('0123456789');
      assert.equal(JSON.parse(b.getresponse().read().toString()).body, '0123456789');
    } finally {
      a.close();
      b.close();
    }
  });

  it('takes a connection to the worker when a tunnel is set, before it connects', () => {
    const conn = new httplib.HTTPConnection('127.0.0.1', peer.http);
    conn.request('GET', '/hello');
    conn.getresponse().read();
    assert.throws(
      () => conn.set_tunnel('example.com', 80),
      (err: Error & { code?: string }) => err.code === 'ERR_HTTPLIB_TUNNEL_ESTABLISHED',
    );
    conn.close();
    conn.set_tunnel('example.com', 80);
    assert.equal(conn._tunnel_host, 'example.com');
    assert.equal(conn._tunnel_port, 80);
    conn.close();
  });

  it('closes the sockets of connections dropped without close()', async (t) => {
    if (!fs.existsSync('/proc/self/fd')) {
      t.skip('no /proc/self/fd here');
      return;
    }
    const tmp = tempDir();
    const file = tmp.file('dropped.mts');
    fs.writeFileSync(
      file,
      `import * as httplib from ${JSON.stringify(SYNC_ENTRY)};
import { readdirSync, readlinkSync } from 'node:fs';
const sockets = () => readdirSync('/proc/self/fd').filter((f) => {
  try { return readlinkSync('/proc/self/fd/' + f).startsWith('socket:'); } catch { return false; }
}).length;
const use = () => {
  const conn = new httplib.HTTPConnection('127.0.0.1', ${peer.http});
  conn.request('GET', '/hello');
  conn.getresponse().read();
};
use();
const base = sockets();
for (let i = 0; i < 20; i++) use();
const grown = sockets() - base;
for (let i = 0; i < 3; i++) {
  globalThis.gc();
  await new Promise((resolve) => setTimeout(resolve, 50));
}
use(); // its connect carries the closes queued meanwhile
console.log(grown >= 20 ? 'grew' : 'did not grow: ' + grown, sockets() - base <= 2 ? 'closed' : 'left open: ' + (sockets() - base));
`,
    );
    const result = await runNode(['--expose-gc', '--import', 'tsx', file], { timeoutMs: 60_000 });
    tmp.remove();
    assert.equal(result.code, 0, result.stderr);
    assert.equal(result.out, 'grew closed\n');
  });
});
