import assert from 'node:assert/strict';
import { Blob } from 'node:buffer';
import { randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { appendFile, mkdtemp, open, rm, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  type BodySink,
  type PreparedBody,
  prepareBody,
  writeBody,
} from '../../src/io/body-source.ts';

const MiB = 1024 * 1024;

/** A sink that records every write as it was given. */
class RecordingSink implements BodySink {
  readonly writes: Array<Buffer | string> = [];
  write(chunk: Buffer | string, encoding?: 'latin1'): void {
    if (typeof chunk === 'string')
      assert.equal(encoding, 'latin1', 'strings are written as latin1');
    this.writes.push(chunk);
  }
  get bytes(): Buffer {
    return Buffer.concat(
      this.writes.map((w) => (typeof w === 'string' ? Buffer.from(w, 'latin1') : w)),
    );
  }
  get text(): string {
    return this.bytes.toString('latin1');
  }
}

/** The data of a chunk-framed body; throws unless it is well-formed and complete. */
function dechunk(framed: Buffer): Buffer {
  const parts: Buffer[] = [];
  let at = 0;
  for (;;) {
    const eol = framed.indexOf('\r\n', at, 'latin1');
    assert.ok(eol > at, 'a size line');
    const sizeText = framed.toString('latin1', at, eol);
    assert.match(sizeText, /^[0-9A-F]+$/);
    const size = Number.parseInt(sizeText, 16);
    at = eol + 2;
    if (size === 0) {
      assert.equal(framed.toString('latin1', at), '\r\n', 'the last chunk ends the body');
      return Buffer.concat(parts);
    }
    parts.push(framed.subarray(at, at + size));
    at += size;
    assert.equal(framed.toString('latin1', at, at + 2), '\r\n');
    at += 2;
  }
}

async function prepared(body: unknown, blocksize = 8192): Promise<PreparedBody> {
  return await prepareBody(body, blocksize);
}

async function collect(body: PreparedBody): Promise<Buffer[]> {
  const out: Buffer[] = [];
  for await (const chunk of body.chunks()) out.push(chunk);
  return out;
}

async function written(body: PreparedBody, chunked = false): Promise<RecordingSink> {
  const sink = new RecordingSink();
  await writeBody(sink, body, chunked);
  return sink;
}

let dir = '';
let big = '';
let bigData = Buffer.alloc(0);

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'httplib-body-'));
  big = join(dir, 'big.bin');
  bigData = randomBytes(3 * MiB);
  await writeFile(big, bigData);
});

