// HTTPMessage and splitHeaderLine. Expected values marked "2.7" were checked against
// PYENV_VERSION=2.7.18 python (httplib.HTTPMessage over a StringIO), "3" against
// python3's http.client.parse_headers; where this package differs on purpose (one space
// per fold, keys/items/size as in Python 3) the test says so.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { splitHeaderLine } from '../../src/protocol/headers.ts';
import { HTTPMessage } from '../../src/protocol/message.ts';

const msg = (...lines: string[]): HTTPMessage => new HTTPMessage(lines);

describe('splitHeaderLine', () => {
  const cases: Array<[line: string, name: string, value: string, why: string]> = [
    ['Content-Length: 42\r\n', 'Content-Length', '42', 'CRLF terminator stripped'],
    ['X: v\n', 'X', 'v', 'bare LF terminator stripped'],
    ['X: v', 'X', 'v', 'last line without terminator'],
    ['X:v\r\n', 'X', 'v', 'no space after the colon'],
    ['X:  a \x0b\x0c \r\n', 'X', 'a', 'str.strip set: SP HTAB VT FF CR LF (2.7)'],
    ['X:\t\tv\t\r\n', 'X', 'v', 'tabs stripped'],
    [
      'X: \xa0v\xa0\r\n',
      'X',
      '\xa0v\xa0',
      'NBSP is not whitespace to 2.7 (String#trim would strip it)',
    ],
    ['X: a:b\n', 'X', 'a:b', 'split at the first colon only (2.7)'],
    ['X:\r\n', 'X', '', 'empty value'],
    ['A : 1\r\n', 'A ', '1', 'whitespace before the colon kept in the name (2.7)'],
    ['CONTENT-type: t\r\n', 'CONTENT-type', 't', 'name case kept'],
    [' x: 1\r\n', ' x', '1', 'leading whitespace of the name kept (2.7)'],
    ['no colon\r\n', '', 'no colon', 'no colon: empty name'],
    [': x\r\n', '', 'x', 'empty name'],
  ];
  for (const [line, name, value, why] of cases) {
    it(`${JSON.stringify(line)} → [${JSON.stringify(name)}, ${JSON.stringify(value)}]: ${why}`, () => {
      assert.deepEqual(splitHeaderLine(line), [name, value]);
    });
  }
});

