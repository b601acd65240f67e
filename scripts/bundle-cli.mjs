#!/usr/bin/env node
// The `httplib` command as one file: after tsc has built dist/, dist/cli/main.js (and the
// ~50 modules it imports) is replaced by a single ES module made by esbuild (a dev tool,
// pinned; nothing is added at run time). Node 20 loads ES modules one by one, each
// resolved, read and compiled in its own step: the CLI spent ~75 ms of its start-up
// there, one file saves ~40 of them (`httplib --help` 100 -> 60 ms), and the start-up is
// most of a small download's time (issue 14: `-o` of 64 MiB against curl). The library
// entries (dist/index.js, dist/sync.js) stay tsc's output, module per module.
// Its source map goes through the modules' own maps back to src/.
// Usage: node scripts/bundle-cli.mjs   (after tsc -p tsconfig.build.json)
import { existsSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const main = join(root, 'dist', 'cli', 'main.js');

/** Bundle dist/cli/main.js in place. Returns why it could not, or null when it did. */
export async function bundleCli() {
  if (!existsSync(main)) return 'dist/cli/main.js is missing (run tsc first)';
  let esbuild;
  try {
    esbuild = await import('esbuild');
  } catch {
    return 'esbuild is not installed (npm install): the CLI stays one module per file';
  }
  const result = await esbuild.build({
    entryPoints: [main],
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    // node: built-ins stay imports; nothing else is outside the package.
    packages: 'external',
    sourcemap: 'linked',
    sourcesContent: false,
    legalComments: 'none',
    outfile: main,
    write: false,
    logLevel: 'silent',
  });
  for (const file of result.outputFiles) {
    // Written beside, then renamed over: a CLI started meanwhile never reads half a file.
    writeFileSync(`${file.path}.tmp`, file.contents);
    renameSync(`${file.path}.tmp`, file.path);
  }
  return null;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const why = await bundleCli();
  if (why !== null) {
    console.error(`bundle-cli: ${why}`);
    process.exit(1);
  }
}
