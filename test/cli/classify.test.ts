/**
 * src/cli/exit-codes.ts `classify()`: every error class of the package maps to its exit
 * code by its `code`, never by its message (issue 13). A pure table over built errors;
 * the spawned-command tests (errors.test.ts, tls-proxy.test.ts) check the same codes
 * against real failures.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { classify, EXIT, type Peer, type Phase } from '../../src/cli/exit-codes.ts';
import * as httplib from '../../src/index.ts';

const PEER: Peer = {
  host: 'h.test',
  port: 8080,
  proxy: { host: 'p.test', port: 3128 },
  https: true,
  timeout: 2,
};

function system(code: string, message = code): Error {
  return Object.assign(new Error(message), { code });
}

const CASES: Array<[string, unknown, Phase, number]> = [
  ['TimeoutError', new httplib.TimeoutError(), 'receive', EXIT.TIMEOUT],
  [
    'TimeoutError with details',
    new httplib.TimeoutError({ phase: 'connect', host: 'h', port: 1, seconds: 2 }),
    'connect',
    EXIT.TIMEOUT,
  ],
  [
    'SSLCertVerificationError',
    new httplib.ssl.SSLCertVerificationError(18, 'self-signed certificate'),
    'connect',
    EXIT.PEER_CERT,
  ],
  ['SSLError while connecting', new httplib.ssl.SSLError('[SSL: X] x'), 'connect', EXIT.TLS],
  ['SSLError later', new httplib.ssl.SSLError('[SSL: X] x'), 'receive', EXIT.RECEIVE],
  ['RemoteDisconnected', new httplib.RemoteDisconnected(), 'receive', EXIT.EMPTY_REPLY],
  ['IncompleteRead', new httplib.IncompleteRead(Buffer.from('ab'), 3), 'receive', EXIT.PARTIAL],
  ['InvalidURL', new httplib.InvalidURL("nonnumeric port: 'x'"), 'connect', EXIT.BAD_URL],
  [
    'TunnelError 407',
    new httplib.TunnelError(407, 'Proxy Authentication Required'),
    'connect',
    EXIT.RECEIVE,
  ],
  ['TunnelError, not HTTP', new httplib.TunnelError(null), 'connect', EXIT.RECEIVE],
  ['BodyLengthMismatch', new httplib.BodyLengthMismatch(10, 3), 'send', EXIT.READ],
  ['BadStatusLine', new httplib.BadStatusLine('x'), 'receive', EXIT.WEIRD_REPLY],
  ['LineTooLong', new httplib.LineTooLong('header line'), 'receive', EXIT.WEIRD_REPLY],
  ['UnknownProtocol', new httplib.UnknownProtocol('HTTP/2.0'), 'receive', EXIT.WEIRD_REPLY],
  [
    'a stricter-rule HTTPException',
    new httplib.HTTPException('x', { code: 'ERR_HTTPLIB_BAD_HEADER_LINE' }),
    'receive',
    EXIT.WEIRD_REPLY,
  ],
  ['ECONNREFUSED', system('ECONNREFUSED'), 'connect', EXIT.CONNECT],
  ['ENOTFOUND (through the proxy)', system('ENOTFOUND'), 'connect', EXIT.RESOLVE_PROXY],
  ['ECONNRESET later', system('ECONNRESET'), 'receive', EXIT.RECEIVE],
  // Connected, then reset: the proxy on CONNECT (curl 56), the TLS handshake (curl 35).
  ['ECONNRESET on CONNECT', system('ECONNRESET'), 'tunnel', EXIT.RECEIVE],
  ['ECONNRESET in the TLS handshake', system('ECONNRESET'), 'handshake', EXIT.TLS],
  ['RemoteDisconnected on CONNECT', new httplib.RemoteDisconnected(), 'tunnel', EXIT.RECEIVE],
  ['SSLError in the handshake', new httplib.ssl.SSLError('[SSL: X] x'), 'handshake', EXIT.TLS],
  ['TimeoutError on CONNECT', new httplib.TimeoutError(), 'tunnel', EXIT.TIMEOUT],
  ['a plain Error', new Error('boom'), 'receive', EXIT.INTERNAL],
];

describe('classify(): exit codes by code and class', () => {
  for (const [what, err, phase, exit] of CASES) {
    it(`${what} → ${exit}`, () => {
      const mapped = classify(err, phase, PEER);
      assert.equal(mapped.exitCode, exit, mapped.message);
      assert.equal(mapped.cause, err);
    });
  }

  it('messages are never matched: a plain Error that reads like a refused tunnel is internal', () => {
    for (const text of [
      'Tunnel connection failed: 407 Proxy Authentication Required',
      'Invalid response from tunnel request',
      'timed out',
      'request body length mismatch: declared 10, got 3',
    ]) {
      assert.equal(classify(new Error(text), 'connect', PEER).exitCode, EXIT.INTERNAL, text);
    }
  });

  it('a proxy that hangs up on CONNECT is a failed receive (56) naming the proxy, not an empty reply from the server', () => {
    // Before: exit 52, "empty reply from h.test port 8080", a server never reached.
    const err = new httplib.RemoteDisconnected('Remote end closed connection without response');
    const cli = classify(err, 'connect', PEER);
    assert.equal(cli.exitCode, EXIT.RECEIVE);
    assert.match(
      cli.message,
      /^the proxy p\.test:3128 closed the connection without answering the tunnel request to h\.test port 8080/,
    );
    // Without a proxy, or once the request is out: the server's empty reply (52).
    assert.equal(classify(err, 'connect', { ...PEER, proxy: null }).exitCode, EXIT.EMPTY_REPLY);
    assert.equal(classify(err, 'receive', PEER).exitCode, EXIT.EMPTY_REPLY);
  });

  it('a refused tunnel names the proxy and keeps its message', () => {
    const err = new httplib.TunnelError(407, 'Proxy Authentication Required');
    assert.equal(
      classify(err, 'connect', PEER).message,
      'the proxy p.test:3128 refused the tunnel to h.test port 8080: Tunnel connection failed: 407 Proxy Authentication Required',
    );
  });
});
