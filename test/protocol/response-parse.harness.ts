/**
 * Test harness: runs the response parser and the body decoder over a response given as
 * a list of byte chunks, the way the I/O layer will, and summarises what a user could
 * observe. Used by the table-driven tests to feed every fixture whole, split at every
 * offset, and one byte at a time.
 *
 * The feeding itself is the property tests' pure driver (test/property/drive.ts), so the
 * tables and the properties run one loop; a broken resource invariant that it reports
 * fails the case here too.
 */
import type { ResponseParserOptions } from '../../src/protocol/response-parser.ts';
import { byteByByte, drivePure, type PureOutcome, splitAt } from '../property/drive.ts';

export type Outcome = Omit<PureOutcome, 'errorClass' | 'error'> & {
  /** An exception: `ClassName: message`. */
  error?: string;
  debug?: string;
};

/** Feed `chunks`; `eof` says whether the server closes after the last one. */
export function runChunks(
  chunks: Buffer[],
  options: ResponseParserOptions = {},
  eof = true,
  debug = false,
): Outcome {
  let debugText = '';
  const run = drivePure(
    chunks,
    debug
      ? {
          ...options,
          debug: (t: string) => {
            debugText += t;
          },
        }
      : options,
    eof,
  );
  if (run.violations.length > 0) throw new Error(`driver: ${run.violations.join('; ')}`);
  const { errorClass, error, ...seen } = run.outcome;
  const out: Outcome = seen;
  if (errorClass !== undefined) out.error = `${errorClass}: ${error}`;
  if (debug) out.debug = debugText;
  return out;
}

/** Every way of feeding `input` that the tests compare: whole, every split, byte by byte. */
export function feedings(input: Buffer): Array<[string, Buffer[]]> {
  const ways: Array<[string, Buffer[]]> = [['whole', [input]]];
  for (let i = 1; i < input.length; i++) ways.push([`split at ${i}`, splitAt(input, [i])]);
  ways.push(['byte by byte', byteByByte(input)]);
  return ways;
}

/** The fields of `actual` that `expected` names (a table case states only what it checks). */
export function pick(actual: Outcome, expected: Outcome): Outcome {
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(expected)) out[key] = (actual as Record<string, unknown>)[key];
  return out as Outcome;
}
