/**
 * The oracles of the response-parser fuzz target and the corpus it keeps, shared with
 * the regression test that replays the corpus (test/property/fuzz-corpus.test.ts).
 *
 * `checkPure`: on the pure core (drive.ts), the exception is one of the core's classes,
 * the resource invariants hold, a split and (for small inputs) byte-by-byte feeding
 * give the same outcome as the whole input, so does a run with set_debuglevel output
 * on, and the case stays under a time cap.
 * `checkClient`: HTTPConnection over an in-memory socket settles with a value or an
 * HTTPException/TypeError/TimeoutError and agrees with the core's verdict.
 * `checkLlhttp`: differential against llhttp (node:http's client, strict): where both
 * accept a response, they must agree on its status and body (a framing disagreement is
 * the stuff of desynchronisation). Where only one accepts, nothing is concluded: the
 * package is deliberately more lenient in places (HTTP/0.9, LF-only lines, obs-fold,
 * equal duplicate Content-Length) and stricter in others.
 */
import { readFileSync } from 'node:fs';
import * as http from 'node:http';
import { isDeepStrictEqual } from 'node:util';
import {
  byteByByte,
  driveClient,
  drivePure,
  isClientError,
  isPureError,
  memorySocket,
  type PureOutcome,
  splitAt,
} from '../property/drive.ts';

export const CORPUS_DIR = new URL('../fixtures/fuzz-corpus/', import.meta.url);
export const INDEX = new URL('index.json', CORPUS_DIR);

/** A pure run slower than this (twice) is a finding. */
const SLOW_MS = 250;

/** One committed corpus entry. */
export interface CorpusEntry {
  /** `<sha1-12>.bin` under test/fixtures/fuzz-corpus/. */
  file: string;
  method: string;
  strict: boolean;
  eof: boolean;
  /** 'ok' | 'incomplete' | the exception's class name, as of the last update. */
  expect: string;
  /** The outcome shape that made the fuzzer keep it. */
  signature: string;
  /** Set for a case that broke an oracle: what it found (kept after the fix). */
  found?: string;
}

export interface CaseInput {
  bytes: Buffer;
  method: string;
  strict: boolean;
  eof: boolean;
}

export function loadCorpus(): CorpusEntry[] {
  try {
    return JSON.parse(readFileSync(INDEX, 'utf8')) as CorpusEntry[];
  } catch {
    return [];
  }
}

export function corpusBytes(e: CorpusEntry): Buffer {
  return readFileSync(new URL(e.file, CORPUS_DIR));
}

/** The outcome class a corpus entry records. */
export function outcomeClass(o: PureOutcome): string {
  if (o.errorClass !== undefined) return o.errorClass;
  if (o.incomplete !== undefined) return 'incomplete';
  // No EOF and the head not complete yet: the parser is waiting for more.
  if (o.status === undefined) return 'pending';
  return 'ok';
}

/** What makes two findings the same one (the fuzzer keeps one case of each). */
export function findingKey(found: string): string {
  return found.replace(/[0-9]+/g, 'N').slice(0, 100);
}

