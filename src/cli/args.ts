/**
 * The `httplib-ts` command line (also installed as `httplib`): `httplib-ts [METHOD] URL
 * [options]` and `httplib-ts demo`,
 * parsed with `util.parseArgs` (no dependency) into a `Command`, and the `--help` text.
 *
 * Everything that can be refused without touching the network or the disk is refused
 * here, as a usage error (exit 2): unknown options, a missing URL, a method or header
 * that is not a token, a bad `--timeout`, options that contradict each other.
 */
import { parseArgs } from 'node:util';
import { TOKEN } from '../protocol/pytext.ts';
import { CliError, EXIT, EXIT_TABLE, escapeControls, quoted } from './exit-codes.ts';

/** Where a request body comes from. */
export type DataSource =
  | { readonly kind: 'text'; readonly text: string }
  | { readonly kind: 'file'; readonly path: string }
  | { readonly kind: 'stdin' };

/** One request, as the command line asked for it. */
export interface FetchOptions {
  /** The method: the positional METHOD or -X, else HEAD for -I, POST with a body, GET. */
  readonly method: string;
  /** The URL as given (`http://` is assumed when it has no scheme). */
  readonly url: string;
  /** `-H` headers, in order, names as given (`Name;`: an empty value). */
  readonly headers: ReadonlyArray<readonly [string, string]>;
  /** `-H 'Name:'`: headers the command would add and must not (names in lower case). */
  readonly removed: ReadonlySet<string>;
  readonly data: DataSource | null;
  /** `-i` (or `-I`): write the status line and headers before the body. */
  readonly include: boolean;
  /** `-I`: HEAD, and only the head is written. */
  readonly headOnly: boolean;
  readonly verbose: boolean;
  /** `-o FILE`; null (or `-o -`) is stdout. */
  readonly output: string | null;
  readonly proxy: string | null;
  readonly cacert: string | null;
  readonly cert: string | null;
  readonly key: string | null;
  readonly insecure: boolean;
  /** Seconds, or null for none. */
  readonly timeout: number | null;
  readonly fail: boolean;
  /** `--http0.9`: accept a reply with no status line (HTTP/0.9) as the body. */
  readonly http09: boolean;
  /** `--path-as-is`: send the URL's `.` and `..` segments (curl resolves them otherwise). */
  readonly pathAsIs: boolean;
}

export type Command =
  | { readonly kind: 'help' }
  | { readonly kind: 'version' }
  | { readonly kind: 'demo'; readonly verbose: boolean }
  | { readonly kind: 'fetch'; readonly options: FetchOptions };

