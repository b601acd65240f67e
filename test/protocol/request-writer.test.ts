/**
 * src/protocol/request-writer.ts: every scenario of test/fixtures/request/python2.7.json
 * (recorded from CPython 2.7.18's httplib by generate.py) replayed through our code and
 * compared byte for byte; the scenarios where we deliberately send other bytes are
 * checked against our own expectation (mostly what Python 3.13 sends), with the reason in
 * the test name; then the parts Python 2.7 has no counterpart for.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { InvalidURL } from '../../src/protocol/errors.ts';
import {
  absoluteUrlNetloc,
  type BodyInfo,
  CHUNK_TRAILER,
  chunkHeader,
  connectRequest,
  headerNameSet,
  LAST_CHUNK,
  normalizeHeaders,
  planRequest,
  RequestBuffer,
  type RequestTarget,
} from '../../src/protocol/request-writer.ts';
import { parseHostPort, validateHost } from '../../src/protocol/validate.ts';

// ---------------------------------------------------------------------------------------
// The fixture and its replay

type PyValue = string | number | null | { unicode: string } | { bigint: string } | { file: string };

type Call =
  | {
      call: 'putrequest';
      method: PyValue;
      url: PyValue;
      skip_host: boolean;
      skip_accept_encoding: boolean;
    }
  | { call: 'putheader'; name: PyValue; values: PyValue[] }
  | { call: 'endheaders'; body: PyValue }
  | { call: 'request'; method: PyValue; url: PyValue; body: PyValue; headers: [PyValue, PyValue][] }
  | { call: 'tunnel' };

interface PyError {
  type: string;
  message: string;
  call: number;
}

interface Scenario {
  name: string;
  conn: {
    class: 'HTTPConnection' | 'HTTPSConnection' | 'HTTP';
    host: PyValue;
    port: number | null;
  };
  parsed: { host: PyValue; port: number; tunnelHost?: PyValue; tunnelPort?: number } | null;
  tunnel: { host: PyValue; port: number | null; headers: [PyValue, PyValue][] } | null;
  calls: Call[];
  sent: string;
  error: PyError | null;
  differs: string | null;
}

const fixture = JSON.parse(
  readFileSync(new URL('../fixtures/request/python2.7.json', import.meta.url), 'utf8'),
) as { python: string; scenarios: Scenario[] };

/** A fixture value as the JavaScript value a caller would pass. */
function value(v: PyValue): unknown {
  if (v === null || typeof v === 'string' || typeof v === 'number') return v;
  if ('unicode' in v) return v.unicode;
  if ('bigint' in v) return BigInt(v.bigint);
  throw new Error('a file body is only valid as a request body');
}

function str(v: PyValue): string {
  const s = value(v);
  assert.equal(typeof s, 'string');
  return s as string;
}

/** What happened when replaying: the bytes written (latin1) and the error, if any. */
interface Outcome {
  sent: string;
  error: { cls: string; message: string; call: number } | null;
  parsed: Scenario['parsed'];
}

/**
 * The little connection the client layer will be, minus sockets and state machine:
 * Python's constructor, set_tunnel, putrequest, putheader, endheaders, request and
 * _tunnel, built on the protocol core exactly as the I/O layer must use it.
 */
