/**
 * The blocking API (`httplib-ts/sync`, issue 15): the module's surface is the main
 * entry's, calls block and return values, responses read synchronously, exceptions are
 * the main entry's classes, thrown from the call that caused them.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import * as main from '../../src/index.ts';
import * as httplib from '../../src/sync.ts';
import {
  connectionOn,
  newSocketsTo,
  noUncaught,
  type Peer,
  pattern,
  socketsTo,
  startPeer,
  thrown,
  untilSocketsClosed,
} from './peer.ts';

noUncaught();
let peer: Peer;
before(async () => {
  peer = await startPeer();
  httplib.setdefaulttimeout(10);
});
after(async () => {
  httplib.setdefaulttimeout(null);
  await peer.close();
});

describe('the module', () => {
  it('has every export of the main entry, under the same names', () => {
    assert.deepEqual(Object.keys(httplib).sort(), Object.keys(main).sort());
  });

  it('shares everything but the classes whose calls block: constants, functions, exceptions, ssl', () => {
    const own = new Set(['HTTPConnection', 'HTTPSConnection', 'HTTPResponse', 'HTTP', 'HTTPS']);
    for (const [name, value] of Object.entries(main)) {
      const twin = (httplib as Record<string, unknown>)[name];
      if (own.has(name)) assert.notEqual(twin, value, name);
      else assert.equal(twin, value, name);
    }
    assert.equal(httplib.HTTPConnection.default_port, 80);
    assert.equal(httplib.HTTPSConnection.default_port, 443);
    assert.equal(new httplib.HTTPSConnection('localhost') instanceof httplib.HTTPConnection, true);
  });
});

describe('a session, as Python has it', () => {
  it('request returns once sent, getresponse returns the response, read returns a Buffer', () => {
    const conn = new httplib.HTTPConnection(`127.0.0.1:${peer.http}`);
    const socketOf = (c: httplib.HTTPConnection): httplib.SocketInfo | null => c.sock;
    assert.equal(socketOf(conn), null);
    assert.equal(conn.request('GET', '/hello'), undefined);
    const r = conn.getresponse();
    assert.ok(r instanceof httplib.HTTPResponse);
    assert.equal(r.status, 200);
    assert.equal(r.reason, 'OK');
    assert.equal(r.version, 11);
    assert.equal(r.getheader('content-type'), 'text/plain');
    assert.ok(r.msg instanceof main.HTTPMessage);
    assert.equal(r.headers, r.msg);
    assert.deepEqual(r.getheaders()[0], ['Content-Type', 'text/plain']);
    assert.equal(r.length, 6);
    assert.equal(r.isclosed(), false);
    const body = r.read();
    assert.ok(Buffer.isBuffer(body));
    assert.equal(body.toString(), 'hello\n');
    assert.equal(r.isclosed(), true);
    assert.equal(r.length, 0);
    assert.equal(r.read().length, 0);
    // Kept alive: the same socket serves the next request.
    const sock = socketOf(conn);
    assert.equal(sock?.remotePort, peer.http);
    conn.request('GET', '/hello');
    conn.getresponse().read();
    assert.equal(socketOf(conn)?.localPort, sock?.localPort);
    conn.close();
    assert.equal(conn.sock, null);
  });

  it('reads in every way Python 3 reads: read(amt), readinto, read1, peek, readline, iteration, text, json', () => {
    const conn = new httplib.HTTPConnection('127.0.0.1', peer.http);
    conn.request('GET', '/bytes?n=100000');
    let r = conn.getresponse();
    const first = r.read(10);
    assert.deepEqual(first, pattern(10));
    const into = Buffer.alloc(50);
    assert.equal(r.readinto(into), 50);
    assert.deepEqual(into, pattern(60).subarray(10));
    assert.ok(r.peek().length > 0);
    const rest = Buffer.concat([...r]);
    assert.deepEqual(rest, pattern(100000).subarray(60));
    assert.equal(r.isclosed(), true);

    conn.request('GET', '/lines');
    r = conn.getresponse();
    assert.equal(r.readline().toString(), 'a\n');
    assert.equal(r.readline(1).toString(), 'b');
    assert.equal(r.read1().toString(), 'b\nccc\n');
    assert.equal(r.read1().length, 0);

    conn.request('GET', '/json');
    assert.deepEqual(conn.getresponse().json(), { a: [1, 'two', null] });
    conn.request('GET', '/hello');
    assert.equal(conn.getresponse().text('latin1'), 'hello\n');
    conn.close();
  });

  it('readlines(hint) as Python 3: every line, or lines until they hold hint bytes', () => {
    const conn = new httplib.HTTPConnection('127.0.0.1', peer.http);
    conn.request('GET', '/lines');
    const r = conn.getresponse();
    assert.throws(() => r.readlines(1.5), TypeError);
    assert.deepEqual(r.readlines(2).map(String), ['a\n']);
    assert.deepEqual(r.readlines(null).map(String), ['bb\n', 'ccc\n']);
    assert.deepEqual(r.readlines(), []);
    assert.equal(r.isclosed(), true);
    conn.close();
  });

  it('reads bodies larger than the shared area, with a known length and chunked', () => {
    const conn = new httplib.HTTPConnection('127.0.0.1', peer.http);
    for (const n of [1 << 20, (1 << 20) + 1, 3 << 20]) {
      conn.request('GET', `/bytes?n=${n}`);
      assert.deepEqual(conn.getresponse().read(), pattern(n), `${n} bytes`);
      conn.request('GET', `/chunked?n=${n}&size=70000`);
      assert.deepEqual(conn.getresponse().read(), pattern(n), `${n} bytes, chunked`);
    }
    conn.request('GET', `/bytes?n=${3 << 20}`);
    const r = conn.getresponse();
    const big = Buffer.alloc(2 << 20);
    assert.equal(r.readinto(big), 2 << 20);
    assert.deepEqual(big, pattern(2 << 20));
    assert.deepEqual(r.read(5 << 20), pattern(3 << 20).subarray(2 << 20));
    conn.close();
  });

  for (const direct of [true, false]) {
    it(`readinto1(b) as the main entry's (${direct ? 'direct' : 'worker'} transport): what has come, no more than b, in order, one chunk at most; a trickle piece by piece`, () => {
      const conn = connectionOn(direct, peer.http);
      try {
        for (const path of ['/bytes?n=3000000', '/chunked?n=3000000&size=70000']) {
          conn.request('GET', path);
          const r = conn.getresponse();
          const whole = Buffer.alloc(300_016, 0xee);
          const b = whole.subarray(8, 300_008);
          const got: Buffer[] = [];
          for (let n = r.readinto1(b); n > 0; n = r.readinto1(b)) {
            assert.ok(n <= b.length);
            if (path.startsWith('/chunked')) assert.ok(n <= 70000, `${n}: one chunk at most`);
            got.push(Buffer.from(b.subarray(0, n)));
          }
          assert.deepEqual(Buffer.concat(got), pattern(3000000), path);
          assert.ok(
            whole.subarray(0, 8).every((x) => x === 0xee),
            'written before b',
          );
          assert.ok(
            whole.subarray(300_008).every((x) => x === 0xee),
            'written past b',
          );
          assert.equal(r.readinto1(b), 0);
        }
      } finally {
        conn.close();
      }
      // A body whose rest is late: the bytes that came, without waiting for b to fill.
      const late = connectionOn(direct, peer.raw);
      try {
        late.request('GET', '/partial-stall');
        const r = late.getresponse();
        const b = Buffer.alloc(100);
        assert.equal(r.readinto1(b), 3);
        assert.equal(b.subarray(0, 3).toString(), 'abc');
      } finally {
        late.close();
      }
    });
  }

  it("the Buffers it returns are the caller's own: the next read does not change them", () => {
    const conn = new httplib.HTTPConnection('127.0.0.1', peer.http);
    conn.request('GET', '/bytes?n=200');
    const r = conn.getresponse();
    const a = r.read(100);
    const copy = Buffer.from(a);
    const b = r.read(100);
    assert.deepEqual(a, copy);
    assert.notDeepEqual(a, b);
    assert.ok(!(a.buffer instanceof SharedArrayBuffer), 'not shared memory');
    conn.close();
  });

  it("fileno() gives the socket's descriptor", () => {
    const conn = new httplib.HTTPConnection('127.0.0.1', peer.http);
    conn.request('GET', '/hello');
    const r = conn.getresponse();
    assert.ok(Number.isInteger(r.fileno()) && r.fileno() > 2);
    r.read();
    conn.close();
  });

  it('the legacy HTTP class: getreply, getfile, _conn', () => {
    const h = new httplib.HTTP('127.0.0.1', peer.http);
    assert.ok(h._conn instanceof httplib.HTTPConnection);
    assert.equal(h._conn.port, peer.http);
    h.putrequest('GET', '/echo');
    h.putheader('X-Legacy', 'yes');
    h.endheaders();
    const [status, reason, headers] = h.getreply();
    assert.equal(status, 200);
    assert.equal(reason, 'OK');
    assert.ok(headers instanceof main.HTTPMessage);
    assert.equal(h.headers, headers);
    // Python's `self.headers = response.msg` (before: a copy).
    assert.equal(headers, h.getfile()?.msg);
    const echoed = JSON.parse(h.getfile()?.read().toString() ?? '') as {
      url: string;
      headers: string[];
    };
    assert.equal(echoed.url, '/echo');
    assert.ok(echoed.headers.includes('X-Legacy'));
    assert.ok(!echoed.headers.includes('Host'), 'HTTP/1.0 without Host, as Python');
    h.close();
    assert.equal(h.getfile(), null);
  });

  it("the legacy HTTP class: close() without reading the reply closes the reply's socket", () => {
    // Python 2.7's close() drops self.file, whose last reference closes the socket; a
    // reply left unread kept its socket open in the worker (one per loop of getreply()).
    const before = socketsTo(peer.http);
    const h = new httplib.HTTP('127.0.0.1', peer.http);
    h.putrequest('GET', '/hello');
    h.endheaders();
    assert.equal(h.getreply()[0], 200);
    const file = h.getfile();
    const opened = newSocketsTo(peer.http, before);
    if (opened !== null) assert.equal(opened.size, 1);
    h.close();
    assert.equal(h.getfile(), null);
    assert.equal(file?.isclosed(), true);
    assert.equal(file?.read().length, 0);
    untilSocketsClosed(opened, 100);
  });

  it('the legacy HTTP and HTTPS classes take the default timeout of setdefaulttimeout(), as Python', () => {
    httplib.setdefaulttimeout(0.2);
    try {
      const h = new httplib.HTTP('127.0.0.1', peer.raw);
      const s = new httplib.HTTPS('127.0.0.1', peer.https);
      assert.equal(h._conn.timeout, 0.2);
      assert.equal(s._conn.timeout, 0.2);
      h.putrequest('GET', '/hang');
      h.endheaders();
      const started = Date.now();
      const err = thrown(() => h.getreply());
      assert.ok(err instanceof main.TimeoutError, String(err));
      assert.match((err as Error).message, /^timed out after 0\.2 s waiting for the response head/);
      assert.ok(Date.now() - started < 3000);
      h.close();
      s.close();
    } finally {
      httplib.setdefaulttimeout(10);
    }
  });

  it('the attributes Python code sets are sent to the worker before the next call', () => {
    const conn = new httplib.HTTPConnection('127.0.0.1', peer.raw);
    conn.auto_open = 0;
    assert.ok(thrown(() => conn.send('x')) instanceof main.NotConnected);
    conn.auto_open = 1;
    conn.timeout = 0.2;
    const started = Date.now();
    conn.request('GET', '/hang');
    const err = thrown(() => conn.getresponse());
    assert.ok(err instanceof main.TimeoutError, String(err));
    assert.ok(Date.now() - started < 3000);
    conn.close();
  });
});

describe('a read of no bytes from a body with nothing left', () => {
  for (const direct of [true, false]) {
    it(`ends the response, as Python's read(0); the next getresponse() works (${direct ? 'direct' : 'worker'} transport)`, () => {
      const conn = connectionOn(direct, peer.http);
      try {
        for (const [method, url] of [
          ['GET', '/bytes?n=0'],
          ['GET', '/status?code=204'],
          ['HEAD', '/hello'],
        ] as const) {
          conn.request(method, url);
          const r = conn.getresponse();
          assert.equal(r.read(0).length, 0);
          // Before (direct transport): left open, and the next getresponse() was
          // ResponseNotReady.
          assert.equal(r.isclosed(), true, `${method} ${url}`);
          conn.request('GET', '/hello');
          assert.equal(conn.getresponse().read().toString(), 'hello\n');
        }
      } finally {
        conn.close();
      }
    });
  }
});

describe('exceptions', () => {
  it("are the main entry's classes, thrown synchronously by the call that caused them", () => {
    const conn = new httplib.HTTPConnection('127.0.0.1', peer.http);
    let err = thrown(() => conn.getresponse());
    assert.ok(err instanceof main.ResponseNotReady, String(err));
    assert.equal((err as Error).name, 'ResponseNotReady');
    err = thrown(() => conn.putheader('X', 'y'));
    assert.ok(err instanceof main.CannotSendHeader);
    err = thrown(() => new httplib.HTTPConnection('host:port'));
    assert.ok(err instanceof main.InvalidURL);
    err = thrown(() => conn.request('GET', '/a b'));
    assert.ok(err instanceof main.InvalidURL);
    err = thrown(() => conn.request('GET', '/', null, { 'Bad Name': 'x' }));
    assert.ok(err instanceof TypeError);
    conn.close();
  });

  it('carry their attributes: IncompleteRead.partial (a Buffer) and expected', () => {
    const conn = new httplib.HTTPConnection('127.0.0.1', peer.raw);
    conn.request('GET', '/cut');
    const r = conn.getresponse();
    const err = thrown(() => r.read()) as main.IncompleteRead;
    assert.ok(err instanceof main.IncompleteRead);
    assert.ok(Buffer.isBuffer(err.partial));
    assert.equal(err.partial.toString(), 'hello');
    assert.equal(err.expected, 5);
    assert.equal(err.message, new main.IncompleteRead(Buffer.from('hello'), 5).message);
    // The stack shows the caller's call, not the worker's frames.
    assert.match(err.stack ?? '', /basics\.test\.ts/);
    assert.doesNotMatch(err.stack ?? '', /worker\.[jt]s/);
    conn.close();
  });

  it('Node system errors pass through with their code', () => {
    const conn = new httplib.HTTPConnection('127.0.0.1', 1);
    const err = thrown(() => conn.request('GET', '/')) as NodeJS.ErrnoException;
    assert.equal(err.code, 'ECONNREFUSED');
    assert.equal(err.syscall, 'connect');
  });

  it('a server that closes before answering is RemoteDisconnected', () => {
    const conn = new httplib.HTTPConnection('127.0.0.1', peer.raw);
    conn.request('GET', '/nothing');
    assert.ok(thrown(() => conn.getresponse()) instanceof main.RemoteDisconnected);
    conn.close();
  });
});

describe('set_tunnel', () => {
  for (const direct of [true, false]) {
    const transport = direct ? 'direct' : 'worker';
    it(`${transport} transport: a tunnel host that is no host is InvalidURL, as on the main entry, and nothing is sent`, () => {
      // Before, each went out in the CONNECT line: `CONNECT [localhost:8080]:9090`,
      // `CONNECT user@origin.example:443`, `CONNECT origin.example/x:443`.
      for (const [host, port, message] of [
        [
          'localhost:8080',
          9090,
          "tunnel host has a port, and port 9090 is given too: 'localhost:8080'",
        ],
        ['[::1]:8080', 9090, "tunnel host has a port, and port 9090 is given too: '[::1]:8080'"],
        ['[', 443, "tunnel host is not a host name or IP address: '['"],
        [
          'user@origin.example',
          443,
          "tunnel host is not a host name or IP address: 'user@origin.example'",
        ],
        [
          'origin.example/x',
          null,
          "tunnel host is not a host name or IP address: 'origin.example/x'",
        ],
      ] as const) {
        const conn = connectionOn(direct, peer.raw);
        try {
          const err = thrown(() => conn.set_tunnel(host, port)) as Error;
          assert.ok(err instanceof main.InvalidURL, String(err));
          assert.equal(err.message, message);
          assert.equal(conn._tunnel_host, null);
          // No tunnel was set: the request goes to the server itself.
          conn.request('GET', '/echo-head');
          assert.equal(
            conn.getresponse().read().toString('latin1'),
            `GET /echo-head HTTP/1.1\r\nHost: 127.0.0.1:${peer.raw}\r\nAccept-Encoding: identity\r\n\r\n`,
          );
        } finally {
          conn.close();
        }
      }
    });
  }
});

describe('set_tunnel keeps a copy of its headers (as Python 3.12+; 2.7 keeps the dict)', () => {
  for (const direct of [true, false]) {
    const transport = direct ? 'direct' : 'worker';
    it(`${transport} transport: after a 407, a header added to the object given is not sent; set_tunnel again sends it, as on the main entry`, () => {
      const conn = connectionOn(direct, peer.raw);
      const headers: Record<string, string> = { 'User-Agent': 'demo' };
      try {
        conn.set_tunnel('login.test', 80, headers);
        for (const _ of ['before', 'after the header is added']) {
          const err = thrown(() => conn.request('GET', '/echo-head')) as main.TunnelError;
          assert.ok(err instanceof main.TunnelError, String(err));
          assert.equal(err.status, 407);
          headers['Proxy-Authorization'] = 'Basic dXNlcjpwYXNz';
        }
        // The retry that works on every entry and in Python: set_tunnel() again.
        conn.set_tunnel('login.test', 80, headers);
        conn.request('GET', '/echo-head');
        assert.equal(
          conn.getresponse().read().toString('latin1'),
          'GET /echo-head HTTP/1.1\r\nHost: login.test\r\nAccept-Encoding: identity\r\n\r\n',
        );
      } finally {
        conn.close();
      }
    });
  }
});
