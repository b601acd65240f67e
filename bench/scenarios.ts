/**
 * The benchmark scenarios (issue 7, item 2) and the rows (client × way of reading) each one
 * measures. bench/run.ts runs them; bench/client.ts and bench/py_client.py do the requests.
 */
import type { ClientKind, ReadMode } from './client.ts';

export type RowClient = ClientKind;

/**
 * `all`: the whole body into one buffer (httplib `read()`); `pieces`: the body consumed in
 * pieces that are dropped or reused. Ratios compare rows of the same kind only.
 */
export type ReadKind = 'all' | 'pieces';

export interface Row {
  /** Unique in its scenario: `client:mode`. */
  id: string;
  label: string;
  client: RowClient;
  mode: ReadMode;
  kind: ReadKind;
  /** Another server listener than the scenario's (a reference row). */
  listener?: string;
  /** An httplib-ts row measuring the `--vs` revision's src/ (bench/run.ts). */
  vs?: boolean;
}

export interface Counts {
  count: number;
  warmup: number;
}

export interface Scenario {
  id: string;
  title: string;
  /** What the table measures, printed under its title. */
  description: string;
  /** The server listener (bench/server.ts) the clients talk to. */
  listener: string;
  unit: 'req/s' | 'MB/s';
  conns: number;
  full: Counts;
  quick: Counts;
  /** Request targets of the timed and the warm-up requests (`{bytes}`: bytes per request). */
  path: string;
  warmPath: string;
  /** Body bytes each timed request receives (downloads) or sends (uploads). */
  bytesPerRequest: number;
  /** Quick runs may send a smaller body. */
  quickBytesPerRequest?: number;
  upload?: 'buffer' | 'file';
  tls?: boolean;
  rss?: boolean;
  /** The command-line rows: wall time per download, a process each, against curl. */
  cli?: boolean;
  rows: Row[];
}

const MiB = 1024 * 1024;

function row(client: RowClient, mode: ReadMode, label: string, listener?: string): Row {
  const r: Row = {
    id: `${client}:${mode}`,
    label,
    client,
    mode,
    kind: mode === 'all' ? 'all' : 'pieces',
  };
  if (listener !== undefined) r.listener = listener;
  return r;
}

function smallRows(pool: boolean): Row[] {
  const undici = pool ? 'Pool' : 'Client';
  return [
    row('httplib', 'all', 'httplib-ts read()'),
    // The blocking API on one connection (10 connections would be 10 threads: not measured).
    ...(pool ? [] : [row('httplib-sync', 'all', 'httplib-ts/sync read()')]),
    row('node-http', 'all', 'node:http, keep-alive Agent'),
    row('undici-request', 'all', `undici ${undici}.request + body.bytes()`),
    row('undici-dispatch', 'all', `undici ${undici}.dispatch`),
    row('python', 'all', 'CPython http.client read()'),
    row('raw', 'all', 'floor: net.Socket'),
    row('raw-onread', 'all', 'floor: net.Socket + onread'),
  ];
}

/** `sync`: the rows of the blocking API (httplib-ts/sync) to add, by way of reading. */
function largeRows(sync: ReadMode[]): Row[] {
  const labels: Partial<Record<ReadMode, string>> = {
    all: 'httplib-ts/sync read()',
    amt: 'httplib-ts/sync read(65536) loop',
    into: 'httplib-ts/sync readinto(64 KiB) loop',
  };
  return [
    row('httplib', 'all', 'httplib-ts read()'),
    row('httplib', 'amt', 'httplib-ts read(65536) loop'),
    row('httplib', 'into', 'httplib-ts readinto(64 KiB) loop'),
    ...sync.map((mode) => row('httplib-sync', mode, labels[mode] as string)),
    row('node-http', 'all', 'node:http collect + concat'),
    row('node-http', 'drain', 'node:http drain'),
    row('undici-request', 'all', 'undici request + body.bytes()'),
    row('undici-request', 'drain', 'undici request, for await (drain)'),
    row('undici-dispatch', 'all', 'undici dispatch, collect + concat'),
    row('undici-dispatch', 'drain', 'undici dispatch, drain'),
    row('python', 'all', 'CPython read()'),
    row('python', 'amt', 'CPython read(65536) loop'),
    row('python', 'into', 'CPython readinto(64 KiB) loop'),
    row('raw', 'all', 'floor: net.Socket, collect + concat'),
    row('raw', 'drain', 'floor: net.Socket, drain'),
    row('raw-onread', 'all', 'floor: onread, one copy into a sized buffer'),
    row('raw-onread', 'drain', 'floor: onread, drain'),
  ];
}