function replay(sc: Scenario): Outcome {
  const out: string[] = [];
  let call = -1;
  let parsed: Scenario['parsed'] = null;
  try {
    const defaultPort = sc.conn.class === 'HTTPSConnection' ? 443 : 80;
    const [host, port] = parseHostPort(str(sc.conn.host), sc.conn.port, defaultPort);
    validateHost(host);
    parsed = { host, port };
    let tunnelHost: string | null = null;
    let tunnelPort: number | null = null;
    if (sc.tunnel !== null) {
      [tunnelHost, tunnelPort] = parseHostPort(str(sc.tunnel.host), sc.tunnel.port, defaultPort);
      parsed = { host, port, tunnelHost, tunnelPort };
    }
    const target: RequestTarget = {
      host,
      port,
      defaultPort,
      tunnelHost,
      tunnelPort,
      httpVersion: sc.conn.class === 'HTTP' ? 10 : 11,
    };
    const buffer = new RequestBuffer();
    for (const c of sc.calls) {
      call++;
      switch (c.call) {
        case 'putrequest':
          buffer.putrequest(
            str(c.method),
            str(c.url),
            { skip_host: c.skip_host, skip_accept_encoding: c.skip_accept_encoding },
            target,
          );
          break;
        case 'putheader':
          buffer.putheader(str(c.name), ...c.values.map(value));
          break;
        case 'endheaders':
          out.push(buffer.finish());
          if (c.body !== null) out.push(str(c.body));
          break;
        case 'request': {
          const headers = normalizeHeaders(c.headers.map(([k, v]) => [str(k), value(v)] as const));
          let body: BodyInfo = { kind: 'none' };
          let data = '';
          if (typeof c.body === 'string') {
            // Fixture bodies are ASCII, so the UTF-8 byte length equals Python's len().
            assert.ok(/^[ -~]*$/.test(c.body));
            body = { kind: 'length', length: Buffer.byteLength(c.body) };
            data = c.body;
          } else if (c.body !== null && typeof c.body === 'object' && 'file' in c.body) {
            body = { kind: 'unknown' };
            data = c.body.file;
          }
          const method = str(c.method);
          const plan = planRequest(method, body, headerNameSet(headers), false, target.httpVersion);
          buffer.putrequest(method, str(c.url), plan, target);
          for (const [name, v] of plan.headers) buffer.putheader(name, v);
          for (const [name, v] of headers) buffer.putheader(name, v);
          out.push(buffer.finish());
          if (!plan.encodeChunked) {
            out.push(data);
          } else {
            if (data !== '') out.push(chunkHeader(data.length), data, CHUNK_TRAILER);
            out.push(LAST_CHUNK);
          }
          break;
        }
        case 'tunnel': {
          assert.ok(sc.tunnel !== null && tunnelHost !== null && tunnelPort !== null);
          const headers = sc.tunnel.headers.map(([k, v]) => [str(k), value(v)] as const);
          out.push(connectRequest(tunnelHost, tunnelPort, headers));
          break;
        }
      }
    }
  } catch (e) {
    assert.ok(e instanceof Error);
    return {
      sent: out.join(''),
      error: { cls: e.constructor.name, message: e.message, call },
      parsed,
    };
  }
  return { sent: out.join(''), error: null, parsed };
}

/** Python's exception class → ours (API.md: ValueError → TypeError). */
const CLASS_MAP: Record<string, string> = { InvalidURL: 'InvalidURL', ValueError: 'TypeError' };

/** Which Python call produced the recorded bytes (for the test names). */
function pythonCalls(sc: Scenario): string {
  const ctor = `${sc.conn.class}(${JSON.stringify(value(sc.conn.host))}${sc.conn.port === null ? '' : `, ${sc.conn.port}`})`;
  const tunnel =
    sc.tunnel === null
      ? ''
      : `.set_tunnel(${JSON.stringify(value(sc.tunnel.host))}${sc.tunnel.port === null ? '' : `, ${sc.tunnel.port}`})`;
  const calls = sc.calls.map((c) => {
    switch (c.call) {
      case 'putrequest': {
        const skips = [
          c.skip_host ? 'skip_host' : '',
          c.skip_accept_encoding ? 'skip_accept_encoding' : '',
        ]
          .filter(Boolean)
          .map((s) => `, ${s}=True`)
          .join('');
        return `putrequest(${JSON.stringify(value(c.method))}, ${JSON.stringify(value(c.url))}${skips})`;
      }
      case 'putheader':
        return `putheader(${[c.name, ...c.values].map((v) => JSON.stringify(String(value(v)))).join(', ')})`;
      case 'endheaders':
        return c.body === null ? 'endheaders()' : `endheaders(${JSON.stringify(c.body)})`;
      case 'request': {
        const body =
          c.body !== null && typeof c.body === 'object' && 'file' in c.body
            ? `StringIO(${JSON.stringify(c.body.file)})`
            : JSON.stringify(c.body);
        return `request(${JSON.stringify(value(c.method))}, ${JSON.stringify(value(c.url))}, ${body}${c.headers.length ? `, ${JSON.stringify(c.headers)}` : ''})`;
      }
      default:
        return '_tunnel()';
    }
  });
  return [ctor + tunnel, ...calls].join('; ');
}

// ---------------------------------------------------------------------------------------
// Our expected bytes where we deliberately differ from 2.7

const head = (requestLine: string, ...lines: string[]) =>
  `${[requestLine, ...lines].join('\r\n')}\r\n\r\n`;
const get = (host: string, url = '/') =>
  head(`GET ${url} HTTP/1.1`, `Host: ${host}`, 'Accept-Encoding: identity');

type Expected = { sent: string } | { error: [string, string, number]; sent?: string };

