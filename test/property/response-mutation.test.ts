/**
 * Property (issue 6, item 2b): a damaged response (mutations.ts: flipped bytes, cut
 * lines, huge numbers, inserted CR/LF/NUL, duplicated or removed lines, long runs) ends
 * in a value or an exception of the API's classes, never another exception, never a
 * hang, and with bounded memory.
 *
 * - Pure core: the outcome is a result or one of `PURE_ERRORS` (HTTPException and its
 *   BadStatusLine, RemoteDisconnected, UnknownProtocol, LineTooLong, FramingError);
 *   each case finishes within a time cap (the core is synchronous, so a hang shows as a
 *   blown cap or a stuck run); no run of more than MAXLINE bytes without LF is accepted,
 *   `decode()` always makes progress, the head keeps at most MAXHEADERS lines (drive.ts);
 *   and any split gives the same outcome as the whole input.
 * - Real client (in-memory socket): the promise settles (cap CLIENT_CAP_MS) with a value
 *   or an `HTTPException`/`TypeError`/`TimeoutError`, and agrees with the pure core on
 *   whether the response was good, and on its status and body when it was.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { checkClient } from '../fuzz/oracles.ts';
import { check, checkAsync } from './config.ts';
import { byteByByte, drivePure, isPureError, splitAt } from './drive.ts';
import { type Mutation, mutateAll, mutationsArb } from './mutations.ts';
import { readOptions, serialize } from './response-expect.ts';
import { type Spec, specArb } from './response-model.ts';

const FILE = 'test/property/response-mutation.test.ts';

/** Per pure run: generous for a 2-core CI machine; real runs take well under 50 ms. */
const PURE_CAP_MS = 1500;

interface CaseValue {
  spec: Spec;
  mutations: Mutation[];
  cuts: number[];
  eof: boolean;
}

const caseArb: fc.Arbitrary<CaseValue> = fc.record({
  spec: specArb,
  mutations: mutationsArb,
  cuts: fc.array(fc.nat(), { maxLength: 6 }),
  eof: fc.boolean(),
});

function damaged(c: CaseValue): { bytes: Buffer; method: string; strict: boolean } {
  return { bytes: mutateAll(serialize(c.spec).bytes, c.mutations), ...readOptions(c.spec) };
}

function timed<T>(f: () => T): [T, number] {
  const t = performance.now();
  const r = f();
  return [r, performance.now() - t];
}

describe('property: a damaged response ends in a value or an httplib exception', () => {
  it('pure core: allowed classes only, bounded, split-invariant, within the time cap', () => {
    check(
      FILE,
      fc.property(caseArb, (c) => {
        const { bytes, method, strict } = damaged(c);
        const options = { method, strict };
        const [whole, ms] = timed(() => drivePure([bytes], options, c.eof));
        assert.deepEqual(whole.violations, []);
        if (whole.thrown !== undefined) {
          assert.ok(
            isPureError(whole.thrown),
            `not an httplib exception: ${whole.outcome.errorClass}: ${whole.outcome.error}`,
          );
        }
        assert.ok(ms < PURE_CAP_MS, `took ${ms.toFixed(0)} ms`);
        const feedings = [splitAt(bytes, c.cuts)];
        if (bytes.length <= 4096) feedings.push(byteByByte(bytes));
        for (const chunks of feedings) {
          const [run, t] = timed(() => drivePure(chunks, options, c.eof));
          assert.deepEqual(run.violations, []);
          assert.deepEqual(run.outcome, whole.outcome);
          assert.ok(t < PURE_CAP_MS, `split feeding took ${t.toFixed(0)} ms`);
        }
      }),
      40000,
    );
  });

  it('real client: settles with a value or HTTPException/TypeError/TimeoutError, as the core says', async () => {
    await checkAsync(
      FILE,
      fc.asyncProperty(
        caseArb.filter((c) => c.spec.method !== 'CONNECT'),
        async (c) => {
          // The fuzz target's client oracle: the pieces of `c.cuts` through HTTPConnection
          // (timeout 1 s), the server closing after them, against the core's verdict.
          const { bytes, method, strict } = damaged(c);
          const pure = drivePure([bytes], { method, strict }, true).outcome;
          assert.deepEqual(
            await checkClient({ bytes, method, strict, eof: true }, c.cuts, pure),
            [],
          );
        },
      ),
      6000,
    );
  });
});
