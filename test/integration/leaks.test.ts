/**
 * No leaks (issue 3): after `close()`, after a response that closed the connection and
 * after an error, no socket or timer keeps the process alive
 * (`process.getActiveResourcesInfo()`) and no timer the library created is still pending;
 * an idle kept-alive connection does not keep a process alive (a child process that
 * never closes its connection exits by itself); 200 connect/request/close cycles leave
 * the number of open file descriptors unchanged.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { getEventListeners } from 'node:events';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import { performance } from 'node:perf_hooks';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { pathToFileURL } from 'node:url';
import {
  AbortError,
  BadStatusLine,
  HTTPConnection,
  IncompleteRead,
  RemoteDisconnected,
} from '../../src/index.ts';
import { runNode } from '../cli/cli-harness.ts';
import {
  closedPort,
  httpServer,
  liveResources,
  nextTurn,
  rawServer,
  scriptedServer,
  stalledListener,
  trackTimers,
} from './servers.ts';

const root = path.resolve(import.meta.dirname, '../..');
const fixture = path.join(import.meta.dirname, 'fixtures', 'idle-keepalive.ts');
const churn = path.join(import.meta.dirname, 'fixtures', 'signal-churn.ts');

const KEEP_ALIVE = 'HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello';
const CLOSING = 'HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 5\r\n\r\nhello';

function openFds(): number {
  return fs.readdirSync('/proc/self/fd').length;
}

/** signal-churn.ts in a child with --expose-gc: what it measured. */
async function churnIn(
  port: number,
  exchanges: number,
  reconnect: boolean,
): Promise<{ bytesPerCall: number; listeners: number; kept: boolean }> {
  const args = ['--expose-gc', '--import', 'tsx', churn, String(port), String(exchanges)];
  if (reconnect) args.push('reconnect');
  const result = await runNode(args, { cwd: root, timeoutMs: 120_000 });
  assert.equal(
    result.code,
    0,
    `exit: ${String(result.code ?? result.signal)}, stderr: ${result.stderr}`,
  );
  return JSON.parse(result.out) as { bytesPerCall: number; listeners: number; kept: boolean };
}

