/**
 * The README is the front door: what it promises must stay true.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { loadDifferences, toMarkdown } from '../conformance/differences.ts';

const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');

describe('README', () => {
  it('holds the table of deliberate differences generated from the conformance suite', () => {
    // Regenerate with: node --import tsx test/conformance/differences.ts --write README.md
    assert.ok(readme.includes(toMarkdown(loadDifferences())), 'README table is stale');
  });

  it('gives the quick-start and test commands', () => {
    for (const command of ['npm install', 'npm test']) assert.ok(readme.includes(command), command);
  });
});
