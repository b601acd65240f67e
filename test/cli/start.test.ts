/**
 * `npm start` = `httplib demo` (issue 8, item 2): the seed's four sessions against the
 * embedded server, printed as the seed shows them, exit 0 by itself in a few seconds;
 * built automatically when dist/ is missing (a copy of the project without dist/ stands
 * for a fresh clone; CI runs `npm start` on a real fresh clone, see .ci/run). Also the
 * package wiring: `bin` → dist/cli/main.cjs with its shebang, which runs the command
 * bundled into one file (dist/cli/cli.cjs) with the V8 code cache the build made for it.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import * as fs from 'node:fs';
import * as http from 'node:http';
import type * as net from 'node:net';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ensureBuilt, MAIN, ROOT, runCli, runNode, runProgram, tempDir } from './cli-harness.ts';

/** The transcript's lines that must appear, in this order (the seed's, with our host). */
const TRANSCRIPT: readonly (string | RegExp)[] = [
  /^# against an embedded server on 127\.0\.0\.1:\d+/,
  '# GET, then a 404 on the same connection',
  '>>> import httplib',
  /^>>> conn = httplib\.HTTPConnection\("127\.0\.0\.1", \d+\)$/,
  '>>> conn.request("GET", "/index.html")',
  '>>> r1 = conn.getresponse()',
  '>>> print r1.status, r1.reason',
  '200 OK',
  '>>> data1 = r1.read()',
  '>>> conn.request("GET", "/parrot.spam")',
  '>>> r2 = conn.getresponse()',
  '>>> print r2.status, r2.reason',
  '404 Not Found',
  '>>> data2 = r2.read()',
  '>>> conn.close()',
  '# HEAD never returns any data',
  '>>> conn.request("HEAD","/index.html")',
  '>>> print res.status, res.reason',
  '200 OK',
  '>>> print len(data)',
  '0',
  ">>> data == ''",
  'True',
  '# POST a form',
  ">>> params = urllib.urlencode({'@number': 12524, '@type': 'issue', '@action': 'show'})",
  '>>> conn.request("POST", "", params, headers)',
  '>>> print response.status, response.reason',
  '302 Found',
  '>>> data',
  `'Redirecting to <a href="http://bugs.python.org/issue12524">http://bugs.python.org/issue12524</a>'`,
  '# PUT',
  '>>> BODY = "***filecontents***"',
  '>>> conn.request("PUT", "/file", BODY)',
  '>>> print response.status, response.reason',
  '200, OK',
  '# Done: 4 sessions, 5 requests, every result as the documentation shows it.',
];

/** Assert `output` holds the transcript's lines in order. */
function assertTranscript(output: string): void {
  const lines = output.split('\n');
  let at = 0;
  for (const want of TRANSCRIPT) {
    const found = lines.findIndex(
      (l, i) => i >= at && (typeof want === 'string' ? l === want : want.test(l)),
    );
    assert.notEqual(found, -1, `missing ${String(want)} after line ${at} in:\n${output}`);
    at = found + 1;
  }
}

