/**
 * Every way the built `httplib` command can fail (issue 8, item 1): one line on stderr
 * starting `httplib: `, nothing on stdout, and the exit code of the documented table;
 * and `--help` / `--version`, which explain every option and every exit code.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import * as fs from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { EXIT, EXIT_TABLE } from '../../src/cli/exit-codes.ts';
import { type RawServer, rawServer, scriptedServer } from '../integration/servers.ts';
import {
  assertFailure,
  closedPort,
  ensureBuilt,
  MAIN,
  ROOT,
  runCli,
  runProgram,
  tempDir,
  withTempDir,
} from './cli-harness.ts';

before(() => ensureBuilt());

describe('usage errors exit 2', () => {
  const cases: Array<[string, string[], RegExp]> = [
    ['no URL', [], /no URL given/],
    ['an unknown option', ['--bogus', 'http://x/'], /unknown option '--bogus'/],
    ['an option without its value', ['http://x/', '-H'], /-H, --header <value>' argument missing/],
    ['three positionals', ['GET', 'http://x/', 'extra'], /too many arguments: 'extra'/],
    ['a method that is not a token', ['GE T', 'http://x/'], /'GE T' is not a valid method/],
    ['-H without a colon', ['http://x/', '-H', 'NoColon'], /a header is 'Name: value'/],
    ['-H with a bad name', ['http://x/', '-H', 'Bad Name: v'], /not a valid header name/],
    ['-H with a CR in the value', ['http://x/', '-H', 'X: a\rb'], /holds CR, LF or NUL/],
    ['--timeout not a number', ['http://x/', '--timeout', 'soon'], /--timeout 'soon'/],
    ['--timeout 0', ['http://x/', '--timeout', '0'], /positive number of seconds/],
    ['--key without --cert', ['https://x/', '--key', 'k.pem'], /--key needs --cert/],
    ['-I with another method', ['POST', 'http://x/', '-I'], /-I sends HEAD/],
    ['-I with a body', ['http://x/', '-I', '-d', 'a'], /cannot send a body/],
    ['@FILE with another -d', ['http://x/', '-d', '@f', '-d', 'a'], /cannot be combined/],
    ['-d @ with no file name', ['http://x/', '-d', '@'], /a file name must follow/],
    ['-o with an empty name', ['http://x/', '-o', ''], /-o needs a file name/],
    ['demo with an option', ['demo', '-i'], /httplib-ts demo takes no option but -v/],
  ];
  for (const [what, args, message] of cases) {
    it(what, async () => {
      const r = await runCli(args);
      assertFailure(r, EXIT.USAGE, message);
      assert.match(r.stderr, /\(see httplib-ts --help\)\n$/);
    });
  }
});

describe('what the user typed is shown escaped: a line break or an escape sequence in it keeps the message one line', () => {
  it('-H, -X, METHOD, --timeout, an unknown option, too many arguments, URLs, --cacert, --cert, --key, -d @FILE, -o', async () => {
    const closed = `http://127.0.0.1:${await closedPort()}/`;
    await withTempDir(async (tmp) => {
      // [arguments, exit code, the line (after `httplib: `) must hold this]. Before: the
      // input echoed raw, the message on two lines or more, an ESC sequence sent to the
      // terminal as it was.
      const cases: Array<[string[], number, string]> = [
        [[closed, '-H', 'X-A\nB: v'], 2, "-H 'X-A\\nB: v': 'X-A\\nB' is not a valid header name"],
        [[closed, '-X', 'GET\nX'], 2, "'GET\\nX' is not a valid method"],
        [['\u001b[2J', closed], 2, "'\\u001b[2J' is not a valid method"],
        [[closed, '--timeout', '1\n2'], 2, "--timeout '1\\n2': a positive number"],
        [[closed, '--bo\ngus'], 2, "unknown option '--bo\\ngus'"],
        [[closed, 'a', 'b\nc'], 2, "too many arguments: 'b\\nc'"],
        [['PUT', closed, '-X', 'P\u009bT'], 2, "two methods given: 'PUT' and -X 'P\\u009bT'"],
        [['ftp://x.test/\u001b]0;title\u0007'], 3, "'ftp://x.test/\\u001b]0;title\\u0007'"],
        [['https://x.test/', '--cacert', '/no\nx'], 77, "from '/no\\nx': ENOENT"],
        [['https://x.test/', '--cert', '/no\u001bc'], 58, "certificate '/no\\u001bc': ENOENT"],
        [
          ['https://x.test/', '--cert', '/no/c', '--key', "k'\n"],
          58,
          "'/no/c' with the key 'k\\'\\n': ENOENT",
        ],
        [[closed, '-d', '@/no\nx'], 26, "could not read the body from '/no\\nx': ENOENT"],
      ];
      for (const [args, code, shown] of cases) {
        const r = await runCli(args);
        assertFailure(r, code, /./);
        assert.ok(r.stderr.includes(shown), `${JSON.stringify(args)}: ${r.stderr}`);
        // No control character but the line's end.
        // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are the point
        assert.doesNotMatch(r.stderr, /[\u0000-\u0009\u000b-\u001f\u007f-\u009f]/);
      }
      // -o: the file's name as given, escaped.
      const server = await rawServer((socket) =>
        socket.end('HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok'),
      );
      try {
        const out = tmp.file('not-a-dir');
        fs.writeFileSync(out, '');
        const r = await runCli([`http://127.0.0.1:${server.port}/`, '-o', `${out}/a\nb`]);
        assertFailure(r, EXIT.WRITE, /./);
        assert.ok(r.stderr.includes(`'${out}/a\\nb'`), r.stderr);
      } finally {
        await server.close();
      }
    });
  });
});

describe('URL errors', () => {
  it('an unsupported scheme exits 1', async () => {
    assertFailure(await runCli(['ftp://example.test/f']), 1, /unsupported URL scheme 'ftp'/);
  });
  it('a proxy that is not http:// exits 1', async () => {
    const r = await runCli(['http://x.test/', '-x', 'socks5://127.0.0.1:1']);
    assertFailure(r, 1, /only http:\/\/ proxies/);
  });
  it('a malformed URL exits 3', async () => {
    assertFailure(await runCli(['http://exa mple.test/']), 3, /malformed URL/);
    assertFailure(await runCli(['http://127.0.0.1:99999/']), 3, /malformed URL/);
    assertFailure(await runCli(['http://']), 3, /malformed URL/);
  });
  it('a malformed proxy exits 3', async () => {
    assertFailure(await runCli(['http://x.test/', '-x', 'bad host:1']), 3, /malformed proxy/);
  });
  it('a space or a control character anywhere in the URL or the proxy exits 3, shown escaped, nothing sent (curl: 3)', async () => {
    const srv = await rawServer((socket) =>
      socket.end('HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n'),
    );
    const base = `http://127.0.0.1:${srv.port}`;
    try {
      // Before: sent as GET /aX-Injected:%201, /ab, /a%20b, /ok, /ok (exit 0).
      const cases: Array<[string[], RegExp]> = [
        [[`${base}/a\r\nX-Injected: 1`], /malformed URL '.*\/a\\r\\nX-Injected: 1': .*'\\r'.*%0D/],
        [[`${base}/a\tb`], /malformed URL '.*\/a\\tb': .*'\\t'.*%09/],
        [[`${base}/a b`], /malformed URL '.*\/a b': a space at character \d+ .*%20/],
        [[`${base}/ok `], /malformed URL '.*\/ok ': a space/],
        [[` ${base}/ok`], /malformed URL ' http:.*': a space at character 1 /],
        [[`${base}/a\x1b[2Jb`], /malformed URL '.*\/a\\u001b\[2Jb'/],
        [[`${base}/a\x7f`], /malformed URL '.*\/a\\u007f'/],
        [[`${base}/`, '-x', `127.0.0.1:${srv.port}\n`], /malformed proxy '127\.0\.0\.1:\d+\\n'/],
        [[`${base}/`, '-x', ` 127.0.0.1:${srv.port}`], /malformed proxy ' 127.*': a space/],
      ];
      for (const [args, message] of cases) {
        assertFailure(await runCli(args), EXIT.BAD_URL, message);
      }
      assert.equal(srv.sockets.length, 0, 'nothing was connected');
    } finally {
      await srv.close();
    }
  });
});

describe('connection errors', () => {
  it('a refused connection exits 7', async () => {
    const port = await closedPort();
    const r = await runCli([`http://127.0.0.1:${port}/`]);
    assertFailure(
      r,
      7,
      new RegExp(
        `could not connect to 127\\.0\\.0\\.1 port ${port}: connection refused \\(ECONNREFUSED\\)`,
      ),
    );
  });
  it('a refused proxy exits 7', async () => {
    const port = await closedPort();
    const r = await runCli(['http://example.test/', '-x', `127.0.0.1:${port}`]);
    assertFailure(r, 7, new RegExp(`could not connect to the proxy 127\\.0\\.0\\.1 port ${port}`));
  });
  it('a host that does not resolve exits 6', async () => {
    const r = await runCli(['http://no-such-host.invalid/', '--timeout', '10']);
    assertFailure(r, 6, /could not resolve host 'no-such-host\.invalid'/);
  });
  it('a proxy that does not resolve exits 5', async () => {
    const r = await runCli(['http://example.test/', '-x', 'no-such-proxy.invalid:3128']);
    assertFailure(r, 5, /could not resolve proxy 'no-such-proxy\.invalid'/);
  });
  it('a name too long to look up (getaddrinfo EINVAL) is not resolved either: 6, or 5 for the proxy (was 7)', async () => {
    const long = `${'a'.repeat(63)}.`.repeat(5).concat('invalid');
    assert.ok(long.length > 255);
    const host = await runCli([`http://${long}/`, '--timeout', '10']);
    assertFailure(host, 6, /could not resolve host 'a{63}\./);
    const proxy = await runCli(['http://example.test/', '-x', `${long}:3128`]);
    assertFailure(proxy, 5, /could not resolve proxy 'a{63}\./);
  });
});

describe('connected, then reset: not a failed connect (7), as curl tells them apart', () => {
  // A server that resets once it has the first bytes (a CONNECT, or a TLS hello).
  const resetting = (): Promise<RawServer> =>
    rawServer((socket) => socket.once('data', () => socket.resetAndDestroy()));

  it('-x: the proxy resets on CONNECT for an https:// URL → 56, the proxy named', async () => {
    const proxy = await resetting();
    try {
      const r = await runCli(['-x', `127.0.0.1:${proxy.port}`, 'https://example.test/']);
      // Before: "could not connect to the proxy", exit 7 (the TCP connect had succeeded).
      assertFailure(
        r,
        EXIT.RECEIVE,
        /^httplib: the proxy 127\.0\.0\.1 port \d+ failed while answering the tunnel request to example\.test port 443: connection reset by peer \(ECONNRESET\)$/,
      );
    } finally {
      await proxy.close();
    }
  });

  it('https:// to a server that resets in the TLS handshake → 35', async () => {
    const srv = await resetting();
    try {
      const r = await runCli([`https://127.0.0.1:${srv.port}/`]);
      assertFailure(
        r,
        EXIT.TLS,
        /^httplib: TLS with 127\.0\.0\.1 failed: connection reset by peer \(ECONNRESET\)$/,
      );
    } finally {
      await srv.close();
    }
  });

  it('-x: the proxy accepts CONNECT, then the TLS handshake is reset → 35', async () => {
    const proxy = await rawServer((socket) => {
      let seen = 0;
      socket.on('data', () => {
        if (seen++ === 0) socket.write('HTTP/1.0 200 Connection established\r\n\r\n');
        else socket.resetAndDestroy();
      });
    });
    try {
      const r = await runCli(['-x', `127.0.0.1:${proxy.port}`, 'https://example.test/']);
      assertFailure(r, EXIT.TLS, /^httplib: TLS with example\.test failed: connection reset/);
    } finally {
      await proxy.close();
    }
  });

  it('-x with an http:// URL: what the proxy answers is said of the proxy, for the URL', async () => {
    const proxy = await rawServer((socket) =>
      socket.once('data', () => socket.end('SSH-2.0-x\r\n')),
    );
    try {
      const r = await runCli(['-x', `127.0.0.1:${proxy.port}`, 'http://example.test:81/']);
      // Before: "example.test port 81 did not answer in HTTP" (it was never asked).
      assertFailure(
        r,
        EXIT.WEIRD_REPLY,
        /^httplib: the proxy 127\.0\.0\.1 port \d+ \(for example\.test port 81\) did not answer in HTTP: /,
      );
    } finally {
      await proxy.close();
    }
  });
});

describe('server errors', () => {
  const servers: RawServer[] = [];
  after(async () => {
    for (const s of servers) await s.close();
  });
  const serve = async (replies: Parameters<typeof scriptedServer>[0]): Promise<string> => {
    const s = await scriptedServer(replies);
    servers.push(s);
    return `http://127.0.0.1:${s.port}/`;
  };

  it('a server that never answers: --timeout exits 28', async () => {
    const silent = await rawServer(() => {});
    servers.push(silent);
    const started = Date.now();
    const r = await runCli([`http://127.0.0.1:${silent.port}/`, '--timeout', '0.5']);
    assertFailure(r, 28, /timed out after 0\.5 s while receiving the response/);
    assert.ok(Date.now() - started < 5000, 'gave up in time');
  });

  it('a body that stalls: --timeout exits 28', async () => {
    const url = await serve(['HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc']);
    const r = await runCli([url, '--timeout', '0.3']);
    assert.equal(r.code, 28, r.stderr);
    assert.equal(r.out, 'abc', 'what arrived was written');
    assert.match(r.stderr, /^httplib: timed out after 0\.3 s while receiving the response\n$/);
  });

  it('an invalid status line exits 8', async () => {
    const url = await serve(['HTTP/1.1 abc Broken\r\n\r\n']);
    assertFailure(await runCli([url]), 8, /bad response from 127\.0\.0\.1 port \d+: BadStatusLine/);
  });

  it('an unknown HTTP version exits 8', async () => {
    const url = await serve(['HTTP/2.0 200 OK\r\n\r\n']);
    assertFailure(await runCli([url]), 8, /UnknownProtocol: HTTP\/2\.0/);
  });

  it('a bad Content-Length exits 8', async () => {
    const url = await serve([
      'HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello',
    ]);
    assertFailure(await runCli([url]), 8, /bad response from/);
  });

  it('a server that closes without answering exits 52', async () => {
    const url = await serve([(socket) => socket.end()]);
    assertFailure(await runCli([url]), 52, /empty reply from 127\.0\.0\.1 port \d+/);
  });

  it('a body cut short exits 18', async () => {
    const url = await serve([
      (socket) => socket.end('HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc'),
    ]);
    const r = await runCli([url]);
    assert.equal(r.code, 18, r.stderr);
    assert.equal(r.out, 'abc');
    assert.match(
      r.stderr,
      /^httplib: the connection to 127\.0\.0\.1 port \d+ closed after 3 bytes of 10\n$/,
    );
  });

  it('a chunked body cut short exits 18', async () => {
    const url = await serve([
      (socket) => socket.end('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhel'),
    ]);
    const r = await runCli([url]);
    assert.equal(r.code, 18, r.stderr);
    assert.equal(r.out, 'hel', 'what did arrive is written');
    assert.match(r.stderr, /closed after 3 bytes before the end of the body\n$/);
  });

  it('a chunked body whose framing breaks exits 56 and says so (the connection did not close)', async () => {
    // The server keeps the connection open: only the framing is wrong.
    const url = await serve([
      (socket) =>
        socket.write('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\nzz\r\n'),
    ]);
    const r = await runCli([url]);
    assert.equal(r.code, 56, r.stderr);
    assert.equal(r.out, 'hello', 'what did arrive is written');
    assert.match(
      r.stderr,
      /^httplib: the chunked body from 127\.0\.0\.1 port \d+ broke its framing after 5 bytes: invalid chunk size: [^\n]+\n$/,
    );
  });

  it('a connection reset in the body exits 56', async () => {
    const url = await serve([
      (socket) => {
        socket.write('HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\nabc', () =>
          setTimeout(() => socket.resetAndDestroy(), 100),
        );
      },
    ]);
    const r = await runCli([url]);
    assert.equal(r.code, 56, r.stderr);
    assert.match(
      r.stderr,
      /^httplib: connection to 127\.0\.0\.1 port \d+ failed while receiving the response: connection reset by peer \(ECONNRESET\)\n$/,
    );
  });
});

describe('the server goes while --data-binary @- waits for more of stdin', () => {
  const ends = [
    [
      'resets (RST)',
      (s: import('node:net').Socket) => s.resetAndDestroy(),
      /connection reset by peer \(ECONNRESET\)/,
    ],
    [
      'closes (FIN)',
      (s: import('node:net').Socket) => s.destroy(),
      /broken pipe \(the peer closed the connection\) \(EPIPE\)/,
    ],
  ] as const;
  for (const [how, end, why] of ends) {
    it(`the server ${how} after the first piece: exit 56 without waiting for stdin`, async () => {
      const srv = await rawServer((socket, index, server) => {
        let done = false;
        socket.on('data', () => {
          if (done || !(server.received[index] as Buffer).includes('first piece')) return;
          done = true;
          end(socket);
        });
      });
      try {
        // stdin gives one piece and is never ended: the command must not wait for it.
        const r = await runCli([`http://127.0.0.1:${srv.port}/up`, '--data-binary', '@-'], {
          stdin: (stdin) => stdin.write('first piece\n'),
        });
        assertFailure(
          r,
          EXIT.RECEIVE,
          new RegExp(
            `^httplib: connection to 127\\.0\\.0\\.1 port ${srv.port} failed while sending the request: ${why.source}$`,
          ),
        );
      } finally {
        await srv.close();
      }
    });
  }
});

describe('local files', () => {
  it("-d with a -H Content-Length shorter than the body is the arguments' conflict (2), before a byte is sent, not an unreadable body (26)", async () => {
    const srv = await rawServer(() => {});
    try {
      const r = await runCli([
        `http://127.0.0.1:${srv.port}/`,
        '-H',
        'Content-Length: 1',
        '-d',
        'hello',
      ]);
      assertFailure(
        r,
        2,
        /the request body is longer than the Content-Length given with -H \(1 bytes\): 5 bytes/,
      );
      assert.equal(Buffer.concat(srv.received).length, 0, 'nothing was sent');
    } finally {
      await srv.close();
    }
  });
  it('-d @FILE that cannot be read exits 26', async () => {
    const r = await runCli(['http://127.0.0.1:1/', '-d', '@/no/such/file']);
    assertFailure(r, 26, /could not read the body from '\/no\/such\/file': ENOENT/);
  });
  it('-d @FILE that shrinks while it is sent exits 26 (BodyLengthMismatch)', async () => {
    const size = 32 * 1024 * 1024;
    await withTempDir(async (tmp) => {
      const file = tmp.file('body.bin');
      fs.writeFileSync(file, Buffer.alloc(size, 0x61));
      // The server takes the head, then reads nothing until the file was truncated: the
      // command waits for drain with most of the file unread.
      let headSeen: () => void = () => {};
      const seen = new Promise<void>((resolve) => {
        headSeen = resolve;
      });
      const srv = await rawServer((socket) => {
        socket.once('data', () => {
          socket.pause();
          headSeen();
        });
      });
      try {
        const run = runCli([`http://127.0.0.1:${srv.port}/`, '-d', `@${file}`]);
        await seen;
        fs.truncateSync(file, 1000);
        srv.sockets[0]?.resume();
        assertFailure(
          await run,
          26,
          new RegExp(
            `the request body changed while it was sent: ${size} bytes declared, \\d+ read`,
          ),
        );
      } finally {
        await srv.close();
      }
    });
  });
  it('-d @DIRECTORY exits 26', async () => {
    const tmp = tempDir();
    try {
      const r = await runCli(['http://127.0.0.1:1/', '-d', `@${tmp.dir}`]);
      assertFailure(r, 26, /is a directory/);
    } finally {
      tmp.remove();
    }
  });
});

describe('--help and --version', () => {
  it('--help explains every option and every exit code, on stdout, exit 0', async () => {
    const r = await runCli(['--help']);
    assert.equal(r.code, 0);
    assert.equal(r.stderr, '');
    assert.match(r.out, /^httplib-ts \d+\.\d+\.\d+: /);
    assert.match(r.out, /Usage \(the command is installed as httplib-ts, and also as httplib\):\n/);
    assert.match(r.out, /\n {2}httplib-ts \[METHOD\] URL \[options\]/);
    assert.match(r.out, /httplib-ts demo/);
    for (const option of [
      '-H, --header',
      '-d, --data',
      '-d @FILE',
      '--data-binary',
      '@-',
      '-i, --include',
      '-I, --head',
      '-v, --verbose',
      '-o, --output',
      'progress bar',
      '-x, --proxy',
      '--cacert',
      '--cert',
      '--key',
      '-k, --insecure',
      '--timeout',
      '-f, --fail',
      '-X, --request METHOD',
      '--http0.9',
      '--path-as-is',
      '-h, --help',
      '-V, --version',
    ]) {
      assert.ok(r.out.includes(option), `--help mentions ${option}`);
    }
    for (const [code, meaning] of EXIT_TABLE) {
      assert.match(
        r.out,
        new RegExp(`\\n +${code} {2}${meaning.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\n`),
      );
    }
    assert.equal((await runCli(['-h'])).out, r.out);
  });

  it('--version prints the package version', async () => {
    const version = JSON.parse(fs.readFileSync(`${ROOT}/package.json`, 'utf8')).version;
    const r = await runCli(['--version']);
    assert.equal(r.code, 0);
    assert.equal(r.out, `httplib-ts ${version} (Node.js ${process.version})\n`);
    assert.equal((await runCli(['-V'])).out, r.out);
  });

  it("the README's Command line section lists the same exit codes", () => {
    const readme = fs.readFileSync(`${ROOT}/README.md`, 'utf8');
    const start = readme.indexOf('## Command line');
    assert.notEqual(start, -1, 'README has a Command line section');
    const section = readme.slice(start, readme.indexOf('\n## ', start + 1));
    for (const [code, meaning] of EXIT_TABLE) {
      assert.ok(section.includes(`| ${code} | ${meaning} |`), `README row for exit ${code}`);
    }
  });
});

describe('--data-binary @- with a directory on stdin', () => {
  it('exits 26 (curl: error reading a file) instead of sending an empty body', async () => {
    const srv = await rawServer(() => {});
    try {
      const r = await runProgram('sh', [
        '-c',
        'exec "$0" "$1" "$2" --data-binary @- < /',
        process.execPath,
        MAIN,
        `http://127.0.0.1:${srv.port}/`,
      ]);
      assertFailure(r, EXIT.READ, /could not read the body from stdin: it is a directory/);
      assert.equal(srv.sockets.length, 0, 'nothing was connected');
    } finally {
      await srv.close();
    }
  });

  it('stdin that cannot be read (opened for writing only: EBADF) is exit 26, not a connection failure (56); on Linux before the head is sent', async () => {
    const srv = await rawServer(() => {});
    const tmp = tempDir();
    try {
      const r = await runProgram('sh', [
        '-c',
        'exec "$0" "$1" "$2" --data-binary @- 0>>"$3"',
        process.execPath,
        MAIN,
        `http://127.0.0.1:${srv.port}/`,
        tmp.file('write-only'),
      ]);
      assertFailure(r, EXIT.READ, /could not read the body from stdin: .*EBADF/);
      if (process.platform === 'linux') {
        // Before: the head went out with the file's size as Content-Length. What was
        // sent has arrived once the server read the end of the connection.
        await Promise.all(srv.sockets.map((s) => (s.readableEnded ? null : once(s, 'end'))));
        assert.equal(Buffer.concat(srv.received).length, 0, 'nothing was sent');
      }
    } finally {
      tmp.remove();
      await srv.close();
    }
  });
});

describe('-d @FILE whose size says nothing of its bytes (Linux /proc)', {
  skip: process.platform !== 'linux',
}, () => {
  it('a /proc file (size 0) is sent whole, as curl sends it; one that fails to read (EIO) is exit 26 before connecting', async () => {
    const srv = await rawServer((socket) => {
      let got = '';
      socket.on('data', (d: Buffer) => {
        got += d.toString('latin1');
        const end = got.indexOf('\r\n\r\n');
        const length = /content-length: (\d+)/i.exec(got);
        if (end !== -1 && length !== null && got.length >= end + 4 + Number(length[1])) {
          socket.end('HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok');
        }
      });
    });
    try {
      // Before: "the request body changed while it was sent: 0 bytes declared", exit 26.
      const sent = await runCli([`http://127.0.0.1:${srv.port}/`, '-d', '@/proc/self/status']);
      assert.equal(sent.code, 0, sent.stderr);
      assert.equal(sent.out, 'ok');
      const request = (srv.received[0] as Buffer).toString('latin1');
      const declared = Number(/content-length: (\d+)/i.exec(request)?.[1]);
      const body = request.slice(request.indexOf('\r\n\r\n') + 4);
      assert.ok(
        declared > 0 && body.length === declared,
        `${declared} declared, ${body.length} sent`,
      );
      assert.match(body, /^Name:/);
      // Before: exit 56 ("the connection failed while sending the request: EIO").
      const before = srv.sockets.length;
      const failed = await runCli([`http://127.0.0.1:${srv.port}/`, '-d', '@/proc/self/mem']);
      assertFailure(failed, EXIT.READ, /could not read the body from '\/proc\/self\/mem': EIO/);
      assert.equal(srv.sockets.length, before, 'nothing was connected');
    } finally {
      await srv.close();
    }
  });
});
