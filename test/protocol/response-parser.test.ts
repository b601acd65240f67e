/**
 * The response parser and body decoder, table-driven: one named case per rule of
 * shared/API.md's "Reading a response" and "stricter than CPython" sections. Every case
 * is fed whole, split at every byte offset, and one byte at a time, and must give the
 * same outcome each time. Expected values follow CPython 2.7.18 (`HTTPResponse.begin()`
 * and `read()`), except where a case is marked STRICTER.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { feedings, type Outcome, pick, runChunks } from './response-parse.harness.ts';

interface Case {
  name: string;
  input: string;
  method?: string;
  strict?: boolean;
  /** The server keeps the connection open after the input (no EOF). */
  open?: boolean;
  expect: Outcome;
}

const ok = (extra: Outcome): Outcome => ({ status: 200, reason: 'OK', version: 11, ...extra });

const cases: Case[] = [
  // --- status line and versions ---
  {
    name: 'HTTP/1.1 with Content-Length: version 11, body, connection kept',
    input: 'HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nText',
    open: true,
    expect: ok({
      lines: ['Content-Length: 4\r\n'],
      body: 'Text',
      length: 4,
      chunked: false,
      will_close: false,
      framing: 'length',
    }),
  },
  {
    name: 'HTTP/1.0 is version 10 and closes without keep-alive',
    input: 'HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nhi',
    expect: ok({ version: 10, body: 'hi', will_close: true }),
  },
  {
    name: 'HTTP/1.2 counts as HTTP/1.1 (Python: any HTTP/1.x)',
    input: 'HTTP/1.2 200 OK\r\nContent-Length: 0\r\n\r\n',
    open: true,
    expect: ok({ version: 11, will_close: false, framing: 'none' }),
  },
  {
    name: 'HTTP/2.0 is UnknownProtocol',
    input: 'HTTP/2.0 200 OK\r\n\r\n',
    expect: { error: 'UnknownProtocol: HTTP/2.0' },
  },
  {
    name: 'HTTP/1 (no minor version) is UnknownProtocol',
    input: 'HTTP/1 200 OK\r\n\r\n',
    expect: { error: 'UnknownProtocol: HTTP/1' },
  },
  {
    name: 'reason phrase may be missing',
    input: 'HTTP/1.1 204\r\n\r\n',
    open: true,
    expect: { status: 204, reason: '', version: 11, framing: 'none', will_close: false },
  },
  {
    name: 'reason phrase keeps inner spaces and loses outer ones',
    input: 'HTTP/1.1   404   Not   Found  \r\nContent-Length: 0\r\n\r\n',
    open: true,
    expect: { status: 404, reason: 'Not   Found', version: 11 },
  },
  {
    name: 'status 600 is accepted (Python allows 100..999)',
    input: 'HTTP/1.0 600 X\r\n\r\nbody',
    expect: { status: 600, reason: 'X', version: 10, body: 'body', framing: 'eof' },
  },
  {
    name: 'non-numeric status code is BadStatusLine',
    input: 'HTTP/1.1 400.100 Not Ok\r\n\r\n',
    expect: { error: 'BadStatusLine: HTTP/1.1 400.100 Not Ok\r\n' },
  },
  {
    name: 'status code below 100 is BadStatusLine',
    input: 'HTTP/1.1 99 Low\r\n\r\n',
    expect: { error: 'BadStatusLine: HTTP/1.1 99 Low\r\n' },
  },
  {
    name: 'status code above 999 is BadStatusLine',
    input: 'HTTP/1.1 1000 High\r\n\r\n',
    expect: { error: 'BadStatusLine: HTTP/1.1 1000 High\r\n' },
  },
  {
    name: 'STRICTER: a signed status code is BadStatusLine (Python int() takes +200)',
    input: 'HTTP/1.1 +200 OK\r\n\r\n',
    expect: { error: 'BadStatusLine: HTTP/1.1 +200 OK\r\n' },
  },
  {
    name: 'STRICTER: a bare CR in the status line is BadStatusLine',
    input: 'HTTP/1.1 200 OK\rX\r\n\r\n',
    expect: { error: 'BadStatusLine: HTTP/1.1 200 OK\rX\r\n' },
  },
  {
    name: 'nothing at all before the server closes is RemoteDisconnected',
    input: '',
    expect: { error: 'RemoteDisconnected: Remote end closed connection without response' },
  },
  {
    name: 'bare LF line endings are accepted in the head (Python readline)',
    input: 'HTTP/1.1 200 OK\nContent-Length: 2\n\nhi',
    open: true,
    expect: ok({ lines: ['Content-Length: 2\n'], body: 'hi', will_close: false }),
  },
  // --- HTTP/0.9 and strict ---
  {
    name: 'a line without HTTP/ is an HTTP/0.9 body when not strict',
    input: 'Hello there\r\nsecond line',
    expect: {
      status: 200,
      reason: '',
      version: 9,
      lines: [],
      body: 'Hello there\r\nsecond line',
      will_close: true,
      length: null,
      framing: 'eof',
    },
  },
  {
    name: 'an HTTP/0.9 body of one unterminated line completes at close',
    input: 'short',
    expect: { status: 200, version: 9, body: 'short' },
  },
  {
    name: 'strict makes a line without HTTP/ a BadStatusLine',
    input: 'Hello there\r\n',
    strict: true,
    expect: { error: 'BadStatusLine: Hello there\r\n' },
  },
  {
    name: 'a lone word is HTTP/0.9 (fewer than two fields)',
    input: 'HTTP/1.1\r\n',
    expect: { status: 200, version: 9, body: 'HTTP/1.1\r\n' },
  },
  {
    name: 'an explicit HTTP/0.9 status line: no headers, the rest is body',
    input: 'HTTP/0.9 200 OK\r\nX: y\r\n\r\nbody',
    expect: { status: 200, reason: 'OK', version: 9, lines: [], body: 'X: y\r\n\r\nbody' },
  },
  // --- interim responses ---
  {
    name: '100 Continue is skipped with its headers',
    input: 'HTTP/1.1 100 Continue\r\nX-A: 1\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhi',
    open: true,
    expect: ok({ lines: ['Content-Length: 2\r\n'], body: 'hi', will_close: false }),
  },
  {
    name: 'several 100 Continue heads are skipped',
    input: `${'HTTP/1.1 100 Continue\r\n\r\n'.repeat(5)}HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n`,
    open: true,
    expect: ok({ framing: 'none' }),
  },
  {
    name: 'STRICTER: 102 and 103 are skipped too (Python returns them and desynchronises)',
    input:
      'HTTP/1.1 102 Processing\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\n' +
      'HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhi',
    open: true,
    expect: ok({ lines: ['Content-Length: 2\r\n'], body: 'hi' }),
  },
  {
    name: 'STRICTER: 101 is returned with no body and the connection is never reused',
    input: 'HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\r\n\x81\x05hello',
    open: true,
    expect: {
      status: 101,
      version: 11,
      body: '',
      length: 0,
      will_close: true,
      framing: 'none',
      rest: '\x81\x05hello',
    },
  },
  {
    name: 'STRICTER: more than 100 interim responses is an HTTPException',
    input: 'HTTP/1.1 100 Continue\r\n\r\n'.repeat(101),
    open: true,
    expect: { error: 'HTTPException: got more than 100 interim responses' },
  },
  {
    name: '100 interim responses are still accepted',
    input: `${'HTTP/1.1 100 Continue\r\n\r\n'.repeat(100)}HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n`,
    open: true,
    expect: ok({ framing: 'none' }),
  },
  {
    name: 'STRICTER: more than 100 header lines inside an interim response (CVE-2021-3737)',
    input: `HTTP/1.1 100 OK\r\n${'r: 1\r\n'.repeat(101)}`,
    open: true,
    expect: { error: 'HTTPException: got more than 100 headers' },
  },
  {
    name: 'a whitespace-only line ends a skipped 100 block (Python strips it)',
    input: 'HTTP/1.1 100 Continue\r\n  \r\nHTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n',
    open: true,
    expect: ok({ framing: 'none' }),
  },
  {
    name: 'a lone 100 Continue followed by close is RemoteDisconnected',
    input: 'HTTP/1.1 100 Continue\r\n\r\n',
    expect: { error: 'RemoteDisconnected: Remote end closed connection without response' },
  },
  // --- headers ---
  {
    name: 'header lines are kept raw and in order, duplicates included',
    input: 'HTTP/1.1 200 OK\r\nB: 1\r\nA: 2\r\nb: 3\r\nContent-Length: 0\r\n\r\n',
    open: true,
    expect: ok({ lines: ['B: 1\r\n', 'A: 2\r\n', 'b: 3\r\n', 'Content-Length: 0\r\n'] }),
  },
  {
    name: 'folded lines are kept as separate raw lines',
    input: 'HTTP/1.1 200 OK\r\nX: a\r\n  b\r\n\tc\r\nContent-Length: 0\r\n\r\n',
    open: true,
    expect: ok({ lines: ['X: a\r\n', '  b\r\n', '\tc\r\n', 'Content-Length: 0\r\n'] }),
  },
  {
    name: 'a folded Transfer-Encoding value is joined with one space',
    input: 'HTTP/1.1 200 OK\r\nTransfer-Encoding:\r\n chunked\r\n\r\n2\r\nhi\r\n0\r\n\r\n',
    open: true,
    expect: ok({ chunked: true, framing: 'chunked', body: 'hi', will_close: false }),
  },
  {
    name: 'a header with an empty name is dropped (Python: "probably a benign mistake")',
    input: 'HTTP/1.1 200 OK\r\nFirst: val\r\n: nval\r\nSecond: val\r\nContent-Length: 0\r\n\r\n',
    open: true,
    expect: ok({ lines: ['First: val\r\n', 'Second: val\r\n', 'Content-Length: 0\r\n'] }),
  },
  {
    name: 'whitespace before the colon stays in the name (Python 2.7), so it frames nothing',
    input: 'HTTP/1.1 200 OK\r\nContent-Length : 5\r\n\r\nabcdefgh',
    expect: ok({
      lines: ['Content-Length : 5\r\n'],
      length: null,
      body: 'abcdefgh',
      will_close: true,
    }),
  },
  {
    name: 'Unix "From " lines at the start of the headers are dropped, colon or not (Python 2.7 and 3)',
    input: 'HTTP/1.1 200 OK\r\nFrom nobody\r\nFrom a: b\r\nX: c\r\nContent-Length: 0\r\n\r\n',
    open: true,
    expect: ok({ lines: ['X: c\r\n', 'Content-Length: 0\r\n'] }),
  },
  {
    name: 'a "From " line after a field, or "from " in another case, is an ordinary field',
    input: 'HTTP/1.1 200 OK\r\nfrom a: b\r\nFrom c: d\r\nContent-Length: 0\r\n\r\n',
    open: true,
    expect: ok({ lines: ['from a: b\r\n', 'From c: d\r\n', 'Content-Length: 0\r\n'] }),
  },
  {
    name: 'STRICTER: a header line without a colon is an HTTPException (Python skips it)',
    input: 'HTTP/1.1 200 OK\r\nNoColonHere\r\nContent-Length: 0\r\n\r\n',
    open: true,
    expect: { error: "HTTPException: header line without a colon: 'NoColonHere\\r\\n'" },
  },
  {
    name: 'STRICTER: a bare CR inside a header line is an HTTPException',
    input: 'HTTP/1.1 200 OK\r\nX-Abc: \rTransfer-Encoding: chunked\r\n\r\n',
    open: true,
    expect: {
      error:
        "HTTPException: header line with a bare CR: 'X-Abc: \\rTransfer-Encoding: chunked\\r\\n'",
    },
  },
  {
    name: 'a lone CR line does not end the head (Python 2.7), and is rejected',
    input: 'HTTP/1.1 200 OK\r\n\r\r\nContent-Length: 0\r\n\r\n',
    open: true,
    expect: { error: "HTTPException: header line with a bare CR: '\\r\\r\\n'" },
  },
  {
    name: 'a continuation line with no header before it is an HTTPException',
    input: 'HTTP/1.1 200 OK\r\n folded\r\n\r\n',
    open: true,
    expect: { error: "HTTPException: header continuation line without a header: ' folded\\r\\n'" },
  },
  {
    name: '100 header lines are accepted',
    input: `HTTP/1.1 200 OK\r\n${'H: v\r\n'.repeat(99)}Content-Length: 0\r\n\r\n`,
    open: true,
    expect: ok({ framing: 'none' }),
  },
  {
    name: '101 header lines are "got more than 100 headers"',
    input: `HTTP/1.1 200 OK\r\n${'H: v\r\n'.repeat(100)}Content-Length: 0\r\n\r\n`,
    open: true,
    expect: { error: 'HTTPException: got more than 100 headers' },
  },
  {
    name: 'continuation lines count toward the 100 lines (Python 2.7)',
    input: `HTTP/1.1 200 OK\r\nH: v\r\n${' more\r\n'.repeat(100)}\r\n`,
    open: true,
    expect: { error: 'HTTPException: got more than 100 headers' },
  },
  {
    name: 'STRICTER: the server closing in the middle of the headers is RemoteDisconnected',
    input: 'HTTP/1.1 200 OK\r\nContent-Length: 4\r\n',
    expect: {
      error: 'RemoteDisconnected: Remote end closed connection before the end of the response head',
    },
  },
  {
    name: 'STRICTER: a status line cut by close is RemoteDisconnected, never an empty 200',
    input: 'HTTP/1.1 200 Ok',
    expect: {
      error: 'RemoteDisconnected: Remote end closed connection before the end of the response head',
    },
  },
  ...[
    ['the version', 'HTTP/1.1 '],
    ['a prefix of HTTP/', 'HT'],
    ['the code', 'HTTP/1.1 2'],
    ['a header name', 'HTTP/1.1 200 OK\r\nConte'],
    ['the CRLF of a header line', 'HTTP/1.1 200 OK\r\nX: y\r'],
    ['the blank line', 'HTTP/1.1 200 OK\r\nX: y\r\n\r'],
    ['the status line after an interim response', 'HTTP/1.1 100 Continue\r\n\r\nH'],
    ['an interim response', 'HTTP/1.1 103 Early Hints\r\nLink: </a'],
  ].map(([where, input]) => ({
    name: `STRICTER: a head cut by close inside ${where} is RemoteDisconnected (not HTTP/0.9, not "no colon")`,
    input: input as string,
    expect: {
      error: 'RemoteDisconnected: Remote end closed connection before the end of the response head',
    },
  })),
  // --- framing ---
  {
    name: 'HTTP/1.1 without a length reads until close and will close',
    input: 'HTTP/1.1 200 OK\r\n\r\nall of it',
    expect: ok({ body: 'all of it', length: null, will_close: true, framing: 'eof' }),
  },
  {
    name: 'Connection: close closes (substring, any case)',
    input: 'HTTP/1.1 200 OK\r\nConnection: cloSE\r\nContent-Length: 1\r\n\r\nx',
    expect: ok({ body: 'x', will_close: true }),
  },
  {
    name: 'HTTP/1.0 with Connection: keep-alive is kept',
    input: 'HTTP/1.0 200 OK\r\nConnection: keep-ALIVE\r\nContent-Length: 1\r\n\r\nx',
    open: true,
    expect: ok({ version: 10, will_close: false }),
  },
  {
    name: 'HTTP/1.0 with a Keep-Alive header is kept',
    input: 'HTTP/1.0 200 OK\r\nKeep-Alive: timeout=5\r\nContent-Length: 1\r\n\r\nx',
    open: true,
    expect: ok({ version: 10, will_close: false }),
  },
  {
    name: 'HTTP/1.0 with Proxy-Connection: keep-alive is kept',
    input: 'HTTP/1.0 200 OK\r\nProxy-Connection: keep-alive\r\nContent-Length: 1\r\n\r\nx',
    open: true,
    expect: ok({ version: 10, will_close: false }),
  },
  {
    name: 'HTTP/1.0 keep-alive without a length still closes',
    input: 'HTTP/1.0 200 OK\r\nConnection: keep-alive\r\n\r\nuntil close',
    expect: ok({ version: 10, will_close: true, framing: 'eof', body: 'until close' }),
  },
  {
    name: 'bytes after a Content-Length body are not consumed',
    input: 'HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nHello123\r\nextradata',
    open: true,
    expect: ok({ body: 'Hello123\r\n', rest: 'extradata' }),
  },
  {
    name: 'a body shorter than Content-Length is incomplete at close',
    input: 'HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nHello\r\n',
    expect: ok({ body: 'Hello\r\n', incomplete: { expected: 3 } }),
  },
  {
    name: 'HEAD: no body is read whatever the headers say',
    input: 'HTTP/1.1 200 OK\r\nContent-Length: 14432\r\n\r\nHTTP/1.1 200 OK\r\n',
    method: 'HEAD',
    open: true,
    expect: ok({ length: 0, framing: 'none', body: '', rest: 'HTTP/1.1 200 OK\r\n' }),
  },
  {
    name: 'HEAD of a chunked response: chunked stays true but nothing is read',
    input: 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n',
    method: 'HEAD',
    open: true,
    expect: ok({ chunked: true, length: 0, framing: 'none', will_close: false }),
  },
  {
    name: "HEAD answered by an HTTP/0.9 reply: no body (Python 2.7 read() gives '')",
    input: 'garbage\r\nmore',
    method: 'HEAD',
    expect: { status: 200, version: 9, length: 0, framing: 'none', body: '', will_close: true },
  },
  {
    name: 'HEAD answered by an explicit HTTP/0.9 status line: no body',
    input: 'HTTP/0.9 200 OK\r\nX: y\r\n\r\nbody',
    method: 'HEAD',
    expect: { status: 200, version: 9, lines: [], length: 0, framing: 'none', body: '' },
  },
  {
    name: 'head (lower case) is not HEAD: detection is case-sensitive as in Python',
    input: 'HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhi',
    method: 'head',
    open: true,
    expect: ok({ body: 'hi', framing: 'length' }),
  },
  {
    name: '204 has no body even with Content-Length',
    input: 'HTTP/1.1 204 No Content\r\nContent-Length: 5\r\n\r\nHTTP/1.1 200 OK\r\n',
    open: true,
    expect: { status: 204, length: 0, framing: 'none', rest: 'HTTP/1.1 200 OK\r\n' },
  },
  {
    name: '304 has no body even when chunked',
    input: 'HTTP/1.1 304 Not Modified\r\nTransfer-Encoding: chunked\r\n\r\nnext',
    open: true,
    expect: { status: 304, length: 0, framing: 'none', chunked: true, rest: 'next' },
  },
  {
    name: 'a 2xx to CONNECT has no body: the connection becomes a tunnel',
    input: 'HTTP/1.1 200 Connection established\r\nContent-Length: 5\r\n\r\ntunnel bytes',
    method: 'CONNECT',
    open: true,
    expect: { status: 200, length: 0, framing: 'none', rest: 'tunnel bytes' },
  },
  {
    name: 'Transfer-Encoding other than exactly chunked reads until close (Python)',
    input: 'HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n2\r\nhi\r\n0\r\n\r\n',
    expect: ok({ chunked: false, framing: 'eof', will_close: true, body: '2\r\nhi\r\n0\r\n\r\n' }),
  },
  {
    name: 'two Transfer-Encoding: chunked fields merge to "chunked, chunked": until close',
    input: 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\nraw',
    expect: ok({ chunked: false, framing: 'eof', body: 'raw' }),
  },
  // --- Content-Length (STRICTER) ---
  ...['+5', '-1', '5 5', 'abc', '0x10', '5.0', '1_0'].map(
    (v): Case => ({
      name: `STRICTER: Content-Length ${JSON.stringify(v)} is an HTTPException (Python: until close)`,
      input: `HTTP/1.1 200 OK\r\nContent-Length: ${v}\r\n\r\nHello`,
      open: true,
      expect: { error: `HTTPException: invalid Content-Length: '${v}'` },
    }),
  ),
  {
    name: 'STRICTER: an empty Content-Length is an HTTPException',
    input: 'HTTP/1.1 200 OK\r\nContent-Length: \r\n\r\nHello',
    open: true,
    expect: { error: "HTTPException: invalid Content-Length: ''" },
  },
  {
    name: 'STRICTER: Content-Length fields that differ are an HTTPException',
    input: 'HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 7\r\n\r\nHello',
    open: true,
    expect: { error: "HTTPException: conflicting Content-Length values: '5', '7'" },
  },
  {
    name: 'STRICTER: a comma list in one Content-Length field is not plain digits',
    input: 'HTTP/1.1 200 OK\r\nContent-Length: 5, 5\r\n\r\nHello',
    open: true,
    expect: { error: "HTTPException: invalid Content-Length: '5, 5'" },
  },
  {
    name: 'repeated Content-Length fields that agree are accepted',
    input: 'HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 5\r\n\r\nHello',
    open: true,
    expect: ok({ length: 5, body: 'Hello', will_close: false }),
  },
  {
    name: 'STRICTER: a Content-Length beyond 2^53 - 1 is an HTTPException',
    input: 'HTTP/1.1 200 OK\r\nContent-Length: 9007199254740992\r\n\r\n',
    open: true,
    expect: { error: 'HTTPException: Content-Length too large: 9007199254740992' },
  },
  {
    name: 'Content-Length 2^53 - 1 with a tiny body is incomplete, not an allocation',
    input: 'HTTP/1.1 200 OK\r\nContent-Length: 9007199254740991\r\n\r\ntiny',
    expect: ok({
      length: 9007199254740991,
      body: 'tiny',
      incomplete: { expected: 9007199254740987 },
    }),
  },
  {
    name: 'Content-Length 0 means no body and the connection is kept',
    input: 'HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\nnext',
    open: true,
    expect: ok({ length: 0, framing: 'none', will_close: false, rest: 'next' }),
  },
  // --- chunked ---
  {
    name: 'chunked body is decoded',
    input:
      'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n' +
      'a\r\nhello worl\r\n3\r\nd! \r\n8\r\nand now \r\n22\r\nfor something completely different\r\n0\r\n\r\n',
    open: true,
    expect: ok({
      chunked: true,
      framing: 'chunked',
      length: null,
      will_close: false,
      body: 'hello world! and now for something completely different',
    }),
  },
  {
    name: 'STRICTER: chunked with Content-Length is read as chunked and not reused',
    input:
      'HTTP/1.1 200 OK\r\nContent-Length: 123456\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n',
    open: true,
    expect: ok({ chunked: true, body: 'abc', will_close: true, length: null }),
  },
  {
    name: 'STRICTER: another Transfer-Encoding with Content-Length is read by length, not reused',
    input: 'HTTP/1.1 200 OK\r\nTransfer-Encoding: identity\r\nContent-Length: 5\r\n\r\nhello',
    open: true,
    expect: ok({ chunked: false, length: 5, body: 'hello', will_close: true, framing: 'length' }),
  },
  {
    name: 'chunk extensions are read and dropped',
    input:
      'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3;foo=bar\r\nabc\r\n2 ; x="y;z"\r\nde\r\n0;foo=bar\r\n\r\n',
    open: true,
    expect: ok({ body: 'abcde' }),
  },
  {
    name: 'upper- and lower-case hex and leading zeros are chunk sizes',
    input:
      'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n00A\r\n0123456789\r\nb\r\nabcdefghijk\r\n0\r\n\r\n',
    open: true,
    expect: ok({ body: '0123456789abcdefghijk' }),
  },
  {
    name: 'trailers are read and dropped; bytes after them stay',
    input:
      'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n4\r\nbody\r\n0\r\nX-Dummy: foo\r\nX-Dumm2: bar\r\n\r\nextradata',
    open: true,
    expect: ok({ body: 'body', rest: 'extradata' }),
  },
  {
    name: 'a last chunk without the final CRLF completes at close (Python tolerates it)',
    input: 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n4\r\nbody\r\n0\r\n',
    expect: ok({ body: 'body' }),
  },
  {
    name: 'a chunked body that stops after a data chunk is incomplete at close',
    input: 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\na\r\nhello worl\r\n',
    expect: ok({ body: 'hello worl', incomplete: { expected: null } }),
  },
  {
    name: 'a chunked body cut inside a chunk is incomplete with the bytes missing',
    input: 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n5\r\nde',
    expect: ok({ body: 'abcde', incomplete: { expected: 3 } }),
  },
  {
    name: 'garbage instead of a chunk size is a framing error',
    input: 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\nfoo\r\n',
    open: true,
    expect: { error: 'FramingError: invalid character 0x6f in chunk size' },
  },
  ...[
    ['0x5', 'invalid character 0x78 in chunk size'],
    ['-5', 'invalid chunk size: no hex digits before byte 0x2d'],
    ['+5', 'invalid chunk size: no hex digits before byte 0x2b'],
    ['1_f', 'invalid character 0x5f in chunk size'],
    ['1X', 'invalid character 0x58 in chunk size'],
    ['', 'invalid chunk size: no hex digits before byte 0x0d'],
    ['5 ', 'whitespace after a chunk size must lead to an extension'],
    ['20000000000000', 'chunk size too large'],
  ].map(
    ([size, message]): Case => ({
      name: `STRICTER: chunk size ${JSON.stringify(size)} is a framing error (Python int(x, 16))`,
      input: `HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n${size}\r\nhello\r\n0\r\n\r\n`,
      open: true,
      expect: { error: `FramingError: ${message}` },
    }),
  ),
  {
    name: 'chunk size 1fffffffffffff (2^53 - 1) is accepted and then incomplete',
    input: 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1fffffffffffff\r\nab',
    expect: ok({ body: 'ab', incomplete: { expected: 9007199254740989 } }),
  },
  {
    name: 'STRICTER: a chunk size line ended by a bare LF is a framing error',
    input: 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3;x\nabc\r\n0\r\n\r\n',
    open: true,
    expect: { error: 'FramingError: chunk size line ended by a bare LF' },
  },
  {
    name: 'STRICTER: chunk data must be followed by CRLF (Python drops any two bytes)',
    input: 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabcXY0\r\n\r\n',
    open: true,
    expect: { error: 'FramingError: chunk data not followed by CRLF' },
  },
  {
    name: 'a chunk-size line of 65536 bytes is LineTooLong',
    input: `HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n${'0'.repeat(65536)}a\r\n`,
    open: true,
    expect: { error: 'LineTooLong: got more than 65536 bytes when reading chunk size' },
  },
  {
    name: 'an endless chunk extension is LineTooLong',
    input: `HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1;${'x'.repeat(70000)}`,
    open: true,
    expect: { error: 'LineTooLong: got more than 65536 bytes when reading chunk size' },
  },
  {
    name: 'more than 100 trailer lines is an HTTPException (gh-150743)',
    input: `HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n${'T: x\r\n'.repeat(101)}\r\n`,
    open: true,
    expect: { error: 'HTTPException: got more than 100 trailers' },
  },
  {
    name: '100 trailer lines are accepted',
    input: `HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n${'T: x\r\n'.repeat(100)}\r\n`,
    open: true,
    expect: ok({ body: '' }),
  },
  {
    name: 'a trailer line over 65536 bytes is LineTooLong',
    input: `HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nT: ${'x'.repeat(65535)}\r\n\r\n`,
    open: true,
    expect: { error: 'LineTooLong: got more than 65536 bytes when reading trailer line' },
  },
  // --- line length ---
  {
    name: 'a header line of 65536 bytes (terminator included) is accepted',
    input: `HTTP/1.1 200 OK\r\nX: ${'a'.repeat(65536 - 5)}\r\nContent-Length: 0\r\n\r\n`,
    open: true,
    expect: ok({ framing: 'none' }),
  },
  {
    name: 'a header line of 65537 bytes is LineTooLong',
    input: `HTTP/1.1 200 OK\r\nX: ${'a'.repeat(65536 - 4)}\r\nContent-Length: 0\r\n\r\n`,
    open: true,
    expect: { error: 'LineTooLong: got more than 65536 bytes when reading header line' },
  },
  {
    name: 'an endless status line is LineTooLong',
    input: `HTTP/1.1 200 ${'k'.repeat(70000)}`,
    open: true,
    expect: { error: 'LineTooLong: got more than 65536 bytes when reading header line' },
  },
];