describe('npm start: httplib demo', () => {
  before(() => ensureBuilt());

  it('the package runs dist/cli/main.cjs as `httplib`, with its shebang', () => {
    const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8'));
    assert.deepEqual(pkg.bin, {
      'httplib-ts': './dist/cli/main.cjs',
      httplib: './dist/cli/main.cjs',
    });
    assert.equal(pkg.scripts.start, 'node scripts/start.mjs');
    assert.ok(pkg.files.includes('dist'));
    assert.ok(fs.readFileSync(MAIN, 'utf8').startsWith('#!/usr/bin/env node\n'));
  });

  it('dist/cli/main.cjs runs dist/cli/cli.cjs, one file that loads node: built-ins only (scripts/bundle-cli.mjs, for the start-up)', () => {
    const requires = (file: string): string[] => {
      const text = fs.readFileSync(file, 'utf8');
      return [
        ...text.matchAll(/^\s*(?:import|export)\b[^'"]*?\bfrom\s*['"]([^'"]+)['"]/gm),
        ...text.matchAll(/\b(?:import|require)\(\s*['"]([^'"]+)['"]\s*\)/g),
      ].map((m) => m[1] as string);
    };
    const bundle = path.join(path.dirname(MAIN), 'cli.cjs');
    for (const file of [MAIN, bundle]) {
      const specifiers = requires(file);
      assert.ok(specifiers.length > 0, `${file} loads the built-ins it uses`);
      assert.deepEqual(
        specifiers.filter((s) => !s.startsWith('node:')),
        [],
        `a module ${file} loads at start-up besides the bundle`,
      );
    }
    assert.match(fs.readFileSync(MAIN, 'utf8'), /join\(__dirname, 'cli\.cjs'\)/);
    // main.cjs compiles the bundle with vm.Script, where a dynamic import() needs Node's
    // experimental USE_MAIN_CONTEXT_DEFAULT_LOADER (a warning on stderr): the bundle has none.
    assert.doesNotMatch(fs.readFileSync(bundle, 'utf8'), /\bimport\(/);
    // Its source map leads back to src/.
    const map = JSON.parse(fs.readFileSync(`${bundle}.map`, 'utf8')) as { sources: string[] };
    assert.ok(map.sources.includes('../../src/cli/main.ts'), map.sources.join(', '));
  });

  it('`npm start` plays the seed sessions and exits 0 by itself', async () => {
    const started = Date.now();
    const r = await runProgram('npm', ['start', '--silent'], { timeoutMs: 30_000 });
    assert.equal(r.code, 0, r.stderr);
    assertTranscript(r.out);
    assert.ok(Date.now() - started < 15_000, 'within a few seconds');
  });

  it('`httplib demo` is the same, straight from dist', async () => {
    const r = await runCli(['demo']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stderr, '');
    assertTranscript(r.out);
  });

  it('`httplib demo -v` adds the set_debuglevel(1) trace on stderr', async () => {
    const r = await runCli(['demo', '-v']);
    assert.equal(r.code, 0, r.stderr);
    assertTranscript(r.out);
    assert.match(
      r.stderr,
      /^send: 'GET \/index\.html HTTP\/1\.1\\r\\nHost: 127\.0\.0\.1:\d+\\r\\n/,
    );
    assert.match(r.stderr, /\nreply: 'HTTP\/1\.1 404 Not Found\\r\\n'/);
    assert.match(r.stderr, /\nsend: 'PUT \/file HTTP\/1\.1\\r\\n[^\n]*\*\*\*filecontents\*\*\*'/);
  });

  it('builds dist/ first when it is missing (a fresh checkout)', async () => {
    const tmp = tempDir();
    try {
      for (const entry of [
        'src',
        'scripts',
        'package.json',
        'tsconfig.json',
        'tsconfig.build.json',
      ]) {
        fs.cpSync(path.join(ROOT, entry), path.join(tmp.dir, entry), { recursive: true });
      }
      fs.symlinkSync(path.join(ROOT, 'node_modules'), path.join(tmp.dir, 'node_modules'), 'dir');
      const r = await runNode(['scripts/start.mjs'], { cwd: tmp.dir, timeoutMs: 120_000 });
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stderr, /^npm start: dist\/cli\/main\.cjs is missing: building/);
      assertTranscript(r.out);
      assert.ok(fs.existsSync(path.join(tmp.dir, 'dist', 'cli', 'main.cjs')));
      // Fresh now: no second build.
      const again = await runNode(['scripts/start.mjs'], { cwd: tmp.dir });
      assert.equal(again.code, 0, again.stderr);
      assert.equal(again.stderr, '');
    } finally {
      tmp.remove();
    }
  });

  it('CI runs npm start on its fresh clone right after npm ci, before any build', () => {
    const ci = fs.readFileSync(path.join(ROOT, '.ci', 'run'), 'utf8').split('\n');
    const install = ci.indexOf('npm ci');
    const build = ci.indexOf('npm run build');
    const start = ci.indexOf('npm start');
    assert.ok(install !== -1 && start > install, '.ci/run: npm start after npm ci');
    assert.ok(build > start, '.ci/run: npm start before npm run build (start builds dist)');
  });
});

describe('the code cache of dist/cli/cli.cjs (scripts/cli-loader.cjs)', () => {
  const BODY = Buffer.from('a body of the code cache test\n');
  let server: http.Server;
  let url = '';
  before(async () => {
    ensureBuilt();
    server = http.createServer((_req, res) => {
      res.writeHead(200, { 'Content-Length': BODY.length });
      res.end(BODY);
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    url = `http://127.0.0.1:${(server.address() as net.AddressInfo).port}/`;
  });
  after(() => new Promise<void>((resolve) => server.close(() => resolve())));

  /** Download `url` with `main` to a file; returns what the loader said of the cache. */
  async function download(main: string, dir: string, env: NodeJS.ProcessEnv = {}): Promise<string> {
    const out = path.join(dir, 'body');
    fs.rmSync(out, { force: true });
    const r = await runNode([main, '-o', out, url], {
      env: { ...process.env, HTTPLIB_TS_CODE_CACHE_REPORT: '1', ...env },
    });
    assert.equal(r.code, 0, r.stderr);
    assert.ok(fs.readFileSync(out).equals(BODY), 'the body');
    const said = /^httplib-ts: code cache (\w+)$/m.exec(r.stderr);
    assert.ok(said, r.stderr);
    return said[1] as string;
  }

  it('the build made one for this Node, and the command uses it', async () => {
    const tmp = tempDir();
    try {
      assert.ok(fs.statSync(path.join(path.dirname(MAIN), 'cli.cjs.cache')).size > 10_000);
      assert.equal(await download(MAIN, tmp.dir), 'accepted');
    } finally {
      tmp.remove();
    }
  });

  it('written at exit when asked, then accepted; refused (and the command the same) when cut short, garbage, stale or missing', async () => {
    const tmp = tempDir();
    try {
      // A copy of the command, with no cache beside it.
      const cli = path.join(tmp.dir, 'dist', 'cli');
      fs.mkdirSync(cli, { recursive: true });
      for (const f of ['main.cjs', 'cli.cjs']) {
        fs.copyFileSync(path.join(path.dirname(MAIN), f), path.join(cli, f));
      }
      fs.copyFileSync(path.join(ROOT, 'package.json'), path.join(tmp.dir, 'package.json'));
      const main = path.join(cli, 'main.cjs');
      const cache = path.join(cli, 'cli.cjs.cache');
      assert.equal(await download(main, tmp.dir), 'none');
      assert.equal(fs.existsSync(cache), false, 'only written when asked');
      assert.equal(await download(main, tmp.dir, { HTTPLIB_TS_CODE_CACHE_OUT: cache }), 'none');
      const made = fs.readFileSync(cache);
      assert.ok(made.length > 10_000, `${made.length} bytes`);
      assert.equal(await download(main, tmp.dir), 'accepted');
      // Cut short (V8 checks its header: version, flags, source, length; not the
      // contents, which are trusted as the code beside them is).
      fs.writeFileSync(cache, made.subarray(0, made.length >> 1));
      assert.equal(await download(main, tmp.dir), 'rejected');
      // Garbage and an empty file.
      fs.writeFileSync(cache, Buffer.alloc(made.length, 7));
      assert.equal(await download(main, tmp.dir), 'rejected');
      fs.writeFileSync(cache, '');
      assert.notEqual(await download(main, tmp.dir), 'accepted');
      // Stale: the cache of another bundle.
      fs.writeFileSync(cache, made);
      fs.appendFileSync(path.join(cli, 'cli.cjs'), '\n// changed\n');
      assert.equal(await download(main, tmp.dir), 'rejected');
    } finally {
      tmp.remove();
    }
  });
});
