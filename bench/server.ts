/**
 * The benchmark server: a raw `net` (and `tls`) server in its own process, answering every
 * request with pre-built keep-alive bytes so that it is never the bottleneck. Started by
 * bench/run.ts (compiled to JS first, pinned with taskset); prints one line of JSON with its
 * ports, then serves until its stdin closes.
 *
 * Listeners (all on 127.0.0.1, each on its own port):
 * - `small`     100-byte body, Content-Length
 * - `len1m`     1 MiB body, Content-Length
 * - `chunked1m` 1 MiB body, Transfer-Encoding: chunked, 64 chunks of 16 KiB
 * - `sized`     `GET /?bytes=N`: N body bytes, Content-Length; up to 64 MiB one pre-built
 *               buffer (64 MiB: the 64 MiB scenario), beyond that streamed from one 4 MiB
 *               buffer with backpressure (the 1 GiB RSS scenario)
 * - `upload`    reads a request body framed by Content-Length or chunked, counts its bytes and
 *               answers when it is complete; the response body is the count in decimal
 * - `tls`       the `small` response over TLS (only when a certificate directory is given)
 *
 * GET listeners parse nothing: they count `\r\n\r\n` in each data event (carrying a partial
 * match across events) and write one pre-built response per request, a pre-built batch when
 * several arrived at once.
 */
import { readFileSync } from 'node:fs';
import net from 'node:net';
import { join } from 'node:path';
import tls from 'node:tls';

interface ServerConfig {
  /** A directory with server.pem / server.key (test/fixtures/tls/make-certs.sh). */
  tlsDir?: string | null;
}

const KiB = 1024;
const MiB = 1024 * KiB;
const DATE = 'Thu, 01 Jan 2026 00:00:00 GMT';

function head(extra: string): string {
  return `HTTP/1.1 200 OK\r\nServer: httplib-ts-bench\r\nDate: ${DATE}\r\nContent-Type: application/octet-stream\r\n${extra}\r\n`;
}

function fixedResponse(size: number): Buffer {
  const h = Buffer.from(head(`Content-Length: ${size}\r\n`), 'latin1');
  const out = Buffer.allocUnsafe(h.length + size);
  h.copy(out, 0);
  out.fill(0x78, h.length); // 'x'
  return out;
}

function chunkedResponse(total: number, chunk: number): Buffer {
  const parts: Buffer[] = [Buffer.from(head('Transfer-Encoding: chunked\r\n'), 'latin1')];
  const data = Buffer.alloc(chunk, 0x78);
  for (let left = total; left > 0; left -= chunk) {
    const n = Math.min(chunk, left);
    parts.push(Buffer.from(`${n.toString(16)}\r\n`, 'latin1'), data.subarray(0, n));
    parts.push(Buffer.from('\r\n', 'latin1'));
  }
  parts.push(Buffer.from('0\r\n\r\n', 'latin1'));
  return Buffer.concat(parts);
}

/**
 * Counts `\r\n\r\n` in a stream of chunks. `partial` is how many bytes of the terminator
 * the previous chunk ended with (0–3).
 */
class TerminatorCounter {
  partial = 0;

  count(chunk: Buffer): number {
    let n = 0;
    let pos = 0;
    if (this.partial > 0) {
      const need = 4 - this.partial;
      let matched = 0;
      while (matched < need && matched < chunk.length) {
        const expected = (this.partial + matched) % 2 === 0 ? 13 : 10;
        if (chunk[matched] !== expected) break;
        matched++;
      }
      if (matched === need) {
        n++;
        pos = need;
        this.partial = 0;
      } else if (matched === chunk.length) {
        this.partial += matched;
        return 0;
      } else {
        this.partial = 0;
      }
    }
    for (;;) {
      const i = chunk.indexOf('\r\n\r\n', pos, 'latin1');
      if (i === -1) break;
      n++;
      pos = i + 4;
    }
    // How much of a terminator the chunk ends with (not overlapping one just counted).
    const len = chunk.length;
    if (len - pos >= 3 && chunk[len - 3] === 13 && chunk[len - 2] === 10 && chunk[len - 1] === 13)
      this.partial = 3;
    else if (len - pos >= 2 && chunk[len - 2] === 13 && chunk[len - 1] === 10) this.partial = 2;
    else if (len - pos >= 1 && chunk[len - 1] === 13) this.partial = 1;
    return n;
  }
}

