/**
 * node:tls is loaded only when TLS is used (io/node-tls.ts): importing the package, making
 * plain-HTTP connections and starting the `httplib` command do not load it (Node takes
 * ~10 ms to), and the first HTTPS connection does. Each case runs in a fresh Node process,
 * which reports `process.moduleLoadList` (Node's list of the built-in modules it loaded).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ensureBuilt, MAIN, ROOT, runNode } from '../cli/cli-harness.ts';

const INDEX = new URL('../../src/index.ts', import.meta.url).href;
/** Prints whether Node's TLS layer was loaded when the process exits. */
const REPORT = `data:text/javascript,process.on('exit',()=>process.stderr.write('tls loaded: '+process.moduleLoadList.includes('NativeModule _tls_wrap')))`;

async function tlsLoaded(args: string[]): Promise<boolean> {
  const r = await runNode(['--import', REPORT, ...args], { timeoutMs: 30_000 });
  const m = /tls loaded: (true|false)/.exec(r.stderr);
  assert.ok(m !== null, `no report (exit ${r.code}):\n${r.stderr}`);
  return m[1] === 'true';
}

/** A script that imports the package and makes one request with `cls` (to a closed port). */
function oneRequest(cls: 'HTTPConnection' | 'HTTPSConnection'): string[] {
  const script = `
    const httplib = await import(${JSON.stringify(INDEX)});
    const conn = new httplib.${cls}('127.0.0.1', 9);
    await conn.request('GET', '/').catch(() => {});
    conn.close();`;
  return ['--import', 'tsx', '--input-type=module', '-e', script];
}

describe('node:tls is loaded on first use', () => {
  it('importing httplib-ts and a plain-HTTP connection do not load it', async () => {
    assert.equal(await tlsLoaded(oneRequest('HTTPConnection')), false);
  });

  it('an HTTPS connection loads it (the check above can see it)', async () => {
    assert.equal(await tlsLoaded(oneRequest('HTTPSConnection')), true);
  });

  it('the httplib command starts without it', async () => {
    ensureBuilt();
    assert.equal(await tlsLoaded([MAIN, '--help']), false, `cwd ${ROOT}`);
  });
});
