/**
 * Regression test for the response-parser fuzz target (issue 6, item 3): every input the
 * fuzzer kept (test/fixtures/fuzz-corpus/: the cases that broke an oracle, marked
 * `found`, and one small input per outcome shape it reached) is replayed with the same
 * oracles (the core's, the client's and the llhttp differential), and must end in the
 * outcome class recorded for it ('ok', 'incomplete', 'pending' or the exception's class).
 *
 * A deliberate change of behaviour that changes a recorded class: check it, then
 * `npm run fuzz -- --update-corpus` rewrites the expectations.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  checkClient,
  checkLlhttp,
  checkPure,
  corpusBytes,
  loadCorpus,
  outcomeClass,
} from '../fuzz/oracles.ts';

const corpus = loadCorpus();

describe('fuzz corpus: every kept input replays to its recorded outcome', () => {
  it('has a corpus', () => {
    assert.ok(corpus.length > 0, 'test/fixtures/fuzz-corpus/index.json is missing or empty');
  });
  for (const entry of corpus) {
    const what = entry.found === undefined ? entry.signature : `found: ${entry.found}`;
    it(`${entry.file} ${entry.method}${entry.eof ? ' +eof' : ''} -> ${entry.expect} (${what})`, async () => {
      const bytes = corpusBytes(entry);
      const c = { bytes, method: entry.method, strict: entry.strict, eof: entry.eof };
      const n = bytes.length;
      const cuts = [1, n >> 2, n >> 1, n - (n >> 2), n - 1];
      const pure = checkPure(c, cuts);
      assert.deepEqual(pure.findings, []);
      assert.equal(outcomeClass(pure.outcome), entry.expect, pure.outcome.error);
      assert.deepEqual(await checkClient(c, cuts, pure.outcome), []);
      assert.deepEqual(await checkLlhttp(c, cuts, pure.outcome), []);
    });
  }
});