/** Each scenario that the fixture marks `differs`, and what we send or throw instead. */
const OURS: Record<string, Expected> = {
  // Python 3.13 sends exactly these (checked with PYENV_VERSION=3.13.0).
  'Host: bracketed IPv6 with an explicit port': { sent: get('[::1]:81') },
  'Host: IPv6 zone id': { sent: get('[fe80::]') },
  'Host: IPv6 zone id with port': { sent: get('[fe80::]:81') },
  'Host: tunnel bracketed IPv6 with explicit port': { sent: get('[1:2:3::4]:1234') },
  'non-ASCII host': { sent: get('xn--bcher-kva.de') },
  'request: user Transfer-Encoding with a string body': {
    sent: `${head('POST / HTTP/1.1', 'Host: example.com', 'Accept-Encoding: identity', 'Transfer-Encoding: chunked')}abc`,
  },
  'request: file body of unknown length': {
    sent: `${head('POST / HTTP/1.1', 'Host: example.com', 'Accept-Encoding: identity', 'Transfer-Encoding: chunked')}6\r\nabcdef\r\n0\r\n\r\n`,
  },
  'request: empty file body of unknown length': {
    sent: `${head('PUT / HTTP/1.1', 'Host: example.com', 'Accept-Encoding: identity', 'Transfer-Encoding: chunked')}0\r\n\r\n`,
  },
  // Python 3.13 drops the port too (Host: [fe80::1]); we keep it.
  'Host from URL: IPv6 zone id': {
    sent: get('[fe80::1]:8080', 'http://[fe80::1%25eth0]:8080/'),
  },
  // Python 3.12+ brackets it too, but speaks HTTP/1.1 and adds a Host header.
  'CONNECT IPv6': { sent: 'CONNECT [::1]:8443 HTTP/1.0\r\n\r\n' },
  // gh-146211 and API.md's stricter header rules.
  'CONNECT header name with a space': {
    error: ['TypeError', "Invalid header name 'Bad Name'", 0],
  },
  'CONNECT header value with CRLF': {
    error: ['TypeError', "Invalid header value 'a\\r\\nInjected: 1'", 0],
  },
  "putheader: name 'Key Space'": { error: ['TypeError', "Invalid header name 'Key Space'", 1] },
  "putheader: name 'KeySpace '": { error: ['TypeError', "Invalid header name 'KeySpace '", 1] },
  "putheader: name '\\xa0NonbreakSpace'": {
    error: ['TypeError', "Invalid header name '\\xa0NonbreakSpace'", 1],
  },
  "putheader: name 'a\"b'": { error: ['TypeError', "Invalid header name 'a\"b'", 1] },
  "putheader: name 'a(b)'": { error: ['TypeError', "Invalid header name 'a(b)'", 1] },
  "putheader: name 'X\\x7f'": { error: ['TypeError', "Invalid header name 'X\\x7f'", 1] },
  "putheader: value 'a\\r b'": { error: ['TypeError', "Invalid header value 'a\\r b'", 1] },
  "putheader: value 'a\\n b'": { error: ['TypeError', "Invalid header value 'a\\n b'", 1] },
  "putheader: value 'a\\r\\tb'": { error: ['TypeError', "Invalid header value 'a\\r\\tb'", 1] },
  "putheader: value 'a\\x00b'": { error: ['TypeError', "Invalid header value 'a\\x00b'", 1] },
  "method 'GET\\r\\nX: y'": {
    error: [
      'TypeError',
      "method can't contain control characters. 'GET\\r\\nX: y' (found at least '\\r')",
      0,
    ],
  },
  "method 'GET /evil'": {
    error: ['TypeError', "Invalid method 'GET /evil' (not an HTTP token)", 0],
  },
  "method ''": { error: ['TypeError', "Invalid method '' (not an HTTP token)", 0] },
  "method 'GE\\x7fT'": {
    error: [
      'TypeError',
      "method can't contain control characters. 'GE\\x7fT' (found at least '\\x7f')",
      0,
    ],
  },
  "method 'G\\xe9T'": { error: ['TypeError', "Invalid method 'G\\xe9T' (not an HTTP token)", 0] },
  'host with a space before the port': { error: ['InvalidURL', "nonnumeric port: ' 80'", -1] },
  'host with + before the port': { error: ['InvalidURL', "nonnumeric port: '+80'", -1] },
};

