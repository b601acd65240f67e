/**
 * src/protocol/pytext.ts: the Python text and value rules that every other file uses
 * (pyrepr itself is checked against CPython in validate.test.ts).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  asciiLower,
  isPort,
  isPyWhitespace,
  isToken,
  MAX_TIMER_MS,
  pyrepr,
  pystrip,
  timeoutMs,
} from '../../src/protocol/pytext.ts';

describe('pytext', () => {
  it("pyrepr of a Buffer is the repr of its bytes (Python 2.7's str)", () => {
    assert.equal(pyrepr(Buffer.from([0x61, 0x27, 0x0d, 0xff])), `"a'\\r\\xff"`);
    assert.equal(pyrepr(Buffer.from('a=1&b=2')), "'a=1&b=2'");
  });

  it("whitespace is Python 2's: SP, HTAB, LF, VT, FF, CR and nothing else", () => {
    const ws = [];
    for (let c = 0; c < 256; c++) if (isPyWhitespace(c)) ws.push(c);
    assert.deepEqual(ws, [0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x20]);
  });

  it('pystrip strips that set only (NBSP stays), from an offset', () => {
    assert.equal(pystrip(' \t\x0b\x0cv a\r\n'), 'v a');
    assert.equal(pystrip('\xa0v\xa0'), '\xa0v\xa0');
    assert.equal(pystrip('Name:  value \r\n', 5), 'value');
    const same = 'abc';
    assert.equal(pystrip(same), same);
  });

  it('asciiLower folds A-Z only (no Latin-1, no KELVIN SIGN)', () => {
    assert.equal(asciiLower('Content-Length'), 'content-length');
    assert.equal(asciiLower('\u212aEY-\xc0'), '\u212aey-\xc0');
  });

  it('isToken is an RFC 9110 token', () => {
    assert.ok(isToken("!#$%&'*+-.^_`|~09AZaz"));
    for (const bad of ['', 'a b', 'a:b', 'a"b', '\xe9', 'a\r']) assert.ok(!isToken(bad), bad);
  });

  it('isPort: integers 0..65535', () => {
    for (const good of [0, 80, 65535]) assert.ok(isPort(good));
    for (const bad of [-1, 65536, 1.5, Number.NaN, '80', null]) assert.ok(!isPort(bad));
  });

  it('timeoutMs rounds up, clamps, and has no timer for null or Infinity', () => {
    assert.equal(timeoutMs(null), null);
    assert.equal(timeoutMs(Number.POSITIVE_INFINITY), null);
    assert.equal(timeoutMs(0), 0);
    assert.equal(timeoutMs(0.0001), 1);
    assert.equal(timeoutMs(2.5), 2500);
    assert.equal(timeoutMs(1e12), MAX_TIMER_MS);
  });
});