/** Keep only the fields a case names: every case states what it is about. */
describe('response parser and body decoder', () => {
  for (const c of cases) {
    it(c.name, () => {
      const input = Buffer.from(c.input, 'latin1');
      const options = { method: c.method ?? 'GET', strict: c.strict ?? false };
      // Large inputs are split at fewer offsets to keep the suite fast.
      const ways =
        input.length > 4096
          ? [
              ['whole', [input]] as [string, Buffer[]],
              ['64-byte pieces', chunk(input, 64)] as [string, Buffer[]],
              ['1000-byte pieces', chunk(input, 1000)] as [string, Buffer[]],
            ]
          : feedings(input);
      for (const [how, chunks] of ways) {
        const actual = runChunks(chunks, options, !c.open);
        assert.deepEqual(pick(actual, c.expect), c.expect, `fed ${how}`);
      }
    });
  }
});

function chunk(input: Buffer, size: number): Buffer[] {
  const out: Buffer[] = [];
  for (let i = 0; i < input.length; i += size) out.push(input.subarray(i, i + size));
  return out;
}

describe('debug output is byte-identical to Python 2.7 set_debuglevel(1)', () => {
  // Produced by httplib.HTTPResponse(sock, debuglevel=1).begin() under
  // PYENV_VERSION=2.7.18 python, with sock.makefile() returning a StringIO of the input.
  const table: Array<[string, string, string]> = [
    [
      '100 Continue, folded and quoted headers',
      'HTTP/1.1 100 Continue\r\nX-A: 1\r\n  cont\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\nX: a\r\n  b\r\nY: "q\'\r\n\r\nhi',
      "reply: 'HTTP/1.1 100 Continue\\r\\n'\nheader: X-A: 1\nheader: cont\nreply: 'HTTP/1.1 200 OK\\r\\n'\nheader: Content-Length: 2\r\nheader: X: a\r\nheader:   b\r\nheader: Y: \"q'\r\n",
    ],
    ['HTTP/0.9 with both quotes', 'it\'s "0.9"\n', `reply: 'it\\'s "0.9"\\n'\n`],
    ['bare LF lines', 'HTTP/1.0 200 OK\nA: 1\n\n', "reply: 'HTTP/1.0 200 OK\\n'\nheader: A: 1\n"],
    ['the server closed before a status line', '', "reply: ''\n"],
  ];
  for (const [name, input, expected] of table) {
    it(name, () => {
      const out = runChunks([Buffer.from(input, 'latin1')], {}, true, true);
      assert.equal(out.debug, expected);
    });
  }
});
