/**
 * The exception tree (src/protocol/errors.ts's diagram): every class the package exports,
 * its name, its stable `code`, its `instanceof` chain and its fields; Python's messages
 * where Python has the class. Built directly: no sockets (the integration tests check
 * that real failures carry these codes: test/integration/error-codes.test.ts).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import * as httplib from '../../src/index.ts';
import {
  AbortError,
  BadStatusLine,
  BodyLengthMismatch,
  CannotSendHeader,
  CannotSendRequest,
  error,
  FramingError,
  HTTPException,
  HTTPMessage,
  ImproperConnectionState,
  IncompleteRead,
  InvalidURL,
  LineTooLong,
  NotConnected,
  RemoteDisconnected,
  ResponseNotReady,
  ssl,
  TimeoutError,
  TunnelError,
  UnimplementedFileMode,
  UnknownProtocol,
  UnknownTransferEncoding,
} from '../../src/index.ts';
import { HTTP_EXCEPTION_CODES } from '../../src/protocol/errors.ts';

type Class = abstract new (...args: never[]) => Error;

interface Row {
  /** An instance, built as the package builds it. */
  readonly make: () => Error;
  readonly cls: Class;
  readonly code: string;
  /** Every ancestor up to Error, nearest first (Error itself left out). */
  readonly chain: readonly Class[];
  /** Fields and their values on `make()`'s instance. */
  readonly fields?: Readonly<Record<string, unknown>>;
  readonly message?: string;
}

const CERT = new ssl.SSLCertVerificationError(18, 'self-signed certificate');
const PROXY_HEADERS = new HTTPMessage(['Proxy-Authenticate: Basic realm="x"\r\n']);

const TABLE: readonly Row[] = [
  {
    make: () => new HTTPException('x'),
    cls: HTTPException,
    code: 'ERR_HTTPLIB_HTTP_EXCEPTION',
    chain: [],
  },
  {
    make: () => new NotConnected(),
    cls: NotConnected,
    code: 'ERR_HTTPLIB_NOT_CONNECTED',
    chain: [HTTPException],
  },
  {
    make: () => new InvalidURL("nonnumeric port: 'x'"),
    cls: InvalidURL,
    code: 'ERR_HTTPLIB_INVALID_URL',
    chain: [HTTPException],
  },
  {
    make: () => new UnknownProtocol('HTTP/2.0'),
    cls: UnknownProtocol,
    code: 'ERR_HTTPLIB_UNKNOWN_PROTOCOL',
    chain: [HTTPException],
    fields: { version: 'HTTP/2.0' },
    message: 'HTTP/2.0',
  },
  {
    make: () => new UnknownTransferEncoding(),
    cls: UnknownTransferEncoding,
    code: 'ERR_HTTPLIB_UNKNOWN_TRANSFER_ENCODING',
    chain: [HTTPException],
  },
  {
    make: () => new UnimplementedFileMode(),
    cls: UnimplementedFileMode,
    code: 'ERR_HTTPLIB_UNIMPLEMENTED_FILE_MODE',
    chain: [HTTPException],
  },
  {
    make: () => new IncompleteRead(Buffer.from('abcde'), 3),
    cls: IncompleteRead,
    code: 'ERR_HTTPLIB_INCOMPLETE_READ',
    chain: [HTTPException],
    fields: { partial: Buffer.from('abcde'), expected: 3 },
    // Python 2.7: str(IncompleteRead('abcde', 3))
    message: 'IncompleteRead(5 bytes read, 3 more expected)',
  },
  {
    make: () => new ImproperConnectionState(),
    cls: ImproperConnectionState,
    code: 'ERR_HTTPLIB_IMPROPER_CONNECTION_STATE',
    chain: [HTTPException],
  },
  {
    make: () => new CannotSendRequest('Request-started'),
    cls: CannotSendRequest,
    code: 'ERR_HTTPLIB_CANNOT_SEND_REQUEST',
    chain: [ImproperConnectionState, HTTPException],
    message: 'Request-started',
  },
  {
    make: () => new CannotSendHeader(),
    cls: CannotSendHeader,
    code: 'ERR_HTTPLIB_CANNOT_SEND_HEADER',
    chain: [ImproperConnectionState, HTTPException],
  },
  {
    make: () => new ResponseNotReady('Idle'),
    cls: ResponseNotReady,
    code: 'ERR_HTTPLIB_RESPONSE_NOT_READY',
    chain: [ImproperConnectionState, HTTPException],
    message: 'Idle',
  },
  {
    make: () => new BadStatusLine(''),
    cls: BadStatusLine,
    code: 'ERR_HTTPLIB_BAD_STATUS_LINE',
    chain: [HTTPException],
    // Python keeps repr('') for an empty line.
    fields: { line: "''" },
    message: "''",
  },
  {
    make: () => new RemoteDisconnected(),
    cls: RemoteDisconnected,
    code: 'ERR_HTTPLIB_REMOTE_DISCONNECTED',
    chain: [BadStatusLine, HTTPException],
    fields: { line: "''" },
    message: 'Remote end closed connection without response',
  },
  {
    make: () => new LineTooLong('chunk size'),
    cls: LineTooLong,
    code: 'ERR_HTTPLIB_LINE_TOO_LONG',
    chain: [HTTPException],
    fields: { lineType: 'chunk size' },
    message: 'got more than 65536 bytes when reading chunk size',
  },
  {
    make: () => new FramingError('bare CR in chunk size line'),
    cls: FramingError,
    code: 'ERR_HTTPLIB_FRAMING',
    chain: [HTTPException],
    message: 'bare CR in chunk size line',
  },
  {
    make: () => new BodyLengthMismatch(10, 7),
    cls: BodyLengthMismatch,
    code: 'ERR_HTTPLIB_BODY_LENGTH_MISMATCH',
    chain: [HTTPException],
    fields: { declared: 10, got: 7 },
    message: 'request body length mismatch: declared 10, got 7',
  },
  {
    make: () => new TimeoutError(),
    cls: TimeoutError,
    code: 'ETIMEDOUT',
    chain: [],
    fields: { phase: null, host: null, port: null, seconds: null },
    message: 'timed out', // Python's socket.timeout
  },
  {
    make: () => new AbortError(),
    cls: AbortError,
    code: 'ABORT_ERR',
    chain: [],
    message: 'The operation was aborted',
  },
  {
    make: () => new TunnelError(407, 'Proxy Authentication Required', PROXY_HEADERS),
    cls: TunnelError,
    code: 'ERR_HTTPLIB_TUNNEL',
    chain: [],
    fields: { status: 407, reason: 'Proxy Authentication Required', headers: PROXY_HEADERS },
    // Python 2.7's socket.error / Python 3's OSError text.
    message: 'Tunnel connection failed: 407 Proxy Authentication Required',
  },
  {
    make: () =>
      new ssl.SSLError('[SSL: NO_CIPHER_MATCH] x', { reason: 'NO_CIPHER_MATCH', library: 'SSL' }),
    cls: ssl.SSLError,
    code: 'ERR_HTTPLIB_SSL',
    chain: [],
    fields: { reason: 'NO_CIPHER_MATCH', library: 'SSL' },
  },
  {
    make: () => CERT,
    cls: ssl.SSLCertVerificationError,
    code: 'ERR_HTTPLIB_SSL_CERT_VERIFICATION',
    chain: [ssl.SSLError],
    fields: {
      verify_code: 18,
      verify_message: 'self-signed certificate',
      reason: 'CERTIFICATE_VERIFY_FAILED',
    },
    message: '[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed: self-signed certificate',
  },
];