function uploadRows(): Row[] {
  return [
    row('httplib', 'all', 'httplib-ts request(body)'),
    row('node-http', 'all', 'node:http, keep-alive Agent'),
    row('undici-request', 'all', 'undici Client.request'),
    row('undici-dispatch', 'all', 'undici Client.dispatch'),
    row('python', 'all', 'CPython http.client request(body)'),
    row('raw', 'all', 'floor: net.Socket'),
  ];
}

export const SCENARIOS: Scenario[] = [
  {
    id: 'small',
    title: 'Small responses, one connection, sequential',
    description: '100-byte body, Content-Length; one keep-alive connection, one request at a time.',
    listener: 'small',
    unit: 'req/s',
    conns: 1,
    full: { count: 20000, warmup: 20000 },
    quick: { count: 300, warmup: 50 },
    path: '/',
    warmPath: '/',
    bytesPerRequest: 100,
    rows: smallRows(false),
  },
  {
    id: 'conn10',
    title: 'Small responses, 10 connections at once',
    description:
      '100-byte body; 10 connections in parallel, each sequential (10 HTTPConnections; ' +
      'a keep-alive Agent with maxSockets 10; an undici Pool of 10; Python: 10 threads).',
    listener: 'small',
    unit: 'req/s',
    conns: 10,
    full: { count: 20000, warmup: 20000 },
    quick: { count: 300, warmup: 50 },
    path: '/',
    warmPath: '/',
    bytesPerRequest: 100,
    rows: smallRows(true),
  },
  {
    id: '1mib',
    title: '1 MiB bodies',
    description: '1 MiB body, Content-Length, one connection, sequential.',
    listener: 'len1m',
    unit: 'MB/s',
    conns: 1,
    full: { count: 1000, warmup: 3000 },
    quick: { count: 8, warmup: 2 },
    path: '/',
    warmPath: '/',
    bytesPerRequest: MiB,
    rows: largeRows(['all']),
  },
  {
    id: 'chunked-1mib',
    title: '1 MiB chunked bodies',
    description:
      '1 MiB body, Transfer-Encoding: chunked (64 chunks of 16 KiB). The floors cannot ' +
      'parse chunked: their rows read the same body with Content-Length, as a reference.',
    listener: 'chunked1m',
    unit: 'MB/s',
    conns: 1,
    full: { count: 1000, warmup: 3000 },
    quick: { count: 8, warmup: 2 },
    path: '/',
    warmPath: '/',
    bytesPerRequest: MiB,
    rows: [
      row('httplib', 'all', 'httplib-ts read()'),
      row('httplib', 'amt', 'httplib-ts read(65536) loop'),
      row('node-http', 'all', 'node:http collect + concat'),
      row('undici-request', 'all', 'undici request + body.bytes()'),
      row('undici-request', 'drain', 'undici request, for await (drain)'),
      row('undici-dispatch', 'all', 'undici dispatch, collect + concat'),
      row('python', 'all', 'CPython read()'),
      row('python', 'amt', 'CPython read(65536) loop'),
      row('raw', 'all', 'floor: net.Socket collect (Content-Length body)', 'len1m'),
      row('raw', 'drain', 'floor: net.Socket drain (Content-Length body)', 'len1m'),
      row('raw-onread', 'all', 'floor: onread collect (Content-Length body)', 'len1m'),
      row('raw-onread', 'drain', 'floor: onread drain (Content-Length body)', 'len1m'),
    ],
  },
  {
    id: '64mib',
    title: '64 MiB bodies',
    description:
      '64 MiB body, Content-Length, one connection, sequential: read() into one buffer, or ' +
      'read(65536) / readinto / drain in pieces. Warm-up with 1 MiB bodies.',
    listener: 'sized',
    unit: 'MB/s',
    conns: 1,
    full: { count: 16, warmup: 1000 },
    quick: { count: 1, warmup: 1 },
    path: '/?bytes={bytes}',
    warmPath: `/?bytes=${MiB}`,
    bytesPerRequest: 64 * MiB,
    quickBytesPerRequest: 4 * MiB,
    rows: largeRows(['amt']),
  },
  {
    id: 'upload-buffer',
    title: '64 MiB upload from a Buffer',
    description:
      'POST of a 64 MiB Buffer with Content-Length; the server counts the body and answers ' +
      'with the count.',
    listener: 'upload',
    unit: 'MB/s',
    conns: 1,
    full: { count: 16, warmup: 2 },
    quick: { count: 1, warmup: 1 },
    path: '/',
    warmPath: '/',
    bytesPerRequest: 64 * MiB,
    quickBytesPerRequest: 8 * MiB,
    upload: 'buffer',
    rows: uploadRows(),
  },
  {
    id: 'upload-file',
    title: '64 MiB upload from a file',
    description:
      'POST of a 64 MiB file (in the page cache) with Content-Length: httplib-ts and CPython ' +
      'get an open file (a FileHandle; default blocksize), node:http and undici an ' +
      'fs.ReadStream, the floor a ReadStream with 256 KiB reads.',
    listener: 'upload',
    unit: 'MB/s',
    conns: 1,
    full: { count: 16, warmup: 2 },
    quick: { count: 1, warmup: 1 },
    path: '/',
    warmPath: '/',
    bytesPerRequest: 64 * MiB,
    quickBytesPerRequest: 8 * MiB,
    upload: 'file',
    rows: uploadRows(),
  },
  {
    id: 'tls-small',
    title: 'Small responses over TLS, one connection, sequential',
    description:
      '100-byte body over TLS (certificate from test/fixtures/tls/make-certs.sh); the ' +
      'handshake happens in the warm-up.',
    listener: 'tls',
    unit: 'req/s',
    conns: 1,
    full: { count: 10000, warmup: 10000 },
    quick: { count: 200, warmup: 50 },
    path: '/',
    warmPath: '/',
    bytesPerRequest: 100,
    tls: true,
    rows: smallRows(false).map((r) =>
      r.client === 'httplib' ? { ...r, label: 'httplib-ts HTTPSConnection read()' } : r,
    ),
  },
  {
    id: 'rss-1gib',
    title: 'Peak RSS of a 1 GiB download read in 64 KiB pieces',
    description:
      'One 1 GiB body (Content-Length) read in 64 KiB pieces; RSS sampled after every piece, ' +
      'peak minus the RSS after the warm-up (16 × 1 MiB) and a GC. Target: < 64 MiB.',
    listener: 'sized',
    unit: 'MB/s',
    conns: 1,
    full: { count: 1, warmup: 16 },
    quick: { count: 1, warmup: 2 },
    path: '/?bytes={bytes}',
    warmPath: `/?bytes=${MiB}`,
    bytesPerRequest: 1024 * MiB,
    quickBytesPerRequest: 64 * MiB,
    rss: true,
    rows: [
      row('httplib', 'amt', 'httplib-ts read(65536) loop'),
      row('httplib', 'into', 'httplib-ts readinto(64 KiB) loop'),
      row('raw', 'drain', 'floor: net.Socket, drain'),
      row('raw-onread', 'drain', 'floor: onread, drain'),
    ],
  },
  {
    id: 'cli-64mib',
    title: '64 MiB download to a file with the command line',
    description:
      '`httplib -o FILE URL` (dist/cli/main.cjs as built and bundled, under this Node) against ' +
      '`curl -s -o FILE URL`: a new process per download, its start-up included, with this ' +
      "process's environment; when it sets NODE_EXTRA_CA_CERTS, which Node parses at every " +
      'start (curl does not read it), a second httplib row runs without it. Wall time from ' +
      'spawn to exit. Target: ≤ 1.5× curl. The warm-up downloads 1 MiB.',
    listener: 'sized',
    unit: 'MB/s',
    conns: 1,
    full: { count: 10, warmup: 2 },
    quick: { count: 1, warmup: 1 },
    path: '/?bytes={bytes}',
    warmPath: `/?bytes=${MiB}`,
    bytesPerRequest: 64 * MiB,
    quickBytesPerRequest: 4 * MiB,
    cli: true,
    rows: [
      row('httplib-cli', 'all', 'httplib -o FILE (dist/cli/main.cjs)'),
      row('httplib-cli-noca', 'all', 'httplib -o FILE, NODE_EXTRA_CA_CERTS unset'),
      row('curl', 'all', 'curl -s -o FILE'),
    ],
  },
];

/** The rows whose rates are the denominators of the ratio columns. */
export const REFERENCES: Record<'floor' | 'onread' | 'undici', RowClient> = {
  floor: 'raw',
  onread: 'raw-onread',
  undici: 'undici-request',
};
