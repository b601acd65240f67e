#!/usr/bin/env node
// Lists the test files and runs them with node:test through tsx.
// Node 20's `--test` takes no globs, so this script walks test/ itself.
// Usage: node scripts/run-tests.mjs [dir-or-file ...] [-- extra node args]
import { spawnSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const dash = process.argv.indexOf('--');
const targets = (dash === -1 ? process.argv.slice(2) : process.argv.slice(2, dash)).filter(Boolean);
const extra = dash === -1 ? [] : process.argv.slice(dash + 1);

function walk(path, out) {
  const st = statSync(path);
  if (st.isFile()) {
    if (/\.test\.ts$/.test(path)) out.push(path);
    return out;
  }
  for (const name of readdirSync(path).sort()) {
    if (name === 'node_modules' || name === 'fixtures') continue;
    walk(join(path, name), out);
  }
  return out;
}

const files = [];
for (const t of targets.length ? targets : ['test']) walk(join(root, t), files);
if (files.length === 0) {
  console.error('run-tests: no test files found');
  process.exit(1);
}
const args = [
  '--import',
  'tsx',
  '--test',
  // TAP on stdout as before; on stderr, once the run ends, the list of what failed
  // (a long TAP stream is often read only by its tail).
  '--test-reporter=tap',
  '--test-reporter-destination=stdout',
  `--test-reporter=${join(root, 'scripts/failure-summary.mjs')}`,
  '--test-reporter-destination=stderr',
  ...extra,
  ...files.map((f) => relative(process.cwd(), f)),
];
const result = spawnSync(process.execPath, args, { stdio: 'inherit' });
process.exit(result.status ?? 1);
