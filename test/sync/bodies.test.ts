/**
 * Request bodies of the blocking API: every kind the main entry takes that can be read
 * without this thread's event loop goes out exactly as the main entry sends it (the
 * server's records of both are compared); async iterables and other Readables are
 * refused with a TypeError before anything is sent; a body that fails throws its own
 * error from the call, and the connection stays usable.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import { open } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import * as main from '../../src/index.ts';
import { descriptorsPerThread } from '../../src/sync/bodies.ts';
import * as httplib from '../../src/sync.ts';
import {
  connectionOn,
  noUncaught,
  type Peer,
  type Recorded,
  runWithStalledPipe,
  SYNC_ENTRY,
  sameAsMain,
  startPeer,
  thrown,
} from './peer.ts';

noUncaught();
let peer: Peer;
let dir: string;
let file: string;
const CONTENT = Buffer.from('0123456789abcdefghij'.repeat(1000));

before(async () => {
  peer = await startPeer();
  httplib.setdefaulttimeout(10);
  dir = fs.mkdtempSync(join(tmpdir(), 'httplib-sync-bodies-'));
  file = join(dir, 'body.bin');
  fs.writeFileSync(file, CONTENT);
});
after(async () => {
  httplib.setdefaulttimeout(null);
  await peer.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

/** What the server recorded of one request, headers as `name: value` lines. */
async function last(): Promise<Recorded> {
  const all = await peer.records();
  return all.at(-1) as Recorded;
}

/** Sends `make()`'s body through both entries; returns both records (sync first). */
async function both(
  method: string,
  make: () => unknown,
  headers?: Record<string, string>,
): Promise<[Recorded, Recorded]> {
  const conn = new httplib.HTTPConnection('127.0.0.1', peer.http);
  conn.request(method, '/echo', make() as httplib.RequestBody, headers);
  conn.getresponse().read();
  conn.close();
  const ours = await last();
  const a = new main.HTTPConnection('127.0.0.1', peer.http);
  await a.request(method, '/echo', make() as main.RequestBody, headers);
  await (await a.getresponse()).read();
  a.close();
  return [ours, await last()];
}

