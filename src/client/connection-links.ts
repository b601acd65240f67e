/**
 * The socket side of a connection (the base of connection-driver.ts's engine): the
 * socket held, the connect under way, the close controller of the current generation,
 * and the machine's socket actions carried out — open (TCP, tunnel and TLS through
 * io/transport.ts), join, replace, detach, destroy. It decides nothing itself.
 */
import type { Duplex } from 'node:stream';
import {
  abortedBy,
  type CallWait,
  callWait,
  closedByCaller,
  epochError,
  listenAbort,
  timeoutMs,
} from '../io/deadline.ts';
import {
  type CreateConnection,
  establish,
  type Link,
  type TlsPlan,
  type TunnelPlan,
} from '../io/transport.ts';
import { ClientConnection, type ConnectionAction } from '../protocol/client-connection.ts';
import { NotConnected } from '../protocol/errors.ts';
import { connectChannel, type DebugOutput, nodeDebug, tunnelChannel, writeDebug } from './debug.ts';
import type { HTTPResponse } from './http-response.ts';

/** What the driver reads of its connection (the Python attributes, read when used). */
export interface ConnectionSettings {
  readonly host: string;
  readonly port: number;
  readonly timeout: number | null;
  readonly source_address: readonly [string, number] | null;
  readonly strict: boolean;
  readonly debuglevel: number;
  readonly debugOutput: DebugOutput | null;
}

/** Where a tunnel goes (`set_tunnel`), and the CONNECT head for it. */
export interface TunnelTarget {
  readonly host: string;
  readonly port: number;
  readonly head: string;
}

/**
 * The error of a call whose open ran a subclass's `connect()` that returned without
 * calling `super.connect()` (Python's `send()` then fails on its missing `sock`).
 */
export function notOpened(): NotConnected {
  return new NotConnected('connect() returned without opening the socket (super.connect())');
}

/** A subclass's `connect()` run by an auto-open: the call's signal, and what it opened. */
interface Delegated {
  readonly signal: AbortSignal | undefined;
  opened: Promise<Link> | null;
}

/** TLS for a connection to `host:port` (the tunnel's, when tunnelling). */
export type TlsFactory = (host: string, port: number) => TlsPlan;

export class ConnectionLinks {
  readonly machine = new ClientConnection();
  /** The socket held (the machine's `open`/`must-close`), or null. */
  link: Link | null = null;
  tunnel: TunnelTarget | null = null;
  tls: TlsFactory | null = null;
  /** The method of the request being sent (the response parser needs it for HEAD). */
  method: string | null = null;
  /** Its URL (for the `httplib:request:headers` message). */
  url: string | null = null;
  protected readonly conn: ConnectionSettings;
  protected readonly signal: AbortSignal | null;
  private readonly createConnection: CreateConnection | null;
  protected connecting: Promise<Link> | null = null;
  /** Where the connect under way goes (the attributes when it started). */
  private connectingTo: { readonly host: string; readonly port: number } | null = null;
  /** A `connect()` elsewhere, made while connecting: it runs once that connect settled. */
  private again: {
    resolve(link: Link | Promise<Link>): void;
    reject(err: unknown): void;
    /** Where it goes (the attributes when the last such connect() was made). */
    to: { readonly host: string; readonly port: number };
  } | null = null;
  /** The close controller of this generation (made when first needed). */
  protected epoch: AbortController | null = null;
  protected generation = 0;
  /** The kept-alive response reading its body on `link`, if any. */
  protected kept: HTTPResponse | null = null;
  private defaultWait: (CallWait & { readonly seconds: number | null }) | null = null;
  /**
   * A subclass's own `connect()`, if it has one (read at each open): Python's requests
   * open the socket by calling `self.connect()`, so an override runs there too.
   */
  ownConnect: (() => (() => Promise<void>) | null) | null = null;
  /** The auto-open that runs the subclass's `connect()`: its `super.connect()` opens. */
  protected delegated: Delegated | null = null;
  protected readonly debug = (text: string): void => writeDebug(this.conn.debugOutput, text);
  /** Where the debug output of a call made now goes: null when the level is off now. */
  debugNow(): ((text: string) => void) | null {
    return this.conn.debuglevel > 0 ? this.debug : null;
  }

  constructor(
    conn: ConnectionSettings,
    signal: AbortSignal | null,
    createConnection: CreateConnection | null,
  ) {
    this.conn = conn;
    this.signal = signal;
    this.createConnection = createConnection;
  }

  /** A socket is held or being opened (set_tunnel() is refused from then on). */
  get opened(): boolean {
    return this.link !== null || this.connecting !== null;
  }

  /** Python's `sock`. */
  get socket(): Duplex | null {
    return this.link?.reader.socket ?? null;
  }

