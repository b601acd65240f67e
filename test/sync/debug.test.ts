/**
 * `set_debuglevel` through the blocking entry: the output is the main entry's, byte for
 * byte, written by the calling thread, in order with what the caller writes itself,
 * before the call that produced it returns; to `debugOutput` or to `process.stdout`.
 */
import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import * as main from '../../src/index.ts';
import { enqueue, transact } from '../../src/sync/channel.ts';
import { directTransport } from '../../src/sync/direct.ts';
import { create } from '../../src/sync/recipe.ts';
import { Encoder } from '../../src/sync/wire.ts';
import * as httplib from '../../src/sync.ts';
import { runNode, type TempDir, tempDir } from '../cli/cli-harness.ts';
import {
  connectionOn,
  MAIN_ENTRY,
  noUncaught,
  type Peer,
  SYNC_ENTRY,
  startPeer,
  thrown,
} from './peer.ts';

noUncaught();
let peer: Peer;
let tmp: TempDir;
before(async () => {
  peer = await startPeer();
  tmp = tempDir();
  httplib.setdefaulttimeout(10);
});
after(async () => {
  httplib.setdefaulttimeout(null);
  tmp.remove();
  await peer.close();
});

/**
 * The id the worker gives the next object it makes: a probe object is made (and freed
 * with the next command). Ids are given in order, one command at a time.
 */
function nextWorkerId(): number {
  const { id } = create({ cls: 'HTTPConnection', args: ['127.0.0.1', 1], context: null });
  enqueue({ c: 'free', a: [id] });
  return id + 1;
}

/** Whether the worker still has object `id` in its table. */
function workerHolds(id: number): boolean {
  const reply = transact({ c: 'call', id, m: 'isclosed', a: [] }, new Encoder(), null);
  if (reply.json.e === undefined) return true;
  const err = reply.decoder.value(reply.json.e) as Error;
  assert.match(err.message, /no longer exists in the worker/);
  return false;
}

/** One session, step by step; `note` marks where the caller is, in the same output. */
async function session(conn: main.HTTPConnection, note: (text: string) => void): Promise<void> {
  conn.set_debuglevel(1);
  note('[request]\n');
  await conn.request('POST', '/echo', 'form=1', {
    'Content-Type': 'application/x-www-form-urlencoded',
  });
  note('[getresponse]\n');
  const r = await conn.getresponse();
  note('[read]\n');
  await r.read();
  note('[chunked]\n');
  await conn.request('PUT', '/hello', ['a', 'b']);
  await (await conn.getresponse()).read();
  note('[HEAD]\n');
  await conn.request('HEAD', '/hello');
  await (await conn.getresponse()).read();
  conn.close();
}

