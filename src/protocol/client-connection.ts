/**
 * The whole lifecycle of a client connection, as a pure state machine in the style of
 * h11's `_state.py`: explicit states, events in, actions out. Every decision about a
 * socket is taken here and nowhere else — whether it carries the next request (reuse),
 * whether bytes nobody asked for make it unusable (poisoning), whether a response takes
 * it over (`will_close`), whether it left HTTP for good (101, a 2xx to CONNECT), and
 * Python's `Idle` / `Request-started` / `Request-sent`, which are derived from it.
 *
 * The state has three parts, each an explicit string:
 *
 * - `request`  — our side: `idle` → `started` (putrequest) → `sending` (endheaders) →
 *   `sent` (every byte written) → `idle` once its response head was read (or it failed);
 * - `response` — what the bytes that arrive are: `idle` (nothing is expected: any byte is
 *   unsolicited), `awaiting-head` (a request is in flight), `reading-head`
 *   (`getresponse()` reads it), `reading-body` (a kept-alive response reads its body on
 *   this socket);
 * - `socket`   — `closed` (none: the next request connects), `connecting`, `open`,
 *   `must-close` (the peer ended or failed while a response still reads: it finishes,
 *   then the socket is destroyed, never reused).
 *
 * Python lets the next request be sent while a kept-alive response is still unread (its
 * `getresponse()` raises `ResponseNotReady` until that one is closed): `request` may be
 * `sending`/`sent` while `response` is `reading-body`; once that body ends, `response`
 * becomes `awaiting-head` for the request behind it.
 *
 * Python's `getresponse()` blocks until the head is in, so nothing can be called while it
 * reads; here a call that sends (`request()`, `endheaders()`, `send()`) made while a
 * `getresponse()` reads the head (a forgotten `await`) waits for that read to settle and
 * then takes effect as if made afterwards (the `call` event says so: `after-head`).
 * `putrequest()`, synchronous, cannot wait: it throws `CannotSendRequest` then, as the
 * request side is still `Request-sent`.
 *
 * The full table is in test/protocol/client-connection.test.ts. This file must stay pure:
 * no sockets, timers, promises or process (src/protocol/ is sans-IO).
 */
import { CannotSendHeader, CannotSendRequest, NotConnected, ResponseNotReady } from './errors.ts';

/** Our side of the exchange. */
export type RequestState = 'idle' | 'started' | 'sending' | 'sent';
/** What the bytes arriving on the socket are. */
export type ResponseState = 'idle' | 'awaiting-head' | 'reading-head' | 'reading-body';
/** The socket the connection holds. */
export type SocketState = 'closed' | 'connecting' | 'open' | 'must-close';

/** Python's `_CS_IDLE`, `_CS_REQ_STARTED`, `_CS_REQ_SENT` (the messages of its exceptions). */
export type PythonState = 'Idle' | 'Request-started' | 'Request-sent';

/** What happens to the connection: a call of the caller, an I/O outcome, or the socket. */
export type ConnectionEvent =
  // the caller builds and sends a request
  | 'call'
  | 'putrequest'
  | 'putheader'
  | 'cancel'
  | 'endheaders'
  | 'send'
  | 'getresponse'
  | 'connect'
  | 'close'
  // the I/O shell reports how an operation ended
  | 'connected'
  | 'connect-failed'
  | 'sent'
  | 'send-failed'
  | 'send-cut'
  | 'send-unstarted'
  | 'head-keep'
  | 'head-close'
  | 'head-switch'
  | 'head-failed'
  | 'body-done'
  | 'body-abandoned'
  // the socket, unasked
  | 'unsolicited'
  | 'eof';

/** What the I/O shell must do after an event. */
export type ConnectionAction =
  /** Nothing. */
  | 'none'
  /** Write on the socket held (it may carry this request). */
  | 'write'
  /** Open a socket (none is held). */
  | 'connect'
  /** A connect is under way: wait for it. */
  | 'join'
  /** Destroy the socket held and open a new one. */
  | 'replace'
  /** Leave the socket held to the response still reading it (it closes it), open a new one. */
  | 'detach'
  /** Read the response head now. */
  | 'read-head'
  /** Wait until the request has been sent, then read the head. */
  | 'after-send'
  /** Wait until the head being read is in (or failed), then make the call afresh. */
  | 'after-head'
  /** Keep the response: it reads its body on this socket, which stays the connection's. */
  | 'track'
  /** The response takes the socket and closes it when done (`will_close`). */
  | 'hand-off'
  /** The response takes the socket: it left HTTP (101, a 2xx to CONNECT), never reused. */
  | 'switch'
  /** Keep the socket, idle: nothing is expected; unsolicited bytes or an EOF end it. */
  | 'idle'
  /** Keep the socket: the response to the request sent behind follows on it. */
  | 'keep'
  /** Destroy the socket. */
  | 'destroy'
  /** `close()`: settle everything pending, destroy the socket, close the kept response. */
  | 'reset';

