#!/usr/bin/env node
// The `httplib` command (package.json `bin`), copied to dist/cli/main.cjs by
// scripts/bundle-cli.mjs: it runs the bundled command, dist/cli/cli.cjs, with the V8 code
// cache the build made for it (cli.cjs.cache: the functions a download compiles, from a
// run of the command at build time), so that a start does not parse and compile them
// again (~6 ms of a `-o` download's ~88: issue 14, the command against curl).
// V8 takes the cache only when it was made by the same V8 with the same flags and for
// the same source; otherwise (another Node, a changed bundle, a file cut short or not a
// cache, or none) it compiles as usual, and the command works the same. It checks the
// cache's header, not its contents: the file is trusted as the code beside it is.
// Not on Bun or Deno, whose engines have no such cache: there the bundle is required.
// HTTPLIB_TS_CODE_CACHE_OUT (set by the build): where to write the cache at exit.
// HTTPLIB_TS_CODE_CACHE_REPORT (set by the tests): say on stderr what became of the cache.
'use strict';
const { readFileSync, writeFileSync } = require('node:fs');
const { join } = require('node:path');

const bundle = join(__dirname, 'cli.cjs');
const out = process.env.HTTPLIB_TS_CODE_CACHE_OUT;
let run = null;
/** What became of the cache: none (no file), accepted, rejected, or unused (not V8's path). */
let fate = 'unused';
if (!('Bun' in globalThis) && !('Deno' in globalThis)) {
  try {
    const { Script, constants } = require('node:vm');
    const { wrap } = require('node:module');
    let source = readFileSync(bundle, 'utf8');
    // The bundle's first line is main.js's `#!`: a comment of the same length here, so
    // that positions (stack traces, the source map) stay those of the file.
    if (source.startsWith('#!')) source = `//${source.slice(2)}`;
    let cachedData;
    if (out === undefined) {
      try {
        cachedData = readFileSync(`${bundle}.cache`);
      } catch {
        cachedData = undefined;
      }
    }
    // A dynamic import() in the bundle (none: test/cli/start.test.ts) would otherwise
    // throw; with Node's loader it works (Node 20 then warns that the option is
    // experimental).
    const loader = constants?.USE_MAIN_CONTEXT_DEFAULT_LOADER;
    const script = new Script(wrap(source), {
      filename: bundle,
      cachedData,
      ...(loader === undefined ? {} : { importModuleDynamically: loader }),
    });
    if (cachedData === undefined) fate = 'none';
    else fate = script.cachedDataRejected === true ? 'rejected' : 'accepted';
    if (out !== undefined) {
      process.once('exit', () => writeFileSync(out, script.createCachedData()));
    }
    run = script.runInThisContext();
  } catch {
    // Anything unexpected before the command runs: it runs the plain way.
    run = null;
    fate = 'unused';
  }
}
if (process.env.HTTPLIB_TS_CODE_CACHE_REPORT !== undefined) {
  process.stderr.write(`httplib-ts: code cache ${fate}\n`);
}
if (run === null) {
  require(bundle);
} else {
  const exports = {};
  run.call(exports, exports, require, { exports, filename: bundle }, bundle, __dirname);
}
