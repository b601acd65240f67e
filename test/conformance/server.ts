/**
 * The scripted raw TCP server of a conformance scenario: it listens on 127.0.0.1 (or
 * ::1), plays the scenario's actions on each accepted connection in order, and records
 * every byte received on each connection until the client closes it.
 *
 * One server per scenario and per driver run, so the drivers never share state. It must
 * not interpret more HTTP than it needs to know where a request ends.
 */
import * as net from 'node:net';
import * as tls from 'node:tls';
import { type ServerAction, valueBytes } from './scenario.ts';

interface Conn {
  socket: net.Socket;
  /** Everything received, in order. */
  received: Buffer;
  /** Bytes of `received` that a `recv` action has already consumed. */
  consumed: number;
  ended: boolean;
  closed: boolean;
  wake: (() => void) | null;
}

export class ScriptedServer {
  readonly host: string;
  port = 0;
  private readonly server: net.Server;
  private readonly conns: Conn[] = [];
  /** Every TCP connection accepted, TLS handshake done or not. */
  private readonly raw = new Set<net.Socket>();
  private readonly scripts: ServerAction[][];
  /** Errors in the server's own script (a scenario bug, not a client behaviour). */
  readonly problems: string[] = [];

  /** `credentials`: serve TLS with this key and certificate (PEM). */
  constructor(
    scripts: ServerAction[][],
    host = '127.0.0.1',
    credentials: { key: Buffer; cert: Buffer } | null = null,
  ) {
    this.scripts = scripts;
    this.host = host;
    if (credentials === null) {
      this.server = net.createServer({ allowHalfOpen: true }, (socket) => this.accept(socket));
    } else {
      const server = tls.createServer({ ...credentials, allowHalfOpen: true }, (socket) =>
        this.accept(socket),
      );
      // A client refusing the certificate is an observation, not a server failure.
      server.on('tlsClientError', () => {});
      this.server = server;
    }
    this.server.on('connection', (socket: net.Socket) => {
      this.raw.add(socket);
      socket.on('close', () => this.raw.delete(socket));
    });
  }

  listen(): Promise<this> {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(0, this.host, () => {
        this.port = (this.server.address() as net.AddressInfo).port;
        resolve(this);
      });
    });
  }

  /** Bytes received on each connection, in accept order. */
  received(): Buffer[] {
    return this.conns.map((c) => c.received);
  }

  /** Resolves once the client closed every connection, or after `ms`. */
  async settled(ms: number): Promise<void> {
    const deadline = Date.now() + ms;
    while (Date.now() < deadline && this.conns.some((c) => !c.ended && !c.closed)) {
      await new Promise((r) => setTimeout(r, 5));
    }
  }

  async close(): Promise<void> {
    for (const c of this.conns) c.socket.destroy();
    for (const socket of this.raw) socket.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private accept(socket: net.Socket): void {
    const conn: Conn = {
      socket,
      received: Buffer.alloc(0),
      consumed: 0,
      ended: false,
      closed: false,
      wake: null,
    };
    const index = this.conns.length;
    this.conns.push(conn);
    const poke = (): void => {
      const w = conn.wake;
      conn.wake = null;
      w?.();
    };
    socket.on('data', (d: Buffer) => {
      conn.received = Buffer.concat([conn.received, d]);
      poke();
    });
    socket.on('end', () => {
      conn.ended = true;
      poke();
    });
    socket.on('error', () => {
      conn.closed = true;
      poke();
    });
    socket.on('close', () => {
      conn.closed = true;
      poke();
    });
    this.play(conn, this.scripts[index] ?? []).then(
      () => {
        // The script is over: answer the client's FIN with ours.
        if (conn.ended && !socket.destroyed) socket.end();
        else socket.once('end', () => socket.end());
      },
      (err: unknown) => {
        this.problems.push(`connection ${index}: ${String(err)}`);
        socket.destroy();
      },
    );
  }

  private async play(conn: Conn, script: ServerAction[]): Promise<void> {
    for (const action of script) {
      if (conn.closed) return;
      if (typeof action === 'string') {
        await write(conn.socket, Buffer.from(action, 'latin1'));
      } else if ('send' in action) {
        await write(conn.socket, valueBytes(action.send));
      } else if ('recv' in action) {
        const ok = await this.recv(conn, action.recv);
        if (!ok) return;
      } else if ('sleep' in action) {
        await new Promise((r) => setTimeout(r, action.sleep));
      } else if ('close' in action) {
        conn.socket.end();
      } else if ('reset' in action) {
        conn.socket.resetAndDestroy();
        return;
      } else {
        throw new Error(`unknown server action ${JSON.stringify(action)}`);
      }
    }
  }

  /** Wait for what `what` asks; false if the client went away first. */
  private async recv(conn: Conn, what: 'request' | 'head' | 'eof' | number): Promise<boolean> {
    for (;;) {
      const pending = conn.received.subarray(conn.consumed);
      let used: number | null = null;
      if (what === 'eof') {
        if (conn.ended || conn.closed) return true;
      } else if (typeof what === 'number') {
        if (pending.length >= what) used = what;
      } else {
        used = requestLength(pending, what === 'head');
      }
      if (used !== null) {
        conn.consumed += used;
        return true;
      }
      if (conn.ended || conn.closed) return false;
      await new Promise<void>((resolve) => {
        conn.wake = resolve;
      });
    }
  }
}

function write(socket: net.Socket, bytes: Buffer): Promise<void> {
  if (socket.destroyed || socket.writableEnded) return Promise.resolve();
  return new Promise((resolve) => socket.write(bytes, () => resolve()));
}

/**
 * The length of the complete request at the start of `data` (its head, and unless
 * `headOnly` its body: Content-Length bytes, or chunks up to the last one and its
 * trailers), or null if more bytes are needed.
 */
export function requestLength(data: Buffer, headOnly: boolean): number | null {
  const end = data.indexOf('\r\n\r\n');
  if (end === -1) return null;
  const headEnd = end + 4;
  if (headOnly) return headEnd;
  const head = data.subarray(0, end).toString('latin1');
  if (/\r\ntransfer-encoding:[ \t]*chunked[ \t]*(\r\n|$)/i.test(head)) {
    let pos = headEnd;
    for (;;) {
      const eol = data.indexOf('\r\n', pos);
      if (eol === -1) return null;
      const size = Number.parseInt(data.subarray(pos, eol).toString('latin1'), 16);
      if (Number.isNaN(size)) return eol + 2;
      if (size === 0) {
        // Trailers, then an empty line.
        let t = eol + 2;
        for (;;) {
          const tl = data.indexOf('\r\n', t);
          if (tl === -1) return null;
          if (tl === t) return tl + 2;
          t = tl + 2;
        }
      }
      pos = eol + 2 + size + 2;
      if (pos > data.length) return null;
    }
  }
  const m = /\r\ncontent-length:[ \t]*(\d+)/i.exec(head);
  const total = headEnd + (m ? Number(m[1]) : 0);
  return data.length >= total ? total : null;
}
