/**
 * An explicit `blocksize` is honoured exactly (issue 12; CPython's test_blocksize_request
 * and test_blocksize_send: blocksize 8 and a 9-byte file are written as 8 + 1): file and
 * stream bodies reach the sink in pieces of exactly `blocksize` bytes, the last shorter.
 * Without it (`exact` false, the connection's default) a file is read 256 KiB at a time
 * and a stream keeps its own pieces. Iterables always keep their items (Python 3).
 */
import assert from 'node:assert/strict';
import { Blob } from 'node:buffer';
import { createReadStream } from 'node:fs';
import { mkdtemp, open, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { type BodySink, prepareBody, writeBody } from '../../src/io/body-source.ts';

/** Records the size (and bytes) of every write. */
class RecordingSink implements BodySink {
  readonly writes: Buffer[] = [];
  write(chunk: Buffer | string): void {
    this.writes.push(typeof chunk === 'string' ? Buffer.from(chunk, 'latin1') : Buffer.from(chunk));
  }
  get sizes(): number[] {
    return this.writes.map((w) => w.length);
  }
  get text(): string {
    return Buffer.concat(this.writes).toString('latin1');
  }
}

async function send(body: unknown, blocksize: number, exact: boolean, chunked = false) {
  const sink = new RecordingSink();
  await writeBody(sink, await prepareBody(body, blocksize, exact), chunked);
  return sink;
}

let dir = '';
const NINE = 'aaaaaaaab';
const data20k = Buffer.from(Array.from({ length: 20000 }, (_, i) => (i * 7) & 0xff));

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'httplib-blocksize-'));
  await writeFile(join(dir, 'nine'), NINE);
  await writeFile(join(dir, '20k'), data20k);
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function withHandle<T>(
  name: string,
  fn: (h: Awaited<ReturnType<typeof open>>) => Promise<T>,
) {
  const handle = await open(join(dir, name));
  try {
    return await fn(handle);
  } finally {
    await handle.close();
  }
}

describe('explicit blocksize: FileHandle', () => {
  it('blocksize 8, a 9-byte file: writes of 8 and 1 (test_blocksize_request)', async () => {
    await withHandle('nine', async (h) => {
      const sink = await send(h, 8, true);
      assert.deepEqual(sink.sizes, [8, 1]);
      assert.equal(sink.text, NINE);
    });
  });

  it('the default (not exact) reads ahead: one write of 9', async () => {
    await withHandle('nine', async (h) => {
      assert.deepEqual((await send(h, 8, false)).sizes, [9]);
      assert.deepEqual((await send(h, 8192, false)).sizes, [9]);
    });
  });

  it('blocksize 8192 given explicitly, 20000 bytes: 8192 + 8192 + 3616', async () => {
    await withHandle('20k', async (h) => {
      const sink = await send(h, 8192, true);
      assert.deepEqual(sink.sizes, [8192, 8192, 3616]);
      assert.ok(Buffer.concat(sink.writes).equals(data20k));
      // By default: one read of up to 256 KiB.
      assert.deepEqual((await send(h, 8192, false)).sizes, [20000]);
    });
  });

  it('chunked: one chunk per block', async () => {
    await withHandle('nine', async (h) => {
      const sink = await send(h, 8, true, true);
      assert.equal(sink.text, '8\r\naaaaaaaa\r\n1\r\nb\r\n0\r\n\r\n');
    });
  });
});

describe('explicit blocksize: streams', () => {
  it('an fs.ReadStream that yields 4-byte pieces, blocksize 8: 8 + 1', async () => {
    const stream = createReadStream(join(dir, 'nine'), { highWaterMark: 4 });
    const sink = await send(stream, 8, true);
    assert.deepEqual(sink.sizes, [8, 1]);
    assert.equal(sink.text, NINE);
  });

  it('an fs.ReadStream of 20000 bytes in 3000-byte pieces, blocksize 8192', async () => {
    const stream = createReadStream(join(dir, '20k'), { highWaterMark: 3000 });
    const sink = await send(stream, 8192, true);
    assert.deepEqual(sink.sizes, [8192, 8192, 3616]);
    assert.ok(Buffer.concat(sink.writes).equals(data20k));
  });

  it('not exact: the stream keeps its own pieces', async () => {
    const stream = createReadStream(join(dir, 'nine'), { highWaterMark: 4 });
    assert.deepEqual((await send(stream, 8, false)).sizes, [4, 4, 1]);
  });

  it('a Readable whose pieces straddle blocks is re-cut exactly, bytes in order', async () => {
    const pieces = ['abc', 'defghijklm', 'n', '', 'opqrstuvwxyz'].map((p) => Buffer.from(p));
    const sink = await send(Readable.from(pieces), 4, true);
    assert.deepEqual(sink.sizes, [4, 4, 4, 4, 4, 4, 2]);
    assert.equal(sink.text, 'abcdefghijklmnopqrstuvwxyz');
  });

  it('a Readable exactly a multiple of blocksize: no empty last piece', async () => {
    const sink = await send(Readable.from([Buffer.from('abcdefgh')]), 4, true);
    assert.deepEqual(sink.sizes, [4, 4]);
  });

  it('chunked with a Readable: one chunk per block', async () => {
    const sink = await send(Readable.from([Buffer.from('abc'), Buffer.from('de')]), 2, true, true);
    assert.equal(sink.text, '2\r\nab\r\n2\r\ncd\r\n1\r\ne\r\n0\r\n\r\n');
  });

  it('a stream that fails half-way still rejects, after the blocks before it', async () => {
    const stream = new Readable({ read() {} });
    const sink = new RecordingSink();
    const pending = writeBody(sink, await prepareBody(stream, 4, true), false);
    stream.push(Buffer.from('abcdef'));
    setImmediate(() => stream.destroy(new Error('disk gone')));
    await assert.rejects(pending, { message: 'disk gone' });
    assert.deepEqual(sink.sizes, [4]);
  });
});

describe('explicit blocksize: other bodies', () => {
  it('iterables keep their items (Python 3 sends each one)', async () => {
    const sink = await send(['abc', 'defghijklm'], 4, true);
    assert.deepEqual(sink.sizes, [3, 10]);
  });

  it('a Blob is sliced by blocksize either way', async () => {
    const blob = new Blob([NINE]);
    assert.deepEqual((await send(blob, 8, true)).sizes, [8, 1]);
    assert.deepEqual((await send(blob, 8, false)).sizes, [8, 1]);
  });

  it('in-memory bodies are one write', async () => {
    assert.deepEqual((await send(NINE, 8, true)).sizes, [9]);
    assert.deepEqual((await send(Buffer.from(NINE), 8, true)).sizes, [9]);
  });
});