describe('lookups by name', () => {
  // [lines, lookup name, getheader, getheaders, getallmatchingheaders]
  const cases: Array<{
    why: string;
    lines: string[];
    name: string;
    joined: string | null;
    all: string[];
    raw: string[];
  }> = [
    {
      why: 'exact case',
      lines: ['Content-Type: text/html\r\n'],
      name: 'Content-Type',
      joined: 'text/html',
      all: ['text/html'],
      raw: ['Content-Type: text/html\r\n'],
    },
    {
      why: 'lower-case lookup of a mixed-case name (2.7)',
      lines: ['CONTENT-type: t\r\n'],
      name: 'content-type',
      joined: 't',
      all: ['t'],
      raw: ['CONTENT-type: t\r\n'],
    },
    {
      why: 'mixed-case lookup of a lower-case name',
      lines: ['content-type: t\r\n'],
      name: 'CoNtEnT-TyPe',
      joined: 't',
      all: ['t'],
      raw: ['content-type: t\r\n'],
    },
    {
      why: 'duplicates joined by ", " in order (2.7)',
      lines: ['Set-Cookie: a\r\n', 'X: 1\r\n', 'set-cookie: b\r\n'],
      name: 'SET-COOKIE',
      joined: 'a, b',
      all: ['a', 'b'],
      raw: ['Set-Cookie: a\r\n', 'set-cookie: b\r\n'],
    },
    {
      why: 'an empty duplicate still joins (2.7: "a, ")',
      lines: ['X:  a \x0b\x0c \r\n', 'X:\r\n'],
      name: 'x',
      joined: 'a, ',
      all: ['a', ''],
      raw: ['X:  a \x0b\x0c \r\n', 'X:\r\n'],
    },
    {
      why: 'folded value: one space per fold (2.7 has "a\\n b\\n c")',
      lines: ['X: a\r\n', '  b\r\n', '\tc\r\n'],
      name: 'x',
      joined: 'a b c',
      all: ['a b c'],
      raw: ['X: a\r\n', '  b\r\n', '\tc\r\n'],
    },
    {
      why: 'folds stay with their own field among duplicates and neighbours (2.7)',
      lines: ['X: 1\r\n', 'Y: 2\r\n', '  y2\r\n', 'X: 3\r\n', '\tx3\r\n'],
      name: 'X',
      joined: '1, 3 x3',
      all: ['1', '3 x3'],
      raw: ['X: 1\r\n', 'X: 3\r\n', '\tx3\r\n'],
    },
    {
      why: 'the neighbour of the previous case keeps its own fold',
      lines: ['X: 1\r\n', 'Y: 2\r\n', '  y2\r\n', 'X: 3\r\n', '\tx3\r\n'],
      name: 'y',
      joined: '2 y2',
      all: ['2 y2'],
      raw: ['Y: 2\r\n', '  y2\r\n'],
    },
    {
      why: 'fold of an empty value adds no leading space (2.7 getheaders: "b")',
      lines: ['X:\r\n', ' b\r\n'],
      name: 'x',
      joined: 'b',
      all: ['b'],
      raw: ['X:\r\n', ' b\r\n'],
    },
    {
      why: 'blank fold lines add no space',
      lines: ['X: a\r\n', ' \r\n', '\t b \r\n', ' \r\n'],
      name: 'x',
      joined: 'a b',
      all: ['a b'],
      raw: ['X: a\r\n', ' \r\n', '\t b \r\n', ' \r\n'],
    },
    {
      why: 'bare-LF and unterminated lines',
      lines: ['X: a\n', ' b'],
      name: 'x',
      joined: 'a b',
      all: ['a b'],
      raw: ['X: a\n', ' b'],
    },
    {
      why: '"A : 1" is named "A " and a lookup of "a" misses it (2.7)',
      lines: ['A : 1\r\n'],
      name: 'a',
      joined: null,
      all: [],
      raw: [],
    },
    {
      why: '"A : 1" is found by "a " (2.7)',
      lines: ['A : 1\r\n'],
      name: 'a ',
      joined: '1',
      all: ['1'],
      raw: ['A : 1\r\n'],
    },
    {
      why: 'a name is not a prefix match',
      lines: ['Content-Length-X: 1\r\n', 'Content: 2\r\n'],
      name: 'content-length',
      joined: null,
      all: [],
      raw: [],
    },
    {
      why: 'non-ASCII names match exactly (2.7 folds ASCII only)',
      lines: ['X-\xc0: 1\r\n'],
      name: 'x-\xc0',
      joined: '1',
      all: ['1'],
      raw: ['X-\xc0: 1\r\n'],
    },
    {
      why: 'Latin-1 letters are not case-folded (2.7: "x-\\xe0" misses "X-\\xc0")',
      lines: ['X-\xc0: 1\r\n'],
      name: 'x-\xe0',
      joined: null,
      all: [],
      raw: [],
    },
    {
      why: 'KELVIN SIGN does not fold to "k" (String#toLowerCase would)',
      lines: ['X-k: 1\r\n'],
      name: 'X-\u212a',
      joined: null,
      all: [],
      raw: [],
    },
    {
      why: 'ASCII still folds in a name that also holds non-ASCII',
      lines: ['X-\xc0-Y: 1\r\n'],
      name: 'x-\xc0-y',
      joined: '1',
      all: ['1'],
      raw: ['X-\xc0-Y: 1\r\n'],
    },
    {
      why: 'an empty-name line is no field; the whitespace line after it is a header (2.7: " y")',
      lines: [': x\r\n', ' y: z\r\n'],
      name: ' y',
      joined: 'z',
      all: ['z'],
      raw: [' y: z\r\n'],
    },
    {
      why: 'an empty name is never found',
      lines: [': x\r\n', 'no colon\r\n'],
      name: '',
      joined: null,
      all: [],
      raw: [],
    },
    {
      why: 'a whitespace-led first line is a field of its own (2.7: " x")',
      lines: [' x: 1\r\n', 'Y: 2\r\n'],
      name: ' X',
      joined: '1',
      all: ['1'],
      raw: [' x: 1\r\n'],
    },
  ];
  for (const c of cases) {
    it(c.why, () => {
      const m = new HTTPMessage(c.lines);
      assert.equal(m.getheader(c.name), c.joined);
      assert.equal(m.get(c.name), c.joined);
      assert.deepEqual(m.getheaders(c.name), c.all);
      assert.deepEqual(m.get_all(c.name), c.joined === null ? null : c.all);
      assert.deepEqual(m.getallmatchingheaders(c.name), c.raw);
      assert.equal(m.first(c.name), c.all[0] ?? null);
      assert.equal(m.has(c.name), c.joined !== null);
      assert.equal(m.has_key(c.name), c.joined !== null);
    });
  }
});

