/**
 * The blocking API has two transports for plain HTTP: the direct one (the calling thread
 * runs the protocol core over a ring the worker fills; the default where sockets have a
 * descriptor) and the worker's async client (HTTPS, Deno, Windows, and
 * `HTTPLIB_SYNC_DIRECT=0`). The other files of test/sync run with the default; this one
 * runs the plain-HTTP ones again, in a child process, with the worker's client, so that
 * both keep every promise.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { runNode } from '../cli/cli-harness.ts';

const FILES = [
  'test/sync/basics.test.ts',
  'test/sync/bodies.test.ts',
  'test/sync/debug.test.ts',
  'test/sync/hostile.test.ts',
  'test/sync/failures.test.ts',
];

describe('the worker transport (HTTPLIB_SYNC_DIRECT=0)', () => {
  it('passes the plain-HTTP tests of the blocking API too', async () => {
    const env: NodeJS.ProcessEnv = { ...process.env, HTTPLIB_SYNC_DIRECT: '0' };
    // A child of a test run would report to this run instead of printing its results.
    delete env.NODE_TEST_CONTEXT;
    const result = await runNode(
      ['--import', 'tsx', '--test', '--test-concurrency=1', '--test-reporter=dot', ...FILES],
      {
        env,
        timeoutMs: 240_000,
      },
    );
    assert.equal(result.code, 0, `${result.out}\n${result.stderr}`);
    assert.match(result.out, /\./, 'the tests ran');
  });
});
