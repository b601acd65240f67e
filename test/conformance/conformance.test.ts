/**
 * The differential conformance suite as part of `npm test`: every scenario of
 * `scenarios/*.json` is played against CPython 2.7.18's httplib and against this package
 * (run.ts), and the test fails on any scenario that neither agrees nor is a listed
 * deliberate difference (differences.json).
 *
 * Without Python 2.7.18 the suite says so loudly and is skipped; `.ci/run` checks that
 * Python 2.7 is there first, so CI never skips it. Python 3's comparison (information
 * only) is left to `npm run conformance`.
 */
import assert from 'node:assert/strict';
import { it } from 'node:test';
import { loadDifferences, toMarkdown } from './differences.ts';
import { PYTHON27, pythonVersion, report, runConformance, summaryLine } from './run.ts';
import { loadScenarios } from './scenario.ts';

const version = await pythonVersion(PYTHON27, 'httplib');
const missing =
  version === null || !version.startsWith('2.7.')
    ? 'CPython 2.7.18 is missing (`PYENV_VERSION=2.7.18 python -c "import httplib"` failed): ' +
      'the conformance suite is SKIPPED'
    : null;
if (missing !== null) process.stderr.write(`\n!!!!!!!! ${missing} !!!!!!!!\n\n`);

it('the scenarios and the table of differences load and hang together', () => {
  const scenarios = loadScenarios();
  assert.ok(scenarios.length >= 200, `only ${scenarios.length} scenarios`);
  const names = new Set(scenarios.map((s) => s.name));
  const listed = new Set<string>();
  for (const d of loadDifferences()) {
    for (const name of d.scenarios) {
      assert.ok(names.has(name), `differences.json (${d.id}) names unknown scenario ${name}`);
      listed.add(name);
    }
  }
  for (const s of scenarios) {
    assert.equal(s.expect !== undefined, listed.has(s.name), `${s.name}: expect block ⇔ listed`);
  }
  assert.match(toMarkdown(loadDifferences()), /^\| Topic \| CPython 2\.7 \|/);
});

it('every scenario agrees with CPython 2.7 or is a listed deliberate difference', {
  skip: missing ?? false,
  timeout: 120_000,
}, async () => {
  const summary = await runConformance({ py3: false });
  const line = summaryLine(summary);
  process.stdout.write(`${line}\n`);
  assert.ok(summary.total >= 200, `only ${summary.total} scenarios`);
  assert.equal(summary.failing, 0, `${report(summary)}\n${line}`);
});
