/**
 * `httplib URL -o FILE` where FILE is not a plain new file: what curl does, checked here
 * with the built command against node:http on 127.0.0.1. curl opens FILE and writes into
 * it; we write a temporary file and rename it over FILE, which must not change anything
 * else that curl keeps: a symbolic link stays a link (its target gets the body, even when
 * it does not exist yet), a file's permissions stay, hard links keep sharing the file, a
 * device stays a device (a full one is a write error, exit 23), a file we may not write
 * is refused (exit 23) rather than replaced, and a FILE name of 255 bytes still works.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { FileSink, tempMode } from '../../src/cli/output.ts';
import { type HttpServer, httpServer } from '../integration/servers.ts';
import {
  assertFailure,
  ensureBuilt,
  MAIN,
  runCli,
  runProgram,
  type TempDir,
  withTempDir,
} from './cli-harness.ts';

/** Large enough for the large reads (several 1 MiB buffers), random: any mix-up shows. */
const BODY = randomBytes(3 * 1024 * 1024 + 11);
const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex');
const POSIX = { skip: process.platform === 'win32' ? 'POSIX links and modes' : false };

describe('httplib -o FILE keeps what FILE is', () => {
  let server: HttpServer;
  let url = '';

  before(async () => {
    ensureBuilt();
    server = await httpServer((_req, res) => {
      res.writeHead(200, { 'Content-Length': BODY.length });
      res.end(BODY);
    });
    url = `http://127.0.0.1:${server.port}/body`;
  });
  after(() => server.close());

  /** Download into `file`; asserts success. */
  async function download(file: string): Promise<void> {
    const r = await runCli([url, '-o', file]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stderr, '');
  }

  function assertBody(path: string): void {
    assert.equal(sha(fs.readFileSync(path)), sha(BODY), `${path} holds the body`);
  }

  function assertNoTemp(tmp: TempDir): void {
    const left = fs.readdirSync(tmp.dir).filter((n) => n.endsWith('.part'));
    assert.deepEqual(left, [], 'no temporary file left');
  }

  it('a symbolic link stays a link; the file it points to gets the body', POSIX, async () => {
    await withTempDir(async (tmp) => {
      fs.writeFileSync(tmp.file('real'), 'previous');
      fs.chmodSync(tmp.file('real'), 0o600);
      fs.symlinkSync('real', tmp.file('link'));
      await download(tmp.file('link'));
      assert.ok(fs.lstatSync(tmp.file('link')).isSymbolicLink(), 'still a link');
      assert.equal(fs.readlinkSync(tmp.file('link')), 'real');
      assertBody(tmp.file('real'));
      assert.equal(fs.statSync(tmp.file('real')).mode & 0o777, 0o600);
      assertNoTemp(tmp);
    });
  });

  it('a link to a file not there yet: the file is made where the link points', POSIX, async () => {
    await withTempDir(async (tmp) => {
      fs.mkdirSync(tmp.file('sub'));
      fs.symlinkSync('sub/made', tmp.file('dangling'));
      await download(tmp.file('dangling'));
      assert.ok(fs.lstatSync(tmp.file('dangling')).isSymbolicLink(), 'still a link');
      assertBody(tmp.file('sub/made'));
      assertNoTemp(tmp);
    });
  });

  it(
    'an existing file keeps its permissions (a 0640 file does not become 0644)',
    POSIX,
    async () => {
      await withTempDir(async (tmp) => {
        for (const mode of [0o640, 0o600, 0o755]) {
          const file = tmp.file(`mode-${mode.toString(8)}`);
          fs.writeFileSync(file, 'previous');
          fs.chmodSync(file, mode);
          await download(file);
          assertBody(file);
          assert.equal(fs.statSync(file).mode & 0o777, mode, `mode ${mode.toString(8)} kept`);
        }
        assertNoTemp(tmp);
      });
    },
  );

  it(
    'the temporary file that replaces a 0600 FILE is never open to others, not even before its mode is set (it was created 0644 first)',
    POSIX,
    async () => {
      await withTempDir(async (tmp) => {
        const file = tmp.file('secret');
        fs.writeFileSync(file, 'previous');
        fs.chmodSync(file, 0o600);
        // Each temporary file's mode as soon as it appears: the watcher's callback runs
        // while the sink still waits for its chown and chmod (two turns of the threadpool).
        const seen: number[] = [];
        const watcher = fs.watch(tmp.dir, (_event, name) => {
          if (name === null || !String(name).endsWith('.part')) return;
          try {
            seen.push(fs.statSync(tmp.file(String(name))).mode & 0o777);
          } catch {
            // Gone already.
          }
        });
        try {
          for (let i = 0; i < 5; i++) {
            const sink = await FileSink.create(file);
            await sink.abort();
            await new Promise((resolve) => setTimeout(resolve, 20));
          }
        } finally {
          watcher.close();
        }
        assert.ok(seen.length > 0, 'the watcher saw the temporary files');
        for (const mode of seen) assert.equal(mode & 0o077, 0, `created ${mode.toString(8)}`);
        assert.equal(tempMode(fs.statSync(file)), 0o600);
        assert.equal(tempMode(null), 0o666);
        assertNoTemp(tmp);
      });
    },
  );

  it('a file with two hard links: both names show the body', POSIX, async () => {
    await withTempDir(async (tmp) => {
      fs.writeFileSync(tmp.file('one'), 'previous');
      fs.linkSync(tmp.file('one'), tmp.file('two'));
      await download(tmp.file('one'));
      assertBody(tmp.file('one'));
      assertBody(tmp.file('two'));
      assert.equal(fs.statSync(tmp.file('one')).ino, fs.statSync(tmp.file('two')).ino);
      assertNoTemp(tmp);
    });
  });

  it('a FILE name of 255 bytes (the temporary name must fit the limit too)', async () => {
    await withTempDir(async (tmp) => {
      const name = 'é'.repeat(100) + 'x'.repeat(55); // 255 bytes in UTF-8
      assert.equal(Buffer.byteLength(name), 255);
      await download(tmp.file(name));
      assertBody(tmp.file(name));
      assert.deepEqual(fs.readdirSync(tmp.dir), [name]);
    });
  });

  it('a file this user may not write: exit 23, the file unchanged (curl refuses it too)', async (t) => {
    // As root every file is writable: the command then runs as nobody (setpriv).
    const root = process.getuid?.() === 0;
    if (process.platform === 'win32' || (root && spawnSync('setpriv', ['--help']).status !== 0)) {
      t.skip('needs POSIX permissions (and setpriv when run as root)');
      return;
    }
    await withTempDir(async (tmp) => {
      fs.chmodSync(tmp.dir, 0o777);
      fs.writeFileSync(tmp.file('read-only'), 'previous');
      fs.chmodSync(tmp.file('read-only'), 0o444);
      const args = [url, '-o', tmp.file('read-only')];
      const r = root
        ? await runProgram('setpriv', [
            '--reuid=65534',
            '--regid=65534',
            '--clear-groups',
            process.execPath,
            MAIN,
            ...args,
          ])
        : await runCli(args);
      assertFailure(r, 23, /could not write to '.*read-only': EACCES/);
      assert.equal(fs.readFileSync(tmp.file('read-only'), 'utf8'), 'previous');
      assert.deepEqual(fs.readdirSync(tmp.dir), ['read-only']);
    });
  });

  it('a FILE in a directory that is not there: the message names FILE as given, not the temporary file (exit 23)', async () => {
    await withTempDir(async (tmp) => {
      const file = tmp.file('missing/out.bin');
      const r = await runCli([url, '-o', file]);
      // Before: "… open '<dir>/missing/.out.bin.<pid>-<tag>.part'".
      assertFailure(
        r,
        23,
        /^httplib: could not write to '.*\/missing\/out\.bin': ENOENT: .*, open$/,
      );
      assert.doesNotMatch(r.stderr, /\.part/);
    });
  });

  // Our own device nodes (/dev/null's and /dev/full's numbers) rather than the machine's:
  // as root, a regression would otherwise replace /dev/null with a file.
  const mknod = (path: string, minor: string): boolean =>
    process.platform === 'linux' && spawnSync('mknod', [path, 'c', '1', minor]).status === 0;
  it('a character device (made with mknod) stays a device', async (t) => {
    await withTempDir(async (tmp) => {
      if (!mknod(tmp.file('null'), '3')) {
        t.skip('needs Linux and the right to mknod (root)');
        return;
      }
      await download(tmp.file('null'));
      assert.ok(fs.lstatSync(tmp.file('null')).isCharacterDevice(), 'still a device');
      assert.deepEqual(fs.readdirSync(tmp.dir), ['null']);
    });
  });

  it('a device that is full (ENOSPC, like /dev/full): exit 23', async (t) => {
    await withTempDir(async (tmp) => {
      if (!mknod(tmp.file('full'), '7')) {
        t.skip('needs Linux and the right to mknod (root)');
        return;
      }
      const r = await runCli([url, '-o', tmp.file('full')]);
      assertFailure(r, 23, /could not write to '.*full': ENOSPC/);
      assert.ok(fs.lstatSync(tmp.file('full')).isCharacterDevice(), 'still a device');
      assert.deepEqual(fs.readdirSync(tmp.dir), ['full']);
    });
  });

  // stdout that is a file or a device (the shell's `>`): written at once from a reused
  // buffer, not through the stream (output.ts stdoutSink); the bytes must be the same.
  /** The command with its stdout redirected by the shell (`>` or `>>`) to `file`. */
  function redirected(op: '>' | '>>', file: string, args: readonly string[]) {
    return runProgram(
      'sh',
      ['-c', `exec "$@" ${op}"$OUT"`, 'sh', process.execPath, MAIN, ...args],
      {
        env: { ...process.env, OUT: file },
      },
    );
  }
  const SH = { skip: process.platform === 'win32' ? 'needs sh' : false };

  it('stdout redirected to a file (> FILE): the body, byte for byte', SH, async () => {
    await withTempDir(async (tmp) => {
      const r = await redirected('>', tmp.file('out'), [url]);
      assert.equal(r.code, 0, r.stderr);
      assertBody(tmp.file('out'));
    });
  });

  it('stdout appended to (>> FILE): what was there stays first', SH, async () => {
    await withTempDir(async (tmp) => {
      fs.writeFileSync(tmp.file('out'), 'before\n');
      const r = await redirected('>>', tmp.file('out'), [url]);
      assert.equal(r.code, 0, r.stderr);
      const got = fs.readFileSync(tmp.file('out'));
      assert.equal(got.subarray(0, 7).toString(), 'before\n');
      assert.equal(sha(got.subarray(7)), sha(BODY));
    });
  });

  it('-i with stdout redirected to a file: the head, then the body', SH, async () => {
    await withTempDir(async (tmp) => {
      const r = await redirected('>', tmp.file('out'), ['-i', url]);
      assert.equal(r.code, 0, r.stderr);
      const got = fs.readFileSync(tmp.file('out'));
      const end = got.indexOf('\r\n\r\n') + 4;
      assert.match(got.subarray(0, end).toString('latin1'), /^HTTP\/1\.1 200 OK\r\n/);
      assert.match(
        got.subarray(0, end).toString('latin1'),
        new RegExp(`content-length: ${BODY.length}\r\n`, 'i'),
      );
      assert.equal(sha(got.subarray(end)), sha(BODY));
    });
  });

  it('stdout redirected to a full device: exit 23', async (t) => {
    await withTempDir(async (tmp) => {
      if (!mknod(tmp.file('full'), '7')) {
        t.skip('needs Linux and the right to mknod (root)');
        return;
      }
      const r = await redirected('>', tmp.file('full'), [url]);
      assertFailure(r, 23, /could not write to stdout: ENOSPC/);
    });
  });
});