/** Answers every request with `response`, batching when several arrive in one event. */
function fixedHandler(response: Buffer): (socket: net.Socket) => void {
  const batches: Buffer[] = [response];
  const small = response.length <= 64 * KiB;
  return (socket) => {
    socket.setNoDelay(true);
    const counter = new TerminatorCounter();
    socket.on('data', (chunk: Buffer) => {
      let n = counter.count(chunk);
      if (n === 0) return;
      if (small) {
        while (n > 0) {
          const k = Math.min(n, 16);
          let batch = batches[k - 1];
          if (batch === undefined) {
            batch = Buffer.concat(Array.from({ length: k }, () => response));
            batches[k - 1] = batch;
          }
          socket.write(batch);
          n -= k;
        }
      } else {
        for (; n > 0; n--) socket.write(response);
      }
    });
    socket.on('error', () => socket.destroy());
  };
}

/**
 * `GET /?bytes=N`: a Content-Length response with N body bytes. Sizes up to 64 MiB are
 * written as one pre-built buffer (built on first use; 64 MiB is built at start), larger
 * ones streamed from one shared 4 MiB buffer with backpressure. Few requests come here, so
 * request heads are parsed properly.
 */
function sizedHandler(prebuilt: Map<number, Buffer>): (socket: net.Socket) => void {
  const piece = Buffer.alloc(4 * MiB, 0x78);
  return (socket) => {
    socket.setNoDelay(true);
    let pending = '';
    let chain: Promise<void> = Promise.resolve();
    const send = async (size: number): Promise<void> => {
      if (size <= 64 * MiB) {
        let response = prebuilt.get(size);
        if (response === undefined) {
          response = fixedResponse(size);
          prebuilt.set(size, response);
        }
        socket.write(response);
        return;
      }
      socket.write(head(`Content-Length: ${size}\r\n`), 'latin1');
      for (let left = size; left > 0 && !socket.destroyed; ) {
        const n = Math.min(left, piece.length);
        left -= n;
        if (!socket.write(n === piece.length ? piece : piece.subarray(0, n))) {
          await new Promise<void>((resolve) => {
            const done = (): void => {
              socket.off('drain', done);
              socket.off('close', done);
              resolve();
            };
            socket.on('drain', done);
            socket.on('close', done);
          });
        }
      }
    };
    socket.on('data', (chunk: Buffer) => {
      pending += chunk.toString('latin1');
      for (;;) {
        const end = pending.indexOf('\r\n\r\n');
        if (end === -1) break;
        const requestLine = pending.slice(0, pending.indexOf('\r\n'));
        pending = pending.slice(end + 4);
        const m = /[?&]bytes=(\d+)/.exec(requestLine);
        const size = m?.[1] !== undefined ? Number(m[1]) : 100;
        chain = chain.then(() => send(size));
      }
    });
    socket.on('error', () => socket.destroy());
  };
}

