/**
 * The command next to curl (issue 16), each case spawned:
 *
 * - A reply that is not HTTP at all (no status line: an SSH banner, a TLS alert, an
 *   HTTP/0.9 "simple response") exits 8, writing nothing, unless `--http0.9` is given;
 *   curl refuses HTTP/0.9 the same way. With `--http0.9` the whole reply is the body.
 * - `-X METHOD` / `--request METHOD`, as curl users type it.
 * - The package installs the command as `httplib-ts` (the package's name, so that
 *   `npx httplib-ts` never runs another registry package) and as `httplib`; and it has no
 *   install-time script (a consumer's `npm install` must not see a build hook).
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { EXIT } from '../../src/cli/exit-codes.ts';
import {
  type HttpServer,
  httpServer,
  type RawServer,
  rawServer,
  scriptedServer,
} from '../integration/servers.ts';
import { assertFailure, ensureBuilt, ROOT, runCli, withTempDir } from './cli-harness.ts';

before(() => ensureBuilt());

describe('a reply that is not HTTP (HTTP/0.9)', () => {
  const servers: RawServer[] = [];
  after(async () => {
    for (const s of servers) await s.close();
  });
  /** A server whose every connection gets `reply`, then is closed. */
  const serve = async (reply: string): Promise<string> => {
    const s = await scriptedServer([(socket) => socket.end(reply)]);
    servers.push(s);
    return `http://127.0.0.1:${s.port}/`;
  };
  const SSH = 'SSH-2.0-OpenSSH_9.6p1 Ubuntu-3ubuntu13\r\n';

  it('exits 8 and writes nothing, saying what came back', async () => {
    const url = await serve(SSH);
    const r = await runCli([url]);
    assertFailure(
      r,
      EXIT.WEIRD_REPLY,
      /^httplib: 127\.0\.0\.1 port \d+ did not answer in HTTP: no status line, the reply starts "SSH-2\.0-OpenSSH_9\.6p1 Ubuntu-3ubuntu13" \(--http0\.9 accepts it as an HTTP\/0\.9 body\)$/,
    );
  });

  it('a long first line is cut at 40 characters', async () => {
    const url = await serve(`${'x'.repeat(100)}\n`);
    const r = await runCli([url]);
    assertFailure(r, EXIT.WEIRD_REPLY, new RegExp(`the reply starts "${'x'.repeat(40)}…"`));
  });

  it('-I: the reply to HEAD has no bytes to show, and the message says so (not an empty quote)', async () => {
    const url = await serve(SSH);
    const r = await runCli([url, '-I']);
    assertFailure(
      r,
      EXIT.WEIRD_REPLY,
      /did not answer in HTTP: the reply \(to HEAD: no bytes of it can be shown\) has no status line \(/,
    );
    assert.doesNotMatch(r.stderr, /""/);
  });

  it('-f, -i, -I and -o do not change it (nothing written, no file)', async () => {
    await withTempDir(async (tmp) => {
      const url = await serve(SSH);
      for (const extra of [['-f'], ['-i'], ['-I'], ['-o', tmp.file('out')]]) {
        assertFailure(await runCli([url, ...extra]), EXIT.WEIRD_REPLY, /did not answer in HTTP/);
      }
      assert.deepEqual(fs.readdirSync(tmp.dir), [], 'no -o file or temporary file');
    });
  });

  it('--http0.9 writes the whole reply as the body, exit 0', async () => {
    const url = await serve(`${SSH}more bytes\n`);
    const r = await runCli([url, '--http0.9']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stderr, '');
    assert.equal(r.out, `${SSH}more bytes\n`);
    // -i has no head to write: an HTTP/0.9 reply has none.
    const included = await runCli([url, '--http0.9', '-i']);
    assert.equal(included.code, 0, included.stderr);
    assert.equal(included.out, `${SSH}more bytes\n`);
  });

  it('an HTTP reply is not affected by --http0.9', async () => {
    const url = await serve('HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok');
    const r = await runCli([url, '--http0.9', '-i']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.out, 'HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok');
  });
});

