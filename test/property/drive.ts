/**
 * Drivers for the property tests and the fuzz target: run a response, given as byte
 * chunks, through the pure core (ResponseParser + BodyDecoder, as the I/O layer does) or
 * through the real client (HTTPConnection over an in-memory socket that delivers each
 * chunk as its own 'data' event), and describe the outcome in a comparable form.
 *
 * The pure driver also checks the core's resource invariants from the outside, on what
 * it consumed: no run of more than MAXLINE bytes without a LF is ever accepted (head
 * lines, chunk-size lines, extensions, trailers: the only bytes the core might hold or
 * scan), every `decode()` makes progress, the head keeps at most MAXHEADERS lines of at
 * most MAXLINE bytes. A violated invariant is reported, not thrown.
 *
 * The table-driven protocol tests feed their fixtures through the same pure driver
 * (test/protocol/response-parse.harness.ts).
 */
import { Duplex } from 'node:stream';
import { HTTPConnection } from '../../src/client/http-connection.ts';
import { BodyDecoder } from '../../src/protocol/body-decoder.ts';
import { FramingError } from '../../src/protocol/body-errors.ts';
import {
  BadStatusLine,
  HTTPException,
  IncompleteRead,
  LineTooLong,
  RemoteDisconnected,
  TimeoutError,
  UnknownProtocol,
} from '../../src/protocol/errors.ts';
import { MAXHEADERS, MAXLINE } from '../../src/protocol/limits.ts';
import { ResponseParser, type ResponseParserOptions } from '../../src/protocol/response-parser.ts';

/** What the pure core made of a response. Only fields that are known are present. */
export interface PureOutcome {
  version?: number;
  status?: number;
  reason?: string;
  lines?: string[];
  chunked?: boolean;
  length?: number | null;
  will_close?: boolean;
  framing?: string;
  /** Body bytes decoded before the end or the error (latin1). */
  body?: string;
  /** Bytes after the end of the response (latin1). */
  rest?: string;
  /** The server closed before the body was complete. */
  incomplete?: { expected: number | null };
  /** Class name (constructor) of the exception, and its message. */
  errorClass?: string;
  error?: string;
}

export interface PureRun {
  readonly outcome: PureOutcome;
  /** The exception thrown, if any. */
  readonly thrown: unknown;
  /** Broken invariants (empty when all held). */
  readonly violations: string[];
}

/** The exception classes the pure core may throw; anything else is a bug. */
export const PURE_ERRORS: ReadonlyArray<new (...args: never[]) => Error> = [
  HTTPException,
  BadStatusLine,
  RemoteDisconnected,
  UnknownProtocol,
  LineTooLong,
  FramingError,
];

export function isPureError(e: unknown): boolean {
  return e instanceof Error && PURE_ERRORS.some((cls) => e.constructor === cls);
}

/**
 * Split `input` at the given offsets, each taken modulo `input.length + 1` (so any natural
 * number is a cut point; 0 and the end cut nothing), in any order, duplicates ignored.
 */
export function splitAt(input: Buffer, cuts: readonly number[]): Buffer[] {
  const n = input.length;
  const points = [...new Set(cuts.map((c) => c % (n + 1)).filter((c) => c > 0 && c < n))].sort(
    (a, b) => a - b,
  );
  const out: Buffer[] = [];
  let prev = 0;
  for (const p of points) {
    out.push(input.subarray(prev, p));
    prev = p;
  }
  out.push(input.subarray(prev));
  return out;
}

/** One byte per chunk. */
export function byteByByte(input: Buffer): Buffer[] {
  const out: Buffer[] = [];
  for (let i = 0; i < input.length; i++) out.push(input.subarray(i, i + 1));
  return out;
}

