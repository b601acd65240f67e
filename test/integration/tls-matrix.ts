/**
 * The shared pieces of the TLS verification matrix (tls-verification*.test.ts): the
 * matrix PKI (test/fixtures/tls/make-verify-certs.sh, made at test time), one
 * `node:https` server per leaf on 127.0.0.1 (security level 0, so that it can present
 * the weak and SHA-1 certificates the client must refuse), contexts built from a
 * declarative spec (so that CPython can build the same ones), connections whose host
 * name is routed to the right server through `createConnection`, and the verdict of a
 * connection attempt in one comparable form; a context's kept sessions and a handshake
 * made by hand to see a planted session resumed (and its peer still checked).
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { once } from 'node:events';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import * as tls from 'node:tls';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { clientSettings, type PeerCheck } from '../../src/client/tls-verify.ts';
import { type HTTPSConnection, type HTTPSConnectionOptions, ssl } from '../../src/index.ts';
import { type HttpsServer, httpsServer } from './tls-peers.ts';

const MAKE = fileURLToPath(new URL('../fixtures/tls/make-verify-certs.sh', import.meta.url));

/** The matrix PKI in a temporary directory. */
export interface MatrixPki {
  readonly dir: string;
  file(name: string): string;
  read(name: string): Buffer;
  remove(): void;
}

/** Make the matrix PKI (or another one, with the script `make` of test/fixtures/tls). */
export async function makeMatrixPki(make: string = MAKE): Promise<MatrixPki> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'httplib-ts-matrix-'));
  try {
    await promisify(execFile)('bash', [make, dir]);
  } catch (err) {
    fs.rmSync(dir, { recursive: true, force: true });
    throw err;
  }
  const file = (name: string): string => path.join(dir, name);
  return {
    dir,
    file,
    read: (name) => fs.readFileSync(file(name)),
    remove: () => fs.rmSync(dir, { recursive: true, force: true }),
  };
}

/** Servers by leaf name (or `mtls`), started on first use, all closed by `close()`. */
export class MatrixServers {
  private readonly started = new Map<string, Promise<HttpsServer>>();
  private readonly pki: MatrixPki;

  constructor(pki: MatrixPki) {
    this.pki = pki;
  }

  get(leaf: string): Promise<HttpsServer> {
    let server = this.started.get(leaf);
    if (server === undefined) {
      // `mtls`: the `good` leaf, asking for a client certificate from the root (and so
      // sending the root along with its own: OpenSSL builds the chain from `ca`).
      const mtls = leaf === 'mtls';
      const name = mtls ? 'good' : leaf;
      server = httpsServer(
        {
          key: this.pki.read(`${name}.key`),
          cert: this.pki.read(`${name}.pem`),
          // The server must be able to present what the client has to refuse.
          ciphers: 'DEFAULT@SECLEVEL=0',
          ...(mtls
            ? { requestCert: true, rejectUnauthorized: false, ca: this.pki.read('root.pem') }
            : {}),
        },
        (req, res) => {
          const socket = req.socket as import('node:tls').TLSSocket;
          const cn = socket.getPeerCertificate().subject?.CN ?? '-';
          res.end(`${leaf} client=${cn}`);
        },
      );
      this.started.set(leaf, server);
    }
    return server;
  }

  async close(): Promise<void> {
    for (const server of this.started.values()) await (await server).close();
  }
}

/** Where a context's trusted CAs come from. */
export type Trust =
  | 'none'
  | 'default'
  | { readonly cafile: string }
  | { readonly capath: string }
  | { readonly cadata: string; readonly der?: boolean };

/** A context, declaratively (CPython builds the same one from it). */
export interface ContextSpec {
  /** Default `{ cafile: 'root.pem' }`. */
  readonly trust?: Trust;
  /** The context's `verify_mode`; default `required`. `none` also turns `check_hostname` off. */
  readonly verify?: 'required' | 'optional' | 'none';
  /** The context's `check_hostname`; default on (off with `verify: 'none'`). */
  readonly checkHostname?: boolean;
  /** `hostname_checks_common_name`; unset: each side's default (ours off, CPython's on). */
  readonly commonName?: boolean;
}

