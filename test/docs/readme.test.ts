/**
 * The README is the front door: what it promises must stay true.
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { loadDifferences, toMarkdown } from '../conformance/differences.ts';

const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');

describe('README', () => {
  it('holds the table of deliberate differences generated from the conformance suite', () => {
    // Regenerate with: node --import tsx test/conformance/differences.ts --write README.md
    assert.ok(readme.includes(toMarkdown(loadDifferences())), 'README table is stale');
  });

  it('names in its Security section only tests and scripts that exist', () => {
    const start = readme.indexOf('\n## Security\n');
    assert.notEqual(start, -1, 'no Security section');
    const section = readme.slice(start, readme.indexOf('\n## ', start + 1));
    const paths = [...section.matchAll(/`(test\/[^`]*)`/g)].map((m) => m[1] as string);
    assert.ok(paths.length >= 10, `only ${paths.length} test paths named`);
    for (const path of paths) {
      assert.ok(existsSync(new URL(`../../${path}`, import.meta.url)), `${path} does not exist`);
    }
    const scripts = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8'))
      .scripts as Record<string, string>;
    for (const [, name] of section.matchAll(/`npm run (\w+)`/g)) {
      assert.ok(name !== undefined && name in scripts, `npm run ${name}: no such script`);
    }
  });

  it('gives the quick-start and test commands', () => {
    for (const command of ['npm install', 'npm test']) assert.ok(readme.includes(command), command);
  });
});
