/**
 * httplib's connection state machine: Idle → Request-started → Request-sent → Idle,
 * plus the response still being read (Python's private `__state` and `__response`).
 *
 * ```
 *  Idle ──putrequest──▶ Request-started ──endheaders──▶ Request-sent
 *   ▲                    (putheader)*                        │
 *   └──────────────── getresponse (head read) ◀──────────────┘
 * ```
 * A kept-alive response that is still unread is tracked: a new request may be built
 * and sent meanwhile, but its `getresponse()` raises `ResponseNotReady` until the
 * tracked one is closed. A response that will close the connection is not tracked:
 * it owns the socket, and the next request opens a new connection.
 *
 * Python flips the state before validating arguments, so a `putrequest()` that throws
 * `InvalidURL` leaves the connection in Request-started until `close()`: the class
 * using this machine must call `startRequest()` first, then validate. Pure: no I/O.
 */
import { CannotSendHeader, CannotSendRequest, ResponseNotReady } from './errors.ts';

/** Python's `_CS_IDLE`, `_CS_REQ_STARTED`, `_CS_REQ_SENT`. */
export type ConnectionStateName = 'Idle' | 'Request-started' | 'Request-sent';

/** What the machine needs to know of a response it tracks. */
export interface TrackedResponse {
  isclosed(): boolean;
}

export class ConnectionState {
  state: ConnectionStateName = 'Idle';
  /** The kept-alive response still being read, if any. */
  response: TrackedResponse | null = null;

  /** `putrequest()`: Idle → Request-started, else `CannotSendRequest`. */
  startRequest(): void {
    this.forgetClosedResponse();
    if (this.state !== 'Idle') throw new CannotSendRequest(this.state);
    this.state = 'Request-started';
  }

  /** `putheader()`: only while a request is being built, else `CannotSendHeader`. */
  checkPutHeader(): void {
    if (this.state !== 'Request-started') throw new CannotSendHeader();
  }

  /** `endheaders()`: Request-started → Request-sent, else `CannotSendHeader`. */
  endHeaders(): void {
    if (this.state !== 'Request-started') throw new CannotSendHeader();
    this.state = 'Request-sent';
  }

  /**
   * `getresponse()` precondition: a request was sent and no earlier response is still
   * unread, else `ResponseNotReady` (with the state as its message, as in Python 3).
   */
  checkGetResponse(): void {
    this.forgetClosedResponse();
    if (this.state !== 'Request-sent' || this.response !== null) {
      throw new ResponseNotReady(this.state);
    }
  }

  /**
   * The response head was read: back to Idle. A response that keeps the connection is
   * tracked until it is closed; one that will close it is not.
   */
  responseStarted(response: TrackedResponse, willClose: boolean): void {
    this.state = 'Idle';
    this.response = willClose ? null : response;
  }

  /** `close()`: back to Idle; returns the tracked response, which the caller closes. */
  reset(): TrackedResponse | null {
    this.state = 'Idle';
    const response = this.response;
    this.response = null;
    return response;
  }

  private forgetClosedResponse(): void {
    if (this.response?.isclosed()) this.response = null;
  }
}
