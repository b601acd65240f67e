/**
 * Comparison of one scenario's observations: CPython's (from driver.py) against ours
 * (from driver.ts), per step, per connection's received bytes, and the debug output.
 *
 * The mapping rules of shared/API.md are applied here and nowhere else:
 * - Python `ValueError` ↔ `TypeError` (the messages are each language's own: not compared),
 *   Python `TypeError` ↔ `TypeError`; Python `AttributeError` (a method of `None`, as
 *   `fileno()` of a response whose body ended) ↔ `TypeError`, JavaScript's error for the same;
 * - `socket.error`/`OSError` with an errno ↔ a Node system error with that `code`
 *   (`socket.gaierror` for a name that does not resolve ↔ `ENOTFOUND`)
 *   (both become `SystemError` + `errno`); without an errno (httplib's own
 *   `socket.error("Tunnel connection failed: …")`) ↔ the package's `TunnelError` with the
 *   same message (both become `Error` + `message`);
 *   `RuntimeError` ↔ `Error` with the same message;
 * - `socket.timeout` ↔ the package's `TimeoutError`;
 * - Python `str` ↔ `Buffer` for bodies (both drivers report `{"$b": latin1}`), `None` ↔ `null`.
 * Everything else must be equal, class names included: an exception of ours that is a
 * subclass of Python's (RemoteDisconnected for BadStatusLine) is a difference.
 */
import { isDeepStrictEqual } from 'node:util';
import type { Result, ScenarioResult } from './driver.ts';
import type { Expectation } from './scenario.ts';

/** What one driver observed in one scenario, after port normalisation. */
export interface Observation {
  steps: Result[];
  /** Latin1 text of the bytes the server received on each connection. */
  received: string[];
  debug: string;
}

export interface Mismatch {
  /** `step 3 (read)`, `received`, `debug`. */
  what: string;
  cpython: unknown;
  ours: unknown;
  /** The scenario's `expect` block covers this item: `ours` is what it asserts. */
  expected?: unknown;
}

export type Verdict =
  | { outcome: 'agree' }
  | { outcome: 'deliberate'; differences: Mismatch[] }
  | { outcome: 'failing'; mismatches: Mismatch[]; reason: string };

const PY_ERRNO_CLASSES = new Set([
  'error',
  'OSError',
  'IOError',
  'EnvironmentError',
  'ConnectionResetError',
  'ConnectionRefusedError',
  'ConnectionAbortedError',
  'BrokenPipeError',
  'gaierror',
]);

/** A Python result in the package's terms (see the file comment). */
export function canonPython(r: Result): Result {
  if ('ok' in r) return r;
  const { raises, ...rest } = r;
  switch (raises) {
    case 'ValueError':
    case 'TypeError':
    case 'AttributeError':
      return { raises: 'TypeError' };
    case 'RuntimeError':
      return { raises: 'Error', message: rest.message };
    case 'timeout':
    case 'TimeoutError':
      return { raises: 'TimeoutError' };
    default:
      break;
  }
  if (PY_ERRNO_CLASSES.has(raises)) {
    if (typeof rest.errno === 'string') return { raises: 'SystemError', errno: rest.errno };
    return { raises: 'Error', message: rest.message };
  }
  return r;
}

/** One of our results in the same terms. */
export function canonOurs(r: Result): Result {
  if ('ok' in r) return r;
  const { raises, ...rest } = r;
  if (raises === 'TypeError') return { raises: 'TypeError' };
  if (raises === 'TunnelError') return { raises: 'Error', message: rest.message };
  if (raises === 'Error' && typeof rest.errno === 'string') {
    return { raises: 'SystemError', errno: rest.errno };
  }
  return r;
}

export function observe(result: ScenarioResult, received: string[]): Observation {
  return { steps: result.steps, received, debug: result.debug };
}

/** Every item on which two observations differ (Python's canonicalised first). */
export function differences(
  python: Observation,
  ours: Observation,
  opNames: readonly string[],
): Mismatch[] {
  const out: Mismatch[] = [];
  const n = Math.max(python.steps.length, ours.steps.length);
  for (let i = 0; i < n; i++) {
    const p = python.steps[i] === undefined ? undefined : canonPython(python.steps[i] as Result);
    const o = ours.steps[i] === undefined ? undefined : canonOurs(ours.steps[i] as Result);
    if (!isDeepStrictEqual(p, o)) {
      out.push({ what: `step ${i} (${opNames[i] ?? '?'})`, cpython: p, ours: o });
    }
  }
  if (!isDeepStrictEqual(python.received, ours.received)) {
    out.push({ what: 'received', cpython: python.received, ours: ours.received });
  }
  if (python.debug !== ours.debug) {
    out.push({ what: 'debug', cpython: python.debug, ours: ours.debug });
  }
  return out;
}

/** The verdict on a scenario against CPython 2.7, honouring its `expect` block. */
export function judge(
  python: Observation,
  ours: Observation,
  opNames: readonly string[],
  expect: Expectation | undefined,
  listed: boolean,
): Verdict {
  const diffs = differences(python, ours, opNames);
  if (expect === undefined) {
    if (listed) {
      return {
        outcome: 'failing',
        mismatches: diffs,
        reason: 'listed in differences.json but has no expect block',
      };
    }
    return diffs.length === 0
      ? { outcome: 'agree' }
      : { outcome: 'failing', mismatches: diffs, reason: 'differs from CPython 2.7' };
  }
  if (!listed) {
    return {
      outcome: 'failing',
      mismatches: diffs,
      reason: 'has an expect block but is not listed in differences.json',
    };
  }
  const covered = new Set<string>();
  const wrong: Mismatch[] = [];
  let differsFromPython = false;
  for (const [key, value] of Object.entries(expect.steps ?? {})) {
    const i = Number(key);
    const what = `step ${i} (${opNames[i] ?? '?'})`;
    covered.add(what);
    const o = ours.steps[i] === undefined ? undefined : canonOurs(ours.steps[i] as Result);
    const p = python.steps[i] === undefined ? undefined : canonPython(python.steps[i] as Result);
    if (!isDeepStrictEqual(o, value)) wrong.push({ what, cpython: p, ours: o, expected: value });
    if (!isDeepStrictEqual(p, value)) differsFromPython = true;
  }
  if (expect.received !== undefined) {
    covered.add('received');
    if (!isDeepStrictEqual(ours.received, expect.received)) {
      wrong.push({
        what: 'received',
        cpython: python.received,
        ours: ours.received,
        expected: expect.received,
      });
    }
    if (!isDeepStrictEqual(python.received, expect.received)) differsFromPython = true;
  }
  if (expect.debug !== undefined) {
    covered.add('debug');
    if (ours.debug !== expect.debug) {
      wrong.push({
        what: 'debug',
        cpython: python.debug,
        ours: ours.debug,
        expected: expect.debug,
      });
    }
    if (python.debug !== expect.debug) differsFromPython = true;
  }
  const uncovered = diffs.filter((d) => !covered.has(d.what));
  if (wrong.length > 0 || uncovered.length > 0) {
    return {
      outcome: 'failing',
      mismatches: [...wrong, ...uncovered],
      reason:
        wrong.length > 0
          ? 'our behaviour is not what its expect block asserts'
          : 'differs from CPython 2.7 outside its expect block',
    };
  }
  if (!differsFromPython) {
    return {
      outcome: 'failing',
      mismatches: [],
      reason:
        'stale: CPython 2.7 now does what the expect block asserts (remove it from differences.json)',
    };
  }
  return { outcome: 'deliberate', differences: diffs };
}
