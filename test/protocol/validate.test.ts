/**
 * src/protocol/validate.ts against CPython 2.7.18 (test/fixtures/request/python2.7.json,
 * made by generate.py beside it), plus the rules where this package is deliberately
 * stricter or follows Python 3 instead (each named as such).
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { InvalidURL } from '../../src/protocol/errors.ts';
import { isToken, pyrepr } from '../../src/protocol/pytext.ts';
import {
  coerceHeaderName,
  coerceHeaderValue,
  parseHostPort,
  validateHeaderName,
  validateHeaderValue,
  validateHost,
  validateMethod,
  validatePath,
  validateTunnelHost,
} from '../../src/protocol/validate.ts';

interface PyError {
  type: string;
  message: string;
  call: number;
}
interface Verdict {
  input: string | { unicode: string };
  error: PyError | null;
}
interface Fixture {
  python: string;
  repr: Array<{ input: string; repr: string }>;
  reprUnicode: Array<{ input: string; repr: string }>;
  hostport: Array<{
    host: string;
    port: number | null;
    result?: [string, number];
    error?: PyError;
  }>;
  validatePath: Verdict[];
  validateHost: Verdict[];
  headerName: Verdict[];
  headerValue: Verdict[];
}

const fixture = JSON.parse(
  readFileSync(new URL('../fixtures/request/python2.7.json', import.meta.url), 'utf8'),
) as Fixture;

function text(input: Verdict['input']): string {
  return typeof input === 'string' ? input : input.unicode;
}

/** Python's exception class name → ours (API.md: ValueError → TypeError). */
function ourClass(pythonType: string): new (...args: never[]) => Error {
  if (pythonType === 'InvalidURL') return InvalidURL;
  if (pythonType === 'ValueError') return TypeError;
  throw new Error(`no mapping for Python exception ${pythonType}`);
}

/** Runs `fn`, returns the error it threw (asserting it threw). */
function thrown(fn: () => unknown): Error {
  try {
    fn();
  } catch (e) {
    assert.ok(e instanceof Error, 'threw a non-Error');
    return e;
  }
  assert.fail('did not throw');
}

function assertRejects(fn: () => unknown, cls: new (...args: never[]) => Error, message: string) {
  const e = thrown(fn);
  assert.equal(e.constructor, cls, `class: ${e.constructor.name}: ${e.message}`);
  assert.equal(e.message, message);
}

function assertSameAsPython(fn: () => unknown, error: PyError | null) {
  if (error === null) {
    assert.doesNotThrow(fn);
  } else {
    assertRejects(fn, ourClass(error.type), error.message);
  }
}

describe('fixture', () => {
  it('comes from CPython 2.7.18', () => {
    assert.equal(fixture.python, '2.7.18');
    assert.ok(fixture.repr.length > 256);
  });
});

describe('pyrepr (against real Python 2.7 repr())', () => {
  for (const { input, repr } of fixture.repr) {
    const label = input.length === 1 ? `byte 0x${input.charCodeAt(0).toString(16)}` : repr;
    it(`${label.length > 60 ? `${label.slice(0, 60)}…` : label}`, () => {
      assert.equal(pyrepr(input), repr);
    });
  }

  it('covers every byte value on its own', () => {
    const bytes = new Set(fixture.repr.filter((c) => c.input.length === 1).map((c) => c.input));
    assert.equal(bytes.size, 256);
  });

  for (const { input, repr } of fixture.reprUnicode) {
    it(`code points above 0xFF as Python 2.7 shows unicode text (u dropped): ${repr}`, () => {
      assert.equal(pyrepr(input), repr);
    });
  }
});