describe('bodies go out as the main entry sends them', () => {
  const kinds: Array<[string, () => unknown]> = [
    ['a string (UTF-8)', () => 'héllo wörld'],
    ['an empty string', () => ''],
    ['a Buffer', () => Buffer.from('bytes\x00\xff')],
    ['a Uint8Array', () => new Uint8Array([1, 2, 3])],
    ['a Float32Array', () => new Float32Array([1.5, -2])],
    ['a DataView window', () => new DataView(new ArrayBuffer(8), 2, 4)],
    ['an ArrayBuffer', () => new Uint8Array([9, 8, 7]).buffer],
    ['a large Buffer (over the shared area)', () => Buffer.alloc(700_000, 'z')],
    ['a Blob', () => new Blob(['blob ', Buffer.from('parts')])],
    ['an array of pieces (chunked)', () => ['a', Buffer.from('b'), new Uint8Array([99])]],
    [
      'a generator (chunked)',
      () =>
        (function* () {
          yield 'one ';
          yield Buffer.from('two');
          yield '';
        })(),
    ],
    ['a Set of strings (an iterable)', () => new Set(['x', 'y'])],
    ['no body on PUT', () => null],
  ];
  for (const [name, make] of kinds) {
    it(name, async () => {
      const [ours, theirs] = await both('PUT', make);
      assert.deepEqual(ours, theirs);
    });
  }

  it('a FileHandle, read through its descriptor, never closed', async () => {
    const handle = await open(file);
    try {
      const conn = new httplib.HTTPConnection('127.0.0.1', peer.http);
      conn.request('PUT', '/echo', handle);
      conn.getresponse().read();
      conn.close();
      const rec = await last();
      assert.equal(rec.body, CONTENT.toString('latin1'));
      assert.ok(rec.headers.includes(String(CONTENT.length)), 'Content-Length from fstat');
      assert.equal((await handle.stat()).size, CONTENT.length, 'still open');
    } finally {
      await handle.close();
    }
  });

  it('a file descriptor (blocking entry only), like a FileHandle', async () => {
    const fd = fs.openSync(file, 'r');
    try {
      const conn = new httplib.HTTPConnection('127.0.0.1', peer.http);
      conn.request('POST', '/echo', fd);
      conn.getresponse().read();
      conn.close();
      const rec = await last();
      assert.equal(rec.body, CONTENT.toString('latin1'));
      assert.ok(rec.headers.includes(String(CONTENT.length)));
      assert.equal(fs.fstatSync(fd).size, CONTENT.length, 'still open');
    } finally {
      fs.closeSync(fd);
    }
    // The main entry takes no number: the same TypeError as there for one that is no descriptor.
    const conn = new httplib.HTTPConnection('127.0.0.1', peer.http);
    const err = thrown(() => conn.request('POST', '/echo', 1.5));
    assert.ok(err instanceof TypeError);
    assert.match(
      (err as Error).message,
      /message_body should be a bytes-like object or an iterable, got number/,
    );
  });

  it('an fs.ReadStream, still opening, read through its file (its start/end window), then closed', async () => {
    for (const options of [{}, { start: 5, end: 14 }, { start: 19_990 }]) {
      const [ours, theirs] = await both('PUT', () => fs.createReadStream(file, options));
      assert.deepEqual(ours, theirs, JSON.stringify(options));
    }
    const stream = fs.createReadStream(file);
    const conn = new httplib.HTTPConnection('127.0.0.1', peer.http);
    conn.request('PUT', '/echo', stream);
    conn.getresponse().read();
    conn.close();
    await new Promise((resolve) => stream.once('close', () => resolve(null)));
    assert.equal(stream.destroyed, true, 'read to its end: closed, as autoClose does');
  });

  it('an fs.ReadStream given again and again keeps no listener of ours (as the main entry)', async () => {
    const conn = new httplib.HTTPConnection('127.0.0.1', peer.http);
    const warnings: Error[] = [];
    const onWarning = (w: Error): void => {
      warnings.push(w);
    };
    process.on('warning', onWarning);
    const stream = fs.createReadStream(file, { autoClose: false, start: 0, end: 9 });
    try {
      const before = stream.listenerCount('error');
      for (let i = 0; i < 12; i++) {
        conn.request('PUT', '/echo', stream);
        conn.getresponse().read();
        // Blocking calls one after another: the stream stays pending (it opens only when
        // this thread's loop turns), and must not gather a listener per call.
        assert.ok(stream.listenerCount('error') <= before + 1, `${stream.listenerCount('error')}`);
      }
      await new Promise((resolve) => setTimeout(resolve, 50));
      assert.equal(stream.listenerCount('error'), before);
      assert.deepEqual(
        warnings.map((w) => w.name),
        [],
        'no MaxListenersExceededWarning',
      );
      // A fresh stream, read to its end: nothing of ours left either.
      const fresh = fs.createReadStream(file);
      conn.request('PUT', '/echo', fresh);
      conn.getresponse().read();
      await new Promise((resolve) => setTimeout(resolve, 50));
      assert.equal(fresh.listenerCount('error'), 0);
    } finally {
      process.off('warning', onWarning);
      stream.destroy();
      conn.close();
    }
  });

  for (const direct of [true, false]) {
    it(`an fs.ReadStream already read to its end sends an empty body, as on the main entry (${direct ? 'direct' : 'worker'} transport)`, async () => {
      const file = join(dir, 'read-out.txt');
      fs.writeFileSync(file, 'hello');
      const stream = fs.createReadStream(file);
      for await (const _ of stream);
      // Ended, and closed by autoClose: not a stream destroyed before its end.
      assert.ok(stream.readableEnded && stream.destroyed);
      const conn = connectionOn(direct, peer.http);
      try {
        conn.request('POST', '/echo', stream);
        const echoed = JSON.parse(conn.getresponse().read().toString()) as Recorded;
        assert.equal(echoed.body, '');
      } finally {
        conn.close();
      }
    });

    it(`an fs.ReadStream made on a descriptor already read from sends the rest, its Content-Length what is left (Linux; chunked elsewhere), as on the main entry (${direct ? 'direct' : 'worker'} transport)`, () => {
      const file = join(dir, 'ten.txt');
      fs.writeFileSync(file, '0123456789');
      const fd = fs.openSync(file, 'r');
      const conn = connectionOn(direct, peer.http);
      try {
        fs.readSync(fd, Buffer.alloc(4), 0, 4, null);
        const stream = fs.createReadStream(null as never, { fd, autoClose: false });
        // Before: Content-Length: 10 (the file's size) for 6 bytes, BodyLengthMismatch.
        conn.request('POST', '/echo', stream);
        const echoed = JSON.parse(conn.getresponse().read().toString()) as Recorded;
        assert.equal(echoed.body, '456789');
        const length = echoed.headers[echoed.headers.indexOf('Content-Length') + 1];
        if (process.platform === 'linux') assert.equal(length, '6');
        else assert.ok(echoed.headers.includes('Transfer-Encoding'));
      } finally {
        conn.close();
        fs.closeSync(fd);
      }
    });

    it(`an fs.ReadStream the worker opened is closed when the send fails, and when it succeeds (${direct ? 'direct' : 'worker'} transport)`, async () => {
      // The worker reads the file through a stream of its own (its descriptor is this
      // process's, the worker being a thread of it): a failed send must close it too.
      const big = join(dir, 'big.bin');
      fs.writeFileSync(big, Buffer.alloc(32 * 1024 * 1024, 'b'));
      const fds = (): number => fs.readdirSync('/proc/self/fd').length;
      const conn = connectionOn(direct, peer.raw);
      /** A stream of the file; this thread's own descriptor is closed before counting. */
      const send = async (): Promise<unknown> => {
        const stream = fs.createReadStream(big);
        let outcome: unknown = null;
        try {
          conn.request('PUT', '/reset', stream);
        } catch (err) {
          outcome = err;
        }
        if (!stream.closed) {
          const closed = new Promise<void>((resolve) => stream.once('close', () => resolve()));
          stream.destroy();
          await closed;
        }
        return outcome;
      };
      // A first one: whatever a first send opens for good (the worker, its sockets).
      await send();
      conn.close();
      const before = fds();
      for (let i = 0; i < 5; i++) {
        const err = await send();
        assert.ok(err instanceof Error, 'the server resets: the send fails');
        conn.close();
      }
      assert.equal(fds(), before, 'no descriptor left open by the failed sends');
      // Sent in full: closed too (counted on a kept-alive connection, its socket open).
      const ok = new httplib.HTTPConnection('127.0.0.1', peer.http);
      const put = async (): Promise<void> => {
        const stream = fs.createReadStream(file);
        ok.request('PUT', '/echo', stream);
        const r = ok.getresponse();
        r.read();
        assert.equal(r.status, 200);
        await new Promise((resolve) =>
          stream.closed ? resolve(null) : stream.once('close', () => resolve(null)),
        );
      };
      await put();
      const connected = fds();
      for (let i = 0; i < 3; i++) await put();
      assert.equal(fds(), connected, 'no descriptor left open by the sends that succeeded');
      ok.close();
    });

    for (const how of ['reset', 'fin'] as const) {
      it(`a body whose source gives nothing more fails at once when the server ${how === 'reset' ? 'resets' : 'closes its side without an answer'} (${direct ? 'direct' : 'worker'} transport)`, async (t) => {
        if (process.platform === 'win32') {
          t.skip('no named pipes made by mkfifo here');
          return;
        }
        // A named pipe whose writer gave a few bytes and keeps it open: the body waits for
        // its next piece for as long as the writer lives (a minute), far past the reset. Run
        // in a child: a call that hangs blocks its thread, and only a timeout outside it ends.
        const fifo = join(dir, `stalled-${how}-${direct ? 'd' : 'w'}.fifo`);
        const script = join(dir, `stalled-${how}-${direct ? 'd' : 'w'}.mts`);
        const result = await runWithStalledPipe(
          fifo,
          script,
          `import * as fs from 'node:fs';
import * as httplib from ${JSON.stringify(SYNC_ENTRY)};
const conn = new httplib.HTTPConnection('127.0.0.1', ${peer.raw});
const stream = fs.createReadStream(${JSON.stringify(fifo)});
let outcome = 'no error';
try {
  conn.request('PUT', '${how === 'reset' ? '/reset-later' : '/fin-later'}', stream, { 'Content-Length': '1000' });
} catch (err) {
  outcome = err instanceof Error ? String(err.code) : 'not an Error: ' + String(err);
}
conn.close();
const next = new httplib.HTTPConnection('127.0.0.1', ${peer.http});
next.request('GET', '/hello');
console.log(outcome, JSON.stringify(next.getresponse().read().toString()));
process.exit(0);
`,
          direct,
        );
        assert.equal(result.code, 0, `${result.out}\n${result.stderr}`);
        assert.match(
          result.out,
          how === 'reset' ? /^(ECONNRESET|EPIPE) "hello\\n"\n$/ : /^EPIPE "hello\\n"\n$/,
        );
      });
    }
  }

  it('an fs.ReadStream that is open, read partly by its consumer: the rest', async () => {
    const stream = fs.createReadStream(file, { highWaterMark: 1000 });
    await new Promise<void>((resolve) => stream.once('readable', () => resolve()));
    const consumed = stream.read(300) as Buffer;
    assert.equal(consumed.length, 300);
    const conn = new httplib.HTTPConnection('127.0.0.1', peer.http);
    conn.request('PUT', '/echo', stream);
    conn.getresponse().read();
    conn.close();
    const rec = await last();
    assert.equal(rec.body, CONTENT.subarray(300).toString('latin1'));
  });

  it('an fs.ReadStream whose place in its file cannot be told is refused, nothing sent (it was sent from a wrong place); one read to its end sends nothing', async () => {
    const opened = async (options: Parameters<typeof fs.createReadStream>[1], fd?: number) => {
      const stream = fs.createReadStream(fd === undefined ? file : (null as never), {
        ...(options as object),
        ...(fd === undefined ? {} : { fd }),
      });
      await new Promise<void>((resolve) => stream.once('readable', () => resolve()));
      return stream;
    };
    const cases: Array<[string, () => Promise<fs.ReadStream>, RegExp]> = [
      [
        'read as characters',
        async () => {
          const stream = await opened({ encoding: 'latin1', highWaterMark: 64 });
          stream.read(10);
          return stream;
        },
        /read as characters/,
      ],
      [
        'unshift after read(3)',
        async () => {
          const stream = await opened({ highWaterMark: 64 });
          stream.read(3);
          stream.unshift(Buffer.from('PREFIX'));
          return stream;
        },
        /unshift/,
      ],
      [
        'unshift after read(100)',
        async () => {
          const stream = await opened({ highWaterMark: 4096 });
          stream.read(100);
          stream.unshift(Buffer.from('PREFIX'));
          return stream;
        },
        /unshift/,
      ],
      [
        "the caller's descriptor, moved, no start",
        async () => {
          const fd = fs.openSync(file, 'r');
          fs.readSync(fd, Buffer.alloc(20));
          const stream = await opened({ highWaterMark: 64 }, fd);
          stream.read(10);
          return stream;
        },
        /descriptor's own position/,
      ],
    ];
    for (const [name, make, why] of cases) {
      const stream = await make();
      const before = (await peer.records()).length;
      const conn = new httplib.HTTPConnection('127.0.0.1', peer.http);
      try {
        const err = thrown(() => conn.request('PUT', '/echo', stream));
        assert.ok(err instanceof TypeError, `${name}: ${String(err)}`);
        assert.match(err.message, why, name);
        // Nothing went out, and the connection carries the next request.
        conn.request('GET', '/hello');
        assert.equal(conn.getresponse().read().toString(), 'hello\n');
        assert.equal((await peer.records()).length, before + 1, name);
      } finally {
        conn.close();
        stream.destroy();
      }
    }
    // Read to its end (a start/end window): nothing is left, as the main entry sends.
    const ended = fs.createReadStream(file, { start: 0, end: 9 });
    ended.resume();
    await new Promise<void>((resolve) => ended.once('end', () => resolve()));
    const conn = new httplib.HTTPConnection('127.0.0.1', peer.http);
    conn.request('PUT', '/echo', ended);
    conn.getresponse().read();
    conn.close();
    assert.equal((await last()).body, '');
  });

  it("where descriptors are each thread's own (Deno): a descriptor, a FileHandle or a stream on one is refused with a TypeError that says what to send; a stream with a path is read from its path", async () => {
    const saved = descriptorsPerThread.enabled;
    descriptorsPerThread.enabled = true;
    const fd = fs.openSync(file, 'r');
    const handle = await open(file, 'r');
    const onFd = fs.createReadStream(null as never, { fd: fs.openSync(file, 'r') });
    try {
      for (const [what, body] of [
        ['a file descriptor', fd],
        ['a FileHandle', handle],
        ['an fs.ReadStream made on a descriptor', onFd],
      ] as const) {
        const conn = connectionOn(false, peer.http);
        try {
          const err = thrown(() => conn.request('PUT', '/echo', body as never));
          assert.ok(err instanceof TypeError, `${what}: ${String(err)}`);
          assert.match(err.message, new RegExp(`cannot send ${what} on this runtime`));
          assert.match(err.message, /fs\.createReadStream\(path\)/);
        } finally {
          conn.close();
        }
      }
      // A stream on its path, partly read: the worker opens the path, from where it stands.
      const stream = fs.createReadStream(file, { highWaterMark: 1000 });
      await new Promise<void>((resolve) => stream.once('readable', () => resolve()));
      stream.read(300);
      const conn = connectionOn(false, peer.http);
      conn.request('PUT', '/echo', stream);
      conn.getresponse().read();
      conn.close();
      assert.equal((await last()).body, CONTENT.subarray(300).toString('latin1'));
    } finally {
      descriptorsPerThread.enabled = saved;
      fs.closeSync(fd);
      await handle.close();
      onFd.destroy();
    }
  });

  it('headers as a Map, as pairs, as any iterable of pairs; values with a string form of their own', async () => {
    const value = { toString: () => 'from toString' };
    for (const headers of [
      new Map<string, unknown>([
        ['X-A', 1],
        ['X-B', value],
      ]),
      [
        ['X-A', 1],
        ['X-B', value],
      ] as Array<[string, unknown]>,
      (function* (): Generator<[string, unknown]> {
        yield ['X-A', 1];
        yield ['X-B', value];
      })(),
    ]) {
      const conn = new httplib.HTTPConnection('127.0.0.1', peer.http);
      conn.request('GET', '/echo', null, headers as httplib.HeadersInput);
      conn.getresponse().read();
      conn.close();
      const rec = await last();
      assert.deepEqual(rec.headers.slice(-4), ['X-A', '1', 'X-B', 'from toString']);
    }
  });

  it('endheaders(body) and send(data), with encode_chunked', async () => {
    const conn = new httplib.HTTPConnection('127.0.0.1', peer.http);
    conn.putrequest('POST', '/echo');
    conn.putheader('Transfer-Encoding', 'chunked');
    conn.endheaders(
      (function* () {
        yield 'chunk';
      })(),
      { encode_chunked: true },
    );
    conn.getresponse().read();
    assert.equal((await last()).body, 'chunk');
    conn.putrequest('POST', '/echo');
    conn.putheader('Content-Length', 6);
    conn.endheaders();
    conn.send('sent ');
    conn.send(Buffer.from('!'));
    conn.getresponse().read();
    assert.equal((await last()).body, 'sent !');
    conn.close();
  });
});

