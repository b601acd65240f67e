/**
 * Arguments and attributes of the wrong type through the blocking entry (found by an
 * argument-type fuzzer): each fails the call that was given it, with the main entry's
 * TypeError where it has one, before a byte is sent; none of them may break the channel
 * to the worker or the worker itself, so the other connections carry on.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import * as main from '../../src/index.ts';
import { currentWorker, testHook, transact } from '../../src/sync/channel.ts';
import { directTransport } from '../../src/sync/direct.ts';
import { Encoder } from '../../src/sync/wire.ts';
import * as httplib from '../../src/sync.ts';
import { connectionOn, noUncaught, type Peer, startPeer, thrown } from './peer.ts';

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

/** A new connection's request and response, which must not take long. */
function freshWorks(): void {
  const started = Date.now();
  const conn = new httplib.HTTPConnection('127.0.0.1', peer.http, { timeout: 3 });
  conn.request('GET', '/hello');
  assert.equal(conn.getresponse().read().toString(), 'hello\n');
  conn.close();
  assert.ok(Date.now() - started < 3000, 'a fresh connection answers at once');
}

/** A connection run by the worker's client (not the direct transport). */
function workerConnection(port: number): httplib.HTTPConnection {
  const saved = directTransport.enabled;
  directTransport.enabled = false;
  try {
    return new httplib.HTTPConnection('127.0.0.1', port);
  } finally {
    directTransport.enabled = saved;
  }
}

/** Connections of both transports with a response each, unread: they must outlive what follows. */
function liveResponses(): Array<() => void> {
  return [workerConnection(peer.http), new httplib.HTTPConnection('127.0.0.1', peer.http)].map(
    (conn) => {
      conn.request('GET', '/bytes?n=3000000');
      const response = conn.getresponse();
      assert.equal(response.read(10).length, 10);
      return () => {
        assert.equal(response.read().length, 3_000_000 - 10);
        conn.close();
      };
    },
  );
}

describe('a timeout attribute that is not seconds, set after the constructor', () => {
  for (const direct of [true, false]) {
    it(`${direct ? 'direct' : 'worker'} transport: TypeError at the request, before a byte is sent, as the main entry`, () => {
      const conn = direct
        ? new httplib.HTTPConnection('127.0.0.1', peer.http)
        : workerConnection(peer.http);
      for (const [timeout, message] of [
        ['x', 'timeout must be a number of seconds or null, got string'],
        [-1, 'timeout value must be non-negative'],
        [Number.NaN, 'timeout must be a number of seconds or null, got NaN'],
      ] as const) {
        (conn as { timeout: unknown }).timeout = timeout;
        const err = thrown(() => conn.request('GET', '/hello')) as Error;
        assert.equal(err.name, 'TypeError', String(err));
        assert.equal(err.message, message);
        conn.close();
      }
      conn.timeout = 3;
      conn.request('GET', '/hello');
      assert.equal(conn.getresponse().read().toString(), 'hello\n');
      // Direct transport, on the kept-alive socket: a request refused, and a
      // getresponse() refused, leave the connection usable. (The main entry, which the
      // worker runs, checks the attribute only when it connects.)
      if (!direct) {
        conn.close();
        return;
      }
      (conn as { timeout: unknown }).timeout = 'x';
      assert.equal((thrown(() => conn.request('GET', '/hello')) as Error).name, 'TypeError');
      conn.timeout = 3;
      conn.request('GET', '/hello');
      (conn as { timeout: unknown }).timeout = 'x';
      assert.equal((thrown(() => conn.getresponse()) as Error).name, 'TypeError');
      conn.timeout = 3;
      assert.equal(conn.getresponse().read().toString(), 'hello\n');
      conn.request('GET', '/hello');
      assert.equal(conn.getresponse().read().toString(), 'hello\n');
      conn.close();
    });
  }
});