/** Reads request bodies (Content-Length or chunked), answers each with its byte count. */
function uploadHandler(socket: net.Socket): void {
  socket.setNoDelay(true);
  type State = 'head' | 'length' | 'size' | 'data' | 'data-crlf' | 'trailer';
  let state: State = 'head';
  let headText = '';
  let line = '';
  let left = 0;
  let received = 0;

  const answer = (): void => {
    const body = String(received);
    socket.write(`${head(`Content-Length: ${body.length}\r\n`)}${body}`, 'latin1');
    state = 'head';
    headText = '';
    received = 0;
  };

  const startBody = (text: string): void => {
    const lower = text.toLowerCase();
    if (/\r\ntransfer-encoding:[^\r]*chunked/.test(lower)) {
      state = 'size';
      line = '';
      return;
    }
    const m = /\r\ncontent-length:\s*(\d+)/.exec(lower);
    left = m?.[1] !== undefined ? Number(m[1]) : 0;
    if (left === 0) answer();
    else state = 'length';
  };

  socket.on('data', (chunk: Buffer) => {
    let pos = 0;
    const len = chunk.length;
    while (pos < len) {
      switch (state) {
        case 'head': {
          const i = chunk.indexOf('\r\n\r\n', pos, 'latin1');
          if (i === -1 && headText.length === 0) {
            headText = chunk.toString('latin1', pos);
            pos = len;
            break;
          }
          if (headText.length > 0) {
            // The terminator may straddle chunks: search the joined text.
            const joined = headText + chunk.toString('latin1', pos, Math.min(len, pos + 8 * KiB));
            const j = joined.indexOf('\r\n\r\n');
            if (j === -1) {
              headText = joined;
              pos = Math.min(len, pos + 8 * KiB);
              break;
            }
            pos += j + 4 - headText.length;
            const text = joined.slice(0, j);
            headText = '';
            startBody(text);
            break;
          }
          const text = chunk.toString('latin1', pos, i);
          pos = i + 4;
          startBody(text);
          break;
        }
        case 'length':
        case 'data': {
          const n = Math.min(left, len - pos);
          left -= n;
          received += n;
          pos += n;
          if (left > 0) break;
          if (state === 'length') answer();
          else {
            state = 'data-crlf';
            left = 2;
          }
          break;
        }
        case 'size':
        case 'trailer': {
          const nl = chunk.indexOf(10, pos);
          const end = nl === -1 ? len : nl + 1;
          line += chunk.toString('latin1', pos, end);
          pos = end;
          if (nl === -1) break;
          const text = line.trimEnd();
          line = '';
          if (state === 'trailer') {
            if (text === '') answer();
            break;
          }
          left = Number.parseInt(text.split(';')[0] ?? '', 16);
          if (!Number.isFinite(left) || left < 0) {
            socket.destroy();
            return;
          }
          state = left === 0 ? 'trailer' : 'data';
          break;
        }
        case 'data-crlf': {
          const n = Math.min(left, len - pos);
          left -= n;
          pos += n;
          if (left === 0) state = 'size';
          break;
        }
      }
    }
  });
  socket.on('error', () => socket.destroy());
}

function listen(server: net.Server): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      if (address === null || typeof address === 'string') reject(new Error('no port'));
      else resolve(address.port);
    });
  });
}

async function main(): Promise<void> {
  const config = JSON.parse(process.argv[2] ?? '{}') as ServerConfig;
  const small = fixedResponse(100);
  const servers: Record<string, net.Server> = {
    small: net.createServer(fixedHandler(small)),
    len1m: net.createServer(fixedHandler(fixedResponse(MiB))),
    chunked1m: net.createServer(fixedHandler(chunkedResponse(MiB, 16 * KiB))),
    sized: net.createServer(sizedHandler(new Map([[64 * MiB, fixedResponse(64 * MiB)]]))),
    upload: net.createServer(uploadHandler),
  };
  if (config.tlsDir) {
    servers.tls = tls.createServer(
      {
        key: readFileSync(join(config.tlsDir, 'server.key')),
        cert: readFileSync(join(config.tlsDir, 'server.pem')),
      },
      fixedHandler(small),
    );
  }
  const ports: Record<string, number> = {};
  for (const [name, server] of Object.entries(servers)) ports[name] = await listen(server);
  process.stdout.write(`${JSON.stringify({ pid: process.pid, ports })}\n`);
  process.stdin.resume();
  process.stdin.on('end', () => process.exit(0));
  process.stdin.on('error', () => process.exit(0));
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