  /** `connect()`: open (or join, or replace) the socket. */
  connect(): Promise<void> {
    const delegated = this.delegated;
    if (delegated !== null) {
      // The subclass's connect() run by an auto-open: its super.connect() opens the socket
      // the request waits for (joining the connect under way would wait for itself), and
      // any other connect() until it settled joins that socket.
      delegated.opened ??= this.openSocket(delegated.signal);
      return delegated.opened.then(noop);
    }
    const action = this.machine.handle('connect');
    if (action === 'join' && this.connecting !== null && this.movedSinceConnecting()) {
      return this.connectAgain().then(noop);
    }
    return Promise.resolve(this.acquire(action, undefined, true)).then(noop);
  }

  /**
   * The `host` or `port` attribute changed since the connect under way started (a
   * `connect()` not awaited, then the legacy `HTTP.connect(host, port)` or a new port).
   */
  protected movedSinceConnecting(): boolean {
    // A connect() already waiting for it (`connectAgain`) goes where it was told.
    const to = this.again?.to ?? this.connectingTo;
    return to !== null && (to.host !== this.conn.host || to.port !== this.conn.port);
  }

  /**
   * A `connect()` to another host or port while a connect is under way: Python's calls
   * run one after the other, so that connect finishes, then this one replaces its socket
   * with one to where the attributes now point (before: it joined the first, and the
   * request went to the old server). The calls made from now on wait for the new socket.
   */
  private connectAgain(): Promise<Link> {
    const to = { host: this.conn.host, port: this.conn.port };
    if (this.again === null) {
      this.connecting = new Promise<Link>((resolve, reject) => {
        this.again = { resolve, reject, to };
      });
    } else {
      // A third connect() elsewhere: the one waiting goes there instead.
      this.again.to = to;
    }
    return this.connecting as Promise<Link>;
  }

  /** The connect under way settled: a `connect()` made meanwhile (`connectAgain`) runs now. */
  private runAgain(): void {
    const again = this.again;
    if (again === null) return;
    this.again = null;
    try {
      again.resolve(this.acquire(this.machine.handle('connect'), undefined, true));
    } catch (err) {
      again.reject(err);
    }
  }

  /** `close()`: a connect() waiting for the one under way (`connectAgain`) settles with `err`. */
  protected cancelAgain(err: Error): void {
    const again = this.again;
    this.again = null;
    again?.reject(err);
  }

  // --- the socket ----------------------------------------------------------------------

  /** Carry out what the machine said about the socket for a write or a connect. */
  protected acquire(
    action: ConnectionAction,
    signal: AbortSignal | undefined,
    // Made by connect() itself: it opens (a subclass's connect() is the caller).
    byConnect = false,
  ): Link | Promise<Link> {
    switch (action) {
      case 'write':
        if (this.link !== null) return this.link;
        throw new NotConnected();
      case 'join':
        // The machine said so when the call was made, while connecting; carried out after
        // the calls before it, the connect may be over: its socket, not a second one.
        return this.connecting ?? this.link ?? this.open(signal, byConnect);
      case 'replace':
        this.drop(null);
        return this.open(signal, byConnect);
      case 'detach':
        // The kept response keeps reading the old socket and closes it at its end.
        this.kept = null;
        if (this.link !== null) this.forget(this.link);
        this.link = null;
        return this.open(signal, byConnect);
      default:
        return this.open(signal, byConnect);
    }
  }

  /**
   * Open a socket for a call (`auto_open`). With a subclass's `connect()`, that runs, as
   * Python's `send()` calls `self.connect()`; the calls wait for it to settle, and its
   * `super.connect()` opens the socket. One that never calls it fails the call with
   * `NotConnected` (Python's `send()` then fails on its missing `sock`).
   */
  private open(signal: AbortSignal | undefined, byConnect: boolean): Promise<Link> {
    const own = byConnect ? null : (this.ownConnect?.() ?? null);
    if (own === null) return this.openSocket(signal);
    const generation = this.generation;
    const delegated: Delegated = { signal, opened: null };
    this.delegated = delegated;
    let ran: Promise<void>;
    try {
      ran = Promise.resolve(own());
    } catch (err) {
      ran = Promise.reject(err);
    }
    const wait = this.waitOptions(signal);
    const epoch = this.epochSignal();
    const whole = new Promise<Link>((resolve, reject) => {
      let done = false;
      // Its end, or the call's: what it opened (null: nothing, the connect is over).
      const finish = (): Promise<Link> | null => {
        done = true;
        epoch.removeEventListener('abort', onAbort);
        wait.signal?.removeEventListener('abort', onAbort);
        wait.release();
        if (this.delegated === delegated) this.delegated = null;
        const opened = delegated.opened;
        if (opened === null && generation === this.generation) {
          this.connecting = null;
          this.machine.handle('connect-failed');
          this.runAgain();
        }
        return opened;
      };
      // close() or the call's signal does not wait for it: what it does later is its own
      // (a super.connect() then is an ordinary connect()).
      const onAbort = (): void => {
        if (done) return;
        finish()?.catch(noop);
        reject(
          epoch.aborted ? epochError(epoch, 'connect') : abortedBy(wait.signal as AbortSignal),
        );
      };
      listenAbort(epoch, onAbort, { once: true });
      if (wait.signal) listenAbort(wait.signal, onAbort, { once: true });
      if (wait.signal?.aborted) onAbort();
      ran.then(
        () => {
          if (done) return;
          const opened = finish();
          if (generation !== this.generation) reject(closedByCaller('connect'));
          else if (opened === null) {
            reject(notOpened());
          } else resolve(opened);
        },
        (err: unknown) => {
          if (done) return;
          // Its own failure is the call's; what it opened stays (as Python's sock does).
          finish()?.catch(noop);
          reject(err);
        },
      );
    });
    // The calls made meanwhile wait for the whole of it (until its super.connect()).
    if (delegated.opened === null) this.connecting = whole;
    return whole;
  }

