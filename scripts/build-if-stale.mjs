#!/usr/bin/env node
// Build dist/ (tsc -p tsconfig.build.json, then the CLI bundled into one module:
// scripts/bundle-cli.mjs) when dist/cli/main.cjs is missing or older than
// a file under src/ or a tsconfig. Used by `npm start` (scripts/start.mjs) and by the CLI
// tests, which may run at the same time: a lock directory (.tmp/build.lock) makes them
// build one after the other, and the second then finds dist fresh.
// Usage: node scripts/build-if-stale.mjs   (exit 0 when dist is fresh or was built)
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, rmSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { bundleCli } from './bundle-cli.mjs';

export const root = fileURLToPath(new URL('..', import.meta.url));
export const cliMain = join(root, 'dist', 'cli', 'main.cjs');
const lock = join(root, '.tmp', 'build.lock');
/** A lock older than this was left by a killed build. */
const STALE_LOCK_MS = 5 * 60_000;

/** Newest modification time under `path` (a file or a directory), in ms. */
export function newest(path) {
  const st = statSync(path);
  if (!st.isDirectory()) return st.mtimeMs;
  let max = 0;
  for (const name of readdirSync(path)) max = Math.max(max, newest(join(path, name)));
  return max;
}

/** Why dist must be rebuilt, or null when it is fresh. */
export function staleReason() {
  if (!existsSync(cliMain)) return 'dist/cli/main.cjs is missing';
  const built = statSync(cliMain).mtimeMs;
  for (const source of ['src', 'tsconfig.json', 'tsconfig.build.json']) {
    if (newest(join(root, source)) > built) return `${source} changed since the last build`;
  }
  return null;
}

function sleep(ms) {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

function acquire() {
  mkdirSync(join(root, '.tmp'), { recursive: true });
  for (;;) {
    try {
      mkdirSync(lock);
      return;
    } catch (err) {
      if (err.code !== 'EEXIST') throw err;
      try {
        if (Date.now() - statSync(lock).mtimeMs > STALE_LOCK_MS) rmSync(lock, { recursive: true });
      } catch {
        // Released meanwhile.
      }
      sleep(100);
    }
  }
}

/**
 * Build when stale. `log` receives one line saying why a build runs. Returns true when
 * dist is fresh afterwards; the compiler's own output goes to stderr.
 */
export async function buildIfStale(log = (line) => console.error(line)) {
  if (staleReason() === null) return true;
  acquire();
  try {
    const why = staleReason();
    if (why === null) return true;
    let tsc;
    try {
      tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
    } catch {
      log(`${why}, and TypeScript is not installed to build it: run npm install`);
      return false;
    }
    log(`${why}: building (tsc -p tsconfig.build.json)…`);
    const build = spawnSync(process.execPath, [tsc, '-p', 'tsconfig.build.json'], {
      cwd: root,
      stdio: ['ignore', 2, 2],
    });
    if (build.status !== 0) return false;
    const unbundled = await bundleCli();
    if (unbundled !== null) log(unbundled);
    return true;
  } finally {
    rmSync(lock, { recursive: true, force: true });
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  process.exit((await buildIfStale((line) => console.error(`build-if-stale: ${line}`))) ? 0 : 1);
}
