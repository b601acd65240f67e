/**
 * Property (issue 6, item 2a): any valid response, split at any points, parses to the
 * same outcome as when it arrives whole, and that outcome is the one shared/API.md
 * predicts (response-model.ts). Checked on the pure core (whole, byte by byte, and
 * random splits) and through the real client over an in-memory socket that delivers
 * each piece as its own 'data' event, with a random way of reading the body.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { check, checkAsync } from './config.ts';
import {
  byteByByte,
  type ClientOutcome,
  driveClient,
  drivePure,
  type PureOutcome,
  type ReadStrategy,
  splitAt,
} from './drive.ts';
import {
  type Expected,
  expected,
  expectedHeaders,
  readOptions,
  serialize,
} from './response-expect.ts';
import { specArb } from './response-model.ts';

const FILE = 'test/property/response-split.test.ts';

const cutsArb = fc.array(fc.nat(), { maxLength: 8 });

/** The model's fields of a pure outcome (which must then have no error and be complete). */
function asExpected(o: PureOutcome): Expected | PureOutcome {
  if (o.errorClass !== undefined || o.incomplete !== undefined || o.status === undefined) return o;
  return {
    version: o.version as number,
    status: o.status,
    reason: o.reason as string,
    lines: o.lines as string[],
    chunked: o.chunked as boolean,
    length: o.length as number | null,
    will_close: o.will_close as boolean,
    framing: o.framing as string,
    body: o.body as string,
    rest: o.rest ?? '',
  };
}

const readStrategyArb: fc.Arbitrary<ReadStrategy> = fc.oneof(
  fc.constant({ kind: 'read' as const }),
  fc.integer({ min: 1, max: 40 }).map((amt) => ({ kind: 'read-amt' as const, amt })),
  fc.constantFrom(-1, 1, 7, 64).map((n) => ({ kind: 'read1' as const, n })),
  fc.integer({ min: 1, max: 40 }).map((size) => ({ kind: 'readinto' as const, size })),
  fc.constant({ kind: 'readline' as const }),
  fc.constant({ kind: 'iterate' as const }),
  fc.integer({ min: 1, max: 40 }).map((amt) => ({ kind: 'peek-read' as const, amt })),
);

describe('property: a valid response split anywhere parses identically', () => {
  it('pure core: whole input gives the modelled outcome; every split gives the same', () => {
    check(
      FILE,
      fc.property(specArb, cutsArb, fc.nat(), (spec, cuts, one) => {
        const { bytes, eof } = serialize(spec);
        const options = readOptions(spec);
        const whole = drivePure([bytes], options, eof);
        assert.deepEqual(whole.violations, []);
        const want = expected(spec);
        if ('error' in want) {
          assert.equal(whole.outcome.errorClass, want.error);
        } else {
          assert.deepEqual(asExpected(whole.outcome), want);
        }
        const feedings = [splitAt(bytes, cuts), splitAt(bytes, [one]), byteByByte(bytes)];
        for (const chunks of feedings) {
          const run = drivePure(chunks, options, eof);
          assert.deepEqual(run.violations, []);
          assert.deepEqual(run.outcome, whole.outcome);
        }
      }),
      8000,
    );
  });

  it('real client (in-memory socket): split and whole agree, with any read method', async () => {
    await checkAsync(
      FILE,
      fc.asyncProperty(
        specArb.filter((s) => s.method !== 'CONNECT'),
        cutsArb,
        readStrategyArb,
        async (spec, cuts, how) => {
          const { bytes, eof } = serialize(spec);
          const options = readOptions(spec);
          const whole = await driveClient([bytes], options, eof);
          const want = expected(spec);
          if ('error' in want) {
            assert.equal(whole.outcome.errorClass, want.error);
          } else {
            const got: ClientOutcome = whole.outcome;
            assert.equal(got.errorClass, undefined, got.error);
            assert.deepEqual(
              [got.status, got.reason, got.version, got.chunked, got.will_close, got.body],
              [want.status, want.reason, want.version, want.chunked, want.will_close, want.body],
            );
            const headers = expectedHeaders(spec);
            assert.deepEqual(got.headers, headers);
            // Lookups are case-insensitive (ASCII), keep every value in order, and join
            // them with ', ' (Python 2.7's getheader).
            for (const [name, joined, all, has] of got.lookups ?? []) {
              const key = name.toLowerCase();
              const values = headers.filter(([n]) => n.toLowerCase() === key).map(([, v]) => v);
              assert.deepEqual([joined, all, has], [values.join(', '), values, true], name);
            }
          }
          const split = await driveClient(splitAt(bytes, cuts), options, eof, how);
          assert.deepEqual(split.outcome, whole.outcome);
        },
      ),
      4000,
    );
  });
});

describe('cases found by these properties', () => {
  // 029c989: readline() and peek() waited for bytes after a body that was already
  // complete (204, 304, HEAD, Content-Length: 0) on a kept-alive connection.
  for (const how of [{ kind: 'readline' as const }, { kind: 'peek-read' as const, amt: 3 }]) {
    for (const input of [
      'HTTP/1.1 204 No Content\r\n\r\n',
      'HTTP/1.1 200 \r\nContent-Length: 0\r\n\r\n',
      'HTTP/1.1 304 Not Modified\r\nContent-Length: 10\r\n\r\n',
    ]) {
      it(`${how.kind} of ${JSON.stringify(input)} returns at once, the server still open`, async () => {
        const run = await driveClient(
          [Buffer.from(input)],
          { method: 'GET', timeout: 1 },
          false,
          how,
        );
        assert.equal(run.outcome.errorClass, undefined, run.outcome.error);
        assert.equal(run.outcome.body, '');
        assert.ok(run.ms < 500, `took ${run.ms} ms`);
      });
    }
  }
});