describe('defaults', () => {
  const m = msg('X: 1\r\n');
  const obj = { not: 'a string' };
  const list = ['default', 'values'];
  it('no default gives null', () => {
    assert.equal(m.getheader('missing'), null);
    assert.equal(m.get('missing'), null);
    assert.equal(m.get_all('missing'), null);
    assert.equal(m.first('missing'), null);
  });
  const defaults: Array<[string, unknown]> = [
    ['a string', 'default-value'],
    ['an empty string', ''],
    ['zero', 0],
    ['42 (3.x test_getheader)', 42],
    ['false', false],
    ['an object', obj],
    ['a list (not joined: that is HTTPResponse.getheader)', list],
    ['an explicit undefined', undefined],
    ['an explicit null', null],
  ];
  for (const [what, d] of defaults) {
    it(`${what} is returned as is when missing, ignored when present`, () => {
      assert.equal(m.getheader('missing', d), d);
      assert.equal(m.get('missing', d), d);
      assert.equal(m.get_all('missing', d), d);
      assert.equal(m.getheader('x', d), '1');
      assert.equal(m.get('x', d), '1');
      assert.deepEqual(m.get_all('x', d), ['1']);
    });
  }
  it('getheaders has no default: [] when missing', () => {
    assert.deepEqual(m.getheaders('missing'), []);
    assert.deepEqual(m.getallmatchingheaders('missing'), []);
  });
});

describe('whole-message views (Python 3 semantics)', () => {
  const lines = ['Set-Cookie: a\r\n', 'set-cookie: b\r\n', 'Y: 1\r\n', '  more\r\n', 'A : 2\n'];
  const m = new HTTPMessage(lines);
  it('keys(): every name in order, as received, duplicates kept', () => {
    assert.deepEqual(m.keys(), ['Set-Cookie', 'set-cookie', 'Y', 'A ']);
  });
  it('values(): every value in order, unfolded', () => {
    assert.deepEqual(m.values(), ['a', 'b', '1 more', '2']);
  });
  it('items() and iteration: [name, value] pairs in order', () => {
    const expected = [
      ['Set-Cookie', 'a'],
      ['set-cookie', 'b'],
      ['Y', '1 more'],
      ['A ', '2'],
    ];
    assert.deepEqual(m.items(), expected);
    assert.deepEqual([...m], expected);
    const seen: string[] = [];
    for (const [name, value] of m) seen.push(`${name}=${value}`);
    assert.deepEqual(seen, ['Set-Cookie=a', 'set-cookie=b', 'Y=1 more', 'A =2']);
  });
  it('size counts fields, not continuation lines', () => {
    assert.equal(m.size, 4);
    assert.equal(msg('X: a\r\n', ' b\r\n', '\tc\r\n').size, 1);
    assert.equal(msg(': empty name\r\n', 'X: 1\r\n').size, 1);
  });
  it('headers: the raw lines as given, continuation lines included', () => {
    assert.deepEqual(m.headers, [
      'Set-Cookie: a\r\n',
      'set-cookie: b\r\n',
      'Y: 1\r\n',
      '  more\r\n',
      'A : 2\n',
    ]);
  });
  it('returned arrays are copies: changing them changes nothing inside', () => {
    const k = m.keys();
    k[0] = 'changed';
    const v = m.values();
    v.push('extra');
    const it0 = m.items()[0];
    assert.ok(it0 !== undefined);
    it0[1] = 'changed';
    const all = m.getheaders('set-cookie');
    all.length = 0;
    const raw = m.getallmatchingheaders('y');
    raw.pop();
    assert.deepEqual(m.keys(), ['Set-Cookie', 'set-cookie', 'Y', 'A ']);
    assert.deepEqual(m.values(), ['a', 'b', '1 more', '2']);
    assert.deepEqual(m.items()[0], ['Set-Cookie', 'a']);
    assert.deepEqual(m.getheaders('set-cookie'), ['a', 'b']);
    assert.deepEqual(m.get_all('set-cookie'), ['a', 'b']);
    assert.deepEqual(m.getallmatchingheaders('y'), ['Y: 1\r\n', '  more\r\n']);
  });
});