describe(`request head: byte for byte as CPython ${fixture.python} httplib`, () => {
  it('the fixture has the scenarios it should', () => {
    assert.equal(fixture.python, '2.7.18');
    assert.ok(fixture.scenarios.length >= 200);
  });

  for (const sc of fixture.scenarios) {
    if (sc.differs !== null) continue;
    const what = sc.error === null ? 'sends' : `raises ${sc.error.type}`;
    it(`${sc.name} — Python 2.7 ${what} for ${pythonCalls(sc)}`, () => {
      const ours = replay(sc);
      if (sc.error === null) {
        assert.equal(ours.error, null, `we threw: ${ours.error?.message}`);
      } else {
        assert.deepEqual(ours.error, {
          cls: CLASS_MAP[sc.error.type],
          message: sc.error.message,
          call: sc.error.call,
        });
      }
      assert.equal(ours.sent, sc.sent);
      if (sc.parsed !== null) assert.deepEqual(ours.parsed, sc.parsed);
    });
  }
});

describe('request head: where we deliberately send other bytes than 2.7', () => {
  it('every difference the fixture records has our expectation, and no other', () => {
    const differing = fixture.scenarios.filter((s) => s.differs !== null).map((s) => s.name);
    assert.deepEqual(differing.sort(), Object.keys(OURS).sort());
  });

  for (const sc of fixture.scenarios) {
    if (sc.differs === null) continue;
    it(`${sc.name} — on purpose: ${sc.differs} — Python 2.7 for ${pythonCalls(sc)}`, () => {
      const expected = OURS[sc.name];
      assert.ok(expected !== undefined, 'no expectation for this difference');
      const ours = replay(sc);
      if ('error' in expected) {
        const [cls, message, call] = expected.error;
        assert.deepEqual(ours.error, { cls, message, call });
        assert.equal(ours.sent, expected.sent ?? '');
        assert.ok(
          sc.error === null || sc.error.message !== message,
          'Python 2.7 raises the same: not a difference',
        );
      } else {
        assert.equal(ours.error, null, `we threw: ${ours.error?.message}`);
        assert.equal(ours.sent, expected.sent);
        assert.notEqual(sc.sent, expected.sent, 'Python 2.7 sends the same: not a difference');
      }
    });
  }
});

// ---------------------------------------------------------------------------------------
// RequestBuffer beyond the oracle

const target: RequestTarget = { host: 'example.com', port: 80, defaultPort: 80, httpVersion: 11 };

