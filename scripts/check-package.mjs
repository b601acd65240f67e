#!/usr/bin/env node
// Checks the package as npm would publish it (run after `npm run build`; .ci/run does):
//
// 1. `npm pack --dry-run`: the file list holds dist/ (each .js with its .d.ts), src/,
//    README.md and package.json, and nothing else: no tests, fixtures, .tmp, bench,
//    examples, scripts, docs or .tsbuildinfo.
// 2. `npm pack` into a temporary directory, then the tarball through
//    - publint --strict (package.json fields, exports, files: warnings fail too);
//    - @arethetypeswrong/cli with `--ignore-rules cjs-resolves-to-esm`. The package is
//      ESM-only by design (DESIGN.md): `require('httplib-ts')` from CommonJS resolves to
//      an ES module, which attw reports for the node16-from-CJS resolution. On the Node
//      versions the package supports (engines: >= 20.19) require() of an ES module without
//      top-level await works, and the package has none, so that one rule is ignored. This
//      rather than `--profile esm-only`, which would skip the CJS resolutions entirely:
//      every other problem (types not found, masquerading formats, untyped resolution)
//      is still checked for node10, node16 from CJS and ESM, and bundlers.
// 3. The tarball installed into a scratch project (offline: the package has no
//    dependencies) without any install-script warning: `import` and `require()` of it
//    work, its `bin` runs under both names (`httplib-ts --version`, `--help`, and the
//    same as `httplib`), and a TypeScript consumer compiles against its .d.ts with
//    `skipLibCheck: false` (so every declaration file it ships typechecks, @internal
//    members included: they are kept in the .d.ts on purpose, see below), and fails to
//    compile the wrong calls (bodies and header values the run time refuses), also
//    with `"types": []` (the declarations reference Node's types themselves); subclasses
//    of the blocking connection classes that override their methods as methods, calling
//    `super`, compile (test/sync/subclass-types.ts); a CommonJS TypeScript project
//    compiles its import to require() and runs.
//
// `stripInternal` is not set: no public class has an @internal member any more (their
// internals are #private, test/docs/public-surface.test.ts); what @internal marks are
// functions of modules that the package's `exports` does not expose, whose declarations
// the public ones import. typedoc's `excludeInternal` keeps them out of the HTML docs.
//
// Usage: node scripts/check-package.mjs   (exit 0 when every check passes)
import { execFileSync, spawnSync } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { newest, root } from './build-if-stale.mjs';

const bin = (name) => join(root, 'node_modules', '.bin', name);
const pkg = JSON.parse(execFileSync('npm', ['pkg', 'get'], { cwd: root, encoding: 'utf8' }));
const failures = [];

function check(ok, message) {
  if (!ok) failures.push(message);
}

/** Run a command; its output is shown unless `quiet` (then only when it fails). */
function run(label, command, args, { quiet = false, ...options } = {}) {
  console.log(`\n== ${label}: ${[command, ...args].join(' ')}`);
  const result = spawnSync(command, args, { encoding: 'utf8', ...options });
  const ok = result.status === 0;
  if (!quiet || !ok) {
    if (result.stdout) process.stdout.write(result.stdout);
    if (result.stderr) process.stderr.write(result.stderr);
  }
  check(ok, `${label}: exit ${result.status ?? result.signal}`);
  return result;
}

// --- 0. a build that matches the sources ----------------------------------------------
const distIndex = join(root, 'dist', 'index.js');
if (!existsSync(distIndex) || statSync(distIndex).mtimeMs < newest(join(root, 'src'))) {
  console.error('check-package: dist/ is missing or older than src/: run `npm run build` first');
  process.exit(1);
}

// --- 1. the file list ------------------------------------------------------------------
console.log('== npm pack --dry-run');
const dry = JSON.parse(
  execFileSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], {
    cwd: root,
    encoding: 'utf8',
  }),
)[0];
const files = dry.files.map((f) => f.path);
console.log(`${files.length} files, ${dry.size} bytes packed, ${dry.unpackedSize} unpacked`);
// dist/cli/main.cjs: the command's loader, which runs dist/cli/cli.cjs (the command bundled
// into one CommonJS file) with its V8 code cache, cli.cjs.cache (scripts/bundle-cli.mjs).
const allowed =
  /^(dist\/.+\.(js|d\.ts)(\.map)?|dist\/cli\/main\.cjs|dist\/cli\/cli\.cjs(\.map|\.cache)?|src\/.+\.ts|README\.md|LICENSE|package\.json)$/;