describe('-X / --request METHOD', () => {
  let server: HttpServer;
  let base = '';
  const seen: string[] = [];
  before(async () => {
    server = await httpServer((req, res) => {
      seen.push(`${req.method} ${req.url}`);
      req.resume();
      req.on('end', () => res.end(req.method === 'HEAD' ? undefined : `${req.method}\n`));
    });
    base = `http://127.0.0.1:${server.port}`;
  });
  after(() => server.close());

  it('-X PUT and --request PUT send PUT', async () => {
    for (const args of [['-X', 'PUT'], ['--request', 'PUT'], ['--request=PUT'], ['-XPUT']]) {
      const r = await runCli([...args, `${base}/x`, '-d', 'body']);
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.out, 'PUT\n', args.join(' '));
      assert.equal(seen.at(-1), 'PUT /x');
    }
  });

  it('-X DELETE without a body; -X HEAD with -I', async () => {
    const del = await runCli(['-X', 'DELETE', `${base}/gone`]);
    assert.equal(del.out, 'DELETE\n');
    assert.equal(seen.at(-1), 'DELETE /gone');
    const head = await runCli(['-X', 'HEAD', '-I', `${base}/h`]);
    assert.equal(head.code, 0, head.stderr);
    assert.match(head.out, /^HTTP\/1\.1 200 OK\r\n/);
    assert.equal(seen.at(-1), 'HEAD /h');
  });

  it('the same method twice is fine; two different ones, a bad one, or -X POST -I are usage errors', async () => {
    const same = await runCli(['PATCH', `${base}/p`, '-X', 'PATCH']);
    assert.equal(same.out, 'PATCH\n');
    const before = seen.length;
    assertFailure(
      await runCli(['PUT', `${base}/p`, '-X', 'POST']),
      EXIT.USAGE,
      /two methods given: 'PUT' and -X 'POST'/,
    );
    assertFailure(
      await runCli(['-X', 'GE T', `${base}/p`]),
      EXIT.USAGE,
      /'GE T' is not a valid method/,
    );
    assertFailure(await runCli(['-X', 'POST', '-I', `${base}/p`]), EXIT.USAGE, /-I sends HEAD/);
    assertFailure(await runCli([`${base}/p`, '-X']), EXIT.USAGE, /-X, --request <value>/);
    assert.equal(seen.length, before, 'nothing was sent');
  });
});

describe('the URL path and query go out as typed, as curl sends them', () => {
  let server: RawServer;
  /** The request line of each request, as it arrived. */
  const lines: string[] = [];
  before(async () => {
    server = await rawServer((socket) => {
      socket.once('data', (d: Buffer) => {
        lines.push(d.toString('latin1').split('\r\n', 1)[0] as string);
        socket.end('HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n');
      });
    });
  });
  after(() => server.close());

  it("what curl 7.88 sends: no '\\' made '/', no encoded dot segment resolved, no quote encoded; /./ and /../ resolved (kept with --path-as-is)", async () => {
    const base = `127.0.0.1:${server.port}`;
    // [typed after the authority, what curl 7.88.1 sent (checked by hand)]. Before: the
    // URL parser's rewriting (/a/b, /secret, /q?x=%22y%22, /a%7Bb%7D%3Cc%3E%5E%7C%60).
    const cases: Array<[string, string]> = [
      ['/a\\b', '/a\\b'],
      ['/files/%2e%2e/secret', '/files/%2e%2e/secret'],
      ['/q?x="y"', '/q?x="y"'],
      ['/a{b}<c>^|`[d]', '/a{b}<c>^|`[d]'],
      ['/a/../b/./c/.', '/b/c/'],
      ['//a/../b', '//b'],
      ['/../../x/..;/y', '/x/..;/y'],
      ['/a?x/../y#frag', '/a?x/../y'],
      ['?q=1', '/?q=1'],
      ['', '/'],
      ['/%zz/%2F', '/%zz/%2F'],
      ['/é', '/%c3%a9'],
    ];
    for (const [typed, sent] of cases) {
      const r = await runCli([`http://${base}${typed}`]);
      assert.equal(r.code, 0, r.stderr);
      assert.equal(lines.at(-1), `GET ${sent} HTTP/1.1`, typed);
    }
    const asIs = await runCli(['--path-as-is', `${base}/a/../b/./c`]);
    assert.equal(asIs.code, 0, asIs.stderr);
    assert.equal(lines.at(-1), 'GET /a/../b/./c HTTP/1.1');
    // Through an HTTP proxy the absolute URI carries the same path.
    const proxied = await runCli(['-x', base, 'http://example.test/a\\b?x="y"']);
    assert.equal(proxied.code, 0, proxied.stderr);
    assert.equal(lines.at(-1), 'GET http://example.test/a\\b?x="y" HTTP/1.1');
    // A '\\' before the path is no host (the URL parser took it for a '/'): curl exits 3.
    assertFailure(await runCli([`http://${base}\\a`]), EXIT.BAD_URL, /malformed URL/);
  });
});

describe('the package: command names and install scripts', () => {
  const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8'));

  it('installs the command as httplib-ts (the package name) and as httplib', () => {
    assert.equal(pkg.bin['httplib-ts'], './dist/cli/main.cjs');
    assert.equal(pkg.bin.httplib, './dist/cli/main.cjs');
  });

  it('has no script that runs when a consumer installs it; the build runs before packing', () => {
    for (const hook of ['preinstall', 'install', 'postinstall', 'prepare']) {
      assert.equal(pkg.scripts[hook], undefined, `scripts.${hook}`);
    }
    assert.equal(pkg.scripts.prepack, 'npm run build');
  });
});
