import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  BadStatusLine,
  CannotSendHeader,
  CannotSendRequest,
  error,
  HTTPException,
  ImproperConnectionState,
  IncompleteRead,
  InvalidURL,
  LineTooLong,
  NotConnected,
  RemoteDisconnected,
  ResponseNotReady,
  TimeoutError,
  UnimplementedFileMode,
  UnknownProtocol,
  UnknownTransferEncoding,
} from '../../src/protocol/errors.ts';

describe('exception tree', () => {
  const tree: Array<[new (...a: never[]) => Error, new (...a: never[]) => Error, string]> = [
    [NotConnected, HTTPException, 'NotConnected'],
    [InvalidURL, HTTPException, 'InvalidURL'],
    [UnknownProtocol, HTTPException, 'UnknownProtocol'],
    [UnknownTransferEncoding, HTTPException, 'UnknownTransferEncoding'],
    [UnimplementedFileMode, HTTPException, 'UnimplementedFileMode'],
    [IncompleteRead, HTTPException, 'IncompleteRead'],
    [ImproperConnectionState, HTTPException, 'ImproperConnectionState'],
    [CannotSendRequest, ImproperConnectionState, 'CannotSendRequest'],
    [CannotSendHeader, ImproperConnectionState, 'CannotSendHeader'],
    [ResponseNotReady, ImproperConnectionState, 'ResponseNotReady'],
    [BadStatusLine, HTTPException, 'BadStatusLine'],
    [RemoteDisconnected, BadStatusLine, 'RemoteDisconnected'],
    [LineTooLong, HTTPException, 'LineTooLong'],
  ];
  for (const [cls, parent, name] of tree) {
    it(`${name} extends ${parent.name} and is named ${name}`, () => {
      const e = new (cls as unknown as new (a: unknown) => Error)(Buffer.alloc(0));
      assert.ok(e instanceof parent);
      assert.ok(e instanceof HTTPException);
      assert.ok(e instanceof Error);
      assert.equal(e.name, name);
      assert.equal(cls.name, name);
    });
  }

  it('error is an alias of HTTPException', () => {
    assert.equal(error, HTTPException);
  });

  it('TimeoutError is not an HTTPException and has code ETIMEDOUT', () => {
    const e = new TimeoutError();
    assert.ok(!(e instanceof HTTPException));
    assert.equal(e.code, 'ETIMEDOUT');
    assert.equal(e.message, 'timed out');
    assert.equal(e.name, 'TimeoutError');
  });
});

describe("Python's messages and attributes", () => {
  it('IncompleteRead with expected', () => {
    // Python 2.7: str(IncompleteRead('abcde', 3)) == 'IncompleteRead(5 bytes read, 3 more expected)'
    const e = new IncompleteRead(Buffer.from('abcde'), 3);
    assert.equal(e.message, 'IncompleteRead(5 bytes read, 3 more expected)');
    assert.deepEqual(e.partial, Buffer.from('abcde'));
    assert.equal(e.expected, 3);
  });

  it('IncompleteRead without expected', () => {
    const e = new IncompleteRead(Buffer.from('hello world'));
    assert.equal(e.message, 'IncompleteRead(11 bytes read)');
    assert.equal(e.expected, null);
  });

  it("BadStatusLine('') keeps Python's repr of the empty line", () => {
    const e = new BadStatusLine('');
    assert.equal(e.line, "''");
    assert.equal(e.message, "''");
    assert.equal(new BadStatusLine('garbage\r\n').line, 'garbage\r\n');
  });

  it('RemoteDisconnected is a BadStatusLine with Python 3 text', () => {
    const e = new RemoteDisconnected();
    assert.equal(e.message, 'Remote end closed connection without response');
    assert.equal(e.line, "''");
  });

  it('LineTooLong says what was being read', () => {
    assert.equal(
      new LineTooLong('chunk size').message,
      'got more than 65536 bytes when reading chunk size',
    );
  });

  it('UnknownProtocol keeps the version', () => {
    const e = new UnknownProtocol('HTTP/2.0');
    assert.equal(e.version, 'HTTP/2.0');
    assert.equal(e.message, 'HTTP/2.0');
  });
});