describe('a port that is not an integer 0-65535, set after the constructor', () => {
  for (const port of [10n, 70_000, 1.5]) {
    it(`${typeof port} ${String(port)}: TypeError at the request, and every connection still works`, () => {
      const conn = new httplib.HTTPConnection('127.0.0.1', peer.http, { timeout: 3 });
      (conn as { port: unknown }).port = port;
      const err = thrown(() => conn.request('GET', '/hello')) as Error;
      assert.equal(err.name, 'TypeError');
      assert.equal(err.message, `port must be an integer 0-65535, got ${String(port)}`);
      // The same connection, its port mended, and a new one.
      conn.port = peer.http;
      conn.request('GET', '/hello');
      assert.equal(conn.getresponse().read().toString(), 'hello\n');
      conn.close();
      freshWorks();
    });
  }

  for (const direct of [true, false]) {
    it(`set on a kept-alive connection (${direct ? 'direct' : 'worker'} transport): TypeError at the request, nothing sent on the open socket`, () => {
      const conn = direct
        ? new httplib.HTTPConnection('127.0.0.1', peer.http, { timeout: 3 })
        : workerConnection(peer.http);
      try {
        conn.request('GET', '/hello');
        assert.equal(conn.getresponse().read().toString(), 'hello\n');
        // Before: the automatic Host line took the attribute verbatim on the open socket.
        for (const [port, shown] of [
          ['81\r\nX-Injected: yes', "'81\\r\\nX-Injected: yes'"],
          ['abc', "'abc'"],
          [-5, '-5'],
        ] as const) {
          (conn as { port: unknown }).port = port;
          const err = thrown(() => conn.request('GET', '/hello')) as Error;
          assert.equal(err.name, 'TypeError', String(err));
          assert.equal(err.message, `port must be an integer 0-65535, got ${shown}`);
        }
        conn.port = peer.http;
        conn.request('GET', '/echo');
        const record = JSON.parse(conn.getresponse().read().toString()) as {
          url: string;
          headers: string[];
        };
        // The next answer is the next request's: nothing was sent in between.
        assert.equal(record.url, '/echo');
        assert.ok(!record.headers.includes('X-Injected'));
      } finally {
        conn.close();
      }
    });
  }

  it('on a connection of the worker: its TypeError, the worker and the other connections unharmed', () => {
    const live = liveResponses();
    const worker = currentWorker();
    const conn = workerConnection(peer.http);
    (conn as { port: unknown }).port = 10n;
    const err = thrown(() => conn.request('GET', '/hello')) as Error;
    assert.equal(err.name, 'TypeError', String(err));
    // Node's, as the main entry's connect throws it (not the reply's failure to cross).
    assert.match(err.message, /port/);
    assert.doesNotMatch(err.message, /could not send/);
    assert.equal(conn.port, 10n, 'the attribute is as the caller set it');
    assert.equal(currentWorker(), worker, 'the worker lives on');
    for (const finish of live) finish();
    freshWorks();
  });

  it('a command JSON cannot hold throws with nothing sent: the channel stays in step', () => {
    freshWorks();
    const encoder = new Encoder();
    // A value for the port goes with it: it must not be taken for the next command's.
    encoder.ported.push(new SharedArrayBuffer(64));
    assert.throws(
      () => transact({ c: 'nop', bad: 10n as never }, encoder, null),
      /serialize a BigInt/,
    );
    freshWorks();
  });

  it('a message too large for the shared area goes before its ported values, as they are taken', () => {
    const worker = currentWorker();
    const encoder = new Encoder();
    const args = [300_000, 200_000, 100_000].map((n) => encoder.bytes(Buffer.alloc(n)));
    assert.equal(encoder.ported.length, 1);
    assert.equal(transact({ c: 'nop', a: args }, encoder, null).json.v, null);
    assert.equal(currentWorker(), worker, 'the worker lives on');
    freshWorks();
  });
});