/** Feed `chunks` to a fresh parser and decoder; `eof`: the server closes after them. */
export function drivePure(
  chunks: readonly Buffer[],
  options: ResponseParserOptions,
  eof: boolean,
): PureRun {
  const violations: string[] = [];
  const parser = new ResponseParser(options);
  let decoder: BodyDecoder | null = null;
  const body: Buffer[] = [];
  const rest: Buffer[] = [];
  const out: PureOutcome = {};
  let thrown: unknown;
  // Bytes accepted since the last LF, in the head and in the body's framing.
  let headRun = 0;
  let frameRun = 0;
  const countRun = (buf: Buffer, from: number, to: number, run: number): number => {
    if (to <= from) return run;
    const nl = buf.lastIndexOf(0x0a, to - 1);
    return nl >= from ? to - nl - 1 : run + (to - from);
  };
  const startBody = (): BodyDecoder => {
    const head = parser.head;
    if (head === null) throw new Error('driver: head missing after parser.done');
    Object.assign(out, {
      version: head.version,
      status: head.status,
      reason: head.reason,
      lines: head.lines,
      chunked: head.chunked,
      length: head.length,
      will_close: head.will_close,
      framing: head.framing,
    });
    if (head.lines.length > MAXHEADERS) violations.push(`${head.lines.length} header lines kept`);
    for (const line of head.lines) {
      if (line.length > MAXLINE) violations.push(`a header line of ${line.length} bytes kept`);
    }
    if (head.bodyPrefix) body.push(head.bodyPrefix);
    return new BodyDecoder(head.framing, head.length);
  };
  try {
    for (const chunk of chunks) {
      let pos = 0;
      if (decoder === null) {
        const used = parser.execute(chunk, 0, chunk.length);
        if (used < 0 || used > chunk.length) violations.push(`execute returned ${used}`);
        headRun = countRun(chunk, 0, used, headRun);
        if (headRun > MAXLINE) violations.push(`head: ${headRun} bytes without LF accepted`);
        pos = used;
        if (!parser.done) {
          if (used !== chunk.length) violations.push('execute stopped before the end of the head');
          continue;
        }
        decoder = startBody();
      }
      while (pos < chunk.length && !decoder.done) {
        const next = decoder.decode(chunk, pos, chunk.length, Number.POSITIVE_INFINITY);
        const { dataStart, dataEnd } = decoder;
        if (next <= pos) {
          violations.push(`decode made no progress at ${pos} (${decoder.framing})`);
          break;
        }
        if (dataStart < pos || dataEnd < dataStart || dataEnd > next || next > chunk.length) {
          violations.push(`decode ranges ${pos} ${dataStart} ${dataEnd} ${next}`);
          break;
        }
        if (decoder.framing === 'chunked') {
          frameRun = countRun(chunk, pos, dataStart, frameRun);
          if (dataEnd > dataStart) frameRun = 0;
          frameRun = countRun(chunk, dataEnd, next, frameRun);
          if (frameRun > MAXLINE) violations.push(`framing: ${frameRun} bytes without LF accepted`);
        }
        if (dataEnd > dataStart) body.push(Buffer.from(chunk.subarray(dataStart, dataEnd)));
        pos = next;
      }
      if (pos < chunk.length) rest.push(Buffer.from(chunk.subarray(pos)));
    }
    if (eof) {
      if (decoder === null) {
        parser.finish();
        decoder = startBody();
      }
      const result = decoder.eof();
      if (!result.complete) out.incomplete = { expected: result.expected };
    }
  } catch (e) {
    thrown = e;
    const err = e as Error;
    out.errorClass = (err as object).constructor?.name ?? typeof e;
    out.error = String(err?.message);
  }
  if (out.status !== undefined) out.body = Buffer.concat(body).toString('latin1');
  if (rest.length > 0) out.rest = Buffer.concat(rest).toString('latin1');
  return { outcome: out, thrown, violations };
}

// ---------------------------------------------------------------------------------------
// the real client, over an in-memory socket

/**
 * A socket that swallows the request and, once the request head has arrived, delivers
 * `chunks` one per event-loop turn (so each is its own 'data' event), then ends if
 * `eof`.
 */
export function memorySocket(chunks: readonly Buffer[], eof: boolean): Duplex {
  let request = Buffer.alloc(0);
  let started = false;
  const socket = new Duplex({
    read() {},
    write(chunk: Buffer, _encoding, callback) {
      if (!started) {
        request = Buffer.concat([request, chunk]);
        if (request.includes('\r\n\r\n')) {
          started = true;
          let i = 0;
          const next = (): void => {
            if (socket.destroyed) return;
            if (i < chunks.length) {
              socket.push(chunks[i++]);
              setImmediate(next);
            } else if (eof) {
              socket.push(null);
            }
          };
          setImmediate(next);
        }
      }
      callback();
    },
  });
  return socket;
}

/** How the client reads a body: every strategy sits on the same read path. */
export type ReadStrategy =
  | { readonly kind: 'read' }
  | { readonly kind: 'read-amt'; readonly amt: number }
  | { readonly kind: 'read1'; readonly n: number }
  | { readonly kind: 'readinto'; readonly size: number }
  | { readonly kind: 'readline' }
  | { readonly kind: 'iterate' }
  | { readonly kind: 'peek-read'; readonly amt: number };