describe('parseHostPort (against real Python 2.7 _get_hostport)', () => {
  /** Where we deliberately differ from 2.7, and what we do instead. */
  const ours: Record<string, [string, number] | [typeof InvalidURL, string]> = {
    // Python's int() takes a sign and surrounding whitespace; a port is digits only.
    'h:-1': [InvalidURL, "nonnumeric port: '-1'"],
    'h: 80': [InvalidURL, "nonnumeric port: ' 80'"],
    'h:+80': [InvalidURL, "nonnumeric port: '+80'"],
    'h:80 ': [InvalidURL, "nonnumeric port: '80 '"],
    // Python accepts any int and fails at connect time.
    'h:65536': [InvalidURL, "port out of range 0-65535: '65536'"],
    // Python 3.13 strips brackets even when the port is given; 2.7 keeps them.
    '[::1] 81': ['::1', 81],
  };
  const used = new Set<string>();
  for (const c of fixture.hostport) {
    const key = c.port === null ? c.host : `${c.host} ${c.port}`;
    const mine = ours[key];
    if (mine !== undefined) {
      used.add(key);
      it(`${JSON.stringify(key)} differs from 2.7 on purpose (digits-only ports, 3.13 brackets)`, () => {
        const py = c.result ?? c.error?.message;
        if (typeof mine[0] === 'string') {
          assert.deepEqual(parseHostPort(c.host, c.port, 80), mine);
        } else {
          assertRejects(() => parseHostPort(c.host, c.port, 80), mine[0], mine[1] as string);
        }
        assert.notDeepEqual(py, mine, 'the fixture no longer shows the difference');
      });
      continue;
    }
    it(`${JSON.stringify(key)} as Python 2.7`, () => {
      if (c.result !== undefined) {
        assert.deepEqual(parseHostPort(c.host, c.port, 80), c.result);
      } else {
        assertSameAsPython(() => parseHostPort(c.host, c.port, 80), c.error ?? null);
      }
    });
  }
  it('every deliberate difference is still in the fixture', () => {
    assert.deepEqual([...used].sort(), Object.keys(ours).sort());
  });

  it('uses the given default port', () => {
    assert.deepEqual(parseHostPort('h', null, 443), ['h', 443]);
    assert.deepEqual(parseHostPort('h:', undefined, 443), ['h', 443]);
    assert.deepEqual(parseHostPort('[::1]', null, 443), ['::1', 443]);
  });

  it('does not parse the host when a port is given', () => {
    assert.deepEqual(parseHostPort('a:81', 82, 80), ['a:81', 82]);
    assert.deepEqual(parseHostPort('h', 0, 80), ['h', 0]);
    assert.deepEqual(parseHostPort('h', 65535, 80), ['h', 65535]);
  });

  it('a port of digits beyond any integer is out of range, not a huge number', () => {
    assertRejects(
      () => parseHostPort(`h:${'9'.repeat(400)}`, null, 80),
      InvalidURL,
      `port out of range 0-65535: '${'9'.repeat(400)}'`,
    );
  });

  it("names a URL given for the host after Python's message", () => {
    for (const [url, port] of [
      ['http://127.0.0.1:8080/', '8080/'],
      ['https://example.org', '//example.org'],
      ['HTTP://[::1]:80/x', '80/x'],
    ] as const) {
      assertRejects(
        () => parseHostPort(url, null, 80),
        InvalidURL,
        `nonnumeric port: '${port}' ('${url}' is a URL: pass its host and port instead)`,
      );
    }
    // Not a URL: Python's message alone.
    assertRejects(() => parseHostPort('h:x//', null, 80), InvalidURL, "nonnumeric port: 'x//'");
  });

  it('rejects a non-ASCII digit in the port (Python int() accepts it)', () => {
    assertRejects(
      () => parseHostPort('h:\u0668\u0660', null, 80),
      InvalidURL,
      "nonnumeric port: '\u0668\u0660'",
    );
  });

  for (const bad of [-1, 65536, 1.5, Number.NaN, Number.POSITIVE_INFINITY, '80', true]) {
    it(`a given port of ${typeof bad} ${String(bad)} is a TypeError (API.md: ValueError → TypeError)`, () => {
      const e = thrown(() => parseHostPort('h', bad as number, 80));
      assert.equal(e.constructor, TypeError);
      assert.match(e.message, /^port must be an integer 0-65535, got /);
    });
  }
});