describe('debug output', () => {
  it("is the main entry's, piece by piece, written before each call returns", async () => {
    const pieces = { sync: [] as string[], async: [] as string[] };
    for (const [name, lib] of [
      ['sync', httplib],
      ['async', main],
    ] as const) {
      const out = pieces[name];
      const conn = new lib.HTTPConnection('127.0.0.1', peer.http, {
        debugOutput: (t: string) => out.push(t),
      });
      await session(conn as unknown as main.HTTPConnection, (t) => out.push(t));
    }
    assert.ok(pieces.sync.some((t) => t.startsWith('send: ')));
    assert.ok(pieces.sync.some((t) => t.startsWith('reply: ')));
    assert.ok(pieces.sync.some((t) => t.startsWith('header: ')));
    assert.deepEqual(pieces.sync, pieces.async);
    // Before getresponse() was called, the request's lines were there already.
    const marks = pieces.sync;
    const send = marks.findIndex((t) => t.startsWith('send: '));
    assert.ok(send > marks.indexOf('[request]\n') && send < marks.indexOf('[getresponse]\n'));
    const reply = marks.findIndex((t) => t.startsWith('reply: '));
    assert.ok(reply > marks.indexOf('[getresponse]\n') && reply < marks.indexOf('[read]\n'));
  });

  it('goes to a Writable debugOutput in order with what the caller writes to it', () => {
    const out = new PassThrough();
    const chunks: string[] = [];
    out.on('data', (d: Buffer) => chunks.push(d.toString()));
    const conn = new httplib.HTTPConnection('127.0.0.1', peer.http, { debugOutput: out });
    conn.set_debuglevel(1);
    out.write('before\n');
    conn.request('GET', '/hello');
    out.write('between\n');
    conn.getresponse().read();
    out.write('after\n');
    conn.close();
    out.end();
    const text = out.read()?.toString() ?? chunks.join('');
    const order = [
      'before\n',
      "send: 'GET /hello",
      'between\n',
      "reply: 'HTTP/1.1 200 OK\\r\\n'",
      'after\n',
    ].map((t) => text.indexOf(t));
    assert.ok(
      order.every((i) => i >= 0),
      text,
    );
    assert.deepEqual(
      [...order].sort((a, b) => a - b),
      order,
      text,
    );
  });

  it('the legacy HTTP class prints through its _conn, as in the main entry', async () => {
    const outputs: string[][] = [];
    for (const lib of [httplib, main]) {
      const out: string[] = [];
      const h = new lib.HTTP('127.0.0.1', peer.http);
      h._conn.debugOutput = (t: string) => out.push(t);
      h.set_debuglevel(1);
      h.putrequest('GET', '/hello');
      await h.endheaders();
      await h.getreply();
      await h.getfile()?.read();
      h.close();
      outputs.push(out);
    }
    assert.ok((outputs[0] as string[]).length > 3);
    assert.deepEqual(outputs[0], outputs[1]);
  });

  it('goes to process.stdout, written by the calling thread, as the main entry writes it', async () => {
    const script = (entry: string, blocking: boolean): string => `
import * as httplib from ${JSON.stringify(entry)};
const w = ${blocking ? '(x) => x' : 'async (x) => await x'};
const conn = new httplib.HTTPConnection('127.0.0.1', ${peer.http});
conn.set_debuglevel(1);
console.log('[request]');
await w(conn.request('GET', '/hello'));
console.log('[getresponse]');
const r = await w(conn.getresponse());
console.log('[read]');
console.log(String(await w(r.read())).trim());
conn.close();
`;
    const runs: string[] = [];
    for (const [entry, blocking] of [
      [SYNC_ENTRY, true],
      [MAIN_ENTRY, false],
    ] as const) {
      const file = tmp.file(`stdout-${blocking}.mts`);
      (await import('node:fs')).writeFileSync(file, script(entry, blocking));
      const result = await runNode(['--import', 'tsx', file], { timeoutMs: 30_000 });
      assert.equal(result.code, 0, result.stderr);
      runs.push(result.out);
    }
    assert.match(
      runs[0] as string,
      /\[request\]\nsend: 'GET \/hello HTTP\/1\.1\\r\\n[^\n]*\n\[getresponse\]\nreply: /,
    );
    assert.equal(runs[0], runs[1]);
  });

  it("a debuglevel attribute that is not a number is compared as the main entry's, not refused (both transports)", async () => {
    const play = async (conn: main.HTTPConnection): Promise<string[]> => {
      const runs: string[] = [];
      for (const level of ['0', '1']) {
        let out = '';
        conn.debugOutput = (text: string) => {
          out += text;
        };
        conn.debuglevel = level as never;
        await conn.request('GET', '/hello');
        const body = await (await conn.getresponse()).read();
        runs.push(`${level}: ${body.toString().trim()} ${out.split('\n')[0]?.slice(0, 10)}`);
      }
      conn.close();
      return runs;
    };
    const theirs = await play(new main.HTTPConnection('127.0.0.1', peer.http));
    assert.deepEqual(theirs, ['0: hello ', "1: hello send: 'GET"]);
    for (const direct of [true, false]) {
      const conn = connectionOn(direct, peer.http);
      // Before: the worker transport threw "set_debuglevel() takes a number, got string".
      const ours = await play(conn as unknown as main.HTTPConnection);
      assert.deepEqual(ours, theirs, direct ? 'direct' : 'worker');
    }
  });

  it('a debugOutput that throws in getresponse() (worker transport): the response made in the worker is not kept there', () => {
    const saved = directTransport.enabled;
    directTransport.enabled = false;
    let conn: httplib.HTTPConnection;
    try {
      conn = new httplib.HTTPConnection('127.0.0.1', peer.http);
    } finally {
      directTransport.enabled = saved;
    }
    const thrownByIt = new Error('thrown by debugOutput');
    let throwing = false;
    const output = (text: string): void => {
      if (throwing && text.startsWith('header:')) {
        throwing = false;
        throw thrownByIt;
      }
    };
    conn.set_debuglevel(1);
    conn.debugOutput = output;
    const orphans: number[] = [];
    for (let i = 0; i < 3; i++) {
      conn.request('GET', '/hello');
      orphans.push(nextWorkerId());
      throwing = true;
      assert.equal(
        thrown(() => conn.getresponse()),
        thrownByIt,
      );
    }
    // The legacy class: its getreply() makes the response (its file) the same way.
    const h = new httplib.HTTP('127.0.0.1', peer.http);
    h._conn.debugOutput = output;
    h.set_debuglevel(1);
    h.putrequest('GET', '/hello');
    h.endheaders();
    orphans.push(nextWorkerId());
    throwing = true;
    assert.equal(
      thrown(() => h.getreply()),
      thrownByIt,
    );
    for (const id of orphans) assert.equal(workerHolds(id), false, `response ${id} freed`);
    // Both still work; the responses they make are kept for their twins.
    conn.request('GET', '/hello');
    const r = conn.getresponse();
    assert.equal(r.read().toString(), 'hello\n');
    h.putrequest('GET', '/hello');
    h.endheaders();
    assert.equal(h.getreply()[0], 200);
    assert.equal(h.getfile()?.read().toString(), 'hello\n');
    conn.close();
    h.close();
  });

  for (const direct of [true, false]) {
    it(`a debugOutput that throws (${direct ? 'direct' : 'worker'} transport): the call throws it, the connection is closed, the next request works, as on the main entry`, () => {
      const conn = connectionOn(direct, peer.http);
      conn.set_debuglevel(1);
      const thrownByIt = new Error('thrown by debugOutput');
      let throwOn: string | null = null;
      conn.debugOutput = (text: string) => {
        if (throwOn !== null && text.startsWith(throwOn)) {
          throwOn = null;
          throw thrownByIt;
        }
      };
      const works = (): void => {
        conn.request('GET', '/hello');
        assert.equal(conn.getresponse().read().toString(), 'hello\n');
      };
      // On a header line of the response.
      conn.request('GET', '/hello');
      throwOn = 'header:';
      assert.equal(
        thrown(() => conn.getresponse()),
        thrownByIt,
      );
      works();
      works();
      // While a body from an iterable is sent (each piece printed as it goes).
      throwOn = 'send:';
      function* pieces(): Generator<string> {
        yield 'ab';
        yield 'cd';
      }
      assert.equal(
        thrown(() => conn.request('POST', '/echo', pieces())),
        thrownByIt,
      );
      works();
      works();
      conn.close();
    });
  }
});
