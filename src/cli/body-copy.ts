/**
 * Copying a response body to where the command writes it (output.ts), counting it for
 * the progress bar and for the message of a body cut short.
 *
 * Two ways to read, chosen as the body arrives. While it trickles, `read1()`: each
 * piece is written and counted as soon as it arrived (the progress bar, a pipe or a
 * terminal see it at once). While it streams faster than one read takes it (a `read1()`
 * finds FAST_PIECE bytes or more waiting), and when the sink lends a buffer (a regular
 * `-o` file): `readinto1()` until the whole buffer is full, which the socket fills
 * directly, no copy and no fresh memory per piece, then written at once while the kernel
 * goes on receiving into the socket's own buffer (file-writer.ts).
 * A fill slower than SLOW_FILL_MS is written as it is and goes back to `read1()`, so a
 * slowing transfer keeps its bar moving.
 */
import * as httplib from './api.ts';
import { CliError, EXIT, oneLine, type Peer, peerName } from './exit-codes.ts';
import type { Sink } from './output.ts';
import type { ProgressBar } from './progress.ts';

/** A `read1()` result this large means bytes wait to be read: switch to whole buffers. */
export const FAST_PIECE = 64 * 1024;
/** A buffer that took longer than this to fill: back to `read1()`. */
export const SLOW_FILL_MS = 100;
/** The same in nanoseconds: process.hrtime (the global `performance` loads perf_hooks, ~2 ms of start-up). */
const SLOW_FILL_NS = BigInt(SLOW_FILL_MS) * 1_000_000n;
/** Most bytes one `read1()` returns: a piece at most as large as the lent buffer. */
const PIECE_MAX = 1024 * 1024;

/**
 * Copy the rest of `res` into `sink`; resolves once every piece was handed to it (the
 * caller commits). A body that ends early: what did arrive is written too (as curl
 * does: stdout shows it, an `-o` file is deleted all the same), then `CliError` 18.
 */
export async function copyBody(
  res: httplib.HTTPResponse,
  sink: Sink,
  progress: ProgressBar | null,
  peer: Peer,
): Promise<void> {
  const total = res.length;
  let received = 0;
  try {
    const lender = sink.lender;
    let whole = false;
    for (;;) {
      if (whole && lender !== null) {
        const buffer = await lender.lend();
        const started = process.hrtime.bigint();
        // Filled with what comes (readinto1: one wait each), and handed over once full,
        // at the end, or once filling it took longer than SLOW_FILL_MS: a transfer that
        // slows down mid-buffer is written and counted as it comes, not when a whole
        // buffer has trickled in (readinto waited for all of it: minutes at a trickle).
        let n = 0;
        let slow = false;
        try {
          while (n < buffer.length) {
            const got = await res.readinto1(buffer.subarray(n));
            if (got === 0) break;
            n += got;
            slow = process.hrtime.bigint() - started > SLOW_FILL_NS;
            if (slow) break;
          }
        } catch (err) {
          // What arrived before the failure is written first, as read1()'s pieces are.
          if (n > 0) {
            lender.writeLent(buffer, n);
            received += n;
            progress?.update(n);
          } else lender.giveBack(buffer);
          throw err;
        }
        if (n === 0) {
          lender.giveBack(buffer);
          break;
        }
        lender.writeLent(buffer, n);
        received += n;
        progress?.update(n);
        whole = !slow;
      } else {
        const piece = await res.read1(PIECE_MAX);
        if (piece.length === 0) break;
        received += piece.length;
        await sink.write(piece);
        progress?.update(piece.length);
        whole = piece.length >= FAST_PIECE;
      }
    }
  } catch (err) {
    if (!(err instanceof httplib.IncompleteRead)) throw err;
    if (err.partial.length > 0) await sink.write(err.partial);
    received += err.partial.length;
    if (err.cause instanceof httplib.FramingError) {
      // Not a connection that closed: the chunked framing broke (curl: 56, "Illegal or
      // missing hexadecimal sequence in chunked-encoding").
      throw new CliError(
        EXIT.RECEIVE,
        `the chunked body from ${peerName(peer)} broke its framing after ${received} bytes: ${oneLine(err.cause.message)}`,
        { cause: err },
      );
    }
    const of = total === null ? 'before the end of the body' : `of ${total}`;
    throw new CliError(
      EXIT.PARTIAL,
      `the connection to ${peerName(peer)} closed after ${received} bytes ${of}`,
      { cause: err },
    );
  }
}