const OPTIONS = {
  header: { type: 'string', short: 'H', multiple: true },
  data: { type: 'string', short: 'd', multiple: true },
  'data-binary': { type: 'string', multiple: true },
  include: { type: 'boolean', short: 'i' },
  head: { type: 'boolean', short: 'I' },
  verbose: { type: 'boolean', short: 'v' },
  output: { type: 'string', short: 'o' },
  proxy: { type: 'string', short: 'x' },
  cacert: { type: 'string' },
  cert: { type: 'string' },
  key: { type: 'string' },
  insecure: { type: 'boolean', short: 'k' },
  timeout: { type: 'string' },
  fail: { type: 'boolean', short: 'f' },
  request: { type: 'string', short: 'X' },
  'http0.9': { type: 'boolean' },
  'path-as-is': { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
  version: { type: 'boolean', short: 'V' },
} as const;

function usage(message: string): CliError {
  return new CliError(EXIT.USAGE, `${message} (see httplib-ts --help)`);
}

/**
 * The headers `request()` always sends, as Python's does (`putrequest` adds `Host` and
 * `Accept-Encoding`; the body's length or its chunked framing): `-H 'Name:'` cannot
 * leave them out, as curl's does.
 */
const ALWAYS_SENT = new Set(['host', 'accept-encoding', 'content-length', 'transfer-encoding']);

/**
 * A `-H` argument, as curl takes it: `Name: value` a header to send; `Name:` (no value)
 * the header the command would add left out, and none sent; `Name;` the header with an
 * empty value.
 */
function parseHeader(arg: string): { send: [string, string] } | { remove: string } {
  const colon = arg.indexOf(':');
  if (colon === -1) {
    const name = arg.slice(0, -1);
    if (arg.endsWith(';') && TOKEN.test(name)) return { send: [name, ''] };
    throw usage(`-H ${quoted(arg)}: a header is 'Name: value' (or 'Name;' for an empty value)`);
  }
  const name = arg.slice(0, colon);
  const value = arg.slice(colon + 1).replace(/^[ \t]+|[ \t]+$/g, '');
  if (!TOKEN.test(name)) {
    throw usage(`-H ${quoted(arg)}: ${quoted(name)} is not a valid header name`);
  }
  if (/[\r\n\0]/.test(value)) throw usage(`-H ${quoted(name)}: the value holds CR, LF or NUL`);
  if (value === '') {
    if (ALWAYS_SENT.has(name.toLowerCase())) {
      throw usage(
        `-H ${quoted(arg)}: ${name} cannot be left out (request() always sends it, as Python's does); give it a value, or '${name};' for an empty one`,
      );
    }
    return { remove: name.toLowerCase() };
  }
  // The value's bytes as the command line gave them (UTF-8), one character per byte as
  // putheader sends them, as curl sends its argument: `-H 'X-Name: café'` is c3 a9 on the
  // wire (a character beyond latin-1 was an internal error, exit 43, after connecting).
  return { send: [name, Buffer.from(value, 'utf8').toString('latin1')] };
}

/** A `-d`/`--data-binary` argument: text, `@FILE` or `@-` (stdin). */
function parseData(option: string, arg: string): DataSource {
  if (!arg.startsWith('@')) return { kind: 'text', text: arg };
  if (arg === '@-') return { kind: 'stdin' };
  if (arg === '@') throw usage(`${option} @: a file name must follow the @`);
  return { kind: 'file', path: arg.slice(1) };
}

/**
 * `argv` with the value of an option that takes one joined to it when the value starts
 * with `-` (`-d -1` as `-d-1`, `--timeout -1` as `--timeout=-1`): curl takes the next
 * argument as the value whatever it looks like, where parseArgs refuses it as ambiguous
 * (its hint to join them was cut from the message). After `--`, nothing is touched.
 */
function joinDashValues(argv: readonly string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    const next = argv[i + 1];
    if (arg === '--') {
      out.push(...argv.slice(i));
      break;
    }
    if (next !== undefined && next.length > 1 && next.startsWith('-') && takesValue(arg)) {
      out.push(arg.startsWith('--') ? `${arg}=${next}` : `${arg}${next}`);
      i++;
    } else out.push(arg);
  }
  return out;
}

/** Whether `arg` is exactly an option that takes a value (`-d`, `--data`). */
function takesValue(arg: string): boolean {
  return Object.entries(OPTIONS).some(
    ([name, spec]) =>
      spec.type === 'string' &&
      (arg === `--${name}` || ('short' in spec && arg === `-${spec.short}`)),
  );
}

function parse(argv: readonly string[]) {
  return parseArgs({
    args: joinDashValues(argv),
    options: OPTIONS,
    allowPositionals: true,
    strict: true,
    tokens: true,
  });
}