export interface ClientOutcome {
  /**
   * Per header name (as first received): `[getheader, get_all, has_key]` looked up in
   * upper case, as `HTTPMessage` answers them.
   */
  lookups?: Array<[string, string | null, string[] | null, boolean]>;
  status?: number;
  reason?: string;
  version?: number;
  headers?: Array<[string, string]>;
  chunked?: boolean;
  will_close?: boolean;
  body?: string;
  errorClass?: string;
  error?: string;
}

export interface ClientRun {
  readonly outcome: ClientOutcome;
  readonly thrown: unknown;
  /** Milliseconds until the outcome. */
  readonly ms: number;
}

/** The exceptions the client may reject with (API.md). */
export function isClientError(e: unknown): boolean {
  return e instanceof HTTPException || e instanceof TypeError || e instanceof TimeoutError;
}

async function readBody(
  response: Awaited<ReturnType<HTTPConnection['getresponse']>>,
  how: ReadStrategy,
): Promise<Buffer> {
  const parts: Buffer[] = [];
  for (let guard = 0; guard < 1_000_000; guard++) {
    let piece: Buffer;
    switch (how.kind) {
      case 'read':
        return response.read();
      case 'read-amt':
        piece = await response.read(how.amt);
        break;
      case 'read1':
        piece = await response.read1(how.n);
        break;
      case 'readinto': {
        const b = Buffer.alloc(how.size);
        const n = await response.readinto(b);
        piece = b.subarray(0, n);
        break;
      }
      case 'readline':
        piece = await response.readline();
        break;
      case 'iterate':
        for await (const c of response) parts.push(Buffer.from(c));
        return Buffer.concat(parts);
      case 'peek-read':
        await response.peek();
        piece = await response.read(how.amt);
        break;
    }
    if (piece.length === 0) return Buffer.concat(parts);
    parts.push(Buffer.from(piece));
  }
  throw new Error('driver: body never ended');
}

/**
 * `request(method, '/')`, `getresponse()` and reading the whole body with `how`, through
 * an `HTTPConnection` whose socket is `memorySocket(chunks, eof)`.
 */
export async function driveClient(
  chunks: readonly Buffer[],
  options: { method: string; strict?: boolean; timeout?: number },
  eof: boolean,
  how: ReadStrategy = { kind: 'read' },
): Promise<ClientRun> {
  const started = performance.now();
  const conn = new HTTPConnection('example.test', 80, {
    strict: options.strict ?? false,
    timeout: options.timeout ?? 2,
    createConnection: () => memorySocket(chunks, eof),
  });
  const out: ClientOutcome = {};
  let thrown: unknown;
  // An in-memory socket holds no handle and the client's timers are unref'd: this timer
  // keeps the process alive while the client waits, and caps the run.
  let cap: NodeJS.Timeout | undefined;
  const capped = new Promise<never>((_, reject) => {
    cap = setTimeout(() => {
      conn.close();
      reject(new Error(`driver: no outcome after ${CLIENT_CAP_MS} ms`));
    }, CLIENT_CAP_MS);
  });
  try {
    await Promise.race([run(conn, options.method, how, out), capped]);
  } catch (e) {
    thrown = e;
    out.errorClass = (e as object)?.constructor?.name ?? typeof e;
    out.error = String((e as Error)?.message);
  } finally {
    clearTimeout(cap);
    conn.close();
  }
  return { outcome: out, thrown, ms: performance.now() - started };
}

/** Wall-clock cap of one client run (the client's own timeout is shorter). */
export const CLIENT_CAP_MS = 5000;

async function run(
  conn: HTTPConnection,
  method: string,
  how: ReadStrategy,
  out: ClientOutcome,
): Promise<void> {
  {
    await conn.request(method, '/');
    const response = await conn.getresponse();
    Object.assign(out, {
      status: response.status,
      reason: response.reason,
      version: response.version,
      headers: response.getheaders(),
      lookups: [...new Set(response.msg.keys())].map((name) => {
        const upper = name.toUpperCase();
        return [
          name,
          response.getheader(upper),
          response.msg.get_all(upper),
          response.msg.has_key(upper),
        ];
      }),
      chunked: response.chunked,
      will_close: response.will_close,
    });
    out.body = (await readBody(response, how)).toString('latin1');
  }
}

/** Re-exported for the tests' class checks. */
export { FramingError, IncompleteRead };
