/**
 * examples/ holds standalone programs a user can copy (issue 16): each imports only
 * 'httplib-ts' and node: modules, says in its opening comment how to run it and how to
 * point it at a server, and runs here against local peers (test/examples/harness.ts),
 * with Node and tsx on the sources ('httplib-ts' is src/index.ts through tsconfig's
 * `paths`). CI also runs them from the packed package on other runtimes
 * (test/runtimes/smoke.ts).
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ROOT, runNode } from '../cli/cli-harness.ts';
import { checkExample, exampleCases, type Peers, startPeers } from './harness.ts';

const EXAMPLES = path.join(ROOT, 'examples');

describe('examples/', () => {
  let peers: Peers;
  before(async () => {
    peers = await startPeers();
  });
  after(() => peers?.close());

  it('are the four programs, each importing only httplib-ts and node: modules, with its usage', () => {
    const files = fs.readdirSync(EXAMPLES).sort();
    assert.deepEqual(files, ['https.ts', 'sessions.ts', 'streaming.ts', 'tunnel.ts']);
    for (const file of files) {
      const text = fs.readFileSync(path.join(EXAMPLES, file), 'utf8');
      const imports = [...text.matchAll(/^import .* from '([^']+)';$/gm)].map((m) => m[1]);
      assert.ok(imports.includes('httplib-ts'), `${file} imports httplib-ts`);
      for (const from of imports) {
        assert.ok(from === 'httplib-ts' || from?.startsWith('node:'), `${file} imports ${from}`);
      }
      const header = text.slice(0, text.indexOf('*/'));
      assert.match(header, /\n \* Usage:\n \* {3}node examples\//, `${file}: its usage`);
      assert.match(header, /\bbun examples\//, `${file}: how to run it on Bun`);
      assert.match(header, /\bdeno run --allow-net/, `${file}: how to run it on Deno`);
    }
  });

  it('each run against the local peers prints what it says and sends what it should', async () => {
    const cases = exampleCases(peers);
    assert.deepEqual(
      cases.map((c) => c.name),
      [
        'sessions.ts',
        'streaming.ts',
        'https.ts',
        'https.ts (key in the certificate file)',
        'https.ts (wrong key password)',
        'https.ts (weak certificate)',
        'https.ts (sha1 certificate)',
        'tunnel.ts',
      ],
    );
    for (const c of cases) {
      await checkExample(peers, c, (file, args) =>
        runNode(['--import', 'tsx', path.join(EXAMPLES, file), ...args], { timeoutMs: 30_000 }),
      );
    }
  });

  it('each, given no arguments, prints its usage and exits 2', async () => {
    for (const file of fs.readdirSync(EXAMPLES)) {
      const r = await runNode(['--import', 'tsx', path.join(EXAMPLES, file)]);
      assert.equal(r.code, 2, `${file}: ${r.stderr}`);
      assert.equal(r.out, '');
      assert.match(r.stderr, new RegExp(`^usage: ${file.replace('.', '\\.')} `));
    }
  });
});