/** Parse the arguments (without `node` and the script). Throws `CliError` (exit 2). */
export function parseCommand(argv: readonly string[]): Command {
  let parsed: ReturnType<typeof parse>;
  try {
    parsed = parse(argv);
  } catch (err) {
    // Node's messages are several sentences on several lines: keep the first (split at
    // a sentence's end only: an option typed with a line break in it is in the first),
    // what the user typed in it escaped.
    const first = escapeControls((err as Error).message.split(/\.\s/)[0] ?? 'bad arguments');
    throw usage(`${first.charAt(0).toLowerCase()}${first.slice(1).replace(/\.$/, '')}`);
  }
  const { values, positionals, tokens } = parsed;
  if (values.help) return { kind: 'help' };
  if (values.version) return { kind: 'version' };

  if (positionals.length === 1 && positionals[0] === 'demo') {
    const others = tokens.filter(
      (t) => t.kind === 'option' && t.name !== 'verbose' && t.name !== 'help',
    );
    if (others.length > 0) {
      throw usage(
        `httplib-ts demo takes no option but -v (got ${quoted(others[0]?.rawName ?? '')})`,
      );
    }
    return { kind: 'demo', verbose: values.verbose === true };
  }
  if (positionals.length === 0) throw usage('no URL given');
  if (positionals.length > 2) {
    const extra = positionals.slice(2).map(quoted).join(' ');
    throw usage(`too many arguments: ${extra} (one METHOD and one URL)`);
  }
  const url = positionals[positionals.length - 1] as string;
  // The method as a positional (httplib-ts PUT URL) or as curl's -X/--request.
  const positionalMethod = positionals.length === 2 ? (positionals[0] as string) : null;
  const optionMethod = values.request ?? null;
  if (positionalMethod !== null && optionMethod !== null && positionalMethod !== optionMethod) {
    throw usage(`two methods given: ${quoted(positionalMethod)} and -X ${quoted(optionMethod)}`);
  }
  const explicitMethod = positionalMethod ?? optionMethod;
  if (explicitMethod !== null && !TOKEN.test(explicitMethod)) {
    throw usage(`${quoted(explicitMethod)} is not a valid method`);
  }

  // -d and --data-binary in the order given: several texts are joined with '&', as
  // curl does; a file or stdin must be the only body.
  const sources: DataSource[] = [];
  for (const t of tokens) {
    if (t.kind === 'option' && (t.name === 'data' || t.name === 'data-binary')) {
      sources.push(parseData(t.rawName, t.value ?? ''));
    }
  }
  let data: DataSource | null = null;
  if (sources.length === 1) data = sources[0] as DataSource;
  else if (sources.length > 1) {
    const texts = sources.map((s) => (s.kind === 'text' ? s.text : null));
    if (texts.includes(null)) {
      throw usage('a body from a file or stdin (@FILE, @-) cannot be combined with another -d');
    }
    data = { kind: 'text', text: texts.join('&') };
  }

  const headOnly = values.head === true;
  if (headOnly && explicitMethod !== null && explicitMethod !== 'HEAD') {
    throw usage(`-I sends HEAD: it cannot be combined with the method ${explicitMethod}`);
  }
  if (headOnly && data !== null) throw usage('-I (HEAD) cannot send a body (-d)');
  const method = explicitMethod ?? (headOnly ? 'HEAD' : data !== null ? 'POST' : 'GET');

  let timeout: number | null = null;
  if (values.timeout !== undefined) {
    const t = values.timeout.trim() === '' ? Number.NaN : Number(values.timeout);
    if (!Number.isFinite(t) || t <= 0) {
      throw usage(`--timeout ${quoted(values.timeout)}: a positive number of seconds is needed`);
    }
    timeout = t;
  }
  if (values.key !== undefined && values.cert === undefined) {
    throw usage('--key needs --cert (the certificate that goes with the key)');
  }
  if (values.output === '') throw usage('-o needs a file name (or - for stdout)');
  if (values.proxy === '') throw usage('-x needs HOST:PORT');
  const headers = (values.header ?? []).map(parseHeader);

  return {
    kind: 'fetch',
    options: {
      method,
      url,
      headers: headers.flatMap((h) => ('send' in h ? [h.send] : [])),
      removed: new Set(headers.flatMap((h) => ('remove' in h ? [h.remove] : []))),
      data,
      include: values.include === true || headOnly,
      headOnly,
      verbose: values.verbose === true,
      output: values.output === undefined || values.output === '-' ? null : values.output,
      proxy: values.proxy ?? null,
      cacert: values.cacert ?? null,
      cert: values.cert ?? null,
      key: values.key ?? null,
      insecure: values.insecure === true,
      timeout,
      fail: values.fail === true,
      http09: values['http0.9'] === true,
      pathAsIs: values['path-as-is'] === true,
    },
  };
}