describe('send(null) and send(undefined)', () => {
  for (const direct of [false, true]) {
    it(`a TypeError (Python refuses None), nothing sent; then the body the head owes (${direct ? 'direct' : 'worker'} transport)`, async () => {
      const message = /^data should be a bytes-like object or an iterable, got (null|undefined)$/;
      const conn = connectionOn(direct, peer.http);
      try {
        for (const data of [null, undefined]) {
          assert.throws(() => conn.send(data as never), { name: 'TypeError', message });
        }
        assert.equal(conn.sock, null, 'refused before the connect');
        conn.putrequest('POST', '/echo');
        conn.putheader('Content-Length', 3);
        conn.endheaders();
        for (const data of [null, undefined]) {
          assert.throws(() => conn.send(data as never), { name: 'TypeError', message });
        }
        conn.send('abc');
        conn.getresponse().read();
        assert.equal((await last()).body, 'abc');
      } finally {
        conn.close();
      }
    });
  }

  it("the legacy HTTP class's too", async () => {
    const legacy = new httplib.HTTP('127.0.0.1', peer.http);
    try {
      legacy.putrequest('POST', '/echo');
      legacy.putheader('Content-Length', 3);
      legacy.endheaders();
      assert.throws(() => legacy.send(null as never), TypeError);
      legacy.send('xyz');
      assert.equal(legacy.getreply()[0], 200);
      assert.equal((await last()).body, 'xyz');
    } finally {
      legacy.close();
    }
  });
});

