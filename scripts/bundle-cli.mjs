#!/usr/bin/env node
// The `httplib` command as one file: after tsc has built dist/, dist/cli/main.js (and the
// ~50 modules it imports) is bundled by esbuild (a dev tool, pinned; nothing is added at
// run time) into dist/cli/cli.cjs, which dist/cli/main.cjs (the package's `bin`, a copy of
// scripts/cli-loader.cjs) runs with a V8 code cache made here (cli.cjs.cache: a download
// run once through the new command, its compiled functions kept). Node 20 loads ES
// modules one by one, each resolved, read and compiled in its own step: the CLI spent
// ~75 ms of its start-up there, one file saves ~40 of them (`httplib --help` 100 -> 60
// ms), and the start-up is most of a small download's time (issue 14: `-o` of 64 MiB
// against curl). Minified (whitespace, comments, syntax; names kept) it is read and
// parsed ~4 ms sooner, and the code cache saves ~6 ms more (a 1-byte `-o` download, 40
// alternating runs: 90.6 -> 88.4 -> 82.5 ms).
// CommonJS rather than an ES module: Node wraps each built-in an ES module imports in a
// module of its own and reads every export (node:fs's `ReadStream` getter then loads the
// streams), ~6 ms more per start (`--version`, 21 runs, 84 vs 90 ms). The library
// entries (dist/index.js, dist/sync.js) stay tsc's output, module per module, and so does
// dist/cli/main.js (what cli.cjs is made from). Its source map goes through the
// modules' own maps back to src/.
// Usage: node scripts/bundle-cli.mjs   (after tsc -p tsconfig.build.json)
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { copyFileSync, existsSync, mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const main = join(root, 'dist', 'cli', 'main.js');
const bin = join(root, 'dist', 'cli', 'main.cjs');
const bundle = join(root, 'dist', 'cli', 'cli.cjs');
const cache = `${bundle}.cache`;

/**
 * Bundle dist/cli/main.js into cli.cjs, put the loader in main.cjs and make the code
 * cache. Returns why it could not bundle, or null when it did (a cache that could not be
 * made is a warning: the command works without it).
 */
export async function bundleCli() {
  if (!existsSync(main)) return 'dist/cli/main.js is missing (run tsc first)';
  let esbuild;
  try {
    esbuild = await import('esbuild');
  } catch {
    // Still a working command: main.cjs loads tsc's modules one by one.
    rmSync(cache, { force: true });
    writeFileSync(bin, "#!/usr/bin/env node\n'use strict';\nimport('./main.js');\n");
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
    // Whitespace, comments and syntax only, names kept (stack traces stay readable, and
    // the source map maps them back): 342 -> 200 KB to read and parse at every start.
    minifyWhitespace: true,
    minifySyntax: true,
    outfile: bundle,
    write: false,
    logLevel: 'silent',
  });
  // The old cache is of the old bundle: V8 would refuse it, but it must not outlive it.
  rmSync(cache, { force: true });
  for (const file of result.outputFiles) {
    // Written beside, then renamed over: a CLI started meanwhile never reads half a file.
    writeFileSync(`${file.path}.tmp`, file.contents);
    renameSync(`${file.path}.tmp`, file.path);
  }
  copyFileSync(join(root, 'scripts', 'cli-loader.cjs'), `${bin}.tmp`);
  renameSync(`${bin}.tmp`, bin);
  const why = await makeCache();
  if (why !== null) console.error(`bundle-cli: no code cache (the command works without): ${why}`);
  return null;
}

/**
 * Runs the new command once, a 1 MiB download to a file from a server here, with
 * HTTPLIB_TS_CODE_CACHE_OUT set: at its exit the loader writes the code cache of what
 * it compiled. Returns why it could not, or null.
 */
async function makeCache() {
  const body = Buffer.alloc(1024 * 1024, 0x61);
  const server = createServer((_req, res) => {
    res.writeHead(200, { 'Content-Length': body.length });
    res.end(body);
  });
  const dir = mkdtempSync(join(tmpdir(), 'httplib-ts-build-'));
  try {
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const { port } = server.address();
    const env = { ...process.env, HTTPLIB_TS_CODE_CACHE_OUT: join(dir, 'cache') };
    // The run's V8 flags are part of the cache: none but the defaults.
    delete env.NODE_OPTIONS;
    const child = spawn(
      process.execPath,
      [bin, '-o', join(dir, 'body'), `http://127.0.0.1:${port}/`],
      { env, stdio: 'ignore' },
    );
    const [code] = await once(child, 'exit');
    if (code !== 0) return `the warm-up download exited with ${code}`;
    if (!existsSync(join(dir, 'cache'))) return 'the warm-up download wrote no cache';
    copyFileSync(join(dir, 'cache'), `${cache}.tmp`);
    renameSync(`${cache}.tmp`, cache);
    return null;
  } catch (err) {
    return String(err);
  } finally {
    server.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const why = await bundleCli();
  if (why !== null) {
    console.error(`bundle-cli: ${why}`);
    process.exit(1);
  }
}
