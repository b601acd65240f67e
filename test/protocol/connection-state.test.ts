/**
 * httplib's connection state machine (CPython 2.7 HTTPConnection's `__state` and
 * `__response`), each transition and each wrong call with its exception.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConnectionState } from '../../src/protocol/connection-state.ts';
import {
  CannotSendHeader,
  CannotSendRequest,
  ResponseNotReady,
} from '../../src/protocol/errors.ts';

function response(closed = false) {
  return {
    closed,
    isclosed() {
      return this.closed;
    },
  };
}

describe('connection state machine', () => {
  it('walks Idle → Request-started → Request-sent → Idle', () => {
    const s = new ConnectionState();
    assert.equal(s.state, 'Idle');
    s.startRequest();
    assert.equal(s.state, 'Request-started');
    s.checkPutHeader();
    s.endHeaders();
    assert.equal(s.state, 'Request-sent');
    s.checkGetResponse();
    s.responseStarted(response(), false);
    assert.equal(s.state, 'Idle');
  });

  it('putrequest twice is CannotSendRequest, with the state as message', () => {
    const s = new ConnectionState();
    s.startRequest();
    assert.throws(
      () => s.startRequest(),
      (e) => e instanceof CannotSendRequest && e.message === 'Request-started',
    );
  });

  it('putrequest after endheaders (before getresponse) is CannotSendRequest', () => {
    const s = new ConnectionState();
    s.startRequest();
    s.endHeaders();
    assert.throws(() => s.startRequest(), CannotSendRequest);
  });

  it('putheader in Idle or Request-sent is CannotSendHeader', () => {
    const s = new ConnectionState();
    assert.throws(() => s.checkPutHeader(), CannotSendHeader);
    s.startRequest();
    s.endHeaders();
    assert.throws(() => s.checkPutHeader(), CannotSendHeader);
  });

  it('endheaders twice, or before putrequest, is CannotSendHeader', () => {
    const s = new ConnectionState();
    assert.throws(() => s.endHeaders(), CannotSendHeader);
    s.startRequest();
    s.endHeaders();
    assert.throws(() => s.endHeaders(), CannotSendHeader);
  });

  it('getresponse before a request is sent is ResponseNotReady', () => {
    const s = new ConnectionState();
    assert.throws(
      () => s.checkGetResponse(),
      (e) => e instanceof ResponseNotReady && e.message === 'Idle',
    );
    s.startRequest();
    assert.throws(() => s.checkGetResponse(), ResponseNotReady);
  });

  it('a kept-alive response still unread blocks the next getresponse, not the next request', () => {
    const s = new ConnectionState();
    const r1 = response();
    s.startRequest();
    s.endHeaders();
    s.responseStarted(r1, false);
    // Python allows sending the next request while r1 is unread...
    s.startRequest();
    s.endHeaders();
    // ...but not reading its response.
    assert.throws(() => s.checkGetResponse(), ResponseNotReady);
    r1.closed = true;
    s.checkGetResponse();
  });

  it('a response that will close is not tracked', () => {
    const s = new ConnectionState();
    s.startRequest();
    s.endHeaders();
    s.responseStarted(response(), true);
    assert.equal(s.response, null);
    s.startRequest();
    s.endHeaders();
    s.checkGetResponse();
  });

  it('reset returns to Idle and hands back the tracked response', () => {
    const s = new ConnectionState();
    const r = response();
    s.startRequest();
    s.endHeaders();
    s.responseStarted(r, false);
    s.startRequest();
    assert.equal(s.reset(), r);
    assert.equal(s.state, 'Idle');
    assert.equal(s.response, null);
    s.startRequest();
  });

  it('a closed tracked response is forgotten by putrequest', () => {
    const s = new ConnectionState();
    const r = response();
    s.startRequest();
    s.endHeaders();
    s.responseStarted(r, false);
    r.closed = true;
    s.startRequest();
    assert.equal(s.response, null);
  });
});