describe('a body that throws what cannot be carried to the worker', () => {
  for (const direct of [false, true]) {
    it(`fails its request, and the next call is answered as its own (${direct ? 'direct' : 'worker'} transport)`, () => {
      // A Proxy whose getPrototypeOf trap throws: the worker transport could not write it
      // for the worker, which went on waiting for the iterable's answer and took the next
      // command (getresponse) for it: "Cannot read properties of null (reading 'done')".
      const weird = new Proxy(
        {},
        {
          getPrototypeOf() {
            throw new Error('trap');
          },
        },
      );
      const conn = connectionOn(direct, peer.http);
      try {
        const body = (function* () {
          yield 'a';
          throw weird;
        })();
        assert.ok(thrown(() => conn.request('POST', '/echo', body, { 'Content-Length': '10' })));
        const err = thrown(() => conn.getresponse()) as Error;
        assert.ok(err instanceof httplib.ResponseNotReady, String(err));
        conn.request('GET', '/hello');
        assert.equal(conn.getresponse().read().toString(), 'hello\n');
      } finally {
        conn.close();
      }
    });
  }
});

describe('bodies that cannot be read while this thread is blocked', () => {
  for (const [name, make] of [
    [
      'an async generator',
      () =>
        (async function* () {
          yield 'x';
        })(),
    ],
    ['a Readable', () => Readable.from(['x'])],
    ['a web ReadableStream', () => new ReadableStream()],
  ] as Array<[string, () => unknown]>) {
    it(`${name}: a TypeError that says why, before anything is sent`, async () => {
      const before = (await peer.records()).length;
      const conn = new httplib.HTTPConnection('127.0.0.1', peer.http);
      const err = thrown(() => conn.request('POST', '/echo', make() as never));
      assert.ok(err instanceof TypeError);
      assert.match((err as Error).message, /async iterable or a Readable stream/);
      assert.equal(conn.sock, null, 'nothing connected');
      // The state did not move: the next request goes out.
      conn.request('GET', '/hello');
      assert.equal(conn.getresponse().read().toString(), 'hello\n');
      conn.close();
      assert.equal((await peer.records()).length, before + 1);
    });
  }

  it('a file-backed Blob (fs.openAsBlob): a TypeError with its code that says what to send, before anything is sent; as an item of an iterable, the channel stays in step', async () => {
    const blob = await fs.openAsBlob(file);
    const refused = (err: unknown): void => {
      // Before: Node's internal ERR_INVALID_STATE ('File-backed Blobs are not cloneable').
      assert.ok(err instanceof TypeError, String(err));
      assert.equal((err as NodeJS.ErrnoException).code, 'ERR_HTTPLIB_SYNC_FILE_BLOB');
      assert.match(err.message, /cannot send a file-backed Blob/);
      assert.match(err.message, /fs\.createReadStream\(path\)/);
    };
    const before = (await peer.records()).length;
    const conn = new httplib.HTTPConnection('127.0.0.1', peer.http);
    refused(thrown(() => conn.request('PUT', '/echo', blob as never)));
    assert.equal(conn.sock, null, 'nothing connected');
    conn.request('GET', '/hello');
    assert.equal(conn.getresponse().read().toString(), 'hello\n');
    assert.equal((await peer.records()).length, before + 1);
    // Yielded by an iterable, it was posted as the answer to the worker's question and
    // failed there: the worker went on waiting, and took the next command for the answer.
    refused(
      thrown(() =>
        conn.request(
          'PUT',
          '/echo',
          (function* () {
            yield 'a';
            yield blob;
          })() as never,
        ),
      ),
    );
    conn.close();
    const next = new httplib.HTTPConnection('127.0.0.1', peer.http);
    next.request('GET', '/hello');
    assert.equal(next.getresponse().read().toString(), 'hello\n');
    next.close();
  });
});

