#!/usr/bin/env node
// The `httplib` command as one file: after tsc has built dist/, dist/cli/main.js (and the
// ~50 modules it imports) is bundled by esbuild (a dev tool, pinned; nothing is added at
// run time) into dist/cli/main.cjs, the package's `bin`. Node 20 loads ES modules one by
// one, each resolved, read and compiled in its own step: the CLI spent ~75 ms of its
// start-up there, one file saves ~40 of them (`httplib --help` 100 -> 60 ms), and the
// start-up is most of a small download's time (issue 14: `-o` of 64 MiB against curl).
// CommonJS rather than an ES module: Node wraps each built-in an ES module imports in a
// module of its own and reads every export (node:fs's `ReadStream` getter then loads the
// streams), ~6 ms more per start (`--version`, 21 runs, 84 vs 90 ms). The library
// entries (dist/index.js, dist/sync.js) stay tsc's output, module per module, and so does
// dist/cli/main.js (what main.cjs is made from). Its source map goes through the
// modules' own maps back to src/.
// Usage: node scripts/bundle-cli.mjs   (after tsc -p tsconfig.build.json)
import { existsSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const main = join(root, 'dist', 'cli', 'main.js');
const bundle = join(root, 'dist', 'cli', 'main.cjs');

/** Bundle dist/cli/main.js into main.cjs. Returns why it could not, or null when it did. */
export async function bundleCli() {
  if (!existsSync(main)) return 'dist/cli/main.js is missing (run tsc first)';
  let esbuild;
  try {
    esbuild = await import('esbuild');
  } catch {
    // Still a working command: main.cjs loads tsc's modules one by one.
    writeFileSync(bundle, "#!/usr/bin/env node\n'use strict';\nimport('./main.js');\n");
    return 'esbuild is not installed (npm install): the CLI stays one module per file';
  }
  const result = await esbuild.build({
    entryPoints: [main],
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    // The one ES-module-only expression the command uses (command.ts: its package.json).
    define: { 'import.meta.url': '__cliModuleUrl' },
    // 'use strict' first: esbuild's own comes after the banner, too late to count.
    banner: {
      js: "'use strict';\nconst __cliModuleUrl = require('node:url').pathToFileURL(__filename).href;",
    },
    // node: built-ins stay imports; nothing else is outside the package.
    packages: 'external',
    sourcemap: 'linked',
    sourcesContent: false,
    legalComments: 'none',
    outfile: bundle,
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
