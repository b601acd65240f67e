/**
 * The TLS verification matrix, stateful part (issue 12): what a connection verifies is
 * read from the context when it connects, not when it is built; contexts that cannot
 * make a client connection are refused before a byte is sent; a kept TLS session is
 * only resumed by a connection that would verify the server exactly as the one that
 * made it (and the host name is checked after a resumed handshake too); SNI; tunnels;
 * the legacy `HTTPS` class; an empty host. Each table row states its verdict and why.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { clientSettings, PeerCheck } from '../../src/client/tls-verify.ts';
import { HTTP, HTTPConnection, HTTPS, HTTPSConnection, ssl } from '../../src/index.ts';
import { failOnEscapes } from './servers.ts';
import {
  assertResumedButRefused,
  attempt,
  type ContextSpec,
  contextFor,
  fetchBody,
  type MatrixPki,
  MatrixServers,
  makeMatrixPki,
  routeTo,
  sessionCache,
  type Verdict,
} from './tls-matrix.ts';
import { connectProxy, type TlsSessionInfo } from './tls-peers.ts';

describe('TLS verification over time (issue 12)', { timeout: 120_000 }, () => {
  let pki: MatrixPki;
  let servers: MatrixServers;
  failOnEscapes();
  before(async () => {
    pki = await makeMatrixPki();
    servers = new MatrixServers(pki);
  });
  after(async () => {
    await servers?.close();
    pki?.remove();
  });

  const root = (): ssl.SSLContext => contextFor(pki, {});
  async function conn(
    leaf: string,
    host: string,
    options: ConstructorParameters<typeof HTTPSConnection>[2] = {},
  ): Promise<HTTPSConnection> {
    const server = await servers.get(leaf);
    return new HTTPSConnection(host, server.port, {
      timeout: 10,
      createConnection: routeTo(server.port),
      ...options,
    });
  }
  /**
   * The handshakes the server completed since `from`, once `count` of them are there
   * (a server may finish its side of a handshake after the client has).
   */
  async function handshakes(leaf: string, from: number, count: number): Promise<TlsSessionInfo[]> {
    const server = await servers.get(leaf);
    for (let i = 0; i < 200 && server.sessions.length < from + count; i++) {
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    return server.sessions.slice(from);
  }
  /** Whether the context would offer a kept session to this connection (its internals). */
  function offers(context: ssl.SSLContext, host: string, port: number, check?: boolean): boolean {
    const peer = new PeerCheck(clientSettings(context, host, port, check ?? null));
    return peer.connectOptions().session !== undefined;
  }
  const reusedFlags = async (leaf: string, from: number, count: number): Promise<boolean[]> =>
    (await handshakes(leaf, from, count)).map((s) => s.reused);

  describe('every setting is read when the connection is made (item 2)', () => {
    // [why, leaf, build the context, change it after the connection is built, verdict]
    const rows: Array<
      [string, string, () => ssl.SSLContext, (c: ssl.SSLContext) => void, Verdict, boolean?]
    > = [
      [
        'context.check_hostname turned on after the connection was built: checked',
        'wrongname',
        () => contextFor(pki, { checkHostname: false }),
        (c) => {
          c.check_hostname = true;
        },
        62,
      ],
      [
        'context.check_hostname turned off after: not checked',
        'wrongname',
        root,
        (c) => {
          c.check_hostname = false;
        },
        'ok',
      ],
      [
        'verify_mode CERT_REQUIRED set after: verified',
        'selfsigned',
        () => contextFor(pki, { verify: 'none' }),
        (c) => {
          c.verify_mode = ssl.CERT_REQUIRED;
        },
        18,
      ],
      [
        'hostname_checks_common_name turned on after: the CN counts',
        'cn-only',
        root,
        (c) => {
          c.hostname_checks_common_name = true;
        },
        'ok',
      ],
      [
        'a CA loaded after: trusted',
        'untrusted',
        root,
        (c) => c.load_verify_locations(pki.file('other-root.pem')),
        'ok',
      ],
      [
        'check_hostname: true on the connection, the context switched to CERT_NONE after: refused before connecting',
        'selfsigned',
        () => contextFor(pki, { checkHostname: false }),
        (c) => {
          c.verify_mode = ssl.CERT_NONE;
        },
        'TypeError',
        true,
      ],
    ];
    for (const [why, leaf, make, change, verdict, connCheck] of rows) {
      it(`${why} → ${verdict}`, async () => {
        const context = make();
        const host = leaf === 'cn-only' ? 'cn-only.example.test' : 'localhost';
        const c = await conn(leaf, host, {
          context,
          ...(connCheck === undefined ? {} : { check_hostname: connCheck }),
        });
        change(context);
        const server = await servers.get(leaf);
        const before = server.connectionCount();
        const result = await attempt(c);
        assert.equal(result.verdict, verdict, String(result.error));
        if (verdict === 'TypeError') {
          assert.match(
            String(result.error),
            /check_hostname needs a SSL context with either CERT_OPTIONAL or CERT_REQUIRED/,
          );
          assert.equal(server.connectionCount(), before, 'refused before connecting');
        }
      });
    }

    it('a reconnect reads the settings again; check_hostname follows the context', async () => {
      const context = contextFor(pki, { checkHostname: false });
      const c = await conn('wrongname', 'localhost', { context });
      assert.equal(c.check_hostname, false);
      assert.match(await fetchBody(c), /^wrongname /);
      context.check_hostname = true;
      assert.equal(c.check_hostname, true);
      assert.equal(await fetchBody(c), 'error 62');
      const own = await conn('wrongname', 'localhost', { context, check_hostname: false });
      assert.equal(own.check_hostname, false, 'the connection’s own setting wins');
    });

    it('check_hostname: true with an unverified context is still refused when built', async () => {
      await assert.rejects(
        conn('good', 'localhost', {
          context: ssl._create_unverified_context(),
          check_hostname: true,
        }),
        /check_hostname needs a SSL context/,
      );
    });
  });

  describe('server-side contexts make no client connection (item 4)', () => {
    const rows: Array<[string, () => ssl.SSLContext, Verdict]> = [
      [
        'new SSLContext(PROTOCOL_TLS_SERVER)',
        () => new ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER),
        'SSLError',
      ],
      [
        'create_default_context({ purpose: CLIENT_AUTH })',
        () => ssl.create_default_context({ purpose: ssl.Purpose.CLIENT_AUTH }),
        'SSLError',
      ],
      // Python's generic PROTOCOL_TLS context is a client one that verifies nothing.
      [
        'new SSLContext(PROTOCOL_TLS): verifies nothing, as Python',
        () => new ssl.SSLContext(ssl.PROTOCOL_TLS),
        'ok',
      ],
    ];
    for (const [why, make, verdict] of rows) {
      it(`${why} → ${verdict}`, async () => {
        const server = await servers.get('selfsigned');
        const before = server.connectionCount();
        const c = await conn('selfsigned', 'localhost', { context: make() });
        // Twice at once: both calls get the same refusal, nothing goes unhandled.
        const [a, b] = await Promise.all([attempt(c), attempt(c)]);
        assert.equal(a.verdict, verdict, String(a.error));
        assert.equal(b.verdict, verdict, String(b.error));
        if (verdict === 'SSLError') {
          assert.equal(
            (a.error as Error).message,
            'Cannot create a client socket with a PROTOCOL_TLS_SERVER context',
          );
          assert.equal(server.connectionCount(), before, 'refused before connecting');
        }
      });
    }
  });

  describe('sessions: resumed only when nothing verification depends on changed (item 1)', () => {
    it('nothing changed: the second and third connections resume (TLS 1.3 and 1.2)', async () => {
      for (const version of [ssl.TLSVersion.TLSv1_3, ssl.TLSVersion.TLSv1_2]) {
        for (const checkHostname of [true, false]) {
          const context = contextFor(pki, { checkHostname });
          context.maximum_version = version;
          const from = (await servers.get('good')).sessions.length;
          for (let i = 0; i < 3; i++)
            assert.match(await fetchBody(await conn('good', 'localhost', { context })), /^good /);
          assert.deepEqual(
            await reusedFlags('good', from, 3),
            [false, true, true],
            `${version} ${checkHostname}`,
          );
        }
      }
    });

    // [why, context, first connection, what changes, second connection, its verdict]
    type Step = { leaf: string; host: string; check?: boolean };
    const rows: Array<[string, ContextSpec, Step, (c: ssl.SSLContext) => void, Step, Verdict]> = [
      [
        'a session made without the name check (the connection’s check_hostname: false) is not resumed by a check',
        {},
        { leaf: 'wrongname', host: 'localhost', check: false },
        () => {},
        { leaf: 'wrongname', host: 'localhost' },
        62,
      ],
      [
        'nor after the context’s check_hostname is turned on',
        { checkHostname: false },
        { leaf: 'wrongname', host: 'localhost' },
        (c) => {
          c.check_hostname = true;
        },
        { leaf: 'wrongname', host: 'localhost' },
        62,
      ],
      [
        'nor by an IP literal whose check is on',
        {},
        { leaf: 'wrongname', host: '127.0.0.1', check: false },
        () => {},
        { leaf: 'wrongname', host: '127.0.0.1' },
        64,
      ],
      [
        'a new CA: a full handshake, verified against the new store',
        {},
        { leaf: 'good', host: 'localhost' },
        (c) => c.load_verify_locations(pki.file('other-root.pem')),
        { leaf: 'good', host: 'localhost' },
        'ok',
      ],
      [
        'hostname_checks_common_name changed: a full handshake',
        {},
        { leaf: 'good', host: 'localhost' },
        (c) => {
          c.hostname_checks_common_name = true;
        },
        { leaf: 'good', host: 'localhost' },
        'ok',
      ],
    ];
    for (const [why, spec, first, change, second, verdict] of rows) {
      it(`${why} → ${verdict}, not resumed`, async () => {
        const context = contextFor(pki, spec);
        const from = (await servers.get(first.leaf)).sessions.length;
        const one = await conn(first.leaf, first.host, {
          context,
          ...(first.check === undefined ? {} : { check_hostname: first.check }),
        });
        assert.match(await fetchBody(one), new RegExp(`^${first.leaf} `));
        const port = (await servers.get(first.leaf)).port;
        assert.equal(offers(context, first.host, port, first.check), true, 'it has a session');
        change(context);
        const two = await conn(second.leaf, second.host, {
          context,
          ...(second.check === undefined ? {} : { check_hostname: second.check }),
        });
        // The first connection's session is not even offered to the second (a server
        // reset by a refusing client may not record its handshake, so ask the context).
        const server = await servers.get(second.leaf);
        assert.equal(offers(context, second.host, server.port, second.check), false);
        const result = await attempt(two);
        assert.equal(result.verdict, verdict, String(result.error));
        assert.deepEqual(await reusedFlags(first.leaf, from, 1), [false]);
      });
    }

    it('a session made under CERT_NONE is not resumed once verification is on', async () => {
      const context = contextFor(pki, { verify: 'none' });
      assert.equal(
        (await attempt(await conn('selfsigned', 'localhost', { context }))).verdict,
        'ok',
      );
      context.verify_mode = ssl.CERT_REQUIRED;
      assert.equal((await attempt(await conn('selfsigned', 'localhost', { context }))).verdict, 18);
      // Trusting it now, the old failed result must not come back with the session.
      context.load_verify_locations(pki.file('selfsigned.pem'));
      assert.equal(
        (await attempt(await conn('selfsigned', 'localhost', { context }))).verdict,
        'ok',
      );
    });

    it('load_cert_chain(B) after A: the server sees B (a full handshake), and B resumes', async () => {
      const context = root();
      context.load_cert_chain(pki.file('client-a.pem'));
      assert.equal(
        await fetchBody(await conn('mtls', 'localhost', { context })),
        'mtls client=client-a',
      );
      context.load_cert_chain(pki.file('client-b.pem'));
      assert.equal(
        await fetchBody(await conn('mtls', 'localhost', { context })),
        'mtls client=client-b',
      );
      const from = (await servers.get('mtls')).sessions.length;
      assert.equal(
        await fetchBody(await conn('mtls', 'localhost', { context })),
        'mtls client=client-b',
      );
      assert.deepEqual(await reusedFlags('mtls', from, 1), [true]);
    });

    it('a resumed handshake is checked too: a session slipped under another key is refused', async () => {
      // The second line of defence, shown by planting a session made without the check
      // (for a certificate of another name) where a checking connection will find it.
      const context = contextFor(pki, { checkHostname: false });
      assert.match(
        await fetchBody(await conn('wrongname', 'localhost', { context })),
        /^wrongname /,
      );
      const { cache, key, entry } = sessionCache(context, false);
      const plant = (): void => {
        cache.set(key.replace(/\0false\0/, '\0true\0'), entry);
      };
      plant();
      const server = await servers.get('wrongname');
      const check = new PeerCheck(clientSettings(context, 'localhost', server.port, true));
      await assertResumedButRefused(check, server.port, 62);
      // And through HTTPSConnection, the same refusal.
      plant();
      const result = await attempt(
        await conn('wrongname', 'localhost', { context, check_hostname: true }),
      );
      assert.equal(result.verdict, 62, String(result.error));
    });

    it('the legacy HTTPS class and a tunnel share the rules', async () => {
      const context = contextFor(pki, { checkHostname: false });
      const server = await servers.get('wrongname');
      const legacy = new HTTPS('localhost', server.port, { context });
      legacy.putrequest('GET', '/');
      await legacy.endheaders();
      assert.equal((await legacy.getreply())[0], 200);
      legacy.close();
      const proxy = await connectProxy({ route: () => server.port });
      try {
        const tunnelled = new HTTPSConnection('127.0.0.1', proxy.port, { timeout: 10, context });
        tunnelled.set_tunnel('localhost', server.port);
        assert.equal((await attempt(tunnelled)).verdict, 'ok');
        const checked = await conn('wrongname', 'localhost', { context, check_hostname: true });
        assert.equal((await attempt(checked)).verdict, 62);
      } finally {
        await proxy.close();
      }
    });
  });

  describe('SNI', () => {
    const rows: Array<[string, string, string | false]> = [
      ['a name is sent as given', 'localhost', 'localhost'],
      ['in its own case', 'LOCALHOST', 'LOCALHOST'],
      ['a Unicode name IDNA-encoded', 'bücher.example.test', 'xn--bcher-kva.example.test'],
      ['no SNI for an IPv4 literal', '127.0.0.1', false],
      ['no SNI for an IPv6 literal', '::1', false],
    ];
    for (const [why, host, sni] of rows) {
      it(`${why}: ${host} → ${String(sni)}`, async () => {
        const server = await servers.get('wild');
        const from = server.sessions.length;
        const context = contextFor(pki, { verify: 'none' });
        assert.match(await fetchBody(await conn('wild', host, { context })), /^wild /);
        assert.equal((await handshakes('wild', from, 1))[0]?.servername || false, sni);
      });
    }

    it('through a tunnel: the tunnel host, checked and sent as SNI', async () => {
      const good = await servers.get('good');
      const wrong = await servers.get('wrongname');
      const proxy = await connectProxy({ route: (_h, port) => port });
      try {
        const from = good.sessions.length;
        const c = new HTTPSConnection('127.0.0.1', proxy.port, { timeout: 10, context: root() });
        c.set_tunnel('localhost', good.port);
        assert.match(await fetchBody(c), /^good /);
        assert.equal(good.sessions[from]?.servername, 'localhost');
        const bad = new HTTPSConnection('127.0.0.1', proxy.port, { timeout: 10, context: root() });
        bad.set_tunnel('localhost', wrong.port);
        assert.equal((await attempt(bad)).verdict, 62);
      } finally {
        await proxy.close();
      }
    });

    it('a proxy that answers TLS itself (its own certificate) is refused', async () => {
      const proxy = await connectProxy({
        mode: 'mitm',
        mitm: { key: pki.read('untrusted.key'), cert: pki.read('untrusted.pem') },
      });
      try {
        const c = new HTTPSConnection('127.0.0.1', proxy.port, { timeout: 10, context: root() });
        c.set_tunnel('localhost', 443);
        assert.equal((await attempt(c)).verdict, 20);
      } finally {
        await proxy.close();
      }
    });
  });

  describe('the legacy HTTPS class', () => {
    it('checks the name of a host given to connect(), as the constructor’s', async () => {
      const good = await servers.get('good');
      const wrong = await servers.get('wrongname');
      const h = new HTTPS('', null, { context: root() });
      await h.connect('localhost', good.port);
      h.close();
      const bad = new HTTPS('', null, { context: root() });
      await assert.rejects(bad.connect(`localhost:${wrong.port}`), (err: unknown) => {
        assert.ok(err instanceof ssl.SSLCertVerificationError);
        return err.verify_code === 62;
      });
      bad.close();
    });
  });

  describe('an empty host (item 8)', () => {
    it('new HTTPSConnection(""): an address error, as Python’s getaddrinfo, nothing sent', async () => {
      for (const c of [
        new HTTPSConnection('', 8443, { context: root() }),
        new HTTPConnection('', 8080),
      ]) {
        const result = await attempt(c as HTTPSConnection);
        assert.equal(result.verdict, 'Error:ENOTFOUND', String(result.error));
      }
      // And the legacy classes, connected without a host.
      for (const h of [new HTTPS(), new HTTP()]) {
        await assert.rejects(h.connect(), { code: 'ENOTFOUND' });
        h.close();
      }
    });

    it('with a transport of its own: Python’s "check_hostname requires server_hostname"', async () => {
      const c = await conn('good', '', { context: root() });
      const result = await attempt(c);
      assert.equal(result.verdict, 'TypeError');
      assert.match(String(result.error), /check_hostname requires server_hostname/);
    });
  });
});
