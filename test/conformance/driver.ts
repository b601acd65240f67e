/**
 * Conformance driver for this package: plays a scenario's steps in-process against
 * `src/index.ts` (or, from driver-sync.ts, against the blocking entry `src/sync.ts`,
 * whose calls return values where these return promises: `await` takes either), exactly
 * as `driver.py` plays them against CPython, and reports the same result shapes (see
 * driver.py's docstring). Debug output is captured through the connection's `debugOutput`.
 *
 * It decides nothing about agreement (run.ts does); it only reports what happened.
 */
import { createReadStream, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as httplib from '../../src/index.ts';
import { normalizeStep, type Step, type Value } from './scenario.ts';

export type Result = { ok: unknown } | ({ raises: string } & Record<string, unknown>);

export interface ScenarioResult {
  steps: Result[];
  debug: string;
}

const RESPONSE_OPS = new Set([
  'read',
  'getheader',
  'getheaders',
  'isclosed',
  'attr',
  'msg',
  'fileno',
]);

/** Positional parameters before the options object, per call (Python keyword arguments). */
const ARITY: Record<string, number> = {
  HTTPConnection: 2,
  request: 4,
  putrequest: 2,
  endheaders: 1,
};

/** Turns scenario values into call arguments; owns the temporary files of `$file`. */
class Decoder {
  private readonly cafile: string | null;
  private dir: string | null = null;
  private count = 0;
  private readonly streams: Array<{ destroy(): void }> = [];
  /** Values kept under a name by a `value` step: `{"$ref": name}` is that very object. */
  readonly named = new Map<string, unknown>();

  constructor(cafile: string | null) {
    this.cafile = cafile;
  }

  value(v: Value): unknown {
    if (Array.isArray(v)) return v.map((x) => this.value(x));
    if (v === null || typeof v !== 'object') return v;
    const tag = Object.keys(v).find((k) => k.startsWith('$'));
    if (tag === undefined) {
      const out: Record<string, unknown> = {};
      for (const [k, x] of Object.entries(v)) out[k] = this.value(x);
      return out;
    }
    switch (tag) {
      case '$bytes':
        return Buffer.from(v.$bytes as string, 'latin1');
      case '$unicode':
        return v.$unicode;
      case '$float': {
        // Python's float() of 'nan', 'inf', '-inf' (a JSON number cannot hold them).
        const text = v.$float as string;
        if (text === 'nan') return Number.NaN;
        return text.startsWith('-') ? Number.NEGATIVE_INFINITY : Number.POSITIVE_INFINITY;
      }
      case '$repeat':
        return (v.$repeat as string).repeat(v.times as number);
      case '$concat':
        return (v.$concat as Value[]).map((x) => String(this.value(x))).join('');
      case '$file': {
        this.dir ??= mkdtempSync(join(tmpdir(), 'httplib-conformance-'));
        const path = join(this.dir, `body${this.count++}`);
        writeFileSync(path, Buffer.from(v.$file as string, 'latin1'));
        const stream = createReadStream(path);
        this.streams.push(stream);
        return stream;
      }
      case '$iter': {
        const items = (v.$iter as Value[]).map((x) => this.value(x));
        return (function* () {
          yield* items;
        })();
      }
      case '$ref':
        return this.named.get(v.$ref as string);
      case '$context': {
        if (v.$context === 'unverified') return httplib.ssl._create_unverified_context();
        if (v.$context === 'default') return httplib.ssl.create_default_context();
        const context = httplib.ssl.create_default_context({ cafile: this.cafile });
        if (v.$context === 'ca-no-hostname') context.check_hostname = false;
        return context;
      }
      default:
        throw new Error(`unknown tag ${tag}`);
    }
  }

  close(): void {
    for (const s of this.streams) s.destroy();
    if (this.dir !== null) rmSync(this.dir, { recursive: true, force: true });
  }
}

function body(v: unknown): unknown {
  if (Buffer.isBuffer(v)) return { $b: v.toString('latin1') };
  return plain(v);
}

function plain(v: unknown): unknown {
  if (v === undefined || v === null) return null;
  if (Buffer.isBuffer(v)) return { $b: v.toString('latin1') };
  if (Array.isArray(v)) return v.map(plain);
  if (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') return v;
  return `<${(v as object).constructor?.name ?? typeof v}>`;
}

function rawLines(msg: httplib.HTTPMessage | null): unknown {
  return msg === null ? null : [...msg.headers];
}

function summary(r: httplib.HTTPResponse): unknown {
  return {
    status: r.status,
    reason: r.reason,
    version: r.version,
    will_close: r.will_close,
    chunked: r.chunked,
    length: r.length,
  };
}

/** An exception as a result, with the attributes driver.py reports for Python's. */
export function exception(err: unknown): Result {
  if (!(err instanceof Error)) return { raises: 'NonError', message: String(err) };
  const out: { raises: string } & Record<string, unknown> = { raises: err.name };
  if (err instanceof httplib.IncompleteRead) {
    out.partial = body(err.partial);
    out.expected = err.expected;
  } else if (err instanceof httplib.BadStatusLine) {
    out.line = err.line;
    if (err instanceof httplib.RemoteDisconnected) out.message = err.message;
  } else if (err instanceof httplib.UnknownProtocol) {
    out.version = err.version;
  } else if (err instanceof httplib.HTTPException) {
    out.message = err.message;
  } else if (err instanceof httplib.ssl.SSLError) {
    out.reason = err.reason;
  } else if (err instanceof httplib.TimeoutError) {
    // Python's socket.timeout: no attributes compared.
  } else if (typeof (err as NodeJS.ErrnoException).code === 'string' && err.name === 'Error') {
    const code = (err as NodeJS.ErrnoException).code as string;
    if (/^E[A-Z]+$/.test(code) && code !== 'ERR_STREAM_PREMATURE_CLOSE') out.errno = code;
    else out.message = err.message;
  } else {
    out.message = err.message;
  }
  return out;
}

type Target = httplib.HTTPConnection | httplib.HTTP | httplib.HTTPResponse;

/** The module a scenario is played against: the main entry, or the blocking one (same names). */
export type Library = typeof httplib;

/** Play one scenario (placeholders already filled in). */
export async function playScenario(
  steps: readonly Step[],
  cafile: string | null = null,
  lib: Library = httplib,
): Promise<ScenarioResult> {
  const decoder = new Decoder(cafile);
  let debug = '';
  const debugOutput = (text: string): void => {
    debug += text;
  };
  const objects = new Map<string, Target>();
  const responses: httplib.HTTPResponse[] = [];
  const results: Result[] = [];
  try {
    for (const raw of steps) {
      const step = normalizeStep(raw);
      const { op } = step;
      try {
        const args = step.args.map((a) => decoder.value(a));
        const kw = step.kw === undefined ? undefined : (decoder.value(step.kw) as object);
        if (op === 'sleep') {
          await new Promise((r) => setTimeout(r, args[0] as number));
          results.push({ ok: null });
          continue;
        }
        if (op === 'waitclosed') {
          // Until the connection knows its idle socket is gone (the server's FIN or reset
          // came): `sock` is null then. At most `ms`; the steps after it show the rest.
          const conn = objects.get('conn') as { sock?: unknown } | undefined;
          const until = Date.now() + (args[0] as number);
          while (conn?.sock != null && Date.now() < until) {
            await new Promise((r) => setTimeout(r, 5));
          }
          results.push({ ok: null });
          continue;
        }
        if (op === 'value') {
          // Kept under its name, for later steps to pass (`{"$ref": name}`) or change.
          decoder.named.set(step.as as string, args[0]);
          results.push({ ok: null });
          continue;
        }
        if (op === 'setitem') {
          // The caller changing a value it passed before (an object of headers).
          const target = decoder.named.get(step.on as string) as Record<string, unknown>;
          target[String(args[0])] = args[1];
          results.push({ ok: null });
          continue;
        }
        if (op === 'HTTPConnection' || op === 'HTTPSConnection') {
          const [host, port] = args as [string, number | null | undefined];
          const Class = op === 'HTTPConnection' ? lib.HTTPConnection : lib.HTTPSConnection;
          objects.set('conn', new Class(host, port, { ...(kw ?? {}), debugOutput }));
          results.push({ ok: null });
          continue;
        }
        if (op === 'HTTPS') {
          const [host, port] = args as [string | undefined, number | null];
          const h = new lib.HTTPS(host, port, (kw ?? {}) as httplib.HTTPSOptions);
          h._conn.debugOutput = debugOutput;
          objects.set('conn', h);
          results.push({ ok: null });
          continue;
        }
        if (op === 'HTTP') {
          const [host, port, strict] = args as [string | undefined, number | null, boolean | null];
          const h = new lib.HTTP(host, port, strict);
          h._conn.debugOutput = debugOutput;
          objects.set('conn', h);
          results.push({ ok: null });
          continue;
        }
        const name = step.on ?? (RESPONSE_OPS.has(op) ? 'resp' : 'conn');
        const target = objects.get(name);
        if (target === undefined) {
          results.push({ raises: 'NoTarget', message: name });
          continue;
        }
        results.push({ ok: await call(target, op, args, kw, step.as, objects, responses) });
      } catch (err) {
        results.push(exception(err));
      }
    }
  } finally {
    for (const r of responses) r.close();
    for (const o of objects.values()) (o as { close(): void }).close();
    decoder.close();
  }
  return { steps: results, debug };
}

async function call(
  target: Target,
  op: string,
  args: unknown[],
  kw: object | undefined,
  as: string | undefined,
  objects: Map<string, Target>,
  responses: httplib.HTTPResponse[],
): Promise<unknown> {
  const t = target as unknown as Record<string, (...a: unknown[]) => unknown>;
  switch (op) {
    case 'getresponse': {
      const r = (await t.getresponse?.call(target)) as httplib.HTTPResponse;
      responses.push(r);
      objects.set('resp', r);
      if (as !== undefined) objects.set(as, r);
      return summary(r);
    }
    case 'getreply': {
      const [status, reason, msg] = (await (target as httplib.HTTP).getreply()) as [
        number,
        string,
        httplib.HTTPMessage | null,
      ];
      return [status, reason, rawLines(msg)];
    }
    case 'getfile': {
      const f = (target as httplib.HTTP).getfile();
      if (f !== null) objects.set(as ?? 'file', f);
      return f === null ? null : '<file>';
    }
    case 'read':
      return body(await (target as httplib.HTTPResponse).read(...(args as [number?])));
    case 'fileno': {
      // A descriptor's number is the process's own: only whether there is one counts.
      const fd = (target as httplib.HTTPResponse).fileno();
      return Number.isInteger(fd) && fd >= 0 ? '<fd>' : plain(fd);
    }
    case 'setattr':
      (target as unknown as Record<string, unknown>)[String(args[0])] = args[1];
      return null;
    case 'attr': {
      let value: unknown = target;
      for (const part of String(args[0]).split('.')) {
        value = (value as Record<string, unknown>)[part];
      }
      return plain(value);
    }
    case 'msg': {
      const msg = (target as httplib.HTTPResponse).msg as unknown as Record<string, unknown>;
      const name = String(args[0]);
      if (name === 'headers') return rawLines(msg as unknown as httplib.HTTPMessage);
      const fn = msg[name] as (...a: unknown[]) => unknown;
      return plain(fn.apply(msg, args.slice(1)));
    }
    default: {
      const fn = t[op];
      if (typeof fn !== 'function') throw new Error(`driver: no method ${op}`);
      const arity = ARITY[op];
      const callArgs =
        kw === undefined || arity === undefined
          ? args
          : [...args, ...new Array(Math.max(0, arity - args.length)).fill(undefined), kw];
      return plain(await fn.apply(target, callArgs));
    }
  }
}