describe('RequestBuffer', () => {
  it('putrequest throws before buffering anything, keeping an earlier head intact', () => {
    const b = new RequestBuffer();
    b.putrequest('GET', '/ok', null, target);
    assert.throws(() => b.putrequest('GET', '/a b', null, target), InvalidURL);
    assert.throws(() => b.putrequest('GE T', '/', null, target), TypeError);
    assert.equal(b.finish(), get('example.com', '/ok'));
  });

  it('putheader throws before buffering anything when a later value is bad', () => {
    const b = new RequestBuffer();
    b.putrequest('GET', '/', null, target);
    assert.throws(() => b.putheader('X', 'good', 'bad\r\nY: z'), TypeError);
    assert.throws(() => b.putheader('Bad Name', 'v'), TypeError);
    b.putheader('Z', '1');
    assert.equal(
      b.finish(),
      head('GET / HTTP/1.1', 'Host: example.com', 'Accept-Encoding: identity', 'Z: 1'),
    );
  });

  it('finish empties the buffer and putrequest starts afresh (2.7 would resend old lines)', () => {
    const b = new RequestBuffer();
    assert.equal(b.finish(), '\r\n', 'nothing buffered yet');
    b.putrequest('GET', '/1', null, target);
    b.putheader('X', '1');
    assert.equal(
      b.finish(),
      head('GET /1 HTTP/1.1', 'Host: example.com', 'Accept-Encoding: identity', 'X: 1'),
    );
    assert.equal(b.finish(), '\r\n', 'finish() emptied the buffer');
    b.putrequest('GET', '/2', null, target);
    b.putrequest('GET', '/3', null, target);
    assert.equal(b.finish(), get('example.com', '/3'));
    b.putrequest('GET', '/4', null, target);
    b.putheader('X', '1');
    b.reset();
    assert.equal(b.finish(), '\r\n', 'reset() dropped the lines');
  });

  it('coerces a header value once, then validates the result', () => {
    const b = new RequestBuffer();
    b.putrequest('GET', '/', null, target);
    let calls = 0;
    b.putheader('X', {
      toString() {
        calls++;
        return `v${calls}`;
      },
    });
    assert.equal(calls, 1);
    assert.throws(
      () => b.putheader('Y', { toString: () => 'a\r\nInjected: 1' }),
      (e: Error) =>
        e instanceof TypeError && e.message === "Invalid header value 'a\\r\\nInjected: 1'",
    );
    assert.equal(
      b.finish(),
      head('GET / HTTP/1.1', 'Host: example.com', 'Accept-Encoding: identity', 'X: v1'),
    );
  });

  it('writes bytes values as latin1, so the head string maps to the same bytes', () => {
    const b = new RequestBuffer();
    b.putrequest('GET', '/', { skip_host: true, skip_accept_encoding: true }, target);
    b.putheader('X', Buffer.from([0xc3, 0x80, 0xff]), new Uint8Array([0x41]));
    const bytes = Buffer.from(b.finish(), 'latin1');
    assert.deepEqual(
      bytes,
      Buffer.concat([
        Buffer.from('GET / HTTP/1.1\r\nX: '),
        Buffer.from([0xc3, 0x80, 0xff]),
        Buffer.from('\r\n\tA\r\n\r\n'),
      ]),
    );
  });

  it('rejects a value above 0xFF rather than let the latin1 encoder truncate it', () => {
    const b = new RequestBuffer();
    b.putrequest('GET', '/', null, target);
    assert.throws(() => b.putheader('X', '\u010d\u010a'), /Invalid header value '\\u010d\\u010a'/);
    assert.throws(() => b.putrequest('GET', '/\u010d\u010a', null, target), InvalidURL);
  });

  it('IDNA-encodes a non-ASCII connection host (Python 3; 2.7.18 rejects such hosts)', () => {
    const b = new RequestBuffer();
    b.putrequest('GET', '/', null, { ...target, host: 'bücher.de', port: 8080 });
    assert.equal(b.finish(), get('xn--bcher-kva.de:8080'));
  });

  it('IDNA-encodes a non-ASCII tunnel host, as Python 3.13 does for δπθ.gr', () => {
    const b = new RequestBuffer();
    b.putrequest('GET', '/', null, { ...target, tunnelHost: 'δπθ.gr', tunnelPort: 80 });
    assert.equal(b.finish(), get('xn--pxaix.gr'));
  });

  it('uses UTS #46 (IDNA 2008) where Python 3 uses IDNA 2003: ß is kept, not mapped to ss', () => {
    const b = new RequestBuffer();
    b.putrequest('GET', '/', null, { ...target, host: 'straße.de' });
    assert.equal(b.finish(), get('xn--strae-oqa.de'));
  });

  it('rejects a host that cannot be IDNA-encoded', () => {
    const b = new RequestBuffer();
    assert.throws(
      () => b.putrequest('GET', '/', null, { ...target, host: 'xn--a.ü' }),
      (e: Error) =>
        e instanceof TypeError &&
        e.message === "Invalid host 'xn--a.\\xfc' (cannot be IDNA-encoded)",
    );
  });

  it('re-checks the host, so one changed after construction cannot inject lines', () => {
    const b = new RequestBuffer();
    assert.throws(
      () => b.putrequest('GET', '/', null, { ...target, host: 'h\r\nX: y' }),
      (e: Error) =>
        e instanceof InvalidURL &&
        e.message === "URL can't contain control characters. 'h\\r\\nX: y' (found at least '\\r')",
    );
    assert.throws(
      () => b.putrequest('GET', '/', null, { ...target, tunnelHost: 't\nX', tunnelPort: 1 }),
      InvalidURL,
    );
    assert.equal(b.finish(), '\r\n', 'a refused putrequest buffers nothing');
  });

  it('keeps a host that is bracketed already, dropping only its zone id', () => {
    const b = new RequestBuffer();
    b.putrequest('GET', '/', null, { ...target, host: '[::1%lo]', port: 81 });
    assert.equal(b.finish(), get('[::1]:81'));
  });

  it('skip flags are ignored by HTTP/1.0, which adds neither header anyway', () => {
    const b = new RequestBuffer();
    b.putrequest(
      'GET',
      '',
      { skip_host: false, skip_accept_encoding: false },
      { ...target, httpVersion: 10 },
    );
    assert.equal(b.finish(), 'GET / HTTP/1.0\r\n\r\n');
  });
});

