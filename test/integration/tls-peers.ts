/**
 * Real TLS peers for the HTTPS, tunnel and legacy integration tests, all on 127.0.0.1
 * with port 0 (kept apart from servers.ts, which the plain-HTTP tests share):
 *
 * - `makePki()`: runs test/fixtures/tls/make-certs.sh into a fresh temporary directory
 *   (the test CA, server, wrong-name, expired, self-signed, client and proxy
 *   certificates); `remove()` deletes it.
 * - `httpsServer(options, handler)`: a `node:https` server that records what each TLS
 *   connection negotiated (SNI, protocol, ALPN, session reuse).
 * - `connectProxy(options)`: a real CONNECT proxy on a raw `net` server: it reads the
 *   CONNECT head, checks `Proxy-Authorization`, answers 407 without the right
 *   credentials, else connects upstream and relays bytes both ways, recording every head
 *   it saw and every byte it relayed. Modes make it misbehave on purpose.
 *
 * Every server closes all its sockets in `close()`, so a test leaves nothing behind.
 */
import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as https from 'node:https';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import * as tls from 'node:tls';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const MAKE_CERTS = fileURLToPath(new URL('../fixtures/tls/make-certs.sh', import.meta.url));

/** The test PKI in a temporary directory. */
export interface Pki {
  readonly dir: string;
  /** Absolute path of a file of the PKI, e.g. `file('ca.pem')`. */
  file(name: string): string;
  /** Contents of a file of the PKI. */
  read(name: string): Buffer;
  /** The key and certificate of a leaf (`server`, `wrongname`, `expired`, …) for a server. */
  pair(name: string): { key: Buffer; cert: Buffer };
  /**
   * Options of the `server` leaf asking clients for a certificate from the test CA;
   * `required`: a handshake without one (or with another CA's) is refused.
   */
  clientCertServer(required: boolean): https.ServerOptions;
  remove(): void;
}

/** Make the test PKI with openssl (about 1.5 s) into a fresh temporary directory. */
export async function makePki(): Promise<Pki> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'httplib-ts-pki-'));
  try {
    await promisify(execFile)('bash', [MAKE_CERTS, dir]);
  } catch (err) {
    fs.rmSync(dir, { recursive: true, force: true });
    throw err;
  }
  const file = (name: string): string => path.join(dir, name);
  const read = (name: string): Buffer => fs.readFileSync(file(name));
  const pair = (name: string): { key: Buffer; cert: Buffer } => ({
    key: read(`${name}.key`),
    cert: read(`${name}.pem`),
  });
  return {
    dir,
    file,
    read,
    pair,
    clientCertServer: (required) => ({
      ...pair('server'),
      ca: read('ca.pem'),
      requestCert: true,
      rejectUnauthorized: required,
    }),
    remove: () => fs.rmSync(dir, { recursive: true, force: true }),
  };
}

/** What one TLS connection to an `httpsServer` negotiated. */
export interface TlsSessionInfo {
  /** The SNI the client sent (`false`/undefined when it sent none). */
  readonly servername: string | false | undefined;
  readonly protocol: string | null;
  readonly alpnProtocol: string | false | null;
  readonly reused: boolean;
  /** Whether the client presented a certificate that verified. */
  readonly authorized: boolean;
}

export interface HttpsServer {
  readonly port: number;
  readonly server: https.Server;
  /** One entry per completed TLS handshake, in order. */
  readonly sessions: TlsSessionInfo[];
  /** TCP connections accepted so far (handshakes that failed included). */
  connectionCount(): number;
  close(): Promise<void>;
}