describe('names that are Object.prototype members', () => {
  const protoNames = Object.getOwnPropertyNames(Object.prototype);
  const hostile = msg(
    '__proto__: p\r\n',
    'Constructor: c\r\n',
    'toString: t\r\n',
    'HASOWNPROPERTY: h\r\n',
    '__PROTO__: p2\r\n',
  );
  it('are ordinary headers, found case-insensitively', () => {
    assert.equal(hostile.getheader('__proto__'), 'p, p2');
    assert.deepEqual(hostile.getheaders('__Proto__'), ['p', 'p2']);
    assert.equal(hostile.get('constructor'), 'c');
    assert.equal(hostile.getheader('TOSTRING'), 't');
    assert.equal(hostile.first('hasOwnProperty'), 'h');
    assert.deepEqual(hostile.getallmatchingheaders('__proto__'), [
      '__proto__: p\r\n',
      '__PROTO__: p2\r\n',
    ]);
    assert.equal(hostile.size, 5);
  });
  it('do not shadow the message own methods', () => {
    assert.equal(
      hostile.toString(),
      '__proto__: p\r\nConstructor: c\r\ntoString: t\r\nHASOWNPROPERTY: h\r\n__PROTO__: p2\r\n',
    );
    assert.equal(String(hostile), hostile.toString());
    assert.ok(hostile instanceof HTTPMessage);
  });
  it('are absent from a message that lacks them', () => {
    const plain = msg('X: 1\r\n');
    for (const name of [...protoNames, 'prototype', '__PROTO__', 'ToString']) {
      assert.equal(plain.getheader(name), null, name);
      assert.equal(plain.get(name, 'd'), 'd', name);
      assert.equal(plain.get_all(name), null, name);
      assert.deepEqual(plain.getheaders(name), [], name);
      assert.deepEqual(plain.getallmatchingheaders(name), [], name);
      assert.equal(plain.first(name), null, name);
      assert.equal(plain.has(name), false, name);
      assert.equal(plain.has_key(name), false, name);
    }
  });
  it('leave Object.prototype untouched', () => {
    hostile.getheader('x');
    assert.deepEqual(Object.getOwnPropertyNames(Object.prototype), protoNames);
    assert.equal(Object.getPrototypeOf({}), Object.prototype);
    assert.equal(({} as Record<string, unknown>).p, undefined);
  });
});

describe('empty message', () => {
  const m = new HTTPMessage([]);
  it('has nothing', () => {
    assert.equal(m.size, 0);
    assert.equal(m.getheader('x'), null);
    assert.equal(m.get('x', 'd'), 'd');
    assert.deepEqual(m.getheaders('x'), []);
    assert.equal(m.get_all('x'), null);
    assert.deepEqual(m.getallmatchingheaders('x'), []);
    assert.equal(m.has('x'), false);
    assert.deepEqual(m.keys(), []);
    assert.deepEqual(m.values(), []);
    assert.deepEqual(m.items(), []);
    assert.deepEqual([...m], []);
    assert.deepEqual(m.headers, []);
    assert.equal(m.toString(), '');
  });
});