describe('absoluteUrlNetloc (Python 2.7 urlsplit)', () => {
  const cases: Array<[string, string]> = [
    ['http://h/p', 'h'],
    ['http://h', 'h'],
    ['https://u@h:1?q', 'u@h:1'],
    ['http:', ''],
    ['http:/x', ''],
    ['http//h/', ''],
    ['h:8', ''],
    ['http', ''],
    [':http//x', ''],
    ['http-x.y+z://n/', 'n'],
    ['http_x://n/', ''],
    ['httpx:', ''],
    ['httpx:12a', ''],
    ['http:80', ''],
    ['http://[::1]#x', '[::1]'],
  ];
  for (const [url, netloc] of cases) {
    it(`${JSON.stringify(url)} → ${JSON.stringify(netloc)}`, () => {
      assert.equal(absoluteUrlNetloc(url), netloc);
    });
  }
  it('throws TypeError (Python ValueError) for unbalanced brackets', () => {
    assert.throws(() => absoluteUrlNetloc('http://[::1/'), /^TypeError: Invalid IPv6 URL$/);
  });
});

// ---------------------------------------------------------------------------------------
// request(): headers and framing

describe('normalizeHeaders', () => {
  it('keeps the order of a plain object', () => {
    assert.deepEqual(normalizeHeaders({ B: 1, A: 'x', c: null }), [
      ['B', 1],
      ['A', 'x'],
      ['c', null],
    ]);
  });

  it('puts integer-like keys first, as JavaScript orders object properties', () => {
    assert.deepEqual(
      normalizeHeaders({ b: 1, 2: 2, 1: 1 }).map(([k]) => k),
      ['1', '2', 'b'],
    );
  });

  it('treats an own __proto__ key as a header name and pollutes nothing', () => {
    const headers = JSON.parse('{"__proto__": {"polluted": "yes"}, "X": "1"}') as Record<
      string,
      unknown
    >;
    const out = normalizeHeaders(headers);
    assert.deepEqual(
      out.map(([k]) => k),
      ['__proto__', 'X'],
    );
    assert.deepEqual(out[0]?.[1], { polluted: 'yes' });
    assert.equal(({} as Record<string, unknown>).polluted, undefined);
    assert.equal(Object.getPrototypeOf(out), Array.prototype);
  });

  it('accepts an object with a null prototype', () => {
    const o = Object.create(null) as Record<string, unknown>;
    o.X = 'y';
    assert.deepEqual(normalizeHeaders(o), [['X', 'y']]);
  });

  it('rejects an object with another prototype; ignores non-enumerable and symbol keys', () => {
    const o = Object.create({ inherited: 1 }, { hidden: { value: 1, enumerable: false } });
    assert.throws(() => normalizeHeaders(o), TypeError);
    const plain: Record<string | symbol, unknown> = { X: 1 };
    plain[Symbol('s')] = 2;
    Object.defineProperty(plain, 'hidden', { value: 1, enumerable: false });
    assert.deepEqual(normalizeHeaders(plain), [['X', 1]]);
  });

  it('takes a Map and any iterable of pairs, in order, duplicates kept', () => {
    assert.deepEqual(
      normalizeHeaders(
        new Map<string, unknown>([
          ['b', 1],
          ['a', 2],
        ]),
      ),
      [
        ['b', 1],
        ['a', 2],
      ],
    );
    function* gen(): Generator<[string, unknown]> {
      yield ['X', 1];
      yield ['X', 2];
    }
    assert.deepEqual(normalizeHeaders(gen()), [
      ['X', 1],
      ['X', 2],
    ]);
    assert.deepEqual(normalizeHeaders([['Set', 'a']]), [['Set', 'a']]);
  });

  it('treats null and undefined as no headers', () => {
    assert.deepEqual(normalizeHeaders(null), []);
    assert.deepEqual(normalizeHeaders(undefined), []);
  });

  const bad: Array<[string, unknown]> = [
    ['a string', 'X: y'],
    ['a number', 5],
    ['a function', () => 1],
    ['a class instance', new (class Headers2 {})()],
    ['a Date', new Date(0)],
    ['a pair of three', [['X', 'y', 'z']]],
    ['a bare string inside', ['Xy']],
    ['a non-string name', [[1, 'y']]],
    ['a Map with a symbol key', new Map([[Symbol('x'), 'y']])],
  ];
  for (const [what, headers] of bad) {
    it(`rejects ${what} with a TypeError`, () => {
      assert.throws(() => normalizeHeaders(headers as never), TypeError);
    });
  }
});