export function httpsServer(
  options: https.ServerOptions,
  handler: (
    req: import('node:http').IncomingMessage,
    res: import('node:http').ServerResponse,
  ) => void,
): Promise<HttpsServer> {
  const server = https.createServer(options, handler);
  const sessions: TlsSessionInfo[] = [];
  const sockets = new Set<net.Socket>();
  let count = 0;
  server.on('connection', (s: net.Socket) => {
    count++;
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  server.on('secureConnection', (s: tls.TLSSocket) => {
    sessions.push({
      servername: (s as tls.TLSSocket & { servername?: string | false }).servername,
      protocol: s.getProtocol(),
      alpnProtocol: s.alpnProtocol,
      reused: s.isSessionReused(),
      authorized: s.authorized,
    });
  });
  // A failed handshake is what several tests want: keep it quiet.
  server.on('tlsClientError', () => {});
  return new Promise((resolve) => {
    server.listen(0, '127.0.0.1', () => {
      resolve({
        port: (server.address() as net.AddressInfo).port,
        server,
        sessions,
        connectionCount: () => count,
        close() {
          for (const s of sockets) s.destroy();
          return new Promise((r) => server.close(() => r()));
        },
      });
    });
  });
}

/**
 * How a `connectProxy` behaves after a CONNECT with the right credentials:
 * - `pipe`: answers `HTTP/1.0 200 Connection established` and relays bytes;
 * - `reply`: answers with `options.reply` (any bytes, e.g. a 200 followed by garbage)
 *   and then relays bytes;
 * - `http09`: answers a line that is not an HTTP status line and closes;
 * - `mitm`: answers 200, then terminates TLS itself with `options.mitm` (a certificate
 *   of its own) instead of relaying: what an intercepting proxy does.
 */
export type ProxyMode = 'pipe' | 'reply' | 'http09' | 'mitm';

export interface ConnectProxyOptions {
  /** The `Proxy-Authorization` value required; null: none required. */
  auth?: string | null;
  mode?: ProxyMode;
  /** For `reply`: the bytes to answer the CONNECT with. */
  reply?: string | Buffer;
  /** For `mitm`: the key and certificate the proxy presents. */
  mitm?: { key: Buffer; cert: Buffer };
  /** Where a CONNECT target goes: the port on 127.0.0.1 (default: the target's port). */
  route?: (host: string, port: number) => number;
  /** For 407: whether to keep the connection open (so the client must close it). */
  keepOpenAfter407?: boolean;
}

export interface ConnectProxy {
  readonly port: number;
  /** Every CONNECT request head received (through the blank line), in order. */
  readonly heads: string[];
  /** Bytes relayed from the client to the origin, one entry per tunnel. */
  readonly upstream: Buffer[];
  /** Bytes relayed from the origin to the client, one entry per tunnel. */
  readonly downstream: Buffer[];
  /** Client sockets accepted, in order. */
  readonly sockets: net.Socket[];
  /** Every byte the proxy saw or sent after the CONNECT heads, as one buffer. */
  relayed(): Buffer;
  close(): Promise<void>;
}

const PROXY_407 =
  'HTTP/1.0 407 Proxy Authentication Required\r\n' +
  'Proxy-Authenticate: Basic realm="test"\r\n' +
  'Content-Length: 21\r\n\r\n' +
  'proxy wants a login\r\n';

export function connectProxy(options: ConnectProxyOptions = {}): Promise<ConnectProxy> {
  const mode = options.mode ?? 'pipe';
  const heads: string[] = [];
  // The pieces of each tunnel's bytes, joined when asked for (a 40 MiB upload relayed
  // in 64 KiB pieces, joined at each piece, crawled at 0.7 MB/s).
  const upstream: Buffer[][] = [];
  const downstream: Buffer[][] = [];
  const sockets: net.Socket[] = [];
  const others = new Set<net.Socket>();
  const server = net.createServer();

  server.on('connection', (client) => {
    sockets.push(client);
    client.on('error', () => {});
    let pending = Buffer.alloc(0);
    const onHead = (d: Buffer): void => {
      pending = Buffer.concat([pending, d]);
      const end = pending.indexOf('\r\n\r\n');
      if (end === -1) return;
      client.off('data', onHead);
      client.pause();
      const head = pending.subarray(0, end + 4).toString('latin1');
      const rest = pending.subarray(end + 4);
      heads.push(head);
      handle(client, head, rest);
    };
    client.on('data', onHead);
  });

  function handle(client: net.Socket, head: string, rest: Buffer): void {
    const m = /^CONNECT (\S+):(\d+) HTTP\/1\.[01]\r\n/.exec(head);
    if (m === null) {
      client.end('HTTP/1.0 400 Bad Request\r\nContent-Length: 0\r\n\r\n');
      return;
    }
    const auth = /\r\nproxy-authorization:[ \t]*([^\r\n]*)/i.exec(head)?.[1];
    if (options.auth != null && auth !== options.auth) {
      if (options.keepOpenAfter407) {
        client.write(PROXY_407);
        client.resume();
      } else {
        client.end(PROXY_407);
      }
      return;
    }
    if (mode === 'http09') {
      client.end('hello, I am not HTTP\r\n');
      return;
    }
    if (mode === 'mitm') {
      client.write('HTTP/1.0 200 Connection established\r\n\r\n');
      if (rest.length > 0) client.unshift(rest);
      const secure = new tls.TLSSocket(client, {
        isServer: true,
        key: options.mitm?.key,
        cert: options.mitm?.cert,
      });
      secure.on('error', () => {});
      return;
    }
    const host = m[1] as string;
    const port = Number(m[2]);
    const target = options.route ? options.route(host, port) : port;
    const up = net.connect(target, '127.0.0.1');
    others.add(up);
    up.on('close', () => others.delete(up));
    const sent: Buffer[] = [];
    const received: Buffer[] = [];
    upstream.push(sent);
    downstream.push(received);
    up.on('error', () => client.destroy());
    up.on('connect', () => {
      client.write(
        mode === 'reply' ? (options.reply ?? '') : 'HTTP/1.0 200 Connection established\r\n\r\n',
      );
      const toOrigin = (d: Buffer): void => {
        sent.push(d);
        up.write(d);
      };
      if (rest.length > 0) toOrigin(rest);
      client.on('data', toOrigin);
      client.resume();
      up.on('data', (d: Buffer) => {
        received.push(d);
        client.write(d);
      });
      client.on('end', () => up.end());
      up.on('end', () => client.end());
      client.on('close', () => up.destroy());
      up.on('close', () => client.destroy());
    });
  }

  const api: ConnectProxy = {
    port: 0,
    heads,
    get upstream() {
      return upstream.map((pieces) => Buffer.concat(pieces));
    },
    get downstream() {
      return downstream.map((pieces) => Buffer.concat(pieces));
    },
    sockets,
    relayed: () => Buffer.concat([...upstream.flat(), ...downstream.flat()]),
    close() {
      for (const s of sockets) s.destroy();
      for (const s of others) s.destroy();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
  return new Promise((resolve) => {
    server.listen(0, '127.0.0.1', () => {
      (api as { port: number }).port = (server.address() as net.AddressInfo).port;
      resolve(api);
    });
  });
}

export interface RawTlsServer {
  readonly port: number;
  /** Decrypted bytes received, one entry per TLS connection, in order. */
  readonly received: Buffer[];
  close(): Promise<void>;
}

/**
 * A `node:tls` server that records the decrypted bytes of each connection and, once a
 * complete request head (and a body announced with Content-Length) has arrived, writes
 * `reply` and ends the connection: for comparing requests byte for byte over TLS.
 */
export function rawTlsServer(
  pair: { key: Buffer; cert: Buffer },
  reply: string | Buffer,
): Promise<RawTlsServer> {
  const received: Buffer[] = [];
  const sockets = new Set<net.Socket>();
  const server = tls.createServer(pair, (socket) => {
    const index = received.length;
    received.push(Buffer.alloc(0));
    socket.on('error', () => {});
    socket.on('data', (d: Buffer) => {
      const all = Buffer.concat([received[index] as Buffer, d]);
      received[index] = all;
      const end = all.indexOf('\r\n\r\n');
      if (end === -1) return;
      const m = /\r\ncontent-length:\s*(\d+)/i.exec(all.subarray(0, end).toString('latin1'));
      if (all.length >= end + 4 + (m ? Number(m[1]) : 0)) socket.end(reply);
    });
  });
  server.on('connection', (s: net.Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  server.on('tlsClientError', () => {});
  return new Promise((resolve) => {
    server.listen(0, '127.0.0.1', () => {
      resolve({
        port: (server.address() as net.AddressInfo).port,
        received,
        close() {
          for (const s of sockets) s.destroy();
          return new Promise((r) => server.close(() => r()));
        },
      });
    });
  });
}