  private openSocket(signal: AbortSignal | undefined): Promise<Link> {
    const generation = this.generation;
    const conn = this.conn;
    const tunnel = this.tunnel;
    const tls = this.tls;
    const origin = tunnel ?? conn;
    // The connect's signal: the call's own (joined to the connection's until it settles).
    const wait = this.waitOptions(signal);
    let established: Promise<Link>;
    try {
      established = establish({
        origin: { host: origin.host, port: origin.port },
        params: {
          host: conn.host,
          port: conn.port,
          timeout: conn.timeout,
          source_address: conn.source_address,
          signal: wait.signal ?? null,
        },
        createConnection: this.createConnection,
        epoch: this.epochSignal(),
        wait,
        tunnel: tunnel === null ? null : this.tunnelPlan(tunnel),
        tls: tls === null ? null : tls(tunnel?.host ?? conn.host, tunnel?.port ?? conn.port),
        connected: (socket) => {
          nodeDebug('connect %s:%d', conn.host, conn.port);
          if (connectChannel.hasSubscribers) {
            connectChannel.publish({ connection: conn, host: conn.host, port: conn.port, socket });
          }
        },
        tunnelled:
          tunnel === null
            ? undefined
            : (socket) => {
                nodeDebug('tunnel to %s:%d', tunnel.host, tunnel.port);
                if (tunnelChannel.hasSubscribers) {
                  tunnelChannel.publish({
                    connection: conn,
                    host: tunnel.host,
                    port: tunnel.port,
                    socket,
                  });
                }
              },
      });
    } catch (err) {
      wait.release();
      throw err;
    }
    const pending = established.then(
      (link) => {
        wait.release();
        if (generation !== this.generation) {
          link.reader.destroy();
          throw closedByCaller('connect');
        }
        this.connecting = null;
        this.connectingTo = null;
        this.machine.handle('connected');
        this.link = link;
        // Opened by connect() alone: idle until a request, so it does not keep the process
        // alive (a request makes it expected again, and referenced).
        if (!this.machine.expecting) link.reader.idle();
        link.reader.listener = (news) => {
          if (link !== this.link) return;
          const action = this.machine.handle(news);
          if (action === 'destroy') {
            nodeDebug('discard unusable idle connection to %s:%d', conn.host, conn.port);
            this.drop(null);
          }
        };
        // Nothing runs between: a call made after that connect() waits for its socket.
        this.runAgain();
        return link;
      },
      (err: unknown) => {
        wait.release();
        if (generation === this.generation) {
          this.connecting = null;
          this.connectingTo = null;
          this.machine.handle('connect-failed');
          this.runAgain();
        }
        throw err;
      },
    );
    this.connecting = pending;
    this.connectingTo = { host: conn.host, port: conn.port };
    return pending;
  }

  private tunnelPlan(tunnel: TunnelTarget): TunnelPlan {
    return {
      head: tunnel.head,
      strict: this.conn.strict,
      debug: this.debugNow(),
    };
  }

  /** Destroy the socket held (with `err` for whoever waits on it). */
  protected drop(err: unknown): void {
    const link = this.link;
    if (link === null) return;
    this.link = null;
    if (err instanceof Error) link.reader.fail(err);
    else link.reader.destroy();
  }

  /** The socket is a response's now: the connection neither hears nor closes it. */
  protected forget(link: Link): void {
    link.reader.listener = null;
    link.reader.deadline.detach();
  }

  protected epochSignal(): AbortSignal {
    this.epoch ??= new AbortController();
    return this.epoch.signal;
  }

  /**
   * The wait options of a call: without a signal of its own, the connection's (built once
   * per timeout value, not per request); with one, that signal joined to the connection's
   * for this call only, so `release()` must follow once the call settled.
   */
  waitOptions(signal: AbortSignal | undefined): CallWait {
    const seconds = this.conn.timeout;
    if (signal === undefined) {
      const cached = this.defaultWait;
      if (cached !== null && cached.seconds === seconds) return cached;
      const built = { timeoutMs: timeoutMs(seconds), signal: this.signal, seconds, release: noop };
      this.defaultWait = built;
      return built;
    }
    return callWait(timeoutMs(seconds), signal, this.signal);
  }
}

function noop(): void {}