/** The `--help` text. */
export function helpText(version: string): string {
  const codes = EXIT_TABLE.map(([code, text]) => `  ${String(code).padStart(3)}  ${text}`);
  return `httplib-ts ${version}: an HTTP/1.1 client built on httplib-ts (Python's httplib for Node.js)

Usage (the command is installed as httplib-ts, and also as httplib):
  httplib-ts [METHOD] URL [options]   send one request and write the response body
  httplib-ts demo [-v]                play the four example sessions of Python 2.7's
                                      httplib documentation against an embedded
                                      server on 127.0.0.1 (what \`npm start\` runs)

URL is http://HOST[:PORT]/PATH or https://…; without a scheme, http:// is assumed.
user:password@ in the URL is sent as Basic Authorization; a space or a control
character in it is refused (percent-encode it: %20). The path and query are sent as
typed (a \\ or %2e stays), as curl sends them: only /./ and /../ are resolved, and
non-ASCII characters percent-encoded (UTF-8). METHOD (or -X METHOD)
defaults to GET, or POST when a body is given (-d), or HEAD with -I.

Options:
  -X, --request METHOD        the request method, as curl takes it (the same as the
                              METHOD argument)
  -H, --header 'NAME: VALUE'  add a request header (repeatable); a header given here
                              replaces the automatic one (Host, User-Agent, Content-Type…);
                              'NAME:' leaves the automatic one out (User-Agent,
                              Content-Type, Authorization), 'NAME;' sends it empty
  -d, --data DATA             send DATA as the body (POST unless METHOD is given), with
                              Content-Type application/x-www-form-urlencoded unless -H
                              sets one; several -d are joined with '&'
  -d @FILE                    send the file's bytes as they are (Content-Length from its
                              size; unlike curl, newlines are kept)
      --data-binary DATA|@FILE|@-
                              the same; @- streams stdin as it arrives (chunked;
                              a regular file on stdin: the length left of it, on Linux)
  -i, --include               write the status line and the response headers first
  -I, --head                  send HEAD and write only the status line and headers
  -v, --verbose               trace what is sent and received on stderr
                              (Python's set_debuglevel(1) lines: send:, reply:, header:)
  -o, --output FILE           write the body to FILE (- is stdout); a regular FILE appears
                              only when the whole body arrived (a temporary file in the
                              same directory is renamed), never half-written; a FIFO, a
                              device, a symbolic link, a file with several hard links or
                              one this user may not replace is written straight into
                              (and left partial if the transfer fails). On a
                              terminal, stderr shows a progress bar: bytes, rate, and the
                              percentage and time left when the length is known
  -x, --proxy [http://][USER:PASS@]HOST[:PORT]
                              go through an HTTP proxy (port 1080 by default): a CONNECT
                              tunnel for https:// URLs, absolute-URI requests for http://
      --cacert FILE           trust the CA certificates in FILE (PEM) instead of the
                              default store
      --cert FILE             client certificate (PEM; may hold the key too)
      --key FILE              the client certificate's private key (PEM)
  -k, --insecure              do not verify the server's certificate or host name
      --timeout SECONDS       give up when connecting, the TLS handshake, or any wait for
                              the server takes longer than SECONDS (fractions allowed)
  -f, --fail                  exit 22 without writing the body when the status is >= 400
      --http0.9               accept a reply that is not HTTP (no status line: an
                              HTTP/0.9 "simple response") and write it as the body;
                              without it such a reply exits 8, as in curl
      --path-as-is            send the URL's /./ and /../ segments as typed (without
                              it they are resolved, as curl does)
  -h, --help                  show this help
  -V, --version               show the version

Errors are reported on stderr as one line starting with 'httplib: '.

Exit codes:
${codes.join('\n')}
`;
}