describe('validatePath (against real Python 2.7 _validate_path, every byte)', () => {
  for (const v of fixture.validatePath) {
    const url = text(v.input);
    it(`${pyrepr(url)}: ${v.error === null ? 'accepted' : 'InvalidURL'} as in Python 2.7`, () => {
      assertSameAsPython(() => validatePath(url), v.error);
    });
  }

  it('rejects a code point above 0xFF, which no latin1 byte can carry (CVE-2018-12116)', () => {
    assertRejects(
      () => validatePath('/caf\u20ac'),
      InvalidURL,
      "URL can't contain control characters. '/caf\\u20ac' (found at least '\\u20ac')",
    );
  });

  it('names a whole astral code point and a lone surrogate in the message', () => {
    assertRejects(
      () => validatePath('/\u{1f600}'),
      InvalidURL,
      "URL can't contain control characters. '/\\U0001f600' (found at least '\\U0001f600')",
    );
    assertRejects(
      () => validatePath('/\ud800x'),
      InvalidURL,
      "URL can't contain control characters. '/\\ud800x' (found at least '\\ud800')",
    );
  });

  it('reports the first offending character', () => {
    assertRejects(
      () => validatePath('/a\nb c'),
      InvalidURL,
      "URL can't contain control characters. '/a\\nb c' (found at least '\\n')",
    );
  });
});

describe('validateHost (Python 3 rule: 2.7 also rejects 0x80-0xFF, we IDNA-encode those)', () => {
  for (const v of fixture.validateHost) {
    const host = text(v.input);
    const c = host.length === 3 ? host.charCodeAt(1) : -1;
    if (c >= 0x80) {
      it(`${pyrepr(host)} accepted although 2.7 rejects it: non-ASCII hosts are IDNA-encoded (Python 3)`, () => {
        assert.notEqual(v.error, null);
        assert.doesNotThrow(() => validateHost(host));
      });
      continue;
    }
    it(`${pyrepr(host)}: ${v.error === null ? 'accepted' : 'InvalidURL'} as in Python 2.7 and 3`, () => {
      assertSameAsPython(() => validateHost(host), v.error);
    });
  }

  it('accepts hosts beyond latin1 (sent IDNA-encoded)', () => {
    assert.doesNotThrow(() => validateHost('δπθ.gr'));
  });

  it('rejects CRLF injection with the Python message', () => {
    assertRejects(
      () => validateHost('example.com\r\nX: y'),
      InvalidURL,
      "URL can't contain control characters. 'example.com\\r\\nX: y' (found at least '\\r')",
    );
  });
});

describe('validateTunnelHost (stricter than 2.7, which sends any host in the CONNECT line)', () => {
  // [host as parseHostPort left it, what the caller gave, the port given or null]
  const accepted: Array<[string, string, number | null]> = [
    ['origin.example', 'origin.example', 443],
    ['origin.example', 'origin.example:8080', null],
    ['127.0.0.1', '127.0.0.1', 80],
    ['::1', '::1', 80],
    ['::1', '[::1]', 80],
    ['::1', '[::1]:8080', null],
    ['1:2:3:4:5:6:7:8', '1:2:3:4:5:6:7:8', 80],
    ['::ffff:1.2.3.4', '::ffff:1.2.3.4', 80],
    ['fe80::1%eth0', '[fe80::1%eth0]', 80],
    ['δπθ.gr', 'δπθ.gr', 80],
    ['a%41b', 'a%41b', 80],
  ];
  for (const [host, given, port] of accepted) {
    it(`accepts ${pyrepr(given)} (port ${port})`, () => {
      assert.doesNotThrow(() => validateTunnelHost(host, given, port));
    });
  }
  const notHost = (given: string): string =>
    `tunnel host is not a host name or IP address: ${pyrepr(given)}`;
  const refused: Array<[string, string, number | null, string]> = [
    [
      'localhost:8080',
      'localhost:8080',
      9090,
      "tunnel host has a port, and port 9090 is given too: 'localhost:8080'",
    ],
    [
      '[::1]:8080',
      '[::1]:8080',
      9090,
      "tunnel host has a port, and port 9090 is given too: '[::1]:8080'",
    ],
    ['[', '[', 443, notHost('[')],
    ['::1]', '::1]', 443, notHost('::1]')],
    ['user@h', 'user@h:80', null, notHost('user@h:80')],
    ['h/x', 'h/x', 80, notHost('h/x')],
    ['h?x', 'h?x', 80, notHost('h?x')],
    ['h#x', 'h#x', 80, notHost('h#x')],
    ['h\\x', 'h\\x', 80, notHost('h\\x')],
    ['localhost:', 'localhost:', 80, notHost('localhost:')],
    ['1::2::3', '1::2::3', 80, notHost('1::2::3')],
    ['1:2:3:4:5:6:7:8:9', '1:2:3:4:5:6:7:8:9', 80, notHost('1:2:3:4:5:6:7:8:9')],
    ['fe80::1%', '[fe80::1%]', 80, notHost('[fe80::1%]')],
    ['fe80::1%a/b', 'fe80::1%a/b', 80, notHost('fe80::1%a/b')],
    [':', '::1', null, `${notHost('::1')} (an IPv6 address takes brackets: '[::1]')`],
  ];
  for (const [host, given, port, message] of refused) {
    it(`refuses ${pyrepr(given)} (port ${port}) with InvalidURL`, () => {
      assertRejects(() => validateTunnelHost(host, given, port), InvalidURL, message);
    });
  }
});