/** The shape of an outcome: class, message with numbers and quoted text masked, framing. */
export function signature(o: PureOutcome): string {
  if (o.errorClass !== undefined) {
    // These carry the peer's text (the status line, the version) as their message.
    if (o.errorClass === 'BadStatusLine' || o.errorClass === 'UnknownProtocol') return o.errorClass;
    const msg = (o.error ?? '')
      .replace(/'(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*"/g, 'Q')
      .replace(/0x[0-9a-f]+/gi, 'H')
      .replace(/[0-9]+/g, 'N')
      .replace(/Q(?:, Q)+/g, 'Q, …')
      .slice(0, 80);
    return `${o.errorClass}: ${msg}`;
  }
  const kind = outcomeClass(o);
  if (kind === 'pending') return kind;
  const v = o.version === 9 ? '0.9' : String(o.version);
  const s = o.status === 101 || o.status === 204 || o.status === 304 ? ` ${o.status}` : '';
  return `${kind} v${v}${s} ${o.framing}${o.will_close ? ' close' : ''}${o.rest ? ' +rest' : ''}`;
}

// ---------------------------------------------------------------------------------------
// oracles

interface Check {
  outcome: PureOutcome;
  /** Broken oracles: `kind: detail`. */
  findings: string[];
  ms: number;
}

function timedPure(c: CaseInput, chunks: Buffer[]): [ReturnType<typeof drivePure>, number] {
  const t = performance.now();
  const r = drivePure(chunks, { method: c.method, strict: c.strict }, c.eof);
  return [r, performance.now() - t];
}

/** Every pure-core oracle over one case. */
export function checkPure(c: CaseInput, cuts: readonly number[]): Check {
  const findings: string[] = [];
  const [whole, ms] = timedPure(c, [c.bytes]);
  if (whole.thrown !== undefined && !isPureError(whole.thrown)) {
    findings.push(`exception: ${whole.outcome.errorClass}: ${whole.outcome.error}`);
  }
  for (const v of whole.violations) findings.push(`invariant: ${v}`);
  if (ms > SLOW_MS) {
    const [, again] = timedPure(c, [c.bytes]);
    if (again > SLOW_MS) findings.push(`slow: ${again.toFixed(0)} ms for ${c.bytes.length} bytes`);
  }
  const debug = drivePure(
    [c.bytes],
    { method: c.method, strict: c.strict, debug: () => {} },
    c.eof,
  );
  if (!isDeepStrictEqual(debug.outcome, whole.outcome)) {
    findings.push(
      `debug: with debug output ${signature(debug.outcome)}, without ${signature(whole.outcome)}`,
    );
  }
  const feedings = [splitAt(c.bytes, cuts)];
  if (c.bytes.length <= 2048) feedings.push(byteByByte(c.bytes));
  for (const chunks of feedings) {
    const [run, t] = timedPure(c, chunks);
    for (const v of run.violations) findings.push(`invariant (split): ${v}`);
    if (!isDeepStrictEqual(run.outcome, whole.outcome)) {
      findings.push(
        `split: ${chunks.length} pieces gave ${signature(run.outcome)}, whole gave ${signature(whole.outcome)}`,
      );
    }
    if (t > SLOW_MS * 4) findings.push(`slow (split): ${t.toFixed(0)} ms`);
  }
  return { outcome: whole.outcome, findings, ms };
}

/**
 * The core's outcome with the server closing after the bytes (the case of the client and
 * llhttp runs): `pure`, the outcome of the whole input, when `c` already ends with a close.
 */
function closedOutcome(c: CaseInput, pure: PureOutcome): PureOutcome {
  return c.eof ? pure : drivePure([c.bytes], { method: c.method, strict: c.strict }, true).outcome;
}

/** The client over an in-memory socket: settles, with an API class, agreeing with the core. */
export async function checkClient(
  c: CaseInput,
  cuts: readonly number[],
  pure: PureOutcome,
): Promise<string[]> {
  if (c.method === 'CONNECT') return [];
  const chunks = splitAt(c.bytes, cuts);
  const run = await driveClient(chunks, { method: c.method, strict: c.strict, timeout: 1 }, true);
  const o = run.outcome;
  const findings: string[] = [];
  if (run.thrown !== undefined && !isClientError(run.thrown)) {
    findings.push(`client exception: ${o.errorClass}: ${o.error}`);
  }
  const core = closedOutcome(c, pure);
  const verdict = outcomeClass(core);
  if (verdict === 'ok') {
    if (o.errorClass !== undefined)
      findings.push(`client failed where the core did not: ${o.errorClass}: ${o.error}`);
    else if (o.status !== core.status || o.body !== core.body)
      findings.push('client: status or body differ from the core');
  } else if (verdict === 'incomplete') {
    if (o.errorClass !== 'IncompleteRead')
      findings.push(`client: ${o.errorClass ?? 'ok'} where the core saw an incomplete body`);
  } else if (o.errorClass === undefined) {
    findings.push(`client accepted what the core rejects (${verdict})`);
  }
  return findings;
}

/** Shrink `c.bytes` while `still(bytes)` holds (delta debugging over byte ranges). */
export function minimise(c: CaseInput, still: (b: Buffer) => boolean, budget = 4000): Buffer {
  let best = c.bytes;
  let tries = 0;
  for (let size = Math.max(1, best.length >> 1); size >= 1 && tries < budget; ) {
    let removed = false;
    for (let at = 0; at < best.length && tries < budget; ) {
      const candidate = Buffer.concat([best.subarray(0, at), best.subarray(at + size)]);
      tries++;
      if (candidate.length < best.length && still(candidate)) {
        best = candidate;
        removed = true;
      } else {
        at += size;
      }
    }
    if (!removed) {
      if (size === 1) break;
      size = size >> 1;
      if (size === 1 && best.length > 8192) break;
    }
  }
  return best;
}

/** node:http's client (llhttp, strict) over the same bytes: status and body, or its error. */
export function llhttpParse(
  chunks: readonly Buffer[],
  method: string,
): Promise<{ status?: number; body?: string; error?: string }> {
  return new Promise((resolve) => {
    const socket = memorySocket(chunks, true);
    const agent = Object.assign(new http.Agent(), { createConnection: () => socket });
    const req = http.request({ method, path: '/', host: 'example.test', agent });
    let done = false;
    const settle = (r: { status?: number; body?: string; error?: string }): void => {
      if (done) return;
      done = true;
      socket.destroy();
      resolve(r);
    };
    req.on('error', (e: Error & { code?: string }) => settle({ error: e.code ?? e.message }));
    req.on('upgrade', () => settle({ error: 'upgrade' }));
    req.on('response', (res) => {
      const parts: Buffer[] = [];
      res.on('data', (d: Buffer) => parts.push(d));
      res.on('end', () =>
        settle({ status: res.statusCode ?? 0, body: Buffer.concat(parts).toString('latin1') }),
      );
      res.on('aborted', () => settle({ error: 'aborted' }));
      res.on('error', (e: Error) => settle({ error: e.message }));
    });
    req.end();
  });
}

/**
 * Transfer-Encoding fields that, merged as Python 2.7 merges them (`', '`), are not
 * exactly `chunked` (`gzip, chunked`, or `chunked` twice): 2.7 and this package read
 * such a body until close (conformance scenario framing/chunked-gzip-chunked-not-chunked),
 * llhttp decodes it when chunked comes last. A known, deliberate difference.
 */
function otherTransferCoding(lines: readonly string[] | undefined): boolean {
  const values: string[] = [];
  for (const line of lines ?? []) {
    const colon = line.indexOf(':');
    if (colon === -1 || line.slice(0, colon).toLowerCase() !== 'transfer-encoding') continue;
    values.push(line.slice(colon + 1).trim());
  }
  return values.length > 0 && values.join(', ').toLowerCase() !== 'chunked';
}

/**
 * Where both the core and llhttp accept a response, they agree on status and body.
 * `pure`: the core's outcome of the whole input (checkPure's).
 */
export async function checkLlhttp(
  c: CaseInput,
  cuts: readonly number[],
  pure: PureOutcome,
): Promise<string[]> {
  if (c.method === 'CONNECT' || c.strict) return [];
  const core = closedOutcome(c, pure);
  if (outcomeClass(core) !== 'ok' || core.version === 9 || core.status === 101) return [];
  if (otherTransferCoding(core.lines)) return [];
  const ll = await llhttpParse(splitAt(c.bytes, cuts), c.method);
  if (ll.error !== undefined) return [];
  if (ll.status !== core.status) return [`llhttp: status ${ll.status}, core ${core.status}`];
  if (ll.body !== core.body) {
    return [`llhttp: body of ${ll.body?.length} bytes, core ${core.body?.length} bytes`];
  }
  return [];
}
