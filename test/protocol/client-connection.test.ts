/**
 * The connection lifecycle (src/protocol/client-connection.ts), table-driven and without
 * sockets: each row is a state (`request/response/socket`), an event, and the state and
 * action that follow (or Python's exception, with the state unchanged). Then walks of
 * whole sessions, and a sweep of every state × every event for the invariants.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  ClientConnection,
  type ConnectionAction,
  type ConnectionEvent,
  headEvent,
  type RequestState,
  type ResponseState,
  type SocketState,
  type StateKey,
} from '../../src/protocol/client-connection.ts';
import {
  CannotSendHeader,
  CannotSendRequest,
  NotConnected,
  ResponseNotReady,
} from '../../src/protocol/errors.ts';

type Outcome = [StateKey, ConnectionAction] | (new (...args: never[]) => Error);
type Row = [StateKey, ConnectionEvent, Outcome];

const TABLE: Row[] = [
  // Python's request state: putrequest / putheader / endheaders.
  ['idle/idle/closed', 'putrequest', ['started/idle/closed', 'none']],
  ['started/idle/open', 'putrequest', CannotSendRequest],
  ['sent/awaiting-head/open', 'putrequest', CannotSendRequest],
  ['idle/reading-body/open', 'putrequest', ['started/reading-body/open', 'none']],
  ['started/idle/open', 'putheader', ['started/idle/open', 'none']],
  ['idle/idle/open', 'putheader', CannotSendHeader],
  ['sending/awaiting-head/open', 'putheader', CannotSendHeader],
  ['started/idle/open', 'cancel', ['idle/idle/open', 'none']],
  ['idle/idle/open', 'cancel', ['idle/idle/open', 'none']],
  // endheaders: reuse an open socket, connect, join a connect, never reuse a must-close one.
  ['started/idle/open', 'endheaders', ['sending/awaiting-head/open', 'write']],
  ['started/idle/closed', 'endheaders', ['sending/awaiting-head/connecting', 'connect']],
  ['started/idle/connecting', 'endheaders', ['sending/awaiting-head/connecting', 'join']],
  ['started/reading-body/open', 'endheaders', ['sending/reading-body/open', 'write']],
  ['started/reading-body/must-close', 'endheaders', ['sending/awaiting-head/connecting', 'detach']],
  ['idle/idle/open', 'endheaders', CannotSendHeader],
  ['sending/awaiting-head/open', 'endheaders', CannotSendHeader],
  // send(): raw bytes, any state; the rest of a request stays on its socket.
  ['idle/idle/open', 'send', ['idle/idle/open', 'write']],
  ['idle/idle/closed', 'send', ['idle/idle/connecting', 'connect']],
  ['sent/awaiting-head/must-close', 'send', ['sent/awaiting-head/must-close', 'write']],
  ['idle/reading-body/must-close', 'send', ['idle/idle/connecting', 'detach']],
  // The end of a write.
  ['sending/awaiting-head/open', 'sent', ['sent/awaiting-head/open', 'none']],
  ['idle/idle/closed', 'sent', ['idle/idle/closed', 'none']],
  ['sending/awaiting-head/open', 'send-failed', ['idle/idle/closed', 'destroy']],
  ['sending/reading-head/open', 'send-failed', ['idle/idle/closed', 'destroy']],
  // The peer reset the socket with its answer already arriving: the request counts as
  // sent, getresponse() reads that answer, the socket is never reused.
  ['sending/awaiting-head/open', 'send-cut', ['sent/awaiting-head/must-close', 'none']],
  ['sending/reading-head/open', 'send-cut', ['sent/reading-head/must-close', 'none']],
  ['sent/awaiting-head/open', 'send-cut', ['sent/awaiting-head/must-close', 'none']],
  // ... unless the bytes are a previous response's (it still reads): as send-failed.
  ['sending/reading-body/open', 'send-cut', ['idle/idle/closed', 'destroy']],
  ['sending/awaiting-head/connecting', 'send-cut', ['idle/idle/connecting', 'none']],
  ['sending/awaiting-head/open', 'send-unstarted', ['idle/idle/open', 'none']],
  ['sending/awaiting-head/closed', 'send-unstarted', ['idle/idle/closed', 'none']],
  ['sending/reading-body/open', 'send-unstarted', ['idle/reading-body/open', 'none']],
  // getresponse: in call order, one at a time, only for a request that was sent.
  ['idle/idle/open', 'getresponse', ResponseNotReady],
  ['started/idle/open', 'getresponse', ResponseNotReady],
  ['sent/awaiting-head/open', 'getresponse', ['sent/reading-head/open', 'read-head']],
  ['sending/awaiting-head/open', 'getresponse', ['sending/reading-head/open', 'after-send']],
  [
    'sending/awaiting-head/connecting',
    'getresponse',
    ['sending/reading-head/connecting', 'after-send'],
  ],
  ['sent/reading-head/open', 'getresponse', ResponseNotReady],
  ['sent/reading-body/open', 'getresponse', ResponseNotReady],
  ['sent/idle/closed', 'getresponse', NotConnected],
  // A call that sends (request/endheaders/send) while getresponse() reads the head waits
  // for it (a forgotten await: Python's getresponse() would have returned first);
  // otherwise it goes on at once. putrequest(), synchronous, cannot wait: it throws.
  ['sent/reading-head/open', 'call', ['sent/reading-head/open', 'after-head']],
  ['sent/reading-head/must-close', 'call', ['sent/reading-head/must-close', 'after-head']],
  ['sending/reading-head/connecting', 'call', ['sending/reading-head/connecting', 'after-head']],
  ['sent/awaiting-head/open', 'call', ['sent/awaiting-head/open', 'none']],
  ['idle/reading-body/open', 'call', ['idle/reading-body/open', 'none']],
  ['idle/idle/closed', 'call', ['idle/idle/closed', 'none']],
  ['sent/reading-head/open', 'putrequest', CannotSendRequest],
  // The head: keep (tracked), will_close (hand-off), 101 / CONNECT 2xx (switch), failure.
  ['sent/reading-head/open', 'head-keep', ['idle/reading-body/open', 'track']],
  ['sent/reading-head/must-close', 'head-keep', ['idle/reading-body/must-close', 'track']],
  ['sent/reading-head/open', 'head-close', ['idle/idle/closed', 'hand-off']],
  ['sent/reading-head/open', 'head-switch', ['idle/idle/closed', 'switch']],
  ['sent/reading-head/open', 'head-failed', ['idle/idle/closed', 'destroy']],
  ['sent/reading-head/must-close', 'head-failed', ['idle/idle/closed', 'destroy']],
  ['idle/idle/closed', 'head-failed', ['idle/idle/closed', 'none']],
  // The body of a kept response.
  ['idle/reading-body/open', 'body-done', ['idle/idle/open', 'idle']],
  ['started/reading-body/open', 'body-done', ['started/idle/open', 'idle']],
  ['sent/reading-body/open', 'body-done', ['sent/awaiting-head/open', 'keep']],
  ['sending/reading-body/open', 'body-done', ['sending/awaiting-head/open', 'keep']],
  ['idle/reading-body/must-close', 'body-done', ['idle/idle/closed', 'destroy']],
  ['sent/reading-body/must-close', 'body-done', ['sent/idle/closed', 'destroy']],
  ['idle/reading-body/open', 'body-abandoned', ['idle/idle/closed', 'destroy']],
  ['sent/reading-body/open', 'body-abandoned', ['sent/idle/closed', 'destroy']],
  ['idle/idle/open', 'body-done', ['idle/idle/open', 'none']],
  // The socket, unasked: poisoning, and the stale idle socket (issue 13 scenario 8).
  ['idle/idle/open', 'unsolicited', ['idle/idle/closed', 'destroy']],
  ['started/idle/open', 'unsolicited', ['started/idle/closed', 'destroy']],
  ['sending/awaiting-head/open', 'unsolicited', ['sending/awaiting-head/open', 'none']],
  ['idle/idle/open', 'eof', ['idle/idle/closed', 'destroy']],
  ['started/idle/open', 'eof', ['started/idle/closed', 'destroy']],
  ['sent/awaiting-head/open', 'eof', ['sent/awaiting-head/must-close', 'none']],
  ['sent/reading-head/open', 'eof', ['sent/reading-head/must-close', 'none']],
  ['idle/reading-body/open', 'eof', ['idle/reading-body/must-close', 'none']],
  // connect(): Python's replaces a socket held.
  ['idle/idle/closed', 'connect', ['idle/idle/connecting', 'connect']],
  ['idle/idle/connecting', 'connect', ['idle/idle/connecting', 'join']],
  ['idle/idle/open', 'connect', ['idle/idle/connecting', 'replace']],
  ['idle/reading-body/open', 'connect', ['idle/idle/connecting', 'detach']],
  ['idle/idle/connecting', 'connected', ['idle/idle/open', 'none']],
  ['idle/idle/closed', 'connected', ['idle/idle/closed', 'none']],
  ['sending/awaiting-head/connecting', 'connect-failed', ['sending/awaiting-head/closed', 'none']],
  // close(): everything back to the start, from anywhere.
  ['sent/reading-head/open', 'close', ['idle/idle/closed', 'reset']],
  ['started/reading-body/must-close', 'close', ['idle/idle/closed', 'reset']],
  ['idle/idle/closed', 'close', ['idle/idle/closed', 'reset']],
];

describe('client connection: the transition table', () => {
  for (const [from, event, outcome] of TABLE) {
    const shown = Array.isArray(outcome) ? `${outcome[0]} ${outcome[1]}` : outcome.name;
    it(`${from} + ${event} → ${shown}`, () => {
      const m = ClientConnection.from(from);
      if (Array.isArray(outcome)) {
        assert.equal(m.handle(event), outcome[1]);
        assert.equal(m.key, outcome[0]);
      } else {
        assert.throws(() => m.handle(event), outcome);
        assert.equal(m.key, from, 'a refused call leaves the state as it was');
      }
    });
  }
});

describe('client connection: Python state and the head kinds', () => {
  it("derives Python's Idle / Request-started / Request-sent from the request side", () => {
    const expected: Record<RequestState, string> = {
      idle: 'Idle',
      started: 'Request-started',
      sending: 'Request-sent',
      sent: 'Request-sent',
    };
    for (const [request, python] of Object.entries(expected)) {
      assert.equal(ClientConnection.from(`${request as RequestState}/idle/open`).python, python);
    }
  });

  it('refusals carry the Python state as their message (Python 3)', () => {
    assert.throws(
      () => ClientConnection.from('sent/awaiting-head/open').handle('putrequest'),
      (e) => e instanceof CannotSendRequest && e.message === 'Request-sent',
    );
    assert.throws(
      () => ClientConnection.from('idle/idle/closed').handle('getresponse'),
      (e) => e instanceof ResponseNotReady && e.message === 'Idle',
    );
  });

  it('101 and a 2xx to CONNECT switch protocols; will_close hands off; else keep', () => {
    assert.equal(headEvent('GET', 101, false), 'head-switch');
    assert.equal(headEvent('CONNECT', 200, false), 'head-switch');
    assert.equal(headEvent('CONNECT', 299, true), 'head-switch');
    assert.equal(headEvent('CONNECT', 407, false), 'head-keep');
    assert.equal(headEvent('GET', 200, true), 'head-close');
    assert.equal(headEvent('GET', 200, false), 'head-keep');
    assert.equal(headEvent(null, 204, false), 'head-keep');
  });
});

describe('client connection: whole sessions', () => {
  function walk(m: ClientConnection, steps: Array<[ConnectionEvent, ConnectionAction, StateKey]>) {
    for (const [event, action, key] of steps) {
      assert.equal(m.handle(event), action, `${event} from ${m.key}`);
      assert.equal(m.key, key, `after ${event}`);
    }
  }

  it('two requests on one kept-alive socket', () => {
    walk(new ClientConnection(), [
      ['putrequest', 'none', 'started/idle/closed'],
      ['endheaders', 'connect', 'sending/awaiting-head/connecting'],
      ['connected', 'none', 'sending/awaiting-head/open'],
      ['sent', 'none', 'sent/awaiting-head/open'],
      ['getresponse', 'read-head', 'sent/reading-head/open'],
      ['head-keep', 'track', 'idle/reading-body/open'],
      ['body-done', 'idle', 'idle/idle/open'],
      ['putrequest', 'none', 'started/idle/open'],
      ['endheaders', 'write', 'sending/awaiting-head/open'],
    ]);
  });

  it('a request sent behind an unread response: its response follows once that one ends', () => {
    walk(ClientConnection.from('idle/reading-body/open'), [
      ['putrequest', 'none', 'started/reading-body/open'],
      ['endheaders', 'write', 'sending/reading-body/open'],
      ['sent', 'none', 'sent/reading-body/open'],
      ['body-done', 'keep', 'sent/awaiting-head/open'],
      ['getresponse', 'read-head', 'sent/reading-head/open'],
    ]);
  });

  it('a forgotten await: getresponse() while sending waits for the send', () => {
    walk(ClientConnection.from('idle/idle/open'), [
      ['putrequest', 'none', 'started/idle/open'],
      ['endheaders', 'write', 'sending/awaiting-head/open'],
      ['getresponse', 'after-send', 'sending/reading-head/open'],
      ['sent', 'none', 'sent/reading-head/open'],
      ['head-keep', 'track', 'idle/reading-body/open'],
    ]);
  });

  it('a forgotten await: request() while getresponse() reads the head goes once it is in', () => {
    // Kept alive: the request goes behind the unread response, on the same socket.
    walk(ClientConnection.from('sent/awaiting-head/open'), [
      ['getresponse', 'read-head', 'sent/reading-head/open'],
      ['call', 'after-head', 'sent/reading-head/open'],
      ['head-keep', 'track', 'idle/reading-body/open'],
      ['call', 'none', 'idle/reading-body/open'],
      ['putrequest', 'none', 'started/reading-body/open'],
      ['endheaders', 'write', 'sending/reading-body/open'],
    ]);
    // will_close or a failed head: on a new connection.
    for (const head of ['head-close', 'head-failed'] as const) {
      walk(ClientConnection.from('sent/reading-head/open'), [
        ['call', 'after-head', 'sent/reading-head/open'],
        [head, head === 'head-close' ? 'hand-off' : 'destroy', 'idle/idle/closed'],
        ['call', 'none', 'idle/idle/closed'],
        ['putrequest', 'none', 'started/idle/closed'],
        ['endheaders', 'connect', 'sending/awaiting-head/connecting'],
      ]);
    }
  });

  it('the server closed the idle socket: the next request connects (no write on it)', () => {
    walk(ClientConnection.from('idle/idle/open'), [
      ['eof', 'destroy', 'idle/idle/closed'],
      ['putrequest', 'none', 'started/idle/closed'],
      ['endheaders', 'connect', 'sending/awaiting-head/connecting'],
    ]);
  });

  it('an early answer, then a reset while the body went out: getresponse() reads the answer', () => {
    walk(ClientConnection.from('sending/awaiting-head/open'), [
      ['send-cut', 'none', 'sent/awaiting-head/must-close'],
      ['getresponse', 'read-head', 'sent/reading-head/must-close'],
      ['head-close', 'hand-off', 'idle/idle/closed'],
      ['putrequest', 'none', 'started/idle/closed'],
    ]);
  });

  it('the server closed after the request was written: the read reports it, no retry', () => {
    walk(ClientConnection.from('sent/awaiting-head/open'), [
      ['eof', 'none', 'sent/awaiting-head/must-close'],
      ['getresponse', 'read-head', 'sent/reading-head/must-close'],
      ['head-failed', 'destroy', 'idle/idle/closed'],
    ]);
  });
});

describe('client connection: every reachable state × every event', () => {
  const events: ConnectionEvent[] = [
    'call',
    'putrequest',
    'putheader',
    'cancel',
    'endheaders',
    'send',
    'getresponse',
    'connect',
    'close',
    'connected',
    'connect-failed',
    'sent',
    'send-failed',
    'send-cut',
    'send-unstarted',
    'head-keep',
    'head-close',
    'head-switch',
    'head-failed',
    'body-done',
    'body-abandoned',
    'unsolicited',
    'eof',
  ];
  const refusals = [CannotSendHeader, CannotSendRequest, ResponseNotReady, NotConnected];

  /** Every state reachable from a new connection, by any sequence of events. */
  function reachable(): StateKey[] {
    const seen = new Set<StateKey>([new ClientConnection().key]);
    const queue = [...seen];
    for (let key = queue.shift(); key !== undefined; key = queue.shift()) {
      for (const event of events) {
        const m = ClientConnection.from(key);
        try {
          m.handle(event);
        } catch {
          continue;
        }
        if (!seen.has(m.key)) {
          seen.add(m.key);
          queue.push(m.key);
        }
      }
    }
    return [...seen];
  }

  it('an action or a Python refusal (state unchanged), and the invariants hold', () => {
    const states = reachable();
    let cases = 0;
    for (const from of states) {
      const [rq, rs, sk] = from.split('/') as [RequestState, ResponseState, SocketState];
      // A head is read only for a request of ours; a body is tracked only on a socket.
      if (rs === 'reading-head') assert.ok(rq === 'sending' || rq === 'sent', from);
      if (rs === 'reading-body') assert.notEqual(sk, 'closed', from);
      // Nothing is expected on a socket that is not there.
      if (sk === 'closed' || sk === 'connecting') assert.notEqual(rs, 'reading-body', from);
      for (const event of events) {
        const m = ClientConnection.from(from);
        let action: ConnectionAction;
        try {
          action = m.handle(event);
        } catch (err) {
          assert.ok(
            refusals.some((cls) => err instanceof cls),
            `${from} + ${event}: ${String(err)}`,
          );
          assert.equal(m.key, from, `${from} + ${event}: refused but the state moved`);
          continue;
        }
        cases++;
        const where = `${from} + ${event} → ${m.key} ${action}`;
        // Writing needs a socket; a socket is only destroyed if one was held.
        if (action === 'write') assert.ok(sk === 'open' || sk === 'must-close', where);
        if (action === 'destroy') assert.ok(sk === 'open' || sk === 'must-close', where);
        if (action === 'destroy' || action === 'hand-off' || action === 'switch') {
          assert.equal(m.socket, 'closed', where);
        }
        if (['connect', 'replace', 'detach'].includes(action)) {
          assert.equal(m.socket, 'connecting', where);
        }
        // A new request never goes on a socket that must close.
        if (event === 'endheaders' && sk === 'must-close') assert.notEqual(action, 'write');
        if (event === 'close') assert.equal(m.key, 'idle/idle/closed');
        // 'call' only asks: a send waits exactly while a getresponse() reads the head.
        if (event === 'call') {
          assert.equal(m.key, from, where);
          assert.equal(action, rs === 'reading-head' ? 'after-head' : 'none', where);
        }
        if (action === 'after-head') assert.equal(event, 'call', where);
      }
    }
    assert.ok(states.length >= 20, `${states.length} reachable states`);
    assert.ok(cases > 300, `${cases} cases`);
  });
});