const TCHARS = "!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";

describe('validateHeaderName (stricter than 2.7: RFC 9110 tokens only)', () => {
  const rejectedOnlyByUs: string[] = [];
  for (const v of fixture.headerName) {
    const name = text(v.input);
    if (v.error !== null) {
      it(`${pyrepr(name)} rejected with Python's class and message`, () => {
        assertRejects(() => validateHeaderName(name), TypeError, v.error?.message as string);
      });
    } else if (!isToken(name)) {
      rejectedOnlyByUs.push(name);
    } else {
      it(`${pyrepr(name)} accepted as in Python 2.7`, () => {
        assert.doesNotThrow(() => validateHeaderName(name));
      });
    }
  }

  it('rejects, beyond 2.7, exactly the names that hold a non-tchar (message as Python words it)', () => {
    assert.ok(rejectedOnlyByUs.length > 100);
    for (const name of rejectedOnlyByUs) {
      const odd = [...name].filter((ch) => !TCHARS.includes(ch));
      assert.ok(odd.length > 0, `${pyrepr(name)} is a token`);
      assertRejects(
        () => validateHeaderName(name),
        TypeError,
        `Invalid header name ${pyrepr(name)}`,
      );
    }
  });

  it('accepts every tchar', () => {
    assert.doesNotThrow(() => validateHeaderName(TCHARS));
    for (const ch of TCHARS) assert.doesNotThrow(() => validateHeaderName(ch));
  });

  const bad: Array<[string, string]> = [
    ['X-A\r\nB', "Invalid header name 'X-A\\r\\nB'"],
    ['X\x00', "Invalid header name 'X\\x00'"],
    ['X Y', "Invalid header name 'X Y'"],
    ['X\x7f', "Invalid header name 'X\\x7f'"],
    ['Caf\xe9', "Invalid header name 'Caf\\xe9'"],
    ['X-\u20ac', "Invalid header name 'X-\\u20ac'"],
    ['', "Invalid header name ''"],
    ['a:b', "Invalid header name 'a:b'"],
    ['a"b', `Invalid header name 'a"b'`],
    ['it\'s"', `Invalid header name 'it\\'s"'`],
  ];
  for (const [name, message] of bad) {
    it(`rejects ${pyrepr(name)}`, () => {
      assertRejects(() => validateHeaderName(name), TypeError, message);
    });
  }
});

