/**
 * src/protocol/headers.ts, the one reading of field lines that the response parser's
 * framing and `HTTPMessage` share (issue 12). Their agreement over whole heads is a
 * property in test/property/framing-message.test.ts; these are the rules themselves.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  appendFieldValue,
  fieldValue,
  isContinuationLine,
  joinFieldValues,
  unfold,
  unfoldLast,
} from '../../src/protocol/headers.ts';

describe('headers.ts', () => {
  it('a continuation line starts with SP or HTAB, nothing else', () => {
    for (const line of [' x\r\n', '\tx\r\n', ' \r\n', '\t\n'])
      assert.equal(isContinuationLine(line), true);
    for (const line of ['x\r\n', '\r\n', '', '\x0bx\r\n', '\xa0x\r\n']) {
      assert.equal(isContinuationLine(line), false, JSON.stringify(line));
    }
  });

  it('fieldValue strips Python whitespace and the line end', () => {
    assert.equal(fieldValue('Content-Length: 5\r\n', 14), '5');
    assert.equal(fieldValue('A:\t 5 \x0b\x0c\n', 1), '5');
    assert.equal(fieldValue('A:\r\n', 1), '');
    assert.equal(fieldValue('A: \xa05\xa0\r\n', 1), '\xa05\xa0', 'NBSP is not whitespace');
  });

  it('unfold: one SP per fold, a blank continuation adds nothing', () => {
    assert.equal(unfold('5', ' \r\n'), '5');
    assert.equal(unfold('5', '\t \t\n'), '5');
    assert.equal(unfold('', '  chunked \r\n'), 'chunked');
    assert.equal(unfold('a', '   b  c \r\n'), 'a b  c');
  });

  it('unfoldLast extends only the last of the joined values', () => {
    assert.equal(unfoldLast('gzip, ', 6, ' chunked\r\n'), 'gzip, chunked');
    assert.equal(unfoldLast('gzip, x', 6, ' y\r\n'), 'gzip, x y');
    assert.equal(unfoldLast('x', 0, ' \r\n'), 'x');
    // The same as unfolding the last value, then joining.
    const values = ['a', '', 'b'];
    const joined = joinFieldValues(values);
    const start = joined.length - (values[2] as string).length;
    assert.equal(unfoldLast(joined, start, ' c\r\n'), joinFieldValues(['a', '', 'b c']));
  });

  it("repeats join with ', ' whichever way they are built", () => {
    assert.equal(joinFieldValues(['a']), 'a');
    assert.equal(joinFieldValues(['a', '', 'b']), 'a, , b');
    assert.equal(appendFieldValue(appendFieldValue(null, 'a'), 'b'), joinFieldValues(['a', 'b']));
  });
});
