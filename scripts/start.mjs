#!/usr/bin/env node
// `npm start`: `httplib demo`, the seed's four example sessions against an embedded
// server on 127.0.0.1. Builds dist/ first when dist/cli/main.cjs is missing or older than
// the sources (scripts/build-if-stale.mjs), so it works on a fresh clone and after an edit.
// Usage: node scripts/start.mjs [arguments for `httplib demo`, e.g. -v]
import { spawnSync } from 'node:child_process';
import { buildIfStale, cliMain } from './build-if-stale.mjs';

if (!(await buildIfStale((line) => console.error(`npm start: ${line}`)))) {
  console.error('npm start: the build failed');
  process.exit(1);
}
const run = spawnSync(process.execPath, [cliMain, 'demo', ...process.argv.slice(2)], {
  stdio: 'inherit',
});
if (run.error) {
  console.error(`npm start: ${run.error.message}`);
  process.exit(1);
}
process.exit(run.status ?? 1);