describe('validateHeaderValue (stricter than 2.7: no NUL, no bare CR/LF, nothing above 0xFF)', () => {
  const disagreements: string[] = [];
  for (const v of fixture.headerValue) {
    const value = text(v.input);
    let ours: string | null = null;
    try {
      validateHeaderValue(value);
    } catch (e) {
      ours = (e as Error).message;
    }
    if (v.error === null && ours !== null) {
      disagreements.push(value);
      continue;
    }
    it(`${pyrepr(value)}: ${v.error === null ? 'accepted' : 'rejected'} as in Python 2.7`, () => {
      assertSameAsPython(() => validateHeaderValue(value), v.error);
    });
  }

  it('rejects, beyond 2.7, exactly NUL and a CR or LF that is not part of a CRLF fold', () => {
    assert.deepEqual(disagreements.sort(), ['a\x00b', 'a\n b', 'a\r b'].sort());
    for (const value of disagreements) {
      assertRejects(
        () => validateHeaderValue(value),
        TypeError,
        `Invalid header value ${pyrepr(value)}`,
      );
    }
  });

  it('never accepts what Python 2.7 rejects', () => {
    for (const v of fixture.headerValue) {
      if (v.error !== null) assert.throws(() => validateHeaderValue(text(v.input)), TypeError);
    }
  });

  for (const ok of [
    'a\r\n b',
    'a\r\n\tb',
    ' lead and trail\t',
    'caf\xe9 \x85 \xff',
    'a\x7fb',
    '',
  ]) {
    it(`accepts ${pyrepr(ok)}`, () => {
      assert.doesNotThrow(() => validateHeaderValue(ok));
    });
  }

  const bad: Array<[string, string]> = [
    ['a\r\nInjected: 1', "Invalid header value 'a\\r\\nInjected: 1'"],
    ['a\x00', "Invalid header value 'a\\x00'"],
    ['a\rb', "Invalid header value 'a\\rb'"],
    ['a\nb', "Invalid header value 'a\\nb'"],
    ['a\r b', "Invalid header value 'a\\r b'"],
    ['a\n\tb', "Invalid header value 'a\\n\\tb'"],
    ['a\r\n', "Invalid header value 'a\\r\\n'"],
    ['a\r\n\r\n b', "Invalid header value 'a\\r\\n\\r\\n b'"],
    ['\u20ac5', "Invalid header value '\\u20ac5'"],
    ['\u0100', "Invalid header value '\\u0100'"],
    ['x\u{1f600}', "Invalid header value 'x\\U0001f600'"],
    ['\udc00', "Invalid header value '\\udc00'"],
  ];
  for (const [value, message] of bad) {
    it(`rejects ${pyrepr(value)}`, () => {
      assertRejects(() => validateHeaderValue(value), TypeError, message);
    });
  }
});

describe('validateMethod (stricter than 2.7, which checks nothing: RFC 9110 tokens)', () => {
  for (const ok of ['GET', 'get', 'M-SEARCH', 'PROPFIND', TCHARS]) {
    it(`accepts ${pyrepr(ok)}`, () => {
      assert.doesNotThrow(() => validateMethod(ok));
    });
  }

  // CPython 3's HttpMethodTests list (CVE-2020-26116), with Python 3.13's message.
  for (const m of [
    'GET\r',
    'POST\n',
    'PUT\n\r',
    'POST\nValue',
    'POST\nHOST:abc',
    'GET\nrHost:abc\n',
    'POST\rRemainder:\r',
    'GET\rHOST:\n',
    '\nPUT',
  ]) {
    const found = /[\r\n]/.exec(m)?.[0] as string;
    it(`rejects ${pyrepr(m)} with Python 3's control-character message`, () => {
      assertRejects(
        () => validateMethod(m),
        TypeError,
        `method can't contain control characters. ${pyrepr(m)} (found at least ${pyrepr(found)})`,
      );
    });
  }

  const bad: Array<[string, string]> = [
    ['GET\x00', "method can't contain control characters. 'GET\\x00' (found at least '\\x00')"],
    ['G\x7fT', "method can't contain control characters. 'G\\x7fT' (found at least '\\x7f')"],
    ['GET\t', "method can't contain control characters. 'GET\\t' (found at least '\\t')"],
    ['GET /x', "Invalid method 'GET /x' (not an HTTP token)"],
    ['', "Invalid method '' (not an HTTP token)"],
    ['G\xc9T', "Invalid method 'G\\xc9T' (not an HTTP token)"],
    ['\u20ac', "Invalid method '\\u20ac' (not an HTTP token)"],
    ['GET:', "Invalid method 'GET:' (not an HTTP token)"],
    ['(GET)', "Invalid method '(GET)' (not an HTTP token)"],
  ];
  for (const [m, message] of bad) {
    it(`rejects ${pyrepr(m)}`, () => {
      assertRejects(() => validateMethod(m), TypeError, message);
    });
  }
});