describe('json()', () => {
  for (const direct of [true, false]) {
    it(`finds the encoding as the main entry (Python's json.loads(bytes)): UTF-16 with a BOM (${direct ? 'direct' : 'worker'} transport)`, () => {
      const conn = connectionOn(direct, peer.raw);
      conn.request('GET', '/json-utf16');
      assert.deepEqual(conn.getresponse().json(), { a: '€' });
      conn.close();
    });
  }
});

describe('an upload the server answers early, then resets', () => {
  for (const direct of [true, false]) {
    it(`request() throws the reset, getresponse() reads the answer, as in Python (${direct ? 'direct' : 'worker'} transport)`, () => {
      const conn = connectionOn(direct, peer.raw);
      try {
        const err = thrown(() => conn.request('PUT', '/early-413', Buffer.alloc(32 * 1024 * 1024)));
        const code = (err as NodeJS.ErrnoException).code;
        assert.ok(code === 'ECONNRESET' || code === 'EPIPE', String(err));
        // Python: the request counts as sent; a new one waits for the answer to be read.
        assert.ok(
          thrown(() => conn.putrequest('GET', '/hello')) instanceof httplib.CannotSendRequest,
        );
        const r = conn.getresponse();
        assert.equal(r.status, 413);
        assert.equal(r.read().toString(), 'big');
      } finally {
        conn.close();
      }
    });
  }
});