/** A state as one string, `request/response/socket` (for tables and debug output). */
export type StateKey = `${RequestState}/${ResponseState}/${SocketState}`;

/**
 * How a response head changes the connection: `switch` for a 101 or a 2xx answer to
 * CONNECT (the socket speaks another protocol from now on: h11's SWITCHED_PROTOCOL),
 * `close` when the response will close it, `keep` otherwise.
 */
export function headEvent(
  method: string | null,
  status: number,
  willClose: boolean,
): 'head-keep' | 'head-close' | 'head-switch' {
  if (status === 101 || (method === 'CONNECT' && status >= 200 && status < 300)) {
    return 'head-switch';
  }
  return willClose ? 'head-close' : 'head-keep';
}

export class ClientConnection {
  request: RequestState = 'idle';
  response: ResponseState = 'idle';
  socket: SocketState = 'closed';

  /** A machine in a given state (`request/response/socket`), for tests and tables. */
  static from(key: StateKey): ClientConnection {
    const [request, response, socket] = key.split('/') as [
      RequestState,
      ResponseState,
      SocketState,
    ];
    const m = new ClientConnection();
    m.request = request;
    m.response = response;
    m.socket = socket;
    return m;
  }

  /** The state as one string. */
  get key(): StateKey {
    return `${this.request}/${this.response}/${this.socket}`;
  }

  /** Python's `__state`, derived from the request side. */
  get python(): PythonState {
    const request = this.request;
    return request === 'idle' ? 'Idle' : request === 'started' ? 'Request-started' : 'Request-sent';
  }

  /** Whether bytes that arrive now answer something (else they are unsolicited). */
  get expecting(): boolean {
    return this.response !== 'idle';
  }

  /**
   * Whether a request is on its way or waits for its head on the socket held: `connect()`
   * would leave it without an answer (its answer can only come on that socket).
   */
  get inFlight(): boolean {
    return (
      this.request === 'sending' ||
      this.request === 'sent' ||
      this.response === 'awaiting-head' ||
      this.response === 'reading-head'
    );
  }

  /**
   * Feed one event; returns what the I/O shell must do. A call the state does not allow
   * throws Python's exception (`CannotSendRequest`, `CannotSendHeader`,
   * `ResponseNotReady`, `NotConnected`) and leaves the state as it was.
   */
  handle(event: ConnectionEvent): ConnectionAction {
    switch (event) {
      case 'call':
        // A send made while getresponse() reads the head: in Python that getresponse()
        // would have returned first, so the call takes effect once the head is in.
        return this.response === 'reading-head' ? 'after-head' : 'none';
      case 'putrequest':
        if (this.request !== 'idle') throw new CannotSendRequest(this.python);
        this.request = 'started';
        return 'none';
      case 'putheader':
        if (this.request !== 'started') throw new CannotSendHeader();
        return 'none';
      case 'cancel':
        // request() refused its own arguments after the state moved: back as it was.
        if (this.request === 'started') this.request = 'idle';
        return 'none';
      case 'endheaders':
        if (this.request !== 'started') throw new CannotSendHeader();
        this.request = 'sending';
        if (this.response === 'idle') this.response = 'awaiting-head';
        return this.acquire(false);
      case 'send':
        return this.acquire(this.request === 'sending' || this.request === 'sent');
      case 'getresponse':
        return this.getresponse();
      case 'connect':
        return this.socket === 'connecting' ? 'join' : this.open();
      case 'close':
        this.request = 'idle';
        this.response = 'idle';
        this.socket = 'closed';
        return 'reset';
      case 'connected':
        if (this.socket === 'connecting') this.socket = 'open';
        return 'none';
      case 'connect-failed':
        if (this.socket === 'connecting') this.socket = 'closed';
        return 'none';
      case 'sent':
        if (this.request === 'sending' && this.holds()) this.request = 'sent';
        return 'none';
      case 'send-failed':
      case 'send-unstarted':
        return this.sendEnded(event === 'send-failed');
      case 'send-cut':
        return this.sendCut();
      case 'head-keep':
      case 'head-close':
      case 'head-switch':
        return this.head(event);
      case 'head-failed':
        if (this.response !== 'reading-head') return 'none';
        return this.drop(true);
      case 'body-done':
        return this.bodyDone();
      case 'body-abandoned':
        if (this.response !== 'reading-body') return 'none';
        this.response = 'idle';
        return this.destroySocket();
      case 'unsolicited':
        if (this.response !== 'idle') return 'none';
        return this.destroySocket();
      case 'eof':
        if (this.response === 'idle') return this.destroySocket();
        if (this.socket === 'open') this.socket = 'must-close';
        return 'none';
    }
  }

