/**
 * The conformance scenario format: the types of `scenarios/<area>.json`, loading and
 * checking those files, and the value encoding shared by the two drivers.
 *
 * A scenario is data: the calls a client makes (`steps`) and what a scripted raw TCP
 * server does on each connection it accepts (`server`). The same scenario is played by
 * `driver.py` against CPython's httplib (2.7, and 3.x for information) and by `driver.ts`
 * against this package; `run.ts` compares what each observed. The format is described
 * in `test/conformance/README.md`.
 *
 * This file only describes and loads; it does no network I/O.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * A value in a scenario file. Plain JSON, plus tagged one-key objects:
 * - `{"$bytes": "latin1 text"}`: bytes (a Python 2 `str` / Python 3 `bytes` / a `Buffer`);
 * - `{"$unicode": "text"}`: text (Python 2 `unicode`, Python 3 `str`, a JS string);
 * - `{"$repeat": "text", "times": n}`: the text repeated (a plain string);
 * - `{"$concat": [values]}`: the texts joined (a plain string);
 * - `{"$file": "latin1 text"}`: a file holding those bytes, opened for reading
 *   (Python: `open(path, 'rb')`; here: `fs.createReadStream(path)`);
 * - `{"$iter": [values]}`: a generator yielding the values;
 * - `{"$context": "unverified" | "ca" | "ca-no-hostname" | "default"}`: an SSL context
 *   (`ssl._create_unverified_context()`, one trusting the test CA with or without the
 *   host-name check, or `ssl.create_default_context()`);
 * - `{"$ref": "name"}`: the very value a `value` step kept under that name (so a change
 *   made by a later `setitem` step is seen by whoever was given it).
 * A plain JSON string is a byte string in Python 2 (its char codes are the bytes) and a
 * JS string here: keep body strings ASCII, and use `$bytes` for other bytes.
 */
export type Value = null | boolean | number | string | Value[] | { [key: string]: Value };

/** One thing the scripted server does on a connection, in order. */
export type ServerAction =
  /** Send these bytes (latin1). */
  | string
  /** Send bytes given as a value (`$repeat`, `$concat`, `$bytes`). */
  | { send: Value }
  /**
   * Wait until the client sent: a complete request (head, and a body framed by
   * Content-Length or chunked), just a head, `n` more bytes, or its end (EOF).
   */
  | { recv: 'request' | 'head' | 'eof' | number }
  /** Pause. */
  | { sleep: number }
  /** Half-close (FIN); the server still records what the client sends. */
  | { close: true }
  /** Reset the connection (RST). */
  | { reset: true };

/** A client call: `[op, ...args]` or the object form. */
export type Step = [string, ...Value[]] | StepObject;

export interface StepObject {
  op: string;
  args?: Value[];
  /** Python keyword arguments (the options object of the TypeScript call). */
  kw?: Record<string, Value>;
  /** The object called: `conn` (default for connection calls), `resp` (latest response, default for response calls), or a name given by `as`. */
  on?: string;
  /** Name the response (`getresponse`) or file (`getfile`) this step returns, or the value a `value` step keeps. */
  as?: string;
}

/** What a deliberate difference asserts about OUR side (see differences.json). */
export interface Expectation {
  /** Step index → our result, replacing the comparison with CPython 2.7 for that step. */
  steps?: Record<string, unknown>;
  /** Our bytes received per connection (after `{port}` normalisation). */
  received?: string[];
  /** Our debug output. */
  debug?: string;
}

export interface Scenario {
  /** Unique, `<area>/<what>`. */
  name: string;
  /** What it shows, and where it comes from (e.g. httplib-behaviour.md Part 2 #49). */
  about?: string;
  /** Where the server listens: `127.0.0.1` (default) or `::1`. */
  listen?: string;
  /** Serve TLS with this certificate of the test PKI (test/fixtures/tls/make-certs.sh). */
  tls?: 'server' | 'wrongname' | 'selfsigned' | 'expired' | 'cnonly' | 'partialwild';
  /** Per accepted connection, in order, the server's actions. */
  server: ServerAction[][];
  steps: Step[];
  /** For a scenario covered by differences.json: our behaviour where it differs. */
  expect?: Expectation;
  /** Not meaningful under Python 3 (legacy classes, `strict`…): no information run. */
  py3?: false;
}

export interface ScenarioFile {
  area: string;
  about?: string;
  scenarios: Scenario[];
}

export interface LoadedScenario extends Scenario {
  area: string;
}

export const SCENARIO_DIR = new URL('./scenarios/', import.meta.url).pathname;

/** Every scenario of every `scenarios/*.json`, checked for shape and unique names. */
export function loadScenarios(dir = SCENARIO_DIR): LoadedScenario[] {
  const out: LoadedScenario[] = [];
  const names = new Set<string>();
  for (const file of readdirSync(dir).sort()) {
    if (!file.endsWith('.json')) continue;
    const data = JSON.parse(readFileSync(join(dir, file), 'utf8')) as ScenarioFile;
    if (typeof data.area !== 'string' || !Array.isArray(data.scenarios)) {
      throw new Error(`${file}: expected {"area": ..., "scenarios": [...]}`);
    }
    for (const s of data.scenarios) {
      if (typeof s.name !== 'string' || !s.name.startsWith(`${data.area}/`)) {
        throw new Error(
          `${file}: scenario name ${JSON.stringify(s.name)} must start with ${data.area}/`,
        );
      }
      if (names.has(s.name)) throw new Error(`${file}: duplicate scenario ${s.name}`);
      names.add(s.name);
      if (!Array.isArray(s.server) || !Array.isArray(s.steps)) {
        throw new Error(`${s.name}: "server" and "steps" must be arrays`);
      }
      out.push({ ...s, area: data.area });
    }
  }
  return out;
}

/** A step in its object form. */
export function normalizeStep(step: Step): Required<Pick<StepObject, 'op' | 'args'>> & StepObject {
  if (Array.isArray(step)) {
    const [op, ...args] = step;
    return { op, args };
  }
  return { ...step, args: step.args ?? [] };
}

/** Replace `{host}` and `{port}` in every string of a value; `"{port}"` alone becomes a number. */
export function fillPlaceholders<T>(value: T, host: string, port: number): T {
  if (typeof value === 'string') {
    if (value === '{port}') return port as T;
    return value.replaceAll('{host}', host).replaceAll('{port}', String(port)) as T;
  }
  if (Array.isArray(value)) return value.map((v) => fillPlaceholders(v, host, port)) as T;
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = fillPlaceholders(v, host, port);
    return out as T;
  }
  return value;
}

/** A `$repeat`/`$concat`/`$bytes` value, or a plain string, as bytes (latin1). */
export function valueBytes(value: Value): Buffer {
  if (typeof value === 'string') return Buffer.from(value, 'latin1');
  if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
    if (typeof value.$bytes === 'string') return Buffer.from(value.$bytes, 'latin1');
    if (typeof value.$repeat === 'string' && typeof value.times === 'number') {
      return Buffer.from(value.$repeat.repeat(value.times), 'latin1');
    }
    if (Array.isArray(value.$concat)) return Buffer.concat(value.$concat.map(valueBytes));
  }
  throw new Error(`not a byte value: ${JSON.stringify(value)}`);
}

/** Replace the decimal `port` (not inside a longer number) by `{port}`. */
export function normalizePort(text: string, port: number): string {
  return text.replace(new RegExp(`(?<![0-9])${port}(?![0-9])`, 'g'), '{port}');
}