describe('no leaks', () => {
  let before: Record<string, number>;
  let timers: Awaited<ReturnType<typeof trackTimers>>;

  beforeEach(async () => {
    before = liveResources();
    timers = await trackTimers();
  });

  afterEach(async () => {
    await nextTurn();
    timers.stop();
    assert.deepEqual(liveResources(), before, 'a timer, socket or server was left behind');
    assert.deepEqual(timers.pending(), [], "a timer (ref'ed or not) is still pending");
  });

  describe('after close()', () => {
    it('of an idle kept-alive connection with a timeout', async () => {
      const srv = await scriptedServer([KEEP_ALIVE, KEEP_ALIVE]);
      const conn = new HTTPConnection('127.0.0.1', srv.port, { timeout: 30 });
      for (let i = 0; i < 2; i++) {
        await conn.request('GET', '/');
        const r = await conn.getresponse();
        assert.deepEqual(await r.read(), Buffer.from('hello'));
      }
      const sock = conn.sock as net.Socket;
      assert.equal(srv.sockets.length, 1, 'the connection was kept alive');
      conn.close();
      conn.close();
      assert.equal(sock.destroyed, true);
      await srv.close();
    });

    it('with a response half read', async () => {
      const srv = await scriptedServer(['HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nhello']);
      const conn = new HTTPConnection('127.0.0.1', srv.port, { timeout: 30 });
      await conn.request('GET', '/');
      const r = await conn.getresponse();
      assert.deepEqual(await r.read(2), Buffer.from('he'));
      conn.close();
      assert.equal(r.isclosed(), true);
      await srv.close();
    });

    it('while getresponse() waits', async () => {
      const srv = await rawServer(() => {});
      const conn = new HTTPConnection('127.0.0.1', srv.port, { timeout: 30 });
      await conn.request('GET', '/');
      const pending = conn.getresponse();
      setImmediate(() => conn.close());
      await assert.rejects(pending);
      await srv.close();
    });

    it('while the connect is still pending', async () => {
      const listener = await stalledListener();
      const conn = new HTTPConnection('127.0.0.1', listener.port);
      const pending = conn.connect();
      const outcome = pending.then(
        () => 'connected',
        (err: unknown) => err,
      );
      await new Promise((resolve) => setTimeout(resolve, 100));
      conn.close();
      // The pending connect ends (it would otherwise wait for the kernel to give up,
      // about two minutes), and the socket it was opening is destroyed.
      const result = await outcome;
      assert.ok(result instanceof AbortError, `connect() gave ${String(result)}`);
      assert.equal(conn.sock, null);
      await listener.close();
    });
  });

  it('close() while connecting: the next request opens a new connection', async () => {
    const listener = await stalledListener();
    const srv = await scriptedServer([KEEP_ALIVE]);
    const ports = [listener.port, srv.port];
    const conn = new HTTPConnection('127.0.0.1', 80, {
      createConnection: ({ host }) => net.connect(ports.shift() as number, host),
    });
    const first = conn.connect().catch((err: unknown) => err);
    await new Promise((resolve) => setTimeout(resolve, 100));
    conn.close();
    await conn.request('GET', '/');
    const r = await conn.getresponse();
    assert.deepEqual(await r.read(), Buffer.from('hello'));
    assert.ok((await first) instanceof AbortError);
    conn.close();
    await srv.close();
    await listener.close();
  });

  describe('without close()', () => {
    it('after a response that closed the connection (Connection: close)', async () => {
      const srv = await scriptedServer([CLOSING]);
      const conn = new HTTPConnection('127.0.0.1', srv.port, { timeout: 30 });
      await conn.request('GET', '/');
      const r = await conn.getresponse();
      assert.equal(r.will_close, true);
      assert.equal(conn.sock, null, 'the response took the socket');
      assert.deepEqual(await r.read(), Buffer.from('hello'));
      assert.equal(r.isclosed(), true);
      await srv.close();
    });

    it('after an HTTP/1.0 response read until the server closed', async () => {
      const srv = await scriptedServer([
        (socket) => socket.end('HTTP/1.0 200 OK\r\n\r\nuntil close'),
      ]);
      const conn = new HTTPConnection('127.0.0.1', srv.port, { timeout: 30 });
      await conn.request('GET', '/');
      const r = await conn.getresponse();
      assert.deepEqual(await r.read(), Buffer.from('until close'));
      await srv.close();
    });

    it('after errors: refused, RemoteDisconnected, BadStatusLine, IncompleteRead', async () => {
      const refused = new HTTPConnection('127.0.0.1', await closedPort(), { timeout: 30 });
      await assert.rejects(refused.request('GET', '/'), { code: 'ECONNREFUSED' });

      const srv = await scriptedServer([
        [(socket) => socket.destroy()],
        ['HTTP/1.1 abc Bad\r\n\r\n'],
        [(socket) => socket.end('HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nhello')],
      ]);
      const expected = [RemoteDisconnected, BadStatusLine];
      for (const kind of expected) {
        const conn = new HTTPConnection('127.0.0.1', srv.port, { timeout: 30 });
        await conn.request('GET', '/');
        await assert.rejects(conn.getresponse(), kind);
        assert.equal(conn.sock, null);
      }
      const conn = new HTTPConnection('127.0.0.1', srv.port, { timeout: 30 });
      await conn.request('GET', '/');
      const r = await conn.getresponse();
      await assert.rejects(r.read(), IncompleteRead);
      assert.equal(conn.sock, null);
      await srv.close();
    });
  });

  it('a connection opened by connect() alone does not keep a process alive', async () => {
    const srv = await httpServer((_req, res) => {
      res.end('hello');
    });
    try {
      const entry = pathToFileURL(path.join(root, 'src', 'index.ts')).href;
      const code = `import { HTTPConnection } from ${JSON.stringify(entry)};
const conn = new HTTPConnection('127.0.0.1', ${srv.port}, { timeout: 30 });
await conn.connect();
console.log('connected');`;
      const started = performance.now();
      const child = spawn(
        process.execPath,
        ['--import', 'tsx', '--input-type=module', '-e', code],
        {
          cwd: root,
          stdio: ['ignore', 'pipe', 'pipe'],
        },
      );
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (d: Buffer) => {
        stdout += d.toString();
      });
      child.stderr.on('data', (d: Buffer) => {
        stderr += d.toString();
      });
      const exit = await new Promise<number | string | null>((resolve) => {
        const timer = setTimeout(() => {
          child.kill('SIGKILL');
          resolve('still running after 20 s: killed');
        }, 20_000);
        child.once('exit', (code, signal) => {
          clearTimeout(timer);
          resolve(code ?? signal);
        });
      });
      const took = performance.now() - started;
      assert.equal(exit, 0, `exit: ${String(exit)}, stderr: ${stderr}`);
      assert.equal(stdout, 'connected\n');
      assert.ok(took < 10_000, `exited after ${took.toFixed(0)} ms`);
    } finally {
      await srv.close();
    }
  });

  it('an idle kept-alive connection does not keep a process alive', async () => {
    const srv = await httpServer((_req, res) => {
      res.end('hello');
    });
    // The server would keep the connection for a minute: only the child can end it.
    srv.server.keepAliveTimeout = 60_000;
    try {
      for (const timeout of ['none', '30']) {
        const start = performance.now();
        const child = spawn(
          process.execPath,
          ['--import', 'tsx', fixture, String(srv.port), timeout],
          {
            cwd: root,
            stdio: ['ignore', 'pipe', 'pipe'],
          },
        );
        let stdout = '';
        let stderr = '';
        let printedAt = 0;
        child.stdout.on('data', (d: Buffer) => {
          stdout += d.toString();
          if (printedAt === 0 && stdout.includes('\n')) printedAt = performance.now();
        });
        child.stderr.on('data', (d: Buffer) => {
          stderr += d.toString();
        });
        const exit = await new Promise<number | string | null>((resolve) => {
          const timer = setTimeout(() => {
            child.kill('SIGKILL');
            resolve('still running after 20 s: killed');
          }, 20_000);
          child.once('exit', (code, signal) => {
            clearTimeout(timer);
            resolve(code ?? signal);
          });
        });
        const exitedAt = performance.now();
        assert.equal(exit, 0, `exit: ${String(exit)}, stderr: ${stderr}`);
        assert.deepEqual(JSON.parse(stdout), {
          status: 200,
          body: 'hello',
          will_close: false,
          kept: true,
        });
        // The body was read, the connection kept, and the process ended at once.
        const idle = exitedAt - printedAt;
        assert.ok(idle < 3000, `exited ${idle.toFixed(0)} ms after reading (timeout ${timeout})`);
        console.log(
          `# idle child (timeout ${timeout}): ran ${((exitedAt - start) / 1000).toFixed(2)} s, ` +
            `exited ${idle.toFixed(0)} ms after reading`,
        );
      }
    } finally {
      await srv.close();
    }
  });

  describe('calls with a signal of their own, on a connection with one', () => {
    it('leave nothing per call on the connection: the heap does not grow per call', async () => {
      const srv = await httpServer((_req, res) => {
        res.end('hello');
      });
      try {
        // In a child with --expose-gc: 10,000 exchanges of 4 calls each, on one socket.
        const seen = await churnIn(srv.port, 10_000, false);
        console.log(
          `# heap growth per call with its own signal: ${seen.bytesPerCall.toFixed(1)} B`,
        );
        assert.equal(seen.kept, true, 'the exchanges shared one kept-alive socket');
        assert.equal(seen.listeners, 0, "abort listeners left on the connection's signal");
        // Joined with AbortSignal.any, the connection's signal kept ~60 B for every call.
        assert.ok(seen.bytesPerCall < 24, `the heap grew ${seen.bytesPerCall} B per call`);
      } finally {
        await srv.close();
      }
    });

    it('leave nothing per connect made by a createConnection hook either', async () => {
      // The server closes after each response: every exchange connects again, through
      // the hook, which is given the call's signal joined to the connection's.
      const srv = await httpServer((_req, res) => {
        res.setHeader('Connection', 'close');
        res.end('hello');
      });
      try {
        const seen = await churnIn(srv.port, 12_000, true);
        console.log(`# heap growth per call, reconnecting: ${seen.bytesPerCall.toFixed(1)} B`);
        assert.equal(seen.kept, false, 'the server closed every connection');
        assert.equal(seen.listeners, 0, "abort listeners left on the connection's signal");
        // Joined with AbortSignal.any, the connection's epoch kept an entry per connect.
        // Measured per call (4 calls an exchange), before / after: Node 20 23-28 / 5-8 B,
        // Node 22 61 / 16 B (it keeps more per connect anyway), Node 24 12 / about 0.
        // Node 20's limit was 14 B: noise alone reaches it (2026-12-04, seven runs each at
        // 47b8329 and at a4492d5: 6.0-10.5 and 8.4-9.7 B on an idle machine, 14.5 B once in
        // CI); 18 B still fails the regression above.
        const limit = process.versions.node.startsWith('20.') ? 18 : 32;
        assert.ok(seen.bytesPerCall < limit, `the heap grew ${seen.bytesPerCall} B per call`);
      } finally {
        await srv.close();
      }
    });

    it('a hook given no signal of the call gets one of its own per connect, which nothing piles on', async () => {
      const srv = await httpServer((_req, res) => {
        res.setHeader('Connection', 'close');
        res.end('hello');
      });
      const given: AbortSignal[] = [];
      const conn = new HTTPConnection('127.0.0.1', srv.port, {
        timeout: 30,
        // As a hook would: net.connect's own signal option (its listener stays on it).
        createConnection: (p) => {
          if (p.signal !== null) given.push(p.signal);
          return net.connect({ port: p.port, host: p.host, signal: p.signal ?? undefined });
        },
      });
      try {
        for (let i = 0; i < 30; i++) {
          await conn.request('GET', '/');
          assert.equal((await (await conn.getresponse()).read()).toString(), 'hello');
        }
        assert.equal(given.length, 30, 'every connect went through the hook, with a signal');
        assert.equal(new Set(given).size, 30, 'a signal of its own for each connect');
        const most = Math.max(...given.map((g) => getEventListeners(g, 'abort').length));
        assert.ok(most <= 2, `${most} abort listeners on one connect's signal`);
      } finally {
        conn.close();
        await srv.close();
      }
    });

    it('leave no listener on either signal, through connects, heads, sends and reads', async () => {
      const srv = await httpServer((req, res) => {
        if (req.url === '/half') {
          // Half the body, and then nothing: a read of it waits.
          res.writeHead(200, { 'Content-Length': '10' });
          res.write('hello');
          return;
        }
        if (req.url === '/close') res.setHeader('Connection', 'close');
        res.end('hello');
      });
      const controller = new AbortController();
      const conn = new HTTPConnection('127.0.0.1', srv.port, { signal: controller.signal });
      const listeners = (signal: AbortSignal): number => getEventListeners(signal, 'abort').length;
      try {
        for (let i = 0; i < 20; i++) {
          // Every other response closes the connection: the next request connects anew.
          const url = i % 2 === 0 ? '/close' : '/';
          const signals = [0, 1, 2, 3].map(() => new AbortController().signal);
          await conn.request('POST', url, 'body', {}, { signal: signals[0] });
          const response = await conn.getresponse({ signal: signals[1] });
          assert.deepEqual(await response.read(2, { signal: signals[2] }), Buffer.from('he'));
          assert.deepEqual(await response.read(null, { signal: signals[3] }), Buffer.from('llo'));
          assert.equal(listeners(controller.signal), 0, `request ${i}: connection's signal`);
          for (const signal of signals) assert.equal(listeners(signal), 0, `request ${i}`);
        }
        // The connection's signal still cancels a call that has its own.
        await conn.request('GET', '/half');
        const response = await conn.getresponse();
        assert.deepEqual(await response.read(5), Buffer.from('hello'));
        const reason = new Error('stop');
        const reading = response.read(5, { signal: new AbortController().signal });
        controller.abort(reason);
        await assert.rejects(reading, (err: unknown) => {
          assert.ok(err instanceof AbortError);
          assert.equal(err.cause, reason);
          return true;
        });
      } finally {
        conn.close();
        await srv.close();
      }
    });
  });

  it('200 connect/request/close cycles leave the open file descriptors unchanged', async () => {
    const port = await closedPort();
    const srv = await httpServer((req, res) => {
      if (req.url === '/drop') {
        req.socket.destroy();
        return;
      }
      if (req.url === '/close') res.setHeader('Connection', 'close');
      res.end('hello');
    });
    const connections = (): Promise<number> =>
      new Promise((resolve, reject) =>
        srv.server.getConnections((err, n) => (err ? reject(err) : resolve(n))),
      );
    const serverIdle = async (): Promise<void> => {
      // The server's side of each connection closes a little after the client's.
      for (let i = 0; i < 200 && (await connections()) > 0; i++) {
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
      assert.equal(await connections(), 0);
      await nextTurn();
    };
    async function cycle(i: number): Promise<void> {
      switch (i % 4) {
        case 0: {
          // Kept alive, then close().
          const conn = new HTTPConnection('127.0.0.1', srv.port, { timeout: 30 });
          await conn.request('GET', '/');
          assert.deepEqual(await (await conn.getresponse()).read(), Buffer.from('hello'));
          conn.close();
          return;
        }
        case 1: {
          // The response closes the connection; no close().
          const conn = new HTTPConnection('127.0.0.1', srv.port);
          await conn.request('GET', '/close');
          assert.deepEqual(await (await conn.getresponse()).read(), Buffer.from('hello'));
          return;
        }
        case 2: {
          // The server drops the connection; no close().
          const conn = new HTTPConnection('127.0.0.1', srv.port, { timeout: 30 });
          await conn.request('GET', '/drop');
          await assert.rejects(conn.getresponse(), RemoteDisconnected);
          return;
        }
        default: {
          // Refused; no close().
          const conn = new HTTPConnection('127.0.0.1', port, { timeout: 30 });
          await assert.rejects(conn.request('GET', '/'), { code: 'ECONNREFUSED' });
        }
      }
    }
    try {
      for (let i = 0; i < 4; i++) await cycle(i); // warm-up: lazily opened descriptors
      await serverIdle();
      const fdsBefore = openFds();
      const start = performance.now();
      for (let i = 0; i < 200; i++) await cycle(i);
      await serverIdle();
      const fdsAfter = openFds();
      console.log(
        `# 200 cycles in ${((performance.now() - start) / 1000).toFixed(2)} s, ` +
          `open fds ${fdsBefore} -> ${fdsAfter}`,
      );
      assert.ok(
        fdsAfter - fdsBefore <= 2,
        `open file descriptors: ${fdsBefore} before, ${fdsAfter} after`,
      );
    } finally {
      await srv.close();
    }
  });
});
