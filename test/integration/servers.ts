/**
 * Real peers for the integration tests, all on 127.0.0.1 with port 0:
 *
 * - `rawServer(onConnection)`: a `net` server that hands each accepted socket to the
 *   test and records every byte received per connection (for malformed replies and for
 *   asserting exactly what the client sent).
 * - `scriptedServer(replies)`: a raw server that, on each connection, waits for each
 *   complete request head and answers with the next scripted bytes (a function may do
 *   more: pause, close, reset).
 * - `httpServer(handler)`: a `node:http` server for ordinary traffic.
 *
 * Every server closes all its sockets in `close()`, so a test leaves nothing behind.
 */
import * as http from 'node:http';
import * as net from 'node:net';

export interface RawServer {
  readonly port: number;
  /** Bytes received, one entry per accepted connection, in order. */
  readonly received: Buffer[];
  /** Accepted sockets, in order. */
  readonly sockets: net.Socket[];
  /** Resolves when `n` connections have been accepted. */
  connections(n: number): Promise<void>;
  close(): Promise<void>;
}

export function rawServer(
  onConnection: (socket: net.Socket, index: number, server: RawServer) => void,
): Promise<RawServer> {
  const received: Buffer[] = [];
  const sockets: net.Socket[] = [];
  const waiters: Array<[number, () => void]> = [];
  const server = net.createServer({ allowHalfOpen: true });
  const api: RawServer = {
    port: 0,
    received,
    sockets,
    connections(n) {
      if (sockets.length >= n) return Promise.resolve();
      return new Promise((resolve) => waiters.push([n, resolve]));
    },
    close() {
      for (const s of sockets) s.destroy();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
  server.on('connection', (socket) => {
    const index = sockets.length;
    sockets.push(socket);
    received.push(Buffer.alloc(0));
    socket.on('error', () => {});
    socket.on('data', (d: Buffer) => {
      received[index] = Buffer.concat([received[index] as Buffer, d]);
    });
    for (const w of waiters.splice(0)) {
      if (sockets.length >= w[0]) w[1]();
      else waiters.push(w);
    }
    onConnection(socket, index, api);
  });
  return new Promise((resolve) => {
    server.listen(0, '127.0.0.1', () => {
      (api as { port: number }).port = (server.address() as net.AddressInfo).port;
      resolve(api);
    });
  });
}

/** What a scripted server does for one request: bytes to write, or a function. */
export type Reply = string | Buffer | ((socket: net.Socket, request: Buffer) => void);

/**
 * On every connection, wait for a complete request head (and a body announced with
 * Content-Length) and answer it with the next reply of `replies[connectionIndex]`
 * (or of `replies` itself when it is a flat list for one connection).
 */
export function scriptedServer(replies: Reply[] | Reply[][]): Promise<RawServer> {
  const perConnection = (i: number): Reply[] =>
    Array.isArray(replies[0]) ? ((replies as Reply[][])[i] ?? []) : (replies as Reply[]);
  return rawServer((socket, index) => {
    const queue = [...perConnection(index)];
    let pending = Buffer.alloc(0);
    socket.on('data', (d: Buffer) => {
      pending = Buffer.concat([pending, d]);
      for (;;) {
        const end = pending.indexOf('\r\n\r\n');
        if (end === -1) return;
        const head = pending.subarray(0, end).toString('latin1');
        const m = /\r\ncontent-length:\s*(\d+)/i.exec(head);
        const total = end + 4 + (m ? Number(m[1]) : 0);
        if (pending.length < total) return;
        const request = pending.subarray(0, total);
        pending = pending.subarray(total);
        const reply = queue.shift();
        if (reply === undefined) return;
        if (typeof reply === 'function') reply(socket, request);
        else socket.write(typeof reply === 'string' ? Buffer.from(reply, 'latin1') : reply);
      }
    });
  });
}

export interface HttpServer {
  readonly port: number;
  readonly server: http.Server;
  /** Connections accepted so far. */
  connectionCount(): number;
  close(): Promise<void>;
}

export function httpServer(handler: http.RequestListener): Promise<HttpServer> {
  const server = http.createServer(handler);
  let count = 0;
  const sockets = new Set<net.Socket>();
  server.on('connection', (s: net.Socket) => {
    count++;
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  return new Promise((resolve) => {
    server.listen(0, '127.0.0.1', () => {
      resolve({
        port: (server.address() as net.AddressInfo).port,
        server,
        connectionCount: () => count,
        close() {
          for (const s of sockets) s.destroy();
          return new Promise((r) => server.close(() => r()));
        },
      });
    });
  });
}

/** Read a request body on a node:http server. */
export async function readBody(req: http.IncomingMessage): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const chunk of req) parts.push(chunk as Buffer);
  return Buffer.concat(parts);
}

/**
 * Write `data` one byte per TCP write, yielding to the event loop (`setImmediate`)
 * between writes, so that the client sees the bytes in many small pieces; then end the
 * socket if `end` is true. Stops quietly if the socket goes away.
 */
export async function trickle(
  socket: net.Socket,
  data: string | Buffer,
  end = false,
): Promise<void> {
  const bytes = typeof data === 'string' ? Buffer.from(data, 'latin1') : data;
  for (let i = 0; i < bytes.length; i++) {
    if (socket.destroyed || socket.writableEnded) return;
    socket.write(bytes.subarray(i, i + 1));
    await new Promise<void>((resolve) => setImmediate(resolve));
  }
  if (end && !socket.destroyed) socket.end();
}

/**
 * Resolves once the peer of a server-side socket has closed or reset its end (the
 * socket saw EOF, an error or its own close), at once if that already happened.
 */
export function peerClosed(socket: net.Socket): Promise<void> {
  if (socket.readableEnded || socket.destroyed) return Promise.resolve();
  return new Promise((resolve) => {
    const done = (): void => {
      socket.off('end', done);
      socket.off('error', done);
      socket.off('close', done);
      resolve();
    };
    socket.on('end', done);
    socket.on('error', done);
    socket.on('close', done);
    // 'end' is only emitted while the socket is read: make sure it flows.
    socket.resume();
  });
}