describe('a body that fails', () => {
  const getHello = async (c: main.HTTPConnection): Promise<string> => {
    await c.request('GET', '/hello');
    return (await (await c.getresponse()).read()).toString();
  };

  it("throws the iterable's own error object from request(), then goes on as the main entry", async () => {
    const failure = new RangeError('the generator broke');
    const broken = () =>
      (function* () {
        yield 'start';
        throw failure;
      })();
    const conn = new httplib.HTTPConnection('127.0.0.1', peer.http);
    assert.equal(
      thrown(() => conn.request('POST', '/echo', broken())),
      failure,
      'the same object',
    );
    conn.close();
    const outcomes = await sameAsMain(peer.http, [
      (c) => c.request('POST', '/echo', broken()),
      getHello,
      (c) => c.close(),
      getHello,
    ]);
    assert.equal(outcomes[0], 'RangeError: the generator broke');
    assert.equal(outcomes[3], 'ok hello\n');
  });

  for (const direct of [true, false]) {
    it(`a thrown symbol (registered or not) or function comes back as itself (${direct ? 'direct' : 'worker'} transport)`, () => {
      for (const value of [
        Symbol('unique'),
        Symbol.for('httplib-ts test'),
        function thrower() {},
      ]) {
        const conn = connectionOn(direct, peer.http);
        const got = thrown(() =>
          conn.request(
            'POST',
            '/echo',
            (function* () {
              yield 'start';
              throw value;
            })(),
          ),
        );
        conn.close();
        assert.equal(got, value, `${String(value)}: the same value`);
      }
    });
  }

  it("an item that is not bytes: the main entry's TypeError", async () => {
    const conn = new httplib.HTTPConnection('127.0.0.1', peer.http);
    const ours = thrown(() =>
      conn.request('POST', '/echo', [Buffer.from('a'), 42] as never),
    ) as Error;
    conn.close();
    const a = new main.HTTPConnection('127.0.0.1', peer.http);
    const theirs = (await a
      .request('POST', '/echo', [Buffer.from('a'), 42] as never)
      .catch((e: unknown) => e)) as Error;
    a.close();
    assert.ok(ours instanceof TypeError);
    assert.equal(ours.message, theirs.message);
  });

  it('a file that is gone: the system error of reading it, then as the main entry', async () => {
    const missing = join(dir, 'missing');
    const outcomes = await sameAsMain(peer.http, [
      (c) => c.request('PUT', '/echo', fs.createReadStream(missing)),
      getHello,
      (c) => c.close(),
      getHello,
    ]);
    assert.match(outcomes[0] as string, /ENOENT/);
    assert.equal(outcomes[3], 'ok hello\n');
  });

  it("a FileHandle closed before the call: the main entry's EBADF, nothing sent, then as the main entry", async () => {
    const file = join(dir, 'closed-handle');
    fs.writeFileSync(file, 'data');
    const handle = await open(file);
    await handle.close();
    const errors: unknown[] = [];
    const outcomes = await sameAsMain(peer.http, [
      async (c) => {
        try {
          return await c.request('PUT', '/echo', handle);
        } catch (err) {
          errors.push(err);
          throw err;
        }
      },
      getHello,
    ]);
    // Before: RangeError ERR_OUT_OF_RANGE (its fd, -1, sent to the worker).
    assert.equal(outcomes[0], 'Error: file closed');
    const [ours, theirs] = errors as Array<NodeJS.ErrnoException>;
    assert.equal(ours?.code, 'EBADF');
    assert.equal(ours?.code, theirs?.code);
    assert.equal(outcomes[1], 'ok hello\n');
  });

  it("the iterable runs on the caller's thread, one item per piece sent", async () => {
    const seen: string[] = [];
    const conn = new httplib.HTTPConnection('127.0.0.1', peer.http);
    conn.request(
      'POST',
      '/echo',
      (function* () {
        for (const piece of ['a', 'b', 'c']) {
          seen.push(`yield ${piece}`);
          yield piece;
        }
      })(),
    );
    conn.getresponse().read();
    conn.close();
    assert.deepEqual(seen, ['yield a', 'yield b', 'yield c']);
    assert.equal((await last()).body, 'abc');
  });
});

