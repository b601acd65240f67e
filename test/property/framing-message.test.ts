/**
 * The framing decision and `response.msg` come from one reading of the head (issue 12):
 * `Content-Length: 5` followed by a blank continuation line was `invalid Content-Length:
 * '5 '` for the parser while `HTTPMessage` held `5`. Both now read field lines, obs-folds
 * and repeated fields through src/protocol/headers.ts.
 *
 * Checked here from the outside: for heads full of folds (blank ones included), empty
 * values, repeats, case variants and bare-LF line ends, the parser's decision (`chunked`,
 * `length`, `will_close`, or the Content-Length error) must be exactly the decision that
 * Python 2.7's `begin()` rules take from the values `HTTPMessage` reports for the same
 * lines. A table pins the cases found by review; a property explores the rest.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { HTTPMessage } from '../../src/protocol/message.ts';
import { pyrepr } from '../../src/protocol/pytext.ts';
import { ResponseParser } from '../../src/protocol/response-parser.ts';
import { check } from './config.ts';

const FILE = 'test/property/framing-message.test.ts';

interface Decision {
  chunked?: boolean;
  length?: number | null;
  will_close?: boolean;
  error?: string;
}

/** What the parser decided for `status + lines + blank line` (a GET). */
function parsed(statusLine: string, lines: readonly string[]): Decision & { lines?: string[] } {
  const parser = new ResponseParser({ method: 'GET' });
  const input = Buffer.from(`${statusLine}\r\n${lines.join('')}\r\n`, 'latin1');
  try {
    parser.execute(input);
  } catch (err) {
    return { error: `${(err as Error).name}: ${(err as Error).message}` };
  }
  const head = parser.head;
  assert.ok(head !== null, 'the head is complete');
  return {
    chunked: head.chunked,
    length: head.length,
    will_close: head.will_close,
    lines: head.lines,
  };
}

/** Python 2.7's `begin()` framing rules (with the package's STRICTER ones) over `msg`. */
function fromMessage(version: 10 | 11, msg: HTTPMessage): Decision {
  const te = msg.getheader('transfer-encoding');
  const lengths = msg.getheaders('content-length');
  const connection = msg.getheader('connection')?.toLowerCase() ?? '';
  let willClose =
    version === 11
      ? connection.includes('close')
      : !(
          msg.getheader('keep-alive') ||
          connection.includes('keep-alive') ||
          msg.getheader('proxy-connection')?.toLowerCase().includes('keep-alive')
        );
  const chunked = te !== null && te.toLowerCase() === 'chunked';
  let length: number | null = null;
  if (chunked) {
    if (lengths.length > 0) willClose = true;
  } else if (lengths.length > 0) {
    for (const text of lengths) {
      if (!/^[0-9]+$/.test(text)) {
        return { error: `HTTPException: invalid Content-Length: ${pyrepr(text)}` };
      }
      if (Number(text) > Number.MAX_SAFE_INTEGER) {
        return { error: `HTTPException: Content-Length too large: ${text}` };
      }
      if (length !== null && Number(text) !== length) {
        return {
          error: `HTTPException: conflicting Content-Length values: ${lengths.map(pyrepr).join(', ')}`,
        };
      }
      length = Number(text);
    }
    if (te !== null) willClose = true;
  }
  if (!willClose && !chunked && length === null) willClose = true;
  return { chunked, length, will_close: willClose };
}

function agree(statusLine: string, lines: readonly string[]): Decision {
  const version = statusLine.startsWith('HTTP/1.0') ? 10 : 11;
  const { lines: kept, ...decision } = parsed(statusLine, lines);
  if (kept !== undefined) assert.deepEqual(kept, lines, 'the parser hands over every line');
  assert.deepEqual(decision, fromMessage(version, new HTTPMessage(lines)));
  return decision;
}

describe('framing and HTTPMessage read a head the same way (table)', () => {
  const table: Array<[string, string[], Decision]> = [
    [
      'a blank continuation after Content-Length',
      ['Content-Length: 5\r\n', ' \r\n'],
      { length: 5, chunked: false },
    ],
    [
      'a blank HTAB continuation, bare LF line ends',
      ['Content-Length: 5\n', '\t\n'],
      { length: 5 },
    ],
    ['an empty Content-Length continued', ['Content-Length:\r\n', ' 5\r\n'], { length: 5 }],
    [
      'a continuation that is part of the value',
      ['Content-Length: 5\r\n', ' 0\r\n'],
      { error: "HTTPException: invalid Content-Length: '5 0'" },
    ],
    [
      'Transfer-Encoding continued',
      ['Transfer-Encoding:\r\n', '  chunked \r\n'],
      { chunked: true },
    ],
    [
      'Transfer-Encoding then a blank continuation',
      ['Transfer-Encoding: chunked\r\n', ' \r\n', '\t\r\n'],
      { chunked: true, length: null },
    ],
    [
      'a repeated, empty Transfer-Encoding continued',
      ['Transfer-Encoding: gzip\r\n', 'Transfer-Encoding:\r\n', ' chunked\r\n'],
      { chunked: false, will_close: true },
    ],
    [
      'Connection continued onto close',
      ['Connection:\r\n', ' close\r\n', 'Content-Length: 0\r\n'],
      { will_close: true, length: 0 },
    ],
    [
      'repeated Content-Length, one of them folded blank',
      ['Content-Length: 5\r\n', ' \r\n', 'Content-Length: 5\r\n'],
      { length: 5, will_close: false },
    ],
  ];
  for (const [name, lines, expected] of table) {
    it(name, () => {
      const decision = agree('HTTP/1.1 200 OK', lines);
      for (const [key, value] of Object.entries(expected)) {
        assert.deepEqual(decision[key as keyof Decision], value, key);
      }
      if (expected.length === 5) {
        for (const v of new HTTPMessage(lines).getheaders('content-length')) assert.equal(v, '5');
      }
    });
  }
});

const nameArb = fc.constantFrom(
  'Content-Length',
  'content-length',
  'CONTENT-LENGTH',
  'Transfer-Encoding',
  'transfer-encoding',
  'Connection',
  'Keep-Alive',
  'Proxy-Connection',
  'X-Other',
);
const valueArb = fc.constantFrom(
  '5',
  '05',
  '0',
  '12',
  ' 5',
  '5 ',
  '',
  ' ',
  '\t5\t',
  '5, 5',
  '9007199254740992',
  'x',
  'chunked',
  'Chunked',
  ' chunked',
  'gzip',
  'identity',
  'close',
  'keep-alive',
);
const continuationArb = fc.constantFrom(
  ' ',
  '\t',
  '  \t ',
  ' 5',
  '\t0',
  ' chunked',
  ' close',
  ' , 5',
);
const eolArb = fc.constantFrom('\r\n', '\n');
const fieldArb = fc.record({
  name: nameArb,
  value: valueArb,
  eol: eolArb,
  continuations: fc.array(fc.tuple(continuationArb, eolArb), { maxLength: 2 }),
});

describe('framing and HTTPMessage read a head the same way (property)', () => {
  it('for any head of framing fields, folds and repeats', () => {
    check(
      FILE,
      fc.property(
        fc.constantFrom('HTTP/1.1 200 OK', 'HTTP/1.0 200 OK'),
        fc.array(fieldArb, { maxLength: 6 }),
        (statusLine, fields) => {
          const lines: string[] = [];
          for (const f of fields) {
            lines.push(`${f.name}:${f.value}${f.eol}`);
            for (const [text, eol] of f.continuations) lines.push(`${text}${eol}`);
          }
          agree(statusLine, lines);
        },
      ),
      2000,
    );
  });
});