describe('header values whose String() throws, on both transports', () => {
  // Header values of any object type are converted with String(), as Python's str().
  class QuotaError extends RangeError {}
  const mine = new QuotaError('no text for you');
  const boom = (): never =>
    ({
      toString() {
        throw mine;
      },
    }) as never;
  const notText = (): never => ({ toString: () => ({}) }) as never;
  // Before: the object crossed to the worker with a stand-in toString giving undefined,
  // and `Authorization: undefined` was sent.
  for (const [label, value, check] of [
    [
      'a toString that throws',
      boom,
      // The very object, as the main entry and the direct transport throw it (before: a
      // copy, a RangeError but not a QuotaError).
      (e: Error) => e === mine && e instanceof QuotaError,
    ],
    ['a toString giving an object', notText, (e: Error) => e.name === 'TypeError'],
  ] as const) {
    for (const direct of [true, false])
      it(`${label}: request(), putheader() and set_tunnel() throw it, nothing is sent (${direct ? 'direct' : 'worker'} transport)`, () => {
        const conn = connectionOn(direct, peer.http);
        try {
          for (const call of [
            () => conn.request('GET', '/hello', null, { Authorization: value() }),
            () => {
              conn.putrequest('GET', '/hello');
              conn.putheader(value(), 'x');
            },
            () => {
              conn.putrequest('GET', '/hello');
              conn.putheader('Authorization', value());
            },
            () => conn.set_tunnel('t.example', 80, { 'Proxy-Authorization': value() }),
          ]) {
            const err = thrown(call) as Error;
            assert.ok(check(err), String(err));
            conn.close();
          }
          conn.request('GET', '/echo');
          const record = JSON.parse(conn.getresponse().read().toString()) as {
            url: string;
            headers: string[];
          };
          assert.equal(record.url, '/echo', 'the first request the server saw');
          assert.ok(!record.headers.includes('Authorization'));
        } finally {
          conn.close();
        }
      });
  }

  it('a started request moved to the worker by set_tunnel(): each putheader value is converted once, and that text is sent', () => {
    if (!directTransport.enabled) return; // only a direct connection moves
    let calls = 0;
    const counting = {
      toString() {
        calls += 1;
        return `v${calls}`;
      },
    };
    const conn = new httplib.HTTPConnection('127.0.0.1', peer.raw, { timeout: 3 });
    try {
      conn.putrequest('GET', '/echo-head');
      conn.putheader('X-Count', counting as never);
      conn.putheader('X-Folded', 'a', 2);
      conn.set_tunnel('tunnel.test', 80);
      conn.endheaders();
      const head = conn.getresponse().read().toString('latin1');
      // Before: the move replayed putheader with the object, whose toString ran again.
      assert.equal(calls, 1, 'toString ran once');
      assert.equal(
        head,
        `GET /echo-head HTTP/1.1\r\nHost: 127.0.0.1:${peer.raw}\r\nAccept-Encoding: identity\r\n` +
          'X-Count: v1\r\nX-Folded: a\r\n\t2\r\n\r\n',
      );
    } finally {
      conn.close();
    }
  });
});

describe('typed arrays that are not bytes, as header values, on both transports', () => {
  class Wide extends Uint16Array {}
  for (const direct of [true, false]) {
    it(`${direct ? 'direct' : 'worker'} transport: a subclass of Uint16Array is refused as the main entry refuses it`, () => {
      const conn = connectionOn(direct, peer.http);
      try {
        // Before (worker): it crossed by its own class name, was rebuilt as a Uint8Array
        // and sent as bytes ('BADC').
        const err = thrown(() =>
          conn.request('GET', '/echo', null, { 'X-V': new Wide([0x4142, 0x4344]) as never }),
        ) as Error;
        assert.equal(err.name, 'TypeError', String(err));
        assert.match(err.message, /: a Wide, not bytes|: a Uint16Array, not bytes/);
        // A body of that class is still its bytes.
        conn.request('POST', '/echo', new Wide([0x4142]));
        const record = JSON.parse(conn.getresponse().read().toString()) as { body: string };
        assert.equal(record.body, 'BA');
      } finally {
        conn.close();
      }
    });
  }
});