describe('headerNameSet', () => {
  it('lower-cases names as Python 2.7 str.lower() does', () => {
    const s = headerNameSet([
      ['Content-LENGTH', 1],
      ['HOST', 'h'],
    ]);
    assert.deepEqual([...s].sort(), ['content-length', 'host']);
  });

  it('folds ASCII only: a KELVIN SIGN does not become k, nor À become à', () => {
    const s = headerNameSet([
      ['X-\u212AEEP', 1],
      ['\u00c0-B', 2],
    ]);
    assert.deepEqual([...s].sort(), ['x-\u212Aeep', '\u00c0-b'].sort());
  });
});

describe('planRequest (Python 3 _send_request)', () => {
  const none: BodyInfo = { kind: 'none' };
  const unknown: BodyInfo = { kind: 'unknown' };
  const len = (n: number): BodyInfo => ({ kind: 'length', length: n });
  const names = (...n: string[]) => new Set(n);

  it('adds Content-Length: 0 without a body only for POST, PUT, PATCH, in any case', () => {
    for (const m of ['POST', 'put', 'Patch']) {
      assert.deepEqual(planRequest(m, none, names(), false).headers, [['Content-Length', '0']]);
    }
    for (const m of ['GET', 'HEAD', 'DELETE', 'OPTIONS', 'TRACE', 'CONNECT', 'POSTX']) {
      assert.deepEqual(planRequest(m, none, names(), false).headers, []);
    }
  });

  it('adds the known length for any method, 0 included', () => {
    assert.deepEqual(planRequest('GET', len(0), names(), false), {
      skip_host: false,
      skip_accept_encoding: false,
      headers: [['Content-Length', '0']],
      encodeChunked: false,
    });
    assert.deepEqual(planRequest('POST', len(123456789), names(), true).headers, [
      ['Content-Length', '123456789'],
    ]);
    assert.equal(planRequest('POST', len(5), names(), true).encodeChunked, false);
  });

  it('chunks a body of unknown length (Python 3.6+; 2.7 sends it with no length)', () => {
    assert.deepEqual(planRequest('POST', unknown, names(), false), {
      skip_host: false,
      skip_accept_encoding: false,
      headers: [['Transfer-Encoding', 'chunked']],
      encodeChunked: true,
    });
  });

  it('adds nothing and never frames when the caller gave Content-Length', () => {
    for (const body of [none, unknown, len(3)]) {
      for (const enc of [false, true]) {
        const plan = planRequest('POST', body, names('content-length'), enc);
        assert.deepEqual(plan.headers, []);
        assert.equal(plan.encodeChunked, false);
        const both = planRequest('POST', body, names('content-length', 'transfer-encoding'), enc);
        assert.deepEqual(both.headers, []);
        assert.equal(both.encodeChunked, false);
      }
    }
  });

  it('adds nothing when the caller gave only Transfer-Encoding, and frames as encode_chunked says', () => {
    for (const body of [none, unknown, len(3)]) {
      const off = planRequest('POST', body, names('transfer-encoding'), false);
      assert.deepEqual(off.headers, []);
      assert.equal(off.encodeChunked, false);
      const on = planRequest('POST', body, names('transfer-encoding'), true);
      assert.deepEqual(on.headers, []);
      assert.equal(on.encodeChunked, true);
    }
  });

  it('ignores encode_chunked when it picks the framing itself (Python 3 forces it off)', () => {
    assert.equal(planRequest('POST', len(3), names(), true).encodeChunked, false);
    assert.equal(planRequest('POST', none, names(), true).encodeChunked, false);
  });

  it('skips Host and Accept-Encoding that the caller gave', () => {
    const plan = planRequest('GET', none, names('host', 'accept-encoding'), false);
    assert.equal(plan.skip_host, true);
    assert.equal(plan.skip_accept_encoding, true);
    assert.equal(planRequest('GET', none, names('host'), false).skip_accept_encoding, false);
    assert.equal(planRequest('GET', none, names('accept-encoding'), false).skip_host, false);
  });

  it('never frames on HTTP/1.0, and does not claim chunked there (Python 3 does, unframed)', () => {
    assert.deepEqual(planRequest('POST', unknown, names(), false, 10), {
      skip_host: false,
      skip_accept_encoding: false,
      headers: [],
      encodeChunked: false,
    });
    assert.equal(
      planRequest('POST', unknown, names('transfer-encoding'), true, 10).encodeChunked,
      false,
    );
    assert.deepEqual(planRequest('POST', len(2), names(), false, 10).headers, [
      ['Content-Length', '2'],
    ]);
  });

  it('orders the head as Python does: line, Host, Accept-Encoding, framing, caller headers', () => {
    const headers = normalizeHeaders({ 'X-A': '1', 'Content-Type': 'text/plain' });
    const plan = planRequest('POST', unknown, headerNameSet(headers), false);
    const b = new RequestBuffer();
    b.putrequest('POST', '/', plan, target);
    for (const [n, v] of plan.headers) b.putheader(n, v);
    for (const [n, v] of headers) b.putheader(n, v);
    assert.equal(
      b.finish(),
      head(
        'POST / HTTP/1.1',
        'Host: example.com',
        'Accept-Encoding: identity',
        'Transfer-Encoding: chunked',
        'X-A: 1',
        'Content-Type: text/plain',
      ),
    );
  });
});

