/**
 * The blocking API's rows of the benchmark (issue 15): `httplib-ts/sync` driven as Python
 * code drives `http.client`, one call after another on the thread: `request` →
 * `getresponse` → `read()` / `read(65536)` until empty / `readinto` of one reused 64 KiB
 * buffer. bench/client.ts runs these loops without any `await` between requests.
 */
import { closeSync, openSync } from 'node:fs';
import type { ClientSpec } from './client.ts';

/** One connection of the blocking API: a request, synchronously; returns the bytes to account. */
export interface SyncConn {
  getSync(path: string): number;
  close(): void;
}

const PIECE = 65536;

export async function httplibSyncConns(
  spec: ClientSpec,
  uploadBody: Buffer | null,
  account: (body: Uint8Array) => number,
  sampleRss: () => void,
): Promise<SyncConn[]> {
  const httplib = await import('../src/sync.ts');
  const context = spec.ca === null ? null : httplib.ssl.create_default_context({ cafile: spec.ca });
  const method = spec.upload === null ? 'GET' : 'POST';
  const conns: SyncConn[] = [];
  for (let i = 0; i < spec.conns; i++) {
    const conn =
      context === null
        ? new httplib.HTTPConnection(spec.host, spec.port)
        : new httplib.HTTPSConnection(spec.host, spec.port, { context });
    const into = Buffer.allocUnsafe(PIECE);
    const sample = spec.rss;
    conns.push({
      getSync(path) {
        if (spec.upload?.kind === 'file') {
          const fd = openSync(spec.upload.file, 'r');
          try {
            conn.request(method, path, fd);
          } finally {
            closeSync(fd);
          }
        } else {
          conn.request(method, path, uploadBody);
        }
        const res = conn.getresponse();
        if (spec.mode === 'all') return account(res.read());
        let n = 0;
        for (;;) {
          const k = spec.mode === 'amt' ? res.read(PIECE).length : res.readinto(into);
          if (k === 0) return n;
          n += k;
          if (sample) sampleRss();
        }
      },
      close: () => conn.close(),
    });
  }
  return conns;
}
