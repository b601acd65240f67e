/**
 * HTTPS through the blocking entry: the caller's `ssl.SSLContext` (the main entry's
 * class) configures the worker's connections, including changes made to it after the
 * connection was made and before it connects; a certificate chain loaded by the
 * constructor (`key_file`/`cert_file`) lands in the caller's context, and the deprecation
 * warning is emitted in the calling thread; failed checks throw the main entry's
 * `ssl.SSLCertVerificationError`.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import * as fs from 'node:fs';
import { after, before, describe, it } from 'node:test';
import * as main from '../../src/index.ts';
import { testHook } from '../../src/sync/channel.ts';
import * as httplib from '../../src/sync.ts';
import { runNode } from '../cli/cli-harness.ts';
import { makePki, type Pki } from '../integration/tls-peers.ts';
import {
  legacyGet,
  MAIN_ENTRY,
  noUncaught,
  type Peer,
  SYNC_ENTRY,
  startPeer,
  thrown,
} from './peer.ts';

noUncaught();
let pki: Pki;
let peer: Peer;
before(async () => {
  pki = await makePki();
  peer = await startPeer({
    cert: pki.file('server.pem'),
    key: pki.file('server.key'),
    ca: pki.file('ca.pem'),
  });
  httplib.setdefaulttimeout(10);
});
after(async () => {
  httplib.setdefaulttimeout(null);
  await peer.close();
  pki.remove();
});

function get(conn: httplib.HTTPConnection, path: string): string {
  conn.request('GET', path);
  return conn.getresponse().read().toString();
}

describe('HTTPS', () => {
  it('a context trusting the test CA: requests go over TLS, kept alive', () => {
    const context = httplib.ssl.create_default_context({ cafile: pki.file('ca.pem') });
    const conn = new httplib.HTTPSConnection('localhost', peer.https, { context });
    assert.equal(conn._context, context, "the caller's own context");
    assert.equal(conn.check_hostname, true);
    assert.equal(get(conn, '/hello'), 'hello\n');
    const port = conn.sock?.localPort;
    assert.equal(get(conn, '/whoami'), 'none');
    assert.equal(conn.sock?.localPort, port);
    conn.close();
  });

  it("the default context does not trust the test CA: the main entry's SSLCertVerificationError", () => {
    const conn = new httplib.HTTPSConnection('localhost', peer.https);
    assert.ok(conn._context instanceof main.ssl.SSLContext);
    const err = thrown(() => conn.request('GET', '/hello'));
    assert.ok(err instanceof main.ssl.SSLCertVerificationError, String(err));
    assert.ok(err instanceof httplib.ssl.SSLError);
    conn.close();
  });

  it('check_hostname follows the context, as on the main entry, and cannot be set on the connection', () => {
    // (HTTPS connections always run in the worker: there is no direct transport to loop over.)
    for (const [entry, m] of [
      ['main', main],
      ['sync', httplib],
    ] as const) {
      const context = m.ssl.create_default_context();
      const conn = new m.HTTPSConnection('localhost', peer.https, { context });
      const h = new m.HTTPS('localhost', peer.https, { context });
      const inner = (h as unknown as { _conn: { check_hostname: boolean } })._conn;
      const forced = new m.HTTPSConnection('localhost', peer.https, {
        context,
        check_hostname: true,
      });
      assert.deepEqual([conn.check_hostname, inner.check_hostname], [true, true], entry);
      context.check_hostname = false;
      // Before: the blocking entry's stayed true, a copy made by the constructor.
      assert.deepEqual([conn.check_hostname, inner.check_hostname], [false, false], entry);
      // The constructor's check_hostname overrides the context's.
      assert.equal(forced.check_hostname, true, entry);
      // A getter only, on both entries: assigning it is the TypeError of strict code.
      assert.throws(() => {
        (conn as { check_hostname: boolean }).check_hostname = true;
      }, TypeError);
      assert.equal(conn.check_hostname, false, entry);
      for (const c of [conn, h, forced]) c.close();
    }
  });

  it('a change to the context before the connection opens is used', () => {
    const context = httplib.ssl.create_default_context();
    const conn = new httplib.HTTPSConnection('localhost', peer.https, { context });
    context.check_hostname = false;
    context.verify_mode = httplib.ssl.CERT_NONE;
    assert.equal(get(conn, '/hello'), 'hello\n');
    conn.close();
  });

  it('a client certificate loaded into the context is presented', () => {
    const context = httplib.ssl.create_default_context({ cafile: pki.file('ca.pem') });
    context.load_cert_chain(pki.file('client.pem'), pki.file('client-enc.key'), 's3cret');
    const conn = new httplib.HTTPSConnection('localhost', peer.https, { context });
    assert.equal(get(conn, '/whoami'), 'httplib-ts test client');
    conn.close();
  });

  it("key_file without cert_file: the main entry's TypeError from the constructor", () => {
    assert.throws(
      () =>
        new httplib.HTTPSConnection('localhost', peer.https, { key_file: pki.file('client.key') }),
      (err: unknown) => err instanceof TypeError && /^key_file needs cert_file/.test(err.message),
    );
  });

  it("empty key_file/cert_file names load nothing, as Python's `if key_file or cert_file`", () => {
    const context = httplib.ssl.create_default_context({ cafile: pki.file('ca.pem') });
    for (const files of [{ key_file: '', cert_file: '' }, { key_file: '' }, { cert_file: '' }]) {
      // Before: the main entry's ENOENT open '' or key_file's TypeError, from the worker.
      const conn = new httplib.HTTPSConnection('localhost', peer.https, { context, ...files });
      assert.equal(conn.key_file, files.key_file ?? null);
      assert.equal(get(conn, '/whoami'), 'none');
      conn.close();
      const h = new httplib.HTTPS('localhost', peer.https, { context, ...files });
      assert.equal(legacyGet(h, '/whoami'), 'none');
      h.close();
    }
  });

  it("key_file/cert_file: the warning in this thread, the chain in the caller's context", async () => {
    const context = httplib.ssl.create_default_context({ cafile: pki.file('ca.pem') });
    const warned = once(process, 'warning');
    const conn = new httplib.HTTPSConnection('localhost', peer.https, {
      context,
      key_file: pki.file('client.key'),
      cert_file: pki.file('client.pem'),
    });
    const [warning] = (await warned) as [Error];
    assert.equal(warning.name, 'DeprecationWarning');
    assert.match(warning.message, /key_file and cert_file are deprecated/);
    assert.equal(conn.key_file, pki.file('client.key'));
    assert.equal(get(conn, '/whoami'), 'httplib-ts test client');
    conn.close();
    // The caller's context has the chain now, as with the main entry: another connection presents it too.
    const other = new httplib.HTTPSConnection('localhost', peer.https, { context });
    assert.equal(get(other, '/whoami'), 'httplib-ts test client');
    other.close();
  });

  it('the key_file/cert_file DeprecationWarning: once per process, with its code, over both entries and the worker; none from a constructor that throws', async () => {
    // A fresh process for each order: the warning is once per process. The worker emits
    // its own (once per worker), which this thread emits again: the two make one.
    const file = `${pki.dir}/key-file-warning.mts`;
    fs.writeFileSync(
      file,
      `import * as main from ${JSON.stringify(MAIN_ENTRY)};
import * as sync from ${JSON.stringify(SYNC_ENTRY)};
const files = { key_file: ${JSON.stringify(pki.file('client.key'))}, cert_file: ${JSON.stringify(pki.file('client.pem'))} };
const seen = [];
process.on('warning', (w) => seen.push(\`\${w.name} \${w.code}\`));
const entries = process.argv[2] === 'main-first' ? [main, sync] : [sync, main];
for (const m of entries) {
  // Refused (a missing file): nothing to warn about.
  try { new m.HTTPSConnection('localhost', 443, { ...files, cert_file: 'missing.pem' }); } catch {}
  for (let i = 0; i < 3; i++) new m.HTTPSConnection('localhost', 443, files).close();
  new m.HTTPS('localhost', 443, files).close();
}
setImmediate(() => console.log(JSON.stringify(seen)));
`,
    );
    for (const order of ['main-first', 'sync-first']) {
      const result = await runNode(['--import', 'tsx', file, order], { timeoutMs: 20_000 });
      assert.equal(result.code, 0, result.stderr);
      // Before: eight warnings in each order (a missing file's included), with no code.
      assert.deepEqual(
        JSON.parse(result.out),
        ['DeprecationWarning DEP_HTTPLIB_KEY_CERT_FILE'],
        order,
      );
      assert.equal(result.stderr.match(/DeprecationWarning/g)?.length, 1, result.stderr);
    }
  });

  it('a context that is not an ssl.SSLContext: the TypeError of the main entry, from the constructor', () => {
    for (const [context, name] of [
      [{ ca: 'x' }, 'Object'],
      [7, 'number'],
    ] as const) {
      assert.throws(
        () => new httplib.HTTPSConnection('localhost', peer.https, { context: context as never }),
        (err: unknown) =>
          err instanceof TypeError &&
          err.message ===
            `context must be an ssl.SSLContext (ssl.create_default_context()), got ${name}`,
      );
    }
  });

  it('the legacy HTTPS class', () => {
    const context = httplib.ssl.create_default_context({ cafile: pki.file('ca.pem') });
    const h = new httplib.HTTPS('localhost', peer.https, { context });
    h.putrequest('GET', '/hello');
    h.endheaders();
    const [status] = h.getreply();
    assert.equal(status, 200);
    assert.equal(h.getfile()?.read().toString(), 'hello\n');
    h.close();
  });

  it('HTTPS connections and the legacy HTTPS class carry on after the worker failed, with their context', () => {
    // No context given: the connection's own, which the caller then changes (trusting the
    // test CA), must be the new worker's object's too (a new default one would not trust it).
    const h = new httplib.HTTPS('localhost', peer.https);
    const conn = new httplib.HTTPSConnection('localhost', peer.https);
    const cases: Array<[httplib.ssl.SSLContext, () => string]> = [
      [(h._conn as httplib.HTTPSConnection)._context, () => legacyGet(h, '/hello')],
      [conn._context, () => get(conn, '/hello')],
    ];
    for (const [context, fetch] of cases) {
      context.load_verify_locations(pki.file('ca.pem'));
      assert.equal(fetch(), 'hello\n');
      const err = thrown(() => testHook('exit')) as { code?: string };
      assert.equal(err.code, 'ERR_HTTPLIB_SYNC_WORKER');
      assert.equal(fetch(), 'hello\n');
    }
    h.close();
    conn.close();
  });

  it('a process.emitWarning that throws, met by a warning of the worker in the middle of a request: the calls go on, in step', async () => {
    // NODE_TLS_REJECT_UNAUTHORIZED=0 makes the worker's first TLS connect warn; that
    // warning reaches this thread with the worker's next message, here its question for
    // the body's next item. Thrown out of the conversation, it left the question
    // unanswered: the call failed with it, and the next call read the worker's answer
    // to the wrong message. A warning that cannot be printed must not fail the call.
    const file = `${pki.dir}/warning-throws.mts`;
    fs.writeFileSync(
      file,
      `import * as httplib from ${JSON.stringify(SYNC_ENTRY)};
httplib.setdefaulttimeout(10);
process.emitWarning = () => { throw new Error('emitWarning refused'); };
const conn = new httplib.HTTPSConnection('localhost', ${peer.https}, {
  context: httplib.ssl._create_unverified_context(),
});
for (const n of [1, 2, 3]) {
  try {
    conn.request('POST', '/echo', (function* () { yield 'a'; yield String(n); })());
    console.log(JSON.parse(conn.getresponse().read().toString()).body);
  } catch (err) {
    console.log(String(err));
  }
}
conn.close();
`,
    );
    const result = await runNode(['--import', 'tsx', file], {
      env: { ...process.env, NODE_TLS_REJECT_UNAUTHORIZED: '0' },
      timeoutMs: 20_000,
    });
    assert.equal(result.signal, null, 'the child was killed: it hung');
    assert.equal(result.code, 0, result.stderr);
    assert.equal(result.out, 'a1\na2\na3\n');
  });
});
