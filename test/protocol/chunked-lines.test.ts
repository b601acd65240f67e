/**
 * One rule for every line of a chunked body (issue 12): the size line (with or without
 * an extension), the CRLF after the data, the last chunk, trailer lines and the final
 * empty line each end with CRLF; a bare LF or a bare CR in place of it is a framing
 * error. Before, a bare LF was refused after a chunk size but accepted after the last
 * chunk (`0\r\n\n`) and after trailer lines.
 *
 * Why this rule (and not "accept a bare LF everywhere", as the head parser does):
 * RFC 9112 §2.2 lets a recipient take a bare LF as a line ending in the start line and
 * header fields; chunk framing has no such allowance, and a framing line read one way by
 * the client and another way by a proxy is how bodies get smuggled. llhttp (Node's
 * parser) refuses both in every chunked line; Python 2.7 accepts a bare LF in size and
 * trailer lines but reads a bare-LF final line as a trailer line (and waits for more);
 * Python 3 accepts one as the final line. The stricter rule is the only consistent one.
 *
 * Each case is fed whole, split at every offset and byte by byte, with more bytes after
 * it on an open connection (a terminator is never the last byte seen).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { feedings, type Outcome, pick, runChunks } from './response-parse.harness.ts';

const HEAD = 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n';
const AFTER = 'HTTP/1.1 200 OK\r\n';

type Ending = 'CRLF' | 'LF' | 'CR';
const ENDINGS: Record<Ending, string> = { CRLF: '\r\n', LF: '\n', CR: '\r' };

interface LineKind {
  readonly name: string;
  /** The body with this line ended by `eol` and every other line by CRLF. */
  body(eol: string): string;
  /** The framing error for a bare LF and for a bare CR. */
  readonly errors: Record<'LF' | 'CR', string>;
}

const SIZE_ERRORS = {
  LF: 'chunk size line ended by a bare LF',
  CR: 'bare CR in chunk size line',
};

const kinds: LineKind[] = [
  {
    name: 'chunk size line',
    body: (eol) => `5${eol}hello\r\n0\r\nX: y\r\n\r\n`,
    errors: SIZE_ERRORS,
  },
  {
    name: 'chunk size line with an extension',
    body: (eol) => `5;name=value${eol}hello\r\n0\r\n\r\n`,
    errors: SIZE_ERRORS,
  },
  {
    name: 'chunk size, whitespace and an extension',
    body: (eol) => `5 ;name${eol}hello\r\n0\r\n\r\n`,
    errors: SIZE_ERRORS,
  },
  {
    name: 'line ending chunk data',
    body: (eol) => `5\r\nhello${eol}0\r\n\r\n`,
    errors: { LF: 'chunk data not followed by CRLF', CR: 'chunk data not followed by CRLF' },
  },
  {
    name: 'last-chunk line',
    body: (eol) => `5\r\nhello\r\n0${eol}X: y\r\n\r\n`,
    errors: SIZE_ERRORS,
  },
  {
    name: 'trailer line',
    body: (eol) => `5\r\nhello\r\n0\r\nX: y${eol}Z: w\r\n\r\n`,
    errors: { LF: 'trailer line ended by a bare LF', CR: 'bare CR in a trailer line' },
  },
  {
    name: 'final empty line after trailers',
    body: (eol) => `5\r\nhello\r\n0\r\nX: y\r\n${eol}`,
    errors: { LF: 'chunked body ended by a bare LF', CR: 'bare CR ending the chunked body' },
  },
  {
    name: 'final empty line without trailers',
    body: (eol) => `5\r\nhello\r\n0\r\n${eol}`,
    errors: { LF: 'chunked body ended by a bare LF', CR: 'bare CR ending the chunked body' },
  },
];

describe('every line of a chunked body ends with CRLF', () => {
  for (const kind of kinds) {
    for (const ending of ['CRLF', 'LF', 'CR'] as const) {
      const expected: Outcome =
        ending === 'CRLF'
          ? { body: 'hello', rest: AFTER }
          : { error: `FramingError: ${kind.errors[ending]}` };
      it(`${kind.name} ended by ${ending}: ${expected.error ?? 'accepted'}`, () => {
        const input = Buffer.from(HEAD + kind.body(ENDINGS[ending]) + AFTER, 'latin1');
        for (const [how, chunks] of feedings(input)) {
          const actual = runChunks(chunks, { method: 'GET' }, false);
          assert.deepEqual(pick(actual, expected), expected, `fed ${how}`);
        }
      });
    }
  }

  it('a bare CR or LF inside a trailer line is refused too', () => {
    for (const [trailer, error] of [
      ['X: a\rb', 'bare CR in a trailer line'],
      ['X: a\nb', 'trailer line ended by a bare LF'],
    ] as const) {
      const input = Buffer.from(`${HEAD}0\r\n${trailer}\r\n\r\n`, 'latin1');
      const actual = runChunks([input], { method: 'GET' }, false);
      assert.equal(actual.error, `FramingError: ${error}`);
    }
  });

  it('EOF after the CR of the final line still completes the body (Python: EOF ends the trailers)', () => {
    for (const tail of ['0\r\n\r', '0\r\nX: y\r\n\r', '0\r\nX: y', '0\r\n']) {
      const input = Buffer.from(`${HEAD}5\r\nhello\r\n${tail}`, 'latin1');
      for (const [how, chunks] of feedings(input)) {
        const actual = runChunks(chunks, { method: 'GET' }, true);
        assert.equal(actual.body, 'hello', `${JSON.stringify(tail)} fed ${how}`);
        assert.equal(actual.error, undefined);
        assert.equal(actual.incomplete, undefined);
      }
    }
  });
});
