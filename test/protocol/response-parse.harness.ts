/**
 * Test harness: runs the response parser and the body decoder over a response given as
 * a list of byte chunks, the way the I/O layer will, and summarises what a user could
 * observe. Used by the table-driven tests to feed every fixture whole, split at every
 * offset, and one byte at a time.
 */
import { BodyDecoder } from '../../src/protocol/body-decoder.ts';
import { ResponseParser, type ResponseParserOptions } from '../../src/protocol/response-parser.ts';

export interface Outcome {
  version?: number;
  status?: number;
  reason?: string;
  lines?: string[];
  chunked?: boolean;
  length?: number | null;
  will_close?: boolean;
  framing?: string;
  /** Body bytes (latin1). */
  body?: string;
  /** Bytes left after the end of the response (latin1). */
  rest?: string;
  /** When the server closed before the body was complete. */
  incomplete?: { expected: number | null };
  /** An exception: `ClassName: message`. */
  error?: string;
  debug?: string;
}

/** Feed `chunks`; `eof` says whether the server closes after the last one. */
export function runChunks(
  chunks: Buffer[],
  options: ResponseParserOptions = {},
  eof = true,
  debug = false,
): Outcome {
  let debugText = '';
  const parser = new ResponseParser(
    debug
      ? {
          ...options,
          debug: (t: string) => {
            debugText += t;
          },
        }
      : options,
  );
  let decoder: BodyDecoder | null = null;
  const body: Buffer[] = [];
  const rest: Buffer[] = [];
  const out: Outcome = {};
  const startBody = (): void => {
    const head = parser.head;
    if (head === null) throw new Error('head missing');
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
    if (head.bodyPrefix) body.push(head.bodyPrefix);
    decoder = new BodyDecoder(head.framing, head.length);
  };
  try {
    for (const chunk of chunks) {
      let pos = 0;
      if (!parser.done) {
        pos = parser.execute(chunk, 0, chunk.length);
        if (!parser.done) continue;
        startBody();
      }
      const d = decoder as unknown as BodyDecoder;
      while (pos < chunk.length && !d.done) {
        pos = d.decode(chunk, pos, chunk.length, Number.POSITIVE_INFINITY);
        if (d.dataEnd > d.dataStart) body.push(Buffer.from(chunk.subarray(d.dataStart, d.dataEnd)));
      }
      if (pos < chunk.length) rest.push(Buffer.from(chunk.subarray(pos)));
    }
    if (eof) {
      if (!parser.done) {
        parser.finish();
        startBody();
      }
      const result = (decoder as unknown as BodyDecoder).eof();
      if (!result.complete) out.incomplete = { expected: result.expected };
    }
  } catch (e) {
    const err = e as Error;
    out.error = `${err.name}: ${err.message}`;
  }
  if (out.status !== undefined) out.body = Buffer.concat(body).toString('latin1');
  if (rest.length > 0) out.rest = Buffer.concat(rest).toString('latin1');
  if (debug) out.debug = debugText;
  return out;
}

/** Every way of feeding `input` that the tests compare: whole, every split, byte by byte. */
export function feedings(input: Buffer): Array<[string, Buffer[]]> {
  const ways: Array<[string, Buffer[]]> = [['whole', [input]]];
  for (let i = 1; i < input.length; i++) {
    ways.push([`split at ${i}`, [input.subarray(0, i), input.subarray(i)]]);
  }
  const bytes: Buffer[] = [];
  for (let i = 0; i < input.length; i++) bytes.push(input.subarray(i, i + 1));
  ways.push(['byte by byte', bytes]);
  return ways;
}