/** Build our context for a spec. */
export function contextFor(pki: MatrixPki, spec: ContextSpec): ssl.SSLContext {
  const trust = spec.trust ?? { cafile: 'root.pem' };
  let context: ssl.SSLContext;
  if (trust === 'none') context = new ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT);
  else if (trust === 'default') context = ssl.create_default_context();
  else if ('cafile' in trust)
    context = ssl.create_default_context({ cafile: pki.file(trust.cafile) });
  else if ('capath' in trust)
    context = ssl.create_default_context({ capath: pki.file(trust.capath) });
  else {
    const text = pki.read(trust.cadata);
    context = ssl.create_default_context({
      cadata: trust.der ? new Uint8Array(text) : text.toString('latin1'),
    });
  }
  if (spec.verify === 'none' || spec.checkHostname === false) context.check_hostname = false;
  if (spec.verify === 'none') context.verify_mode = ssl.CERT_NONE;
  if (spec.verify === 'optional') context.verify_mode = ssl.CERT_OPTIONAL;
  if (spec.commonName !== undefined) context.hostname_checks_common_name = spec.commonName;
  return context;
}

/** `createConnection` that takes any host name to 127.0.0.1:`port`. */
export function routeTo(port: number): HTTPSConnectionOptions['createConnection'] {
  return () => net.connect(port, '127.0.0.1');
}

/**
 * What a connection attempt came to: `ok`, OpenSSL's verify code of an
 * `SSLCertVerificationError`, or the class name of another error (`SSLError`,
 * `TypeError`, …) with Node's code when it has one (`Error:ENOTFOUND`).
 */
export type Verdict = 'ok' | number | string;

export function verdictOf(err: unknown): Verdict {
  if (err instanceof ssl.SSLCertVerificationError) return err.verify_code;
  if (err instanceof ssl.SSLError) return 'SSLError';
  if (err instanceof TypeError) return 'TypeError';
  const code = (err as { code?: unknown } | null)?.code;
  const name = err instanceof Error ? err.name : typeof err;
  return typeof code === 'string' ? `${name}:${code}` : name;
}

/** Connect (TLS included) and close; the verdict, and the error for messages. */
export async function attempt(
  conn: HTTPSConnection,
): Promise<{ verdict: Verdict; error: unknown }> {
  try {
    await conn.connect();
    return { verdict: 'ok', error: null };
  } catch (err) {
    return { verdict: verdictOf(err), error: err };
  } finally {
    conn.close();
  }
}

/** One GET; the body, or the verdict of the failure. */
export async function fetchBody(conn: HTTPSConnection): Promise<string> {
  try {
    await conn.request('GET', '/');
    const response = await conn.getresponse();
    return (await response.read()).toString('latin1');
  } catch (err) {
    return `error ${String(verdictOf(err))}`;
  } finally {
    conn.close();
  }
}

/**
 * A context's kept TLS sessions, as the handshake site sees them (the context's state is
 * private), and the last one stored: for tests that plant a session under another key.
 */
export function sessionCache(
  context: ssl.SSLContext,
  checkHostname: boolean | null,
): { cache: Map<string, unknown>; key: string; entry: unknown } {
  const settings = clientSettings(context, 'localhost', 0, checkHostname);
  const cache = (settings.sessions as unknown as { entries: Map<string, unknown> }).entries;
  const last = [...cache.entries()].at(-1);
  if (last === undefined) throw new Error('the context keeps no session');
  const [key, entry] = last;
  return { cache, key, entry };
}

/**
 * The handshake site's steps by hand (to see the client side of the handshake): a TLS
 * connection to 127.0.0.1:`port` with `check`'s options, which must resume the session
 * planted for it, and whose check must still refuse the peer with OpenSSL's `verifyCode`.
 */
export async function assertResumedButRefused(
  check: PeerCheck,
  port: number,
  verifyCode: number,
): Promise<void> {
  const socket = tls.connect({
    ...check.connectOptions(),
    socket: net.connect(port, '127.0.0.1'),
  });
  check.watch(socket);
  try {
    await once(socket, 'secureConnect');
    assert.equal(socket.isSessionReused(), true, 'it did resume');
    assert.throws(
      () => check.verify(socket),
      (err: unknown) =>
        err instanceof ssl.SSLCertVerificationError && err.verify_code === verifyCode,
    );
  } finally {
    socket.destroy();
  }
}