after(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** A fresh copy of the 3 MiB file, for the tests that change it. */
async function copyOfBig(name: string): Promise<string> {
  const path = join(dir, name);
  await writeFile(path, bigData);
  return path;
}

describe('prepareBody: in-memory bodies', () => {
  it('null and undefined are no body, and write nothing even when chunked', async () => {
    for (const body of [null, undefined]) {
      const p = prepareBody(body, 8192);
      assert.ok(!(p instanceof Promise));
      assert.deepEqual(p.info, { kind: 'none' });
      assert.equal(p.bytes, null);
      assert.deepEqual(await collect(p), []);
      assert.deepEqual((await written(p, false)).writes, []);
      assert.deepEqual((await written(p, true)).writes, []);
    }
  });

  it('a string is sent as UTF-8, synchronously, its length in bytes', async () => {
    const p = prepareBody('héllo €\u{1F600}', 8192);
    assert.ok(!(p instanceof Promise));
    const utf8 = Buffer.from([
      0x68, 0xc3, 0xa9, 0x6c, 0x6c, 0x6f, 0x20, 0xe2, 0x82, 0xac, 0xf0, 0x9f, 0x98, 0x80,
    ]);
    assert.deepEqual(p.info, { kind: 'length', length: 14 });
    assert.deepEqual(p.bytes, utf8);
    assert.deepEqual(await collect(p), [utf8]);
    assert.deepEqual((await written(p)).bytes, utf8);
    assert.equal(p.label, '<str 14 bytes>');
  });

  it('an empty string has length 0, yields nothing, and is just the last chunk when chunked', async () => {
    const p = await prepared('');
    assert.deepEqual(p.info, { kind: 'length', length: 0 });
    assert.deepEqual(await collect(p), []);
    assert.deepEqual((await written(p)).writes, []);
    assert.equal((await written(p, true)).text, '0\r\n\r\n');
  });

  it('a Buffer is sent as is, not copied', async () => {
    const buf = Buffer.from('abc');
    const p = await prepared(buf);
    assert.equal(p.bytes, buf);
    assert.deepEqual(p.info, { kind: 'length', length: 3 });
    const sink = await written(p);
    assert.equal(sink.writes.length, 1);
    assert.equal(sink.writes[0], buf);
  });

  it('typed arrays and DataViews respect byteOffset and byteLength', async () => {
    const ab = new ArrayBuffer(16);
    new Uint8Array(ab).set([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15]);
    const cases: Array<[ArrayBufferView, number[], string]> = [
      [new Uint8Array(ab, 2, 3), [2, 3, 4], '<Uint8Array 3 bytes>'],
      [new Uint16Array(ab, 4, 2), [4, 5, 6, 7], '<Uint16Array 4 bytes>'],
      [new DataView(ab, 10, 4), [10, 11, 12, 13], '<DataView 4 bytes>'],
      [Buffer.from(ab, 14, 2), [14, 15], '<Buffer 2 bytes>'],
    ];
    for (const [view, expected, label] of cases) {
      const p = await prepared(view);
      assert.deepEqual(p.info, { kind: 'length', length: expected.length });
      assert.deepEqual(p.bytes, Buffer.from(expected));
      assert.deepEqual(Buffer.concat(await collect(p)), Buffer.from(expected));
      assert.equal(p.label, label);
    }
  });

  it('an ArrayBuffer is its bytes', async () => {
    const ab = new Uint8Array([9, 8, 7, 6]).buffer;
    const p = await prepared(ab);
    assert.deepEqual(p.info, { kind: 'length', length: 4 });
    assert.deepEqual(p.bytes, Buffer.from([9, 8, 7, 6]));
  });

  it('a string body chunked is one framed chunk and the last chunk', async () => {
    assert.equal((await written(await prepared('foo'), true)).text, '3\r\nfoo\r\n0\r\n\r\n');
  });
});

describe('prepareBody: Blob', () => {
  it('has its size as length and is read in blocksize slices', async () => {
    const blob = new Blob(['abc', Buffer.from('défg')]);
    const p = await prepared(blob, 3);
    assert.equal(p.bytes, null);
    assert.deepEqual(p.info, { kind: 'length', length: 8 });
    const chunks = await collect(p);
    assert.deepEqual(
      chunks.map((c) => c.length),
      [3, 3, 2],
    );
    assert.deepEqual(Buffer.concat(chunks), Buffer.from('abcdéfg'));
    assert.equal(p.label, '<Blob 8 bytes>');
    assert.equal((await written(p)).text, Buffer.from('abcdéfg').toString('latin1'));
  });
});

describe('prepareBody: fs.ReadStream', () => {
  it('a 3 MiB file: length from fstat, exact bytes, in the stream own chunks', async () => {
    const stream = createReadStream(big);
    const p = prepareBody(stream, 8192);
    assert.ok(p instanceof Promise, 'a file must be stat-ed');
    const body = await p;
    assert.deepEqual(body.info, { kind: 'length', length: 3 * MiB });
    assert.equal(body.bytes, null);
    assert.equal(body.label, `<ReadStream ${big}>`);
    const sink = await written(body);
    assert.ok(sink.writes.length > 1, 'streamed, not one read');
    assert.ok(sink.bytes.equals(bigData));
  });

  it('honours start and end (inclusive), clamped to the file', async () => {
    const cases: Array<[{ start?: number; end?: number }, number, number]> = [
      [{ start: 10, end: 19 }, 10, 20],
      [{ start: 3 * MiB - 5 }, 3 * MiB - 5, 3 * MiB],
      [{ end: 99 }, 0, 100],
      [{ start: 100, end: 10 * MiB }, 100, 3 * MiB],
      [{ start: 4 * MiB }, 0, 0],
    ];
    for (const [options, from, to] of cases) {
      const body = await prepared(createReadStream(big, options));
      assert.deepEqual(body.info, { kind: 'length', length: to - from }, JSON.stringify(options));
      assert.ok((await written(body)).bytes.equals(bigData.subarray(from, to)));
    }
  });

  it('counts only what has not been consumed yet', async () => {
    const stream = createReadStream(big, { highWaterMark: 1000 });
    const first = await new Promise<Buffer | string>((resolve) => stream.once('data', resolve));
    stream.pause();
    assert.equal(first.length, 1000);
    const body = await prepared(stream);
    assert.deepEqual(body.info, { kind: 'length', length: 3 * MiB - 1000 });
    assert.ok((await written(body)).bytes.equals(bigData.subarray(1000)));
  });

  it('a non-regular file has an unknown length', async () => {
    const body = await prepared(createReadStream('/dev/null'));
    assert.deepEqual(body.info, { kind: 'unknown' });
    assert.equal((await written(body, true)).text, '0\r\n\r\n');
  });

  it('a file that cannot be opened rejects prepareBody with its error, not a crash', async () => {
    await assert.rejects(prepared(createReadStream(join(dir, 'missing'))), { code: 'ENOENT' });
  });

  it('a file that shrank after prepareBody: length mismatch, message not finished', async () => {
    const path = await copyOfBig('shrinks.bin');
    const body = await prepared(createReadStream(path));
    await truncate(path, 1000);
    const sink = new RecordingSink();
    await assert.rejects(writeBody(sink, body, false), {
      message: `request body length mismatch: declared ${3 * MiB}, got 1000`,
    });
    assert.ok(sink.bytes.equals(bigData.subarray(0, 1000)));
  });

  it('a file that grew after prepareBody: length mismatch, nothing past the length sent', async () => {
    const path = await copyOfBig('grows.bin');
    const body = await prepared(createReadStream(path));
    await appendFile(path, Buffer.alloc(10, 1));
    const sink = new RecordingSink();
    await assert.rejects(writeBody(sink, body, false), (err: Error) => {
      const m = /^request body length mismatch: declared (\d+), got (\d+)$/.exec(err.message);
      assert.ok(m, err.message);
      assert.equal(Number(m[1]), 3 * MiB);
      assert.ok(Number(m[2]) > 3 * MiB);
      return true;
    });
    assert.ok(sink.bytes.length <= 3 * MiB);
    assert.ok(sink.bytes.equals(bigData.subarray(0, sink.bytes.length)));
  });

  it('is not destroyed when writing fails: the caller owns it', async () => {
    const stream = createReadStream(big, { highWaterMark: 1024 });
    const body = await prepared(stream);
    const sink: BodySink = {
      write: () => Promise.reject(new Error('socket gone')),
    };
    await assert.rejects(writeBody(sink, body, false), { message: 'socket gone' });
    assert.equal(stream.destroyed, false);
    stream.destroy();
  });
});

describe('prepareBody: FileHandle', () => {
  it('a 3 MiB file with blocksize 8192: length from stat, 12 fresh 256 KiB reads (32 blocks each), left open', async () => {
    const handle = await open(big);
    try {
      const p = prepareBody(handle, 8192);
      assert.ok(p instanceof Promise);
      const body = await p;
      assert.deepEqual(body.info, { kind: 'length', length: 3 * MiB });
      assert.equal(body.label, `<FileHandle fd=${handle.fd}>`);
      const chunks = await collect(body);
      // Read 32 blocks of 8192 per system call, handed on per read.
      assert.equal(chunks.length, 12);
      assert.ok(chunks.every((c) => c.length === 32 * 8192));
      // Concatenated only after all were collected: a reused buffer would repeat the last block.
      assert.ok(Buffer.concat(chunks).equals(bigData));
      assert.notEqual(handle.fd, -1, 'the caller’s handle is not closed');
      assert.equal((await handle.stat()).size, 3 * MiB);
      // Read from position 0 again, whatever the handle's own position.
      assert.ok((await written(body)).bytes.equals(bigData));
    } finally {
      await handle.close();
    }
  });

  it('the last block is short, and positions start at 0', async () => {
    const path = join(dir, 'small.bin');
    await writeFile(path, bigData.subarray(0, 10000));
    const handle = await open(path);
    try {
      await handle.read(Buffer.alloc(100), 0, 100, null); // move the handle's own position
      const body = await prepared(handle, 4096);
      const chunks = await collect(body);
      // 64 blocks of 4096 per read: the whole (short) file in one piece, from position 0.
      assert.deepEqual(
        chunks.map((c) => c.length),
        [10000],
      );
      assert.ok(Buffer.concat(chunks).equals(bigData.subarray(0, 10000)));
    } finally {
      await handle.close();
    }
  });

  it('chunked: every piece read framed with its upper-case hex size', async () => {
    const path = join(dir, 'framed.bin');
    // blocksize 4096 reads 64 blocks (256 KiB) at a time: 300000 bytes are two pieces.
    await writeFile(path, 'x'.repeat(300000));
    const handle = await open(path);
    try {
      const sink = await written(await prepared(handle, 4096), true);
      assert.equal(
        sink.text,
        `40000\r\n${'x'.repeat(262144)}\r\n93E0\r\n${'x'.repeat(37856)}\r\n0\r\n\r\n`,
      );
    } finally {
      await handle.close();
    }
  });

  it('a file truncated after prepareBody: length mismatch', async () => {
    const path = await copyOfBig('fh-shrinks.bin');
    const handle = await open(path, 'r+');
    try {
      const body = await prepared(handle);
      await handle.truncate(1000);
      const sink = new RecordingSink();
      await assert.rejects(writeBody(sink, body, false), {
        message: `request body length mismatch: declared ${3 * MiB}, got 1000`,
      });
      assert.equal(sink.bytes.length, 1000);
    } finally {
      await handle.close();
    }
  });

  it('a file grown after prepareBody: length mismatch, nothing past the length sent', async () => {
    const path = await copyOfBig('fh-grows.bin');
    const handle = await open(path, 'r+');
    try {
      const body = await prepared(handle);
      await handle.write(Buffer.from('more'), 0, 4, 3 * MiB);
      const sink = new RecordingSink();
      await assert.rejects(writeBody(sink, body, true), {
        message: `request body length mismatch: declared ${3 * MiB}, got ${3 * MiB + 4}`,
      });
      assert.ok(!sink.text.endsWith('0\r\n\r\n'), 'no last chunk');
      assert.ok(!sink.text.includes('more'));
    } finally {
      await handle.close();
    }
  });

  it('a non-regular file has an unknown length', async () => {
    const handle = await open('/dev/null');
    try {
      const body = await prepared(handle);
      assert.deepEqual(body.info, { kind: 'unknown' });
      assert.deepEqual(await collect(body), []);
    } finally {
      await handle.close();
    }
  });
});

describe('prepareBody: Readable and iterables', () => {
  it('a Readable: unknown length, its bytes', async () => {
    const stream = new Readable({ read() {} });
    stream.push(Buffer.from('ab'));
    stream.push('cé');
    stream.push(null);
    const p = prepareBody(stream, 8192);
    assert.ok(!(p instanceof Promise));
    assert.deepEqual(p.info, { kind: 'unknown' });
    assert.equal(p.bytes, null);
    assert.equal(p.label, '<Readable>');
    assert.equal(stream.listenerCount('error'), 1, 'guarded from prepareBody on');
    // How the stream groups its buffered pieces is its business: decode the framing.
    const sink = await written(p, true);
    assert.deepEqual(dechunk(sink.bytes), Buffer.from('abcé'));
    assert.equal(stream.listenerCount('error'), 0, 'the guard is taken off at the end');
  });

  it('a Readable with an encoding set round-trips its bytes', async () => {
    const stream = new Readable({ read() {} });
    stream.setEncoding('latin1');
    stream.push(Buffer.from([0xff, 0xe9, 0x00, 0x80]));
    stream.push(null);
    const chunks = await collect(await prepared(stream));
    assert.deepEqual(Buffer.concat(chunks), Buffer.from([0xff, 0xe9, 0x00, 0x80]));
  });

  it('an object-mode Readable: strings as UTF-8, empty items skipped', async () => {
    const stream = Readable.from(['', 'x', Buffer.alloc(0), new Uint8Array([0x79]), 'ü']);
    const chunks = await collect(await prepared(stream));
    assert.deepEqual(chunks, [Buffer.from('x'), Buffer.from('y'), Buffer.from('ü')]);
  });

  it('a sync generator: unknown length, empty items skipped', async () => {
    function* gen(): Generator<string | Uint8Array> {
      yield '';
      yield 'a';
      yield Buffer.alloc(0);
      yield new Uint8Array([0x62]);
      yield new Uint8Array(0);
      yield 'ç';
    }
    const p = await prepared(gen());
    assert.deepEqual(p.info, { kind: 'unknown' });
    assert.equal(p.label, '<Iterable>');
    assert.deepEqual(await collect(p), [Buffer.from('a'), Buffer.from('b'), Buffer.from('ç')]);
  });

  it('an async generator: unknown length, empty items skipped', async () => {
    async function* gen(): AsyncGenerator<string | Buffer | ArrayBuffer> {
      yield 'a';
      yield '';
      yield new Uint8Array([1, 2]).buffer;
      yield Buffer.alloc(0);
    }
    const p = await prepared(gen());
    assert.deepEqual(p.info, { kind: 'unknown' });
    assert.equal(p.label, '<AsyncIterable>');
    assert.deepEqual(await collect(p), [Buffer.from('a'), Buffer.from([1, 2])]);
  });

  it("frames ['foo', 'bar'] as 3\\r\\nfoo\\r\\n3\\r\\nbar\\r\\n0\\r\\n\\r\\n", async () => {
    const sink = await written(await prepared(['foo', 'bar']), true);
    assert.equal(sink.text, '3\r\nfoo\r\n3\r\nbar\r\n0\r\n\r\n');
  });

  it('writes an unframed iterable raw', async () => {
    assert.equal((await written(await prepared(['foo', '', 'bar']), false)).text, 'foobar');
  });

  it('uses upper-case hex sizes, and writes a big chunk itself after its size line', async () => {
    const small = Buffer.alloc(255, 0x61);
    const large = Buffer.alloc(3000, 0x62);
    const sink = await written(await prepared([small, large]), true);
    assert.equal(sink.text, `FF\r\n${'a'.repeat(255)}\r\nBB8\r\n${'b'.repeat(3000)}\r\n0\r\n\r\n`);
    assert.ok(
      sink.writes.some((w) => w === large),
      'the large chunk is written, not copied',
    );
  });

  it('an empty iterable, chunked, is just the last chunk', async () => {
    assert.equal((await written(await prepared([]), true)).text, '0\r\n\r\n');
    async function* none(): AsyncGenerator<string> {}
    assert.equal((await written(await prepared(none()), true)).text, '0\r\n\r\n');
  });

  it('an item that is not bytes or a string rejects writeBody with a TypeError', async () => {
    await assert.rejects(written(await prepared(['ok', 42]), true), {
      name: 'TypeError',
      message: 'message_body items should be bytes-like objects or strings, got number',
    });
  });
});

describe('prepareBody: fresh pieces', () => {
  // `fresh` lets a send skip the check that nobody transferred a piece while it waited
  // (request-output.ts): only bodies whose every piece is memory made here may claim it.
  it('a Blob and a FileHandle yield memory of their own, each piece its own', async () => {
    const blob = new Blob([bigData.subarray(0, 100_000)]);
    const handle = await open(big);
    try {
      for (const body of [await prepared(blob, 8192), await prepared(handle, 8192)]) {
        assert.equal(body.fresh, true, body.label);
        const pieces = await collect(body);
        assert.ok(pieces.length > 1, body.label);
        const buffers = new Set(pieces.map((p) => p.buffer));
        assert.equal(buffers.size, pieces.length, `${body.label}: a reused buffer`);
        assert.ok(
          !buffers.has(bigData.buffer as ArrayBuffer),
          `${body.label}: the source's memory`,
        );
      }
    } finally {
      await handle.close();
    }
  });

  it("bytes, iterables and Readables yield the caller's own memory: not fresh", async () => {
    const mine = Buffer.alloc(64 * 1024, 1);
    const bodies = [
      await prepared(mine),
      await prepared(mine.buffer),
      await prepared([mine]),
      await prepared(
        (async function* () {
          yield mine;
        })(),
      ),
      await prepared(Readable.from([mine], { objectMode: false })),
    ];
    for (const body of bodies) {
      assert.equal(body.fresh, false, body.label);
      const pieces = await collect(body);
      assert.ok(
        pieces.some((p) => p.buffer === mine.buffer),
        `${body.label} hands on the caller's memory`,
      );
    }
    assert.equal((await prepared(null)).fresh, true, 'no body has no pieces');
  });
});

describe('writeBody: backpressure and errors', () => {
  it('awaits every write that returns a promise before pulling the next piece', async () => {
    const log: string[] = [];
    async function* source(): AsyncGenerator<string> {
      for (let i = 0; i < 3; i++) {
        log.push(`pull ${i}`);
        yield `p${i}`;
      }
    }
    const sink: BodySink = {
      async write(chunk) {
        const text = Buffer.isBuffer(chunk) ? chunk.toString('latin1') : chunk;
        log.push(`start ${JSON.stringify(text)}`);
        await sleep(5);
        log.push('end');
      },
    };
    await writeBody(sink, await prepared(source()), true);
    assert.deepEqual(log, [
      'pull 0',
      'start "2\\r\\np0"',
      'end',
      'pull 1',
      'start "\\r\\n2\\r\\np1"',
      'end',
      'pull 2',
      'start "\\r\\n2\\r\\np2"',
      'end',
      'start "\\r\\n0\\r\\n\\r\\n"',
      'end',
    ]);
  });

  it('a stream that errors mid-way rejects writeBody with its error', async () => {
    let n = 0;
    const stream = new Readable({
      read() {
        n++;
        if (n === 1) this.push('first');
        else this.destroy(new Error('disk on fire'));
      },
    });
    const sink = new RecordingSink();
    await assert.rejects(writeBody(sink, await prepared(stream), true), {
      message: 'disk on fire',
    });
    assert.equal(sink.text, '5\r\nfirst');
  });

  it('a stream that errors before writeBody is not an unhandled error', async () => {
    const stream = new Readable({ read() {} });
    const body = await prepared(stream);
    const guard = stream.listeners('error')[0];
    assert.ok(guard !== undefined, 'prepareBody put a guard listener on the stream');
    stream.destroy(new Error('early'));
    await sleep(5); // the 'error' event has been emitted by now; the test would crash if unhandled
    await assert.rejects(writeBody(new RecordingSink(), body, false), { message: 'early' });
    // (Node's own iterator leaves a listener of its own on an already-errored stream.)
    assert.ok(!stream.listeners('error').includes(guard), 'the guard listener is taken off');
  });

  it('an iterable that throws rejects writeBody', async () => {
    function* gen(): Generator<string> {
      yield 'a';
      throw new Error('generator failed');
    }
    await assert.rejects(written(await prepared(gen())), { message: 'generator failed' });
  });
});

describe('prepareBody: unsupported bodies', () => {
  const cases: Array<[unknown, string]> = [
    [42, 'number'],
    [true, 'boolean'],
    [10n, 'bigint'],
    [Symbol('s'), 'symbol'],
    [() => 'x', 'function'],
    [{}, 'Object'],
    [Object.create(null), 'object'],
    [new Date(0), 'Date'],
    [Promise.resolve('x'), 'Promise'],
  ];
  for (const [body, type] of cases) {
    it(`${type} is a TypeError`, () => {
      // A plain object (headers given as the body, most often) is told where headers go.
      const plain = type === 'Object' || type === 'object';
      const hint = plain ? " (headers are request()'s fourth argument, after the body)" : '';
      assert.throws(() => prepareBody(body, 8192), {
        name: 'TypeError',
        message: `message_body should be a bytes-like object or an iterable, got ${type}${hint}`,
      });
    });
  }

  it('a blocksize that is not a positive integer is a TypeError', () => {
    for (const blocksize of [0, -1, 1.5, Number.NaN]) {
      assert.throws(() => prepareBody('x', blocksize), TypeError);
    }
  });
});
