/**
 * `npm run bench -- --quick` runs (issue 7): every scenario's table is printed, every
 * measurement succeeds and the results JSON is written. It checks that the harness works,
 * never how fast anything is: timings are not tested.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { SCENARIOS } from '../../bench/scenarios.ts';
import { ROOT, runNode, tempDir } from '../cli/cli-harness.ts';

describe('npm run bench -- --quick', () => {
  const tmp = tempDir();
  after(() => tmp.remove());

  it('prints a table per scenario and writes the results', { timeout: 180_000 }, async () => {
    const json = tmp.file('quick.json');
    const r = await runNode(
      ['--import', 'tsx', join(ROOT, 'bench', 'run.ts'), '--quick', '--json', json],
      { timeoutMs: 180_000 },
    );
    const stdout = r.out;
    assert.equal(r.code, 0, `bench --quick failed:\n${r.stderr}\n${stdout.slice(-2000)}`);

    assert.match(stdout, /^- machine: .+ × \d+ CPUs/m);
    for (const scenario of SCENARIOS) {
      assert.ok(stdout.includes(`### ${scenario.id}: `), `no table for ${scenario.id}`);
    }
    const tableRows = stdout.split('\n').filter((line) => /^\| (httplib-ts|floor)/.test(line));
    assert.ok(tableRows.length >= SCENARIOS.length * 2, 'table rows are missing');

    const results = JSON.parse(readFileSync(json, 'utf8')) as {
      scenarios: Array<{
        id: string;
        rows: Array<{
          id: string;
          median: { rate: number | null };
          blocking?: { async: number | null; python: number | null };
        }>;
      }>;
    };
    assert.deepEqual(
      results.scenarios.map((s) => s.id),
      SCENARIOS.map((s) => s.id),
    );
    for (const scenario of results.scenarios) {
      // The command line's scenario measures the `httplib` command (rows `httplib-cli:`).
      const httplib = scenario.rows.filter(
        (r) => r.id.startsWith('httplib:') || r.id.startsWith('httplib-cli:'),
      );
      assert.ok(httplib.length > 0, `${scenario.id}: no httplib-ts row`);
      for (const row of httplib) {
        assert.ok((row.median.rate ?? 0) > 0, `${scenario.id} ${row.id}: no measurement`);
      }
    }
    // The blocking API's rows (issue 15), with their ratios to the async API and CPython.
    for (const [id, row] of [
      ['small', 'httplib-sync:all'],
      ['1mib', 'httplib-sync:all'],
      ['64mib', 'httplib-sync:amt'],
    ]) {
      const found = results.scenarios.find((s) => s.id === id)?.rows.find((r) => r.id === row);
      assert.ok((found?.median.rate ?? 0) > 0, `${id} ${row}: no measurement`);
      assert.ok((found?.blocking?.async ?? 0) > 0, `${id} ${row}: no ratio to the async API`);
      assert.ok(
        found?.blocking !== undefined && 'python' in found.blocking,
        `${id} ${row}: no CPython ratio`,
      );
    }
    assert.match(stdout, /^\| blocking API \(httplib-ts\/sync\) \| × httplib-ts/m);
    // The command line against curl (issue 14), when curl is there: a ratio, and its table.
    const cli = results.scenarios.find((s) => s.id === 'cli-64mib');
    const curl = cli?.rows.find((r) => r.id === 'curl:all') as
      | { median: { rate: number | null }; skipped?: string }
      | undefined;
    if (curl?.skipped === undefined) {
      assert.ok((curl?.median.rate ?? 0) > 0, 'cli-64mib curl:all: no measurement');
      const mine = cli?.rows.find((r) => r.id === 'httplib-cli:all') as
        | { ratios: { curl: number | null } }
        | undefined;
      assert.ok((mine?.ratios.curl ?? 0) > 0, 'cli-64mib: no ratio to curl');
    }
    assert.match(stdout, /^\| httplib -o FILE \(dist\/cli\/main\.cjs\) \| [\d,]+ \|/m);
  });
});