describe('toString and headers reproduce the input', () => {
  const cases: Array<[string, string[], string]> = [
    ['CRLF lines', ['A: 1\r\n', 'B: 2\r\n'], 'A: 1\r\nB: 2\r\n'],
    ['mixed terminators, last unterminated', ['A: 1\n', 'B: 2\r\n', 'C: 3'], 'A: 1\nB: 2\r\nC: 3'],
    [
      'folds, odd spacing and Latin-1 kept byte for byte',
      ['X:  a \x0b\r\n', '\t b\r\n', 'A : \xe9\xff\r\n'],
      'X:  a \x0b\r\n\t b\r\nA : \xe9\xff\r\n',
    ],
    ['lines that are no field kept', [': e\r\n', 'no colon\n'], ': e\r\nno colon\n'],
  ];
  for (const [why, lines, block] of cases) {
    it(why, () => {
      const m = new HTTPMessage(lines);
      assert.equal(m.toString(), block);
      assert.equal(`${m}`, block);
      m.getheader('x'); // building the index changes nothing
      assert.equal(m.toString(), block);
      assert.deepEqual(m.headers, lines);
    });
  }
});

describe('laziness', () => {
  /** A header array of `n` lines whose every property access is counted. */
  function counted(n: number): { lines: string[]; touches: () => number } {
    let count = 0;
    const target: string[] = new Array<string>(n);
    const lines = new Proxy(target, {
      get(t, prop, receiver) {
        count++;
        if (typeof prop === 'string' && /^\d+$/.test(prop)) {
          const i = Number(prop);
          return i % 2 === 1 ? ' folded\r\n' : `X-${i}: v\r\n`;
        }
        return Reflect.get(t, prop, receiver);
      },
      has(t, prop) {
        count++;
        return Reflect.has(t, prop);
      },
      ownKeys(t) {
        count++;
        return Reflect.ownKeys(t);
      },
      getOwnPropertyDescriptor(t, prop) {
        count++;
        return Reflect.getOwnPropertyDescriptor(t, prop);
      },
    });
    return { lines, touches: () => count };
  }

  it('construction reads nothing, not even the length', () => {
    const { lines, touches } = counted(200_000);
    const m = new HTTPMessage(lines);
    assert.equal(touches(), 0);
    assert.equal(m.headers, lines); // handing back the lines reads nothing either
    assert.equal(touches(), 0);
  });

  it('the first lookup builds the index once; later lookups read no line', () => {
    const { lines, touches } = counted(200_000);
    const m = new HTTPMessage(lines);
    assert.equal(m.getheader('x-0'), 'v folded');
    const afterFirst = touches();
    assert.ok(afterFirst >= 200_000, `every line read once: ${afterFirst}`);
    assert.equal(m.getheader('X-199998'), 'v folded');
    assert.equal(m.size, 100_000);
    assert.equal(m.has('x-2'), true);
    assert.deepEqual(m.getheaders('x-4'), ['v folded']);
    assert.equal(m.keys().length, 100_000);
    assert.equal(touches(), afterFirst);
  });

  it('every kind of lookup triggers the build', () => {
    const probes: Array<[string, (m: HTTPMessage) => unknown]> = [
      ['getheader', (m) => m.getheader('x-0')],
      ['get', (m) => m.get('x-0')],
      ['getheaders', (m) => m.getheaders('x-0')],
      ['get_all', (m) => m.get_all('x-0')],
      ['getallmatchingheaders', (m) => m.getallmatchingheaders('x-0')],
      ['first', (m) => m.first('x-0')],
      ['has', (m) => m.has('x-0')],
      ['has_key', (m) => m.has_key('x-0')],
      ['keys', (m) => m.keys()],
      ['values', (m) => m.values()],
      ['items', (m) => m.items()],
      ['size', (m) => m.size],
      ['iterator', (m) => [...m]],
    ];
    for (const [what, probe] of probes) {
      const { lines, touches } = counted(4);
      const m = new HTTPMessage(lines);
      assert.equal(touches(), 0, what);
      probe(m);
      assert.ok(touches() > 0, what);
    }
  });
});