/** Every class among the exports of `ns` that is an Error subclass. */
function errorClasses(ns: Record<string, unknown>): Class[] {
  return Object.values(ns).filter(
    (v): v is Class => typeof v === 'function' && v.prototype instanceof Error,
  );
}

describe('exception tree: name, code, chain, fields', () => {
  for (const row of TABLE) {
    const name = row.cls.name;
    it(`${name}: code ${row.code}, ${[...row.chain.map((c) => c.name), 'Error'].join(' < ')}`, () => {
      const e = row.make();
      assert.ok(e instanceof row.cls);
      assert.equal(e.name, name, 'name is the class name');
      assert.equal((e as Error & { code?: unknown }).code, row.code);
      for (const parent of row.chain) assert.ok(e instanceof parent, `instanceof ${parent.name}`);
      assert.ok(e instanceof Error);
      // Nothing else: the parent of the class is exactly the first of the chain.
      assert.equal(Object.getPrototypeOf(row.cls), row.chain[0] ?? Error);
      for (const [field, value] of Object.entries(row.fields ?? {})) {
        assert.deepEqual((e as unknown as Record<string, unknown>)[field], value, field);
      }
      if (row.message !== undefined) assert.equal(e.message, row.message);
    });
  }

  it('the table covers every error class the package exports (ssl included)', () => {
    const exported = new Set([
      ...errorClasses(httplib as unknown as Record<string, unknown>),
      ...errorClasses(ssl as unknown as Record<string, unknown>),
    ]);
    const covered = new Set<Class>(TABLE.map((r) => r.cls));
    assert.deepEqual(
      [...exported].filter((c) => !covered.has(c)).map((c) => c.name),
      [],
      'exported without a row here',
    );
    assert.equal(exported.size, covered.size);
  });

  it("every code is the package's ERR_HTTPLIB_… except Node's ETIMEDOUT and ABORT_ERR", () => {
    for (const row of TABLE) {
      if (row.cls === TimeoutError || row.cls === AbortError) continue;
      assert.match(row.code, /^ERR_HTTPLIB_[A-Z_]+$/, row.cls.name);
    }
    assert.equal(new Set(TABLE.map((r) => r.code)).size, TABLE.length, 'codes are distinct');
  });

  it('error is an alias of HTTPException; CertificateError of SSLCertVerificationError', () => {
    assert.equal(error, HTTPException);
    assert.equal(ssl.CertificateError, ssl.SSLCertVerificationError);
  });

  it("a subclass's code cannot be overridden; a plain HTTPException takes its rule's", () => {
    const e = new HTTPException('got more than 100 headers', {
      code: HTTP_EXCEPTION_CODES.TOO_MANY_HEADERS,
    });
    assert.equal(e.code, 'ERR_HTTPLIB_TOO_MANY_HEADERS');
    assert.equal(e.name, 'HTTPException');
    const sub = new NotConnected('x', { code: 'ERR_HTTPLIB_TOO_MANY_HEADERS' });
    assert.equal(sub.code, 'ERR_HTTPLIB_NOT_CONNECTED');
    const cause = new Error('why');
    assert.equal(new HTTPException('x', { cause }).cause, cause);
    assert.deepEqual(Object.values(HTTP_EXCEPTION_CODES).sort(), [
      'ERR_HTTPLIB_BAD_CONTENT_LENGTH',
      'ERR_HTTPLIB_BAD_HEADER_LINE',
      'ERR_HTTPLIB_TOO_MANY_HEADERS',
      'ERR_HTTPLIB_TOO_MANY_INTERIM',
      'ERR_HTTPLIB_TOO_MANY_TRAILERS',
    ]);
  });
});