describe('coerceHeaderValue (Python 2.7 str(v), validated afterwards)', () => {
  it('keeps strings as they are', () => {
    const s = 'a\r\nb';
    assert.equal(coerceHeaderValue(s), s);
  });

  it('turns bytes into their latin1 text', () => {
    assert.equal(coerceHeaderValue(Buffer.from([0x61, 0xc3, 0x80, 0xff])), 'a\xc3\x80\xff');
    const backing = new Uint8Array([0x00, 0x41, 0x42, 0x00]);
    assert.equal(coerceHeaderValue(backing.subarray(1, 3)), 'AB');
    assert.equal(coerceHeaderValue(Buffer.from('xyz').subarray(1)), 'yz');
  });

  it('writes numbers and bigints in decimal, as Python str() does for ints', () => {
    assert.equal(coerceHeaderValue(42), '42');
    assert.equal(coerceHeaderValue(-5), '-5');
    assert.equal(coerceHeaderValue(-0), '0');
    assert.equal(coerceHeaderValue(1.5), '1.5');
    assert.equal(coerceHeaderValue(1e21), '1000000000000000000000');
    assert.equal(coerceHeaderValue(2 ** 70), '1180591620717411303424');
    assert.equal(coerceHeaderValue(-(2 ** 70)), '-1180591620717411303424');
    assert.equal(coerceHeaderValue(3n ** 50n), '717897987691852588770249');
  });

  it("writes NaN and the infinities as Python's str() of a float: nan, inf, -inf", () => {
    assert.equal(coerceHeaderValue(Number.NaN), 'nan');
    assert.equal(coerceHeaderValue(Number.POSITIVE_INFINITY), 'inf');
    assert.equal(coerceHeaderValue(Number.NEGATIVE_INFINITY), '-inf');
  });

  it('uses String() for booleans and objects with a string form of their own', () => {
    assert.equal(coerceHeaderValue(true), 'true');
    assert.equal(coerceHeaderValue(false), 'false');
    assert.equal(coerceHeaderValue(new URL('http://h/p')), 'http://h/p');
    assert.equal(coerceHeaderValue(new String('boxed')), 'boxed');
    assert.equal(coerceHeaderValue(new Date(0)), String(new Date(0)));
    class Token {
      toString(): string {
        return 'tok';
      }
    }
    assert.equal(coerceHeaderValue(new Token()), 'tok');
  });

  it('refuses undefined, null and values with no string form of their own (TypeError, naming the header)', () => {
    const refused: ReadonlyArray<readonly [unknown, string]> = [
      [undefined, 'undefined'],
      [null, 'null'],
      [{}, 'an object with no string form of its own (Object)'],
      [{ name: 'Obj' }, 'an object with no string form of its own (Object)'],
      [Object.create(null), 'an object with no string form of its own (Object)'],
      [new Map(), 'an object with no string form of its own (Map)'],
      [new ArrayBuffer(2), 'an object with no string form of its own (ArrayBuffer)'],
      [{ valueOf: () => 5 }, 'an object with no string form of its own (Object)'],
      [['a', 'b'], 'an array (join the values, or give them to putheader() as separate arguments)'],
      [Symbol('s'), 'a symbol'],
      [() => 'x', 'a function'],
    ];
    for (const [value, what] of refused) {
      assertRejects(
        () => coerceHeaderValue(value, 'Authorization'),
        TypeError,
        `Invalid value for header 'Authorization': ${what}; a header value is a string, a number, a bigint or bytes`,
      );
      assert.throws(() => coerceHeaderValue(value), /^TypeError: Invalid header value: /);
      assert.throws(() => coerceHeaderName(value), /^TypeError: Invalid header name: /);
    }
    assert.equal(coerceHeaderName('X-Name'), 'X-Name');
    assert.equal(coerceHeaderName({ toString: () => 'X-Obj' }), 'X-Obj');
  });

  it('runs toString exactly once', () => {
    let calls = 0;
    const v = {
      toString() {
        calls++;
        return calls === 1 ? 'first' : 'second';
      },
    };
    assert.equal(coerceHeaderValue(v), 'first');
    assert.equal(calls, 1);
  });

  it('runs Symbol.toPrimitive exactly once, with the string hint', () => {
    const hints: string[] = [];
    const v = {
      [Symbol.toPrimitive](hint: string) {
        hints.push(hint);
        return 'prim';
      },
    };
    assert.equal(coerceHeaderValue(v), 'prim');
    assert.deepEqual(hints, ['string']);
  });

  it('validation sees the coerced text: a toString that injects CRLF is rejected', () => {
    const v = { toString: () => 'ok\r\nInjected: 1' };
    assertRejects(
      () => validateHeaderValue(coerceHeaderValue(v)),
      TypeError,
      "Invalid header value 'ok\\r\\nInjected: 1'",
    );
  });
});