for (const f of files) {
  check(allowed.test(f), `tarball: unexpected file ${f}`);
  check(
    !/(^|\/)(test|fixtures|\.tmp|bench|examples|scripts|docs|coverage)\//.test(f),
    `tarball: ${f}`,
  );
  check(!f.endsWith('.tsbuildinfo'), `tarball: ${f}`);
}
for (const f of files.filter((f) => /^dist\/.+\.js$/.test(f))) {
  check(files.includes(f.replace(/\.js$/, '.d.ts')), `tarball: ${f} has no .d.ts`);
  check(
    files.includes(f.replace(/^dist\//, 'src/').replace(/\.js$/, '.ts')),
    `tarball: ${f} has no source (its maps point there)`,
  );
}
// Declaration files a reader can read: no type printed as one huge line (status.d.ts once
// held the whole status table, 6 KB, on one line).
const MAX_DTS_LINE = 400;
for (const f of files.filter((f) => f.endsWith('.d.ts'))) {
  const longest = Math.max(
    ...readFileSync(join(root, f), 'utf8')
      .split('\n')
      .map((line) => line.length),
  );
  check(longest <= MAX_DTS_LINE, `tarball: ${f} has a line of ${longest} characters`);
}
const entryPoints = [
  pkg.main,
  pkg.types,
  ...Object.values(pkg.bin ?? {}),
  ...Object.values(pkg.exports).flatMap((e) => (typeof e === 'string' ? [e] : Object.values(e))),
];
for (const entry of entryPoints) {
  check(
    files.includes(entry.replace(/^\.\//, '')),
    `tarball: ${entry} (named in package.json) is missing`,
  );
}

// --- 2. the tarball through publint and attw -------------------------------------------
const scratch = mkdtempSync(join(tmpdir(), 'httplib-ts-pack-'));
try {
  const packed = JSON.parse(
    execFileSync('npm', ['pack', '--json', '--ignore-scripts', '--pack-destination', scratch], {
      cwd: root,
      encoding: 'utf8',
    }),
  )[0];
  const tarball = join(scratch, packed.filename);
  run('publint', bin('publint'), ['run', tarball, '--strict']);
  run('attw', bin('attw'), [
    tarball,
    '--ignore-rules',
    'cjs-resolves-to-esm',
    '--format',
    'table-flipped',
  ]);

  // --- 3. installed, imported, required, run, typechecked ------------------------------
  const consumer = join(scratch, 'consumer');
  mkdirSync(consumer);
  writeFileSync(
    join(consumer, 'package.json'),
    JSON.stringify({ name: 'consumer', private: true, type: 'module' }),
  );
  // Installed as a consumer would (scripts allowed): the package must have no install-time
  // script, so npm has nothing to run or to warn about (a `prepare` build hook once made
  // it warn "install scripts not yet covered by allowScripts").
  const install = run(
    'install',
    'npm',
    ['install', '--offline', '--no-audit', '--no-fund', tarball],
    {
      cwd: consumer,
      quiet: true,
    },
  );
  check(
    !/install.scripts|allowScripts/i.test(`${install.stdout}${install.stderr}`),
    `install: npm warned about install scripts:\n${install.stderr}`,
  );
  const esm = run(
    'import',
    process.execPath,
    [
      '--input-type=module',
      '-e',
      "import * as h from 'httplib-ts'; console.log(typeof h.HTTPConnection, h.responses[h.NOT_FOUND], typeof h.ssl.create_default_context);",
    ],
    { cwd: consumer },
  );
  check(
    esm.stdout.trim() === 'function Not Found function',
    `import: printed ${esm.stdout.trim()}`,
  );
  const cjs = run(
    'require',
    process.execPath,
    ['-e', "const h = require('httplib-ts'); console.log(typeof h.HTTPSConnection, h.HTTPS_PORT);"],
    { cwd: consumer },
  );
  check(cjs.stdout.trim() === 'function 443', `require: printed ${cjs.stdout.trim()}`);
  // The blocking entry, imported and required: its worker thread starts from the packed
  // dist/ (a refused connection is thrown synchronously, as the main entry's error), and
  // the process exits by itself afterwards.
  const blockingCall =
    "try { new s.HTTPConnection('127.0.0.1', 1).request('GET', '/'); } catch (e) { console.log(e.code, e instanceof Error, s.IncompleteRead === m.IncompleteRead); }";
  const syncEsm = run(
    'import httplib-ts/sync',
    process.execPath,
    [
      '--input-type=module',
      '-e',
      `import * as s from 'httplib-ts/sync'; import * as m from 'httplib-ts'; ${blockingCall}`,
    ],
    { cwd: consumer, timeout: 30_000 },
  );
  check(
    syncEsm.stdout.trim() === 'ECONNREFUSED true true',
    `import httplib-ts/sync: printed ${syncEsm.stdout.trim()}`,
  );
  const syncCjs = run(
    'require httplib-ts/sync',
    process.execPath,
    [
      '-e',
      `const s = require('httplib-ts/sync'); const m = require('httplib-ts'); ${blockingCall}`,
    ],
    { cwd: consumer, timeout: 30_000 },
  );
  check(
    syncCjs.stdout.trim() === 'ECONNREFUSED true true',
    `require httplib-ts/sync: printed ${syncCjs.stdout.trim()}`,
  );
  // The command under both of its names (httplib-ts, the package's, is the documented one).
  for (const name of ['httplib-ts', 'httplib']) {
    const cli = join(consumer, 'node_modules', '.bin', name);
    const version = run(`${name} --version`, cli, ['--version'], { cwd: consumer, quiet: true });
    check(
      version.stdout.includes(pkg.version),
      `${name} --version: printed ${version.stdout.trim()}`,
    );
    const help = run(`${name} --help`, cli, ['--help'], { cwd: consumer, quiet: true });
    check(/--proxy/.test(help.stdout), `${name} --help: no option list`);
  }

  writeFileSync(
    join(consumer, 'consumer.ts'),
    [
      "import * as httplib from 'httplib-ts';",
      "const conn: httplib.HTTPConnection = new httplib.HTTPSConnection('localhost', 8443, {",
      '  context: httplib.ssl.create_default_context(),',
      '  timeout: 10,',
      '});',
      'export async function get(): Promise<[number, Buffer]> {',
      "  await conn.request('GET', '/', null, { Accept: 'text/plain' });",
      '  const response: httplib.HTTPResponse = await conn.getresponse();',
      '  return [response.status, await response.read()];',
      '}',
      'export const phrase: string = httplib.HTTPStatus.phrase(httplib.NOT_FOUND);',
      // The published declarations refuse what the run time refuses (an unused
      // @ts-expect-error fails the compile if they ever accept it).
      'export async function wrong(token: string | undefined): Promise<void> {',
      '  // @ts-expect-error: a header value is a string, a number, a bigint or bytes',
      "  await conn.request('GET', '/', null, { Authorization: token });",
      '  // @ts-expect-error: a body is a RequestBody',
      "  await conn.request('POST', '/', { name: 'Obj' });",
      '  // @ts-expect-error: undefined is not a header value',
      "  conn.putheader('X', undefined);",
      '}',
      // The blocking entry's declarations: values where the main entry has promises.
      "import * as blocking from 'httplib-ts/sync';",
      "const sync: blocking.HTTPConnection = new blocking.HTTPConnection('localhost', 8080);",
      'export function getSync(): [number, Buffer] {',
      "  sync.request('GET', '/', 3);",
      '  const response: blocking.HTTPResponse = sync.getresponse();',
      '  return [response.status, response.read()];',
      '}',
      'export function wrongSync(): void {',
      '  // @ts-expect-error: the blocking API has no signal',
      "  sync.request('GET', '/', null, null, { signal: AbortSignal.timeout(1) });",
      '  // @ts-expect-error: an async iterable cannot be read while the thread is blocked',
      "  sync.request('POST', '/', (async function* () { yield 'x'; })());",
      '}',
      '',
    ].join('\n'),
  );
  const tscArgs = (...files) => [
    join(root, 'node_modules', 'typescript', 'bin', 'tsc'),
    '--strict',
    '--exactOptionalPropertyTypes',
    '--skipLibCheck',
    'false',
    '--target',
    'es2023',
    '--types',
    'node',
    '--typeRoots',
    join(root, 'node_modules', '@types'),
    ...files,
  ];
  run(
    'tsc consumer',
    process.execPath,
    [...tscArgs('consumer.ts'), '--noEmit', '--module', 'node20'],
    {
      cwd: consumer,
    },
  );
  // Python's way to customise a connection, a subclass overriding connect() (and others)
  // as methods that call super: the module the project compiles against src/, importing
  // the package instead.
  const subclasses = readFileSync(join(root, 'test', 'sync', 'subclass-types.ts'), 'utf8');
  check(subclasses.includes("'../../src/sync.ts'"), 'subclass-types.ts: its import moved');
  writeFileSync(
    join(consumer, 'subclasses.ts'),
    subclasses.replaceAll("'../../src/sync.ts'", "'httplib-ts/sync'"),
  );
  run(
    'tsc subclasses of the blocking classes',
    process.execPath,
    [...tscArgs('subclasses.ts'), '--noEmit', '--module', 'node20', '--noImplicitOverride'],
    { cwd: consumer },
  );
  // A project whose tsconfig loads no global types (`"types": []`, what `tsc --init` writes
  // since TypeScript 6): the declarations reference Node's types themselves, so Buffer is
  // still Buffer (without the reference it was any, and anything could be assigned a body).
  writeFileSync(
    join(consumer, 'no-global-types.ts'),
    [
      "import * as httplib from 'httplib-ts';",
      'export async function body(response: httplib.HTTPResponse): Promise<Buffer> {',
      '  // @ts-expect-error: read() gives a Buffer, not any',
      '  const wrong: Map<string, number> = await response.read();',
      '  void wrong;',
      '  return response.read();',
      '}',
      '',
    ].join('\n'),
  );
  writeFileSync(
    join(consumer, 'tsconfig.no-global-types.json'),
    JSON.stringify({
      compilerOptions: {
        strict: true,
        skipLibCheck: false,
        module: 'node20',
        target: 'es2023',
        noEmit: true,
        types: [],
        typeRoots: [join(root, 'node_modules', '@types')],
      },
      files: ['no-global-types.ts'],
    }),
  );
  run(
    'tsc consumer with "types": []',
    process.execPath,
    [join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.no-global-types.json'],
    { cwd: consumer },
  );
  // A CommonJS TypeScript project (`"type": "commonjs"`): the compiler turns the import
  // into require(), which TypeScript accepts for an ES module since 5.8 and Node.js runs
  // since 20.19 (the README's Install section says so).
  const cjsProject = join(scratch, 'consumer-cjs');
  mkdirSync(cjsProject);
  writeFileSync(
    join(cjsProject, 'package.json'),
    JSON.stringify({ name: 'cjs', private: true, type: 'commonjs' }),
  );
  run('install (CommonJS)', 'npm', ['install', '--offline', '--no-audit', '--no-fund', tarball], {
    cwd: cjsProject,
    quiet: true,
  });
  writeFileSync(
    join(cjsProject, 'main.ts'),
    "import * as httplib from 'httplib-ts';\nconsole.log(typeof httplib.HTTPConnection, httplib.HTTP_PORT);\n",
  );
  run('tsc CommonJS consumer', process.execPath, [...tscArgs('main.ts'), '--module', 'node20'], {
    cwd: cjsProject,
  });
  const cjsRun = run('run CommonJS consumer', process.execPath, ['main.js'], { cwd: cjsProject });
  check(
    cjsRun.stdout.trim() === 'function 80',
    `CommonJS consumer: printed ${cjsRun.stdout.trim()}`,
  );
  check(
    readFileSync(join(cjsProject, 'main.js'), 'utf8').includes('require("httplib-ts")'),
    'CommonJS consumer: compiled to require()',
  );
} finally {
  rmSync(scratch, { recursive: true, force: true });
}

if (failures.length > 0) {
  console.error(`\ncheck-package: ${failures.length} problem(s):`);
  for (const f of failures) console.error(`- ${f}`);
  process.exit(1);
}
console.log('\ncheck-package: the packed package is fine');