describe('TimeoutError names the phase, the peer and the seconds', () => {
  const cases: Array<[httplib.TimeoutDetails, string]> = [
    [
      { phase: 'connect', host: 'example.com', port: 80, seconds: 5 },
      'timed out after 5 s connecting to example.com:80',
    ],
    [
      { phase: 'tunnel', host: 'proxy', port: 3128, seconds: 0.5 },
      'timed out after 0.5 s waiting for the CONNECT reply from proxy:3128',
    ],
    [
      { phase: 'handshake', host: 'example.com', port: 443, seconds: 2 },
      'timed out after 2 s in the TLS handshake with example.com:443',
    ],
    [
      { phase: 'send', host: '127.0.0.1', port: 8080, seconds: 1 },
      'timed out after 1 s sending the request to 127.0.0.1:8080',
    ],
    [
      { phase: 'head', host: 'example.com', port: 80, seconds: 5 },
      'timed out after 5 s waiting for the response head from example.com:80',
    ],
    [
      { phase: 'body', host: '::1', port: 80, seconds: 0 },
      'timed out after 0 s waiting for the response body from [::1]:80',
    ],
  ];
  for (const [details, message] of cases) {
    it(details.phase, () => {
      const e = new TimeoutError(details);
      assert.equal(e.message, message);
      assert.equal(e.code, 'ETIMEDOUT');
      assert.deepEqual(
        { phase: e.phase, host: e.host, port: e.port, seconds: e.seconds },
        { ...details },
      );
    });
  }
});

describe('TimeoutError made by hand', () => {
  it('takes a message, as socket.timeout does, with no phase, peer or seconds', () => {
    for (const [made, message] of [
      [new TimeoutError(), 'timed out'],
      [new TimeoutError(null), 'timed out'],
      [new TimeoutError('read timed out'), 'read timed out'],
    ] as const) {
      assert.equal(made.message, message);
      assert.equal(made.code, 'ETIMEDOUT');
      assert.deepEqual([made.phase, made.host, made.port, made.seconds], [null, null, null, null]);
    }
  });
});

describe('AbortError and TunnelError messages', () => {
  it('AbortError.closedByCaller says the caller closed it, and during what', () => {
    const plain = AbortError.closedByCaller();
    assert.ok(plain instanceof AbortError);
    // API.md: a local close carries the package's code; a signal keeps Node's ABORT_ERR.
    assert.equal(plain.code, 'ERR_HTTPLIB_CLOSED_BY_CALLER');
    assert.equal(plain.message, 'The connection was closed by the caller');
    const cause = new Error('close()');
    const during = AbortError.closedByCaller('head', { cause });
    assert.equal(
      during.message,
      'The connection was closed by the caller while waiting for the response head',
    );
    assert.equal(during.cause, cause);
    assert.equal(during.code, 'ERR_HTTPLIB_CLOSED_BY_CALLER');
  });

  it("TunnelError with no status is Python's invalid-response error", () => {
    const e = new TunnelError(null);
    assert.equal(e.message, 'Invalid response from tunnel request');
    assert.deepEqual([e.status, e.reason, e.headers], [null, '', null]);
    assert.ok(!(e instanceof HTTPException), 'Python raises socket.error/OSError');
  });

  it('TunnelError with an empty reason keeps the space Python 2.7 prints', () => {
    assert.equal(new TunnelError(502).message, 'Tunnel connection failed: 502 ');
  });
});
