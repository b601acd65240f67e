/**
 * `HTTPResponse.getheader(name, default)` (issue 12): the default is returned exactly as
 * given, an explicit `undefined` included (it forwards its arguments as
 * `HTTPMessage.getheader` does), and a default that is iterable but not a string is
 * joined with `', '` as Python 3's `HTTPResponse.getheader` does
 * (`', '.join(default)`; 2.7 returns it unchanged, and so does `HTTPMessage`).
 */
import assert from 'node:assert/strict';
import { describe } from 'node:test';
import { timeLimited } from './servers.ts';
import { withSession } from './sessions.ts';

const { it } = timeLimited(30_000);

const REPLY = 'HTTP/1.1 200 OK\r\nX-A: 1\r\nX-A: 2\r\nContent-Length: 0\r\n\r\n';

function* letters(): Generator<string> {
  yield 'a';
  yield 'b';
}

describe('HTTPResponse.getheader defaults', () => {
  it('a present header ignores the default, whatever it is', async () => {
    await withSession([[REPLY]], async (s) => {
      const r = await s.get();
      for (const d of [undefined, null, 'd', 42, ['a', 'b'], [1]]) {
        assert.equal(r.getheader('x-a', d), '1, 2', `default ${String(d)}`);
      }
    });
  });

  it('a missing header gives the default as given', async () => {
    await withSession([[REPLY]], async (s) => {
      const r = await s.get();
      assert.equal(r.getheader('x-missing'), null);
      assert.equal(r.getheader('x-missing', undefined), undefined);
      assert.equal(r.getheader('x-missing', null), null);
      assert.equal(r.getheader('x-missing', 'dflt'), 'dflt');
      assert.equal(r.getheader('x-missing', 42), 42);
      assert.equal(r.getheader('x-missing', 0), 0);
      assert.equal(r.getheader('x-missing', false), false);
      const obj = { not: 'iterable' };
      assert.equal(r.getheader('x-missing', obj), obj);
    });
  });

  it('an iterable default that is not a string is joined with ", " (Python 3)', async () => {
    await withSession([[REPLY]], async (s) => {
      const r = await s.get();
      assert.equal(r.getheader('x-missing', ['a', 'b']), 'a, b');
      assert.equal(r.getheader('x-missing', ['only']), 'only');
      assert.equal(r.getheader('x-missing', []), '');
      assert.equal(r.getheader('x-missing', new Set(['a', 'b'])), 'a, b');
      assert.equal(r.getheader('x-missing', letters()), 'a, b');
      // HTTPMessage keeps Python 2.7's getheader: the default unchanged.
      const list = ['a', 'b'];
      assert.equal(r.msg.getheader('x-missing', list), list);
    });
  });

  it('an iterable default holding a non-string is a TypeError (Python: join fails)', async () => {
    await withSession([[REPLY]], async (s) => {
      const r = await s.get();
      assert.throws(() => r.getheader('x-missing', [1, 2]), {
        name: 'TypeError',
        message: 'sequence item 0: expected string, number found',
      });
      assert.throws(() => r.getheader('x-missing', ['a', null]), /sequence item 1: .*null/);
      assert.throws(() => r.getheader('x-missing', Buffer.from('ab')), TypeError);
    });
  });

  it('after close() the headers still answer, twice in a row alike', async () => {
    await withSession([[REPLY]], async (s) => {
      const r = await s.get();
      r.close();
      assert.equal(r.getheader('X-A'), '1, 2');
      assert.equal(r.getheader('x-missing', ['a', 'b']), 'a, b');
      assert.equal(r.getheader('x-missing', ['a', 'b']), 'a, b');
    });
  });
});