describe('attribute values of any type never stop the worker', () => {
  it('HTTP(host, port, strict=10n): a truthy strict; the other connections carry on', () => {
    const live = liveResponses();
    const worker = currentWorker();
    const h = new httplib.HTTP('127.0.0.1', peer.http, 10n as never);
    h.putrequest('GET', '/hello');
    h.endheaders();
    assert.equal(h.getreply()[0], 200);
    assert.equal(h.getfile()?.strict, 10n);
    assert.equal(h.getfile()?.read().toString(), 'hello\n');
    h.close();
    assert.equal(currentWorker(), worker, 'the worker lives on');
    for (const finish of live) finish();
  });

  it('set_debuglevel(10n) is level 10: the debug output is written, the worker lives on', () => {
    const live = liveResponses();
    const worker = currentWorker();
    const h = new httplib.HTTP('127.0.0.1', peer.http);
    const out: string[] = [];
    h._conn.debugOutput = (text) => out.push(text);
    h.set_debuglevel(10n as never);
    h.putrequest('GET', '/hello');
    h.endheaders();
    assert.equal(h.getreply()[0], 200);
    assert.equal(h.getfile()?.debuglevel, 10n);
    assert.equal(h.getfile()?.read().toString(), 'hello\n');
    h.close();
    const text = out.join('');
    assert.match(text, /^send: 'GET \/hello HTTP\/1\.0\\r\\n/);
    assert.match(text, /reply: 'HTTP\/1\.1 200 OK\\r\\n'/);
    assert.equal(currentWorker(), worker, 'the worker lives on');
    for (const finish of live) finish();
  });

  it("a reply JSON cannot hold is that call's TypeError, not the worker's end", () => {
    const live = liveResponses();
    const worker = currentWorker();
    const err = thrown(() => testHook('unsendable')) as Error;
    assert.equal(err.name, 'TypeError');
    assert.match(err.message, /could not send a value back: .*BigInt/);
    assert.equal(currentWorker(), worker, 'the worker lives on');
    for (const finish of live) finish();
    freshWorks();
  });
});

describe("options of the wrong type: the main entry's TypeError, from the constructor", () => {
  for (const debugOutput of ['x', {}, 1]) {
    it(`debugOutput ${JSON.stringify(debugOutput)}`, () => {
      const options = { debugOutput: debugOutput as never };
      const ours = thrown(() => new httplib.HTTPConnection('127.0.0.1', peer.http, options));
      const theirs = thrown(() => new main.HTTPConnection('127.0.0.1', peer.http, options));
      assert.ok(ours instanceof TypeError);
      assert.match((ours as Error).message, /^debugOutput must be a function or a writable stream/);
      assert.equal((ours as Error).message, (theirs as Error).message);
    });
  }

  for (const context of [{}, 'x']) {
    it(`legacy HTTPS context ${JSON.stringify(context)}`, () => {
      const options = { context: context as never };
      const ours = thrown(() => new httplib.HTTPS('localhost', 1, options));
      const theirs = thrown(() => new main.HTTPS('localhost', 1, options));
      assert.ok(ours instanceof TypeError);
      assert.match((ours as Error).message, /^context must be an ssl\.SSLContext/);
      assert.equal((ours as Error).message, (theirs as Error).message);
    });
  }
});

describe("an option a call does not have: the main entry's TypeError (Python's unexpected keyword argument)", () => {
  it('constructors, both transports', () => {
    for (const [name, make, makeMain] of [
      [
        'HTTPConnection',
        () => new httplib.HTTPConnection('127.0.0.1', peer.http, { timout: 5 } as never),
        () => new main.HTTPConnection('127.0.0.1', peer.http, { timout: 5 } as never),
      ],
      [
        'HTTPSConnection',
        () => new httplib.HTTPSConnection('localhost', 1, { contex: 5 } as never),
        () => new main.HTTPSConnection('localhost', 1, { contex: 5 } as never),
      ],
      [
        'HTTPS',
        () => new httplib.HTTPS('localhost', 1, { timeout: 5 } as never),
        () => new main.HTTPS('localhost', 1, { timeout: 5 } as never),
      ],
    ] as const) {
      for (const direct of [true, false]) {
        const saved = directTransport.enabled;
        directTransport.enabled = direct && saved;
        try {
          const ours = thrown(make);
          assert.ok(ours instanceof TypeError, `${name}: ${String(ours)}`);
          assert.match(ours.message, /got an unexpected keyword argument/);
          assert.equal(ours.message, (thrown(makeMain) as Error).message, name);
        } finally {
          directTransport.enabled = saved;
        }
      }
    }
  });

  it("a subclass of the caller's may take options of its own, as on the main entry (both transports)", () => {
    class Mine extends httplib.HTTPConnection {
      readonly tag: string;
      constructor(options: { tag: string; timeout: number }) {
        super('127.0.0.1', peer.http, options);
        this.tag = options.tag;
      }
    }
    class MineTls extends httplib.HTTPSConnection {
      constructor(options: { tag: string; timeout: number }) {
        super('localhost', 1, options);
      }
    }
    for (const direct of [true, false]) {
      const saved = directTransport.enabled;
      directTransport.enabled = direct && saved;
      try {
        const conn = new Mine({ tag: 'x', timeout: 7 });
        assert.equal(conn.timeout, 7);
        assert.equal(conn.tag, 'x');
        conn.request('GET', '/hello');
        assert.equal(conn.getresponse().read().toString(), 'hello\n');
        conn.close();
        new MineTls({ tag: 'y', timeout: 7 }).close();
      } finally {
        directTransport.enabled = saved;
      }
    }
  });

  for (const direct of [true, false]) {
    it(`calls and reads (${direct ? 'direct' : 'worker'} transport): refused, nothing sent, the connection carries on`, () => {
      const conn = connectionOn(direct, peer.http);
      try {
        const refused = (call: string, key: string) => (err: unknown) =>
          err instanceof TypeError &&
          err.message.startsWith(`${call} got an unexpected keyword argument '${key}'`);
        assert.throws(
          () => conn.putrequest('GET', '/', { skip_hots: 1 } as never),
          refused('putrequest()', 'skip_hots'),
        );
        conn.close();
        assert.throws(
          () => conn.request('GET', '/hello', null, null, { encode_chunkd: 1 } as never),
          refused('request()', 'encode_chunkd'),
        );
        conn.request('GET', '/hello');
        assert.throws(() => conn.getresponse({ x: 1 } as never), refused('getresponse()', 'x'));
        const r = conn.getresponse();
        assert.throws(() => r.read(null, { y: 1 } as never), refused('read()', 'y'));
        assert.throws(() => r.read1(-1, { y: 1 } as never), refused('read1()', 'y'));
        assert.equal(r.read().toString(), 'hello\n');
      } finally {
        conn.close();
      }
    });
  }
});

describe('options that are not an object, and flags by their truth, as in the main entry', () => {
  const refused =
    /takes its options as an object \(\{ name: value \}, Python's keyword arguments\), got /;

  it("set_debuglevel('x') is the main entry's TypeError", () => {
    const conn = new httplib.HTTPConnection('127.0.0.1', peer.http);
    const ours = thrown(() => conn.set_debuglevel('x' as never));
    const theirs = thrown(() =>
      new main.HTTPConnection('127.0.0.1', 1).set_debuglevel('x' as never),
    );
    assert.ok(ours instanceof TypeError);
    assert.equal((ours as Error).message, 'set_debuglevel() takes a number, got string');
    assert.equal((ours as Error).message, (theirs as Error).message);
    conn.close();
  });

  it('constructors: a positional option from Python is refused; null is no options', () => {
    assert.throws(() => new httplib.HTTPConnection('127.0.0.1', peer.http, 10 as never), refused);
    assert.throws(() => new httplib.HTTPS('localhost', 1, 'key.pem' as never), refused);
    new httplib.HTTPConnection('127.0.0.1', peer.http, null as never).close();
    new httplib.HTTPS('localhost', 1, null as never).close();
  });

  for (const [name, make] of [
    ['direct', () => new httplib.HTTPConnection('127.0.0.1', peer.http)],
    ['worker', () => workerConnection(peer.http)],
  ] as const) {
    it(`calls (${name} transport): refused before anything is sent; encode_chunked: 1 frames`, async () => {
      const conn = make();
      try {
        const before = (await peer.records()).length;
        assert.throws(() => conn.putrequest('GET', '/hello', 1 as never), refused);
        assert.throws(() => conn.request('GET', '/hello', null, null, 'x' as never), refused);
        assert.equal((await peer.records()).length, before, 'nothing was sent');
        conn.request('GET', '/hello');
        assert.throws(() => conn.getresponse(5 as never), refused);
        const response = conn.getresponse();
        assert.throws(() => response.read(null, 5 as never), refused);
        assert.equal(response.read().toString(), 'hello\n');
        conn.request(
          'POST',
          '/echo',
          'xyz',
          { 'Transfer-Encoding': 'chunked' },
          {
            encode_chunked: 1 as never,
          },
        );
        const echoed = JSON.parse(conn.getresponse().read().toString()) as { body: string };
        assert.equal(echoed.body, 'xyz', 'the body went framed in chunks');
        // NaN is true in Python (bool(nan)): framed too.
        conn.request(
          'POST',
          '/echo',
          'abc',
          { 'Transfer-Encoding': 'chunked' },
          {
            encode_chunked: NaN as never,
          },
        );
        const again = JSON.parse(conn.getresponse().read().toString()) as { body: string };
        assert.equal(again.body, 'abc', 'the body went framed in chunks');
      } finally {
        conn.close();
      }
    });
  }
});
