/**
 * The calls that send (`request()`, `endheaders()`, `send()`) made while a
 * `getresponse()` of the connection still reads the response head — a forgotten `await`.
 * Python's `getresponse()` blocks until the head is in, so in the code this was ported
 * from it returned first: each such call waits here until that head read settles (with
 * a response or an error), then is made afresh, in call order, and sees the state the
 * head left (the next request goes behind a kept response; on a new connection after
 * `will_close` or a failed head). `close()` settles the waiting calls with its error.
 */
import { type PreparedBody, releaseWhenReady } from '../io/body-source.ts';
import { abortedBy, listenAbort } from '../io/deadline.ts';
import { ImproperConnectionState } from '../protocol/errors.ts';

/** A call waiting for the head. */
interface Waiting {
  /** Its turn: it is made now. */
  go(): void;
  /** `close()` or its own signal came first. */
  fail(err: unknown): void;
}

export class CallsBehindHead {
  /** What the last `getresponse()` returned (the head the machine's `reading-head` reads). */
  heading: Promise<unknown> | null = null;
  private calls: Waiting[] = [];
  /** The head read that settled last: waiting for it again would never end. */
  private over: Promise<unknown> | null = null;

  /**
   * `start` once the head read settles: before code that awaits that head and was
   * written after this call resumes (its reaction is registered first), so nothing
   * called later overtakes it. The call's own `signal` settles it with its `AbortError`;
   * `dropped` then (and on `fail`) lets go of what the call holds.
   */
  wait(
    start: () => Promise<void>,
    signal: AbortSignal | undefined,
    dropped: () => void,
  ): Promise<void> {
    const heading = this.heading;
    // Never the case (the machine reads a head only for a getresponse() that set it).
    if (heading === null) return start();
    if (heading === this.over) {
      // The machine still says a head is being read, but that read is over: waiting again
      // would start the call again at once, for ever. A defect of the state, not the
      // caller's: the call fails (and lets go of what it holds) instead of spinning.
      dropped();
      return Promise.reject(
        new ImproperConnectionState(
          'the connection still reads a response head that is over (a defect of httplib-ts: please report it)',
        ),
      );
    }
    if (signal?.aborted) {
      dropped();
      return Promise.reject(abortedBy(signal));
    }
    return new Promise<void>((resolve, reject) => {
      const onAbort = (): void => {
        const i = this.calls.indexOf(call);
        if (i !== -1) this.calls.splice(i, 1);
        call.fail(abortedBy(signal as AbortSignal));
      };
      const call: Waiting = {
        go: () => {
          signal?.removeEventListener('abort', onAbort);
          start().then(resolve, reject);
        },
        fail: (err) => {
          signal?.removeEventListener('abort', onAbort);
          dropped();
          reject(err);
        },
      };
      if (signal !== undefined) listenAbort(signal, onAbort, { once: true });
      if (this.calls.length === 0) {
        const settled = (): void => {
          this.over = heading;
          this.settled();
        };
        heading.then(settled, settled);
      }
      this.calls.push(call);
    });
  }

  /** `close()`: the head is forgotten; the waiting calls settle with `err`. */
  fail(err: () => unknown): void {
    this.heading = null;
    const calls = this.calls;
    this.calls = [];
    for (const call of calls) call.fail(err());
  }

  /** The head read settled: the calls made meanwhile are made now, in call order. */
  private readonly settled = (): void => {
    const calls = this.calls;
    this.calls = [];
    for (const call of calls) call.go();
  };
}

/** Let go of a body a call will not send (our listener comes off the caller's stream). */
export function releaseBody(prepared: PreparedBody | Promise<PreparedBody> | null): void {
  if (prepared instanceof Promise) releaseWhenReady(prepared, (body) => body);
  else prepared?.release();
}
