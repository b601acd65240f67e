/**
 * Compile-time test, not run: subclasses of the blocking entry's four connection classes
 * that override their methods as Python code does, as methods calling `super` (a
 * `connect()` that sets socket options or logs around the base class's). It must compile:
 * here against src/ (`npm run typecheck`), and as a consumer's module against the packed
 * declarations (scripts/check-package.mjs writes it into its consumer project, importing
 * `'httplib-ts/sync'`). When the blocking classes were typed as a mapped type (properties),
 * each override was TS2425 ("defines instance member property 'connect', but extended class
 * defines it as instance member function").
 */
import * as httplib from '../../src/sync.ts';

/** Logs every call, then does what the base class does. */
export class LoggingConnection extends httplib.HTTPConnection {
  readonly calls: string[] = [];

  override connect(): void {
    this.calls.push('connect');
    super.connect();
    // Python: self.sock.setsockopt(...) once connected.
    this.calls.push(`connected to ${this.sock?.remotePort}`);
  }

  override set_tunnel<H extends httplib.HeadersInput<H>>(
    host: string,
    port?: number | null,
    headers?: H | null,
  ): void {
    super.set_tunnel(host, port, headers);
  }

  override request<H extends httplib.HeadersInput<H>>(
    method: string,
    url: string,
    body?: httplib.RequestBody,
    headers?: H | null,
    options?: httplib.RequestOptions,
  ): void {
    this.calls.push(`${method} ${url}`);
    super.request(method, url, body, headers, options);
  }

  override putrequest(
    method: string,
    url: string,
    options?: httplib.PutRequestOptions | null,
  ): void {
    super.putrequest(method, url, options);
  }

  override putheader(header: string, ...values: httplib.HeaderValue[]): void {
    super.putheader(header, ...values);
  }

  override endheaders(body?: httplib.RequestBody, options?: httplib.RequestOptions): void {
    super.endheaders(body, options);
  }

  override send(data: NonNullable<httplib.RequestBody>): void {
    super.send(data);
  }

  override getresponse(options?: httplib.GetResponseOptions): httplib.HTTPResponse {
    const response = super.getresponse(options);
    this.calls.push(`${response.status}`);
    return response;
  }

  override set_debuglevel(level: number): void {
    super.set_debuglevel(level);
  }

  override close(): void {
    this.calls.push('close');
    super.close();
  }
}

/** Fewer parameters than the base class's, as an override may have. */
export class TlsConnection extends httplib.HTTPSConnection {
  override connect(): void {
    super.connect();
  }

  override request(method: string, url: string, body?: httplib.RequestBody): void {
    super.request(method, url, body, { 'X-Client': 'mine' });
  }

  override getresponse(): httplib.HTTPResponse {
    return super.getresponse();
  }

  override close(): void {
    super.close();
  }
}

export class LegacyHTTP extends httplib.HTTP {
  override connect(host?: string | null, port?: number | null): void {
    super.connect(host, port);
  }

  override putrequest(method: string, url: string): void {
    super.putrequest(method, url);
  }

  override endheaders(body?: httplib.RequestBody): void {
    super.endheaders(body);
  }

  override getreply(): [number, string, httplib.HTTPMessage | null] {
    return super.getreply();
  }

  override getfile(): httplib.HTTPResponse | null {
    return super.getfile();
  }

  override close(): void {
    super.close();
  }
}

export class LegacyHTTPS extends httplib.HTTPS {
  override connect(host?: string | null, port?: number | null): void {
    super.connect(host, port);
  }

  override send(data: NonNullable<httplib.RequestBody>): void {
    super.send(data);
  }

  override getreply(): [number, string, httplib.HTTPMessage | null] {
    return super.getreply();
  }

  override close(): void {
    super.close();
  }
}

/** The subclasses' instances are the blocking classes' (where those are typed). */
export function instances(): [httplib.HTTPConnection[], httplib.HTTP[]] {
  const context = httplib.ssl.create_default_context();
  const legacy = new LegacyHTTPS('localhost', 8443, { context });
  const conn: httplib.HTTPConnection = legacy._conn;
  return [
    [new LoggingConnection('localhost', 8080), new TlsConnection('localhost', 8443), conn],
    [new LegacyHTTP('localhost'), legacy],
  ];
}