  /**
   * A socket for a write. `continuing`: bytes of a request already under way (its body
   * after `endheaders()`): they belong on the socket its head went on, whatever state it
   * is in; a new request never goes on a socket that must close.
   */
  private acquire(continuing: boolean): ConnectionAction {
    switch (this.socket) {
      case 'open':
        return 'write';
      case 'connecting':
        return 'join';
      case 'closed':
        this.socket = 'connecting';
        return 'connect';
      case 'must-close':
        return continuing ? 'write' : this.open();
    }
  }

  /** Open a new socket in place of the one held, if any (Python's `connect()` replaces it). */
  private open(): ConnectionAction {
    const held = this.socket;
    this.socket = 'connecting';
    if (held === 'closed') return 'connect';
    if (this.response !== 'reading-body') return 'replace';
    // A kept-alive response still reads the old socket: it keeps it and closes it at its
    // end; the connection no longer tracks it (its bytes are all that socket will carry).
    this.response =
      this.request === 'sending' || this.request === 'sent' ? 'awaiting-head' : 'idle';
    return 'detach';
  }

  private getresponse(): ConnectionAction {
    const sending = this.request === 'sending';
    if (!sending && this.request !== 'sent') throw new ResponseNotReady(this.python);
    switch (this.response) {
      case 'awaiting-head':
        this.response = 'reading-head';
        return sending ? 'after-send' : 'read-head';
      case 'reading-head':
      case 'reading-body':
        // Another getresponse() is reading, or the previous response is still unread.
        throw new ResponseNotReady(this.python);
      case 'idle':
        // The request went on a connection that has been closed since (closing a kept
        // response before its end discards its connection and what was sent behind it).
        throw new NotConnected(
          'no connection: the request was never sent, or the connection it was sent on was closed',
        );
    }
  }

  private sendEnded(written: boolean): ConnectionAction {
    if (this.request === 'sending' || this.request === 'sent') this.request = 'idle';
    if (this.response === 'awaiting-head' || this.response === 'reading-head') {
      this.response = 'idle';
    }
    // Bytes of a request that failed half-way may be on the wire: never reuse it. Nor a
    // socket the peer ended, now that nothing is expected on it.
    if (written || (this.response === 'idle' && this.socket === 'must-close')) {
      return this.drop(false);
    }
    return 'none';
  }

  /**
   * The peer failed the socket (a reset) while the request went out, after its answer
   * began to arrive: a server refusing an upload answers early (`413`, `401`) and closes
   * with the body unread. As in Python, whose `sendall()` raised with the state already
   * `Request-sent`, the request counts as sent and `getresponse()` reads that answer from
   * what arrived; the socket is never reused. Anything else (a previous response still
   * reading the socket, no socket) fails the send as `send-failed` does.
   */
  private sendCut(): ConnectionAction {
    const answering = this.response === 'awaiting-head' || this.response === 'reading-head';
    if (!answering || !this.holds() || (this.request !== 'sending' && this.request !== 'sent')) {
      return this.sendEnded(true);
    }
    this.request = 'sent';
    this.socket = 'must-close';
    return 'none';
  }

  private head(event: 'head-keep' | 'head-close' | 'head-switch'): ConnectionAction {
    // A head is read only once its request was sent whole (getresponse waits for it).
    if (this.response !== 'reading-head' || this.request !== 'sent' || !this.holds()) {
      return 'none';
    }
    this.request = 'idle';
    if (event === 'head-keep') {
      this.response = 'reading-body';
      return 'track';
    }
    this.response = 'idle';
    this.socket = 'closed';
    return event === 'head-close' ? 'hand-off' : 'switch';
  }

  private bodyDone(): ConnectionAction {
    if (this.response !== 'reading-body') return 'none';
    const behind = this.request === 'sending' || this.request === 'sent';
    if (this.socket === 'must-close') {
      // Whatever was sent behind this response went on a socket the peer has ended.
      this.response = 'idle';
      return this.destroySocket();
    }
    this.response = behind ? 'awaiting-head' : 'idle';
    if (this.socket !== 'open') return 'none';
    return behind ? 'keep' : 'idle';
  }

  /** Everything in flight is lost: the request side too when `all`. */
  private drop(all: boolean): ConnectionAction {
    if (all) this.request = 'idle';
    this.response = 'idle';
    return this.destroySocket();
  }

  /** Whether a socket is held (open, or ended by the peer but still read). */
  private holds(): boolean {
    return this.socket === 'open' || this.socket === 'must-close';
  }

  private destroySocket(): ConnectionAction {
    if (!this.holds()) return 'none';
    this.socket = 'closed';
    return 'destroy';
  }
}