describe("a caller's Content-Length that its body belies (as the main entry)", () => {
  for (const direct of [true, false]) {
    it(`BodyLengthMismatch: before a byte for a known length, as sent for an iterable; then requests (${direct ? 'direct' : 'worker'} transport)`, async () => {
      const conn = connectionOn(direct, peer.http);
      try {
        const before = (await peer.records()).length;
        const mismatch = (declared: number, got: number) => (err: unknown) =>
          err instanceof httplib.BodyLengthMismatch &&
          err instanceof main.BodyLengthMismatch &&
          err.declared === declared &&
          err.got === got;
        assert.ok(
          mismatch(
            3,
            6,
          )(thrown(() => conn.request('POST', '/echo', 'abcdef', { 'Content-Length': '3' }))),
        );
        // A file's length is known in the worker, before the head goes.
        const onFile = (): number =>
          fs.readdirSync('/proc/self/fd').filter((fd) => {
            try {
              return fs.readlinkSync(`/proc/self/fd/${fd}`) === file;
            } catch {
              return false;
            }
          }).length;
        const stream = fs.createReadStream(file);
        const refused = thrown(() =>
          conn.request('PUT', '/echo', stream, { 'Content-Length': '5' }),
        );
        assert.ok(mismatch(5, CONTENT.length)(refused), String(refused));
        // The worker let its own reading of the file go at once: once the caller's stream
        // is closed, nothing is left open on the file.
        if (!stream.closed) {
          const closed = new Promise<void>((resolve) => stream.once('close', () => resolve()));
          stream.destroy();
          await closed;
        }
        // The worker closes its stream's descriptor in its own thread: wait for it (a
        // descriptor it kept open stays, and fails the check).
        for (const until = Date.now() + 10_000; onFile() > 0 && Date.now() < until; ) {
          await new Promise((resolve) => setTimeout(resolve, 10));
        }
        assert.equal(onFile(), 0, 'a descriptor is left open on the file');
        conn.request('GET', '/echo');
        const response = conn.getresponse();
        response.read();
        assert.equal(response.status, 200);
        const records = (await peer.records()).slice(before);
        assert.deepEqual(
          records.map((r) => `${r.method} ${r.url} ${r.body}`),
          ['GET /echo '],
          'nothing of the refused requests reached the server',
        );
        // An iterable: checked as it is sent; the connection is not reused.
        assert.ok(
          mismatch(
            4,
            6,
          )(thrown(() => conn.request('POST', '/echo', ['abc', 'def'], { 'Content-Length': '4' }))),
        );
        conn.request('GET', '/hello');
        assert.equal(conn.getresponse().read().toString(), 'hello\n');
      } finally {
        conn.close();
      }
    });
  }
});