describe('chunk framing (Python 3 _send_output)', () => {
  it('writes the size in upper-case hex with CRLF', () => {
    assert.equal(chunkHeader(1), '1\r\n');
    assert.equal(chunkHeader(10), 'A\r\n');
    assert.equal(chunkHeader(255), 'FF\r\n');
    assert.equal(chunkHeader(8192), '2000\r\n');
    assert.equal(chunkHeader(0xabcdef), 'ABCDEF\r\n');
  });

  it('ends each chunk with CRLF and the body with the last chunk', () => {
    assert.equal(CHUNK_TRAILER, '\r\n');
    assert.equal(LAST_CHUNK, '0\r\n\r\n');
  });

  it("frames [b'foo', b'bar'] as Python 3 does", () => {
    const out = ['foo', 'bar'].flatMap((c) => [chunkHeader(c.length), c, CHUNK_TRAILER]);
    assert.equal(out.join('') + LAST_CHUNK, '3\r\nfoo\r\n3\r\nbar\r\n0\r\n\r\n');
  });

  for (const bad of [0, -1, 1.5, Number.NaN, Number.POSITIVE_INFINITY, 2 ** 53]) {
    it(`refuses a chunk size of ${bad} (an empty chunk would end the body: callers skip those)`, () => {
      assert.throws(() => chunkHeader(bad), RangeError);
    });
  }
});

describe('connectRequest (2.7 _tunnel format, checked as gh-146211 asks)', () => {
  it('builds the CONNECT head with headers in order, in one string', () => {
    assert.equal(
      connectRequest(
        'destination.com',
        8888,
        new Map<string, unknown>([
          ['Proxy-Authorization', 'Basic eA=='],
          ['X-N', 5],
        ]),
      ),
      'CONNECT destination.com:8888 HTTP/1.0\r\nProxy-Authorization: Basic eA==\r\nX-N: 5\r\n\r\n',
    );
    assert.equal(connectRequest('d', 80), 'CONNECT d:80 HTTP/1.0\r\n\r\n');
    assert.equal(connectRequest('d', 80, null), 'CONNECT d:80 HTTP/1.0\r\n\r\n');
  });

  it('IDNA-encodes a non-ASCII tunnel host, as Python 3.13 does for δπθ.gr', () => {
    assert.equal(connectRequest('δπθ.gr', 80), 'CONNECT xn--pxaix.gr:80 HTTP/1.0\r\n\r\n');
  });

  it('does not bracket a host twice', () => {
    assert.equal(connectRequest('[::1]', 443), 'CONNECT [::1]:443 HTTP/1.0\r\n\r\n');
  });

  it('rejects a tunnel host with control characters or spaces (gh-146211)', () => {
    for (const host of ['d\r\nX: y', 'd e', 'd\x00', 'd\x7f']) {
      assert.throws(() => connectRequest(host, 80), InvalidURL);
    }
    assert.throws(
      () => connectRequest('d\r\n', 80),
      (e: Error) =>
        e.message === "URL can't contain control characters. 'd\\r\\n' (found at least '\\r')",
    );
  });

  it('rejects a bad port', () => {
    for (const port of [-1, 65536, 1.5, Number.NaN]) {
      assert.throws(() => connectRequest('d', port), TypeError);
    }
  });

  it('coerces header values once and validates the result', () => {
    let calls = 0;
    const v = {
      toString() {
        calls++;
        return 'ok';
      },
    };
    assert.equal(connectRequest('d', 1, [['X', v]]), 'CONNECT d:1 HTTP/1.0\r\nX: ok\r\n\r\n');
    assert.equal(calls, 1);
    assert.throws(() => connectRequest('d', 1, [['X', { toString: () => 'a\nb' }]]), TypeError);
    assert.throws(() => connectRequest('d', 1, [['X', '\u20ac']]), TypeError);
  });
});
