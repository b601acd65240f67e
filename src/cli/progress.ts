/**
 * The progress bar of `httplib -o FILE` on a terminal: bytes received, the average rate,
 * and, when the length is known, a bar, the percentage and the time left.
 *
 * It redraws one line with `\r` (at most every REDRAW_MS, and on a timer so a stalled
 * transfer still shows its rate falling) and must only be used when stderr is a TTY:
 * the caller decides that. `formatProgress` is pure, for the tests.
 */

/** Least time between two redraws. */
const REDRAW_MS = 100;
/** A stalled transfer is redrawn this often. */
const TICK_MS = 250;

/** The bar's width at most, and what is kept for the numbers beside it. */
const BAR_WIDTH = 30;
const TEXT_ROOM = 60;

const UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB'] as const;

/** `1536` → `1.5 KiB`. */
export function formatBytes(n: number): string {
  let value = n;
  let unit = 0;
  while (value >= 1024 && unit < UNITS.length - 1) {
    value /= 1024;
    unit++;
  }
  return unit === 0 ? `${value} B` : `${value.toFixed(1)} ${UNITS[unit]}`;
}

/** Seconds as `m:ss` (or `h:mm:ss`). */
export function formatDuration(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const ss = String(s % 60).padStart(2, '0');
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${ss}` : `${m}:${ss}`;
}

export interface ProgressState {
  readonly received: number;
  /** Bytes expected in all, or null when the length is not known. */
  readonly total: number | null;
  readonly elapsedMs: number;
  /** Terminal width. */
  readonly columns: number;
  readonly done: boolean;
}

/** One line of progress, at most `columns - 1` characters. */
export function formatProgress(state: ProgressState): string {
  const { received, total, elapsedMs, columns, done } = state;
  const seconds = elapsedMs / 1000;
  const rate = seconds > 0 ? received / seconds : null;
  const rateText = rate === null ? '-- B/s' : `${formatBytes(Math.round(rate))}/s`;
  let line: string;
  if (total !== null && total > 0) {
    const fraction = Math.min(1, received / total);
    const percent = `${String(Math.floor(fraction * 100)).padStart(3)}%`;
    let tail: string;
    if (done) tail = `in ${formatDuration(seconds)}`;
    else if (rate === null || rate === 0) tail = 'ETA --:--';
    else tail = `ETA ${formatDuration((total - received) / rate)}`;
    const text = `${formatBytes(received)} / ${formatBytes(total)}  ${rateText}  ${tail}`;
    // The bar keeps its width while the numbers beside it change length.
    const width = Math.min(BAR_WIDTH, columns - 1 - TEXT_ROOM);
    if (width >= 5) {
      const filled = Math.round(fraction * width);
      line = `${percent} [${'#'.repeat(filled)}${'-'.repeat(width - filled)}]  ${text}`;
    } else {
      line = `${percent}  ${text}`;
    }
  } else {
    line = `${formatBytes(received)}  ${rateText}  ${done ? 'in' : 'elapsed'} ${formatDuration(seconds)}`;
  }
  return line.length > columns - 1 ? line.slice(0, Math.max(0, columns - 1)) : line;
}

/** What the bar writes to: stderr when it is a TTY. */
export interface ProgressOutput {
  write(text: string): unknown;
  readonly columns?: number | undefined;
}

/** A bar's line is on the terminal, not ended yet (a signal's message must start a new one). */
let lineOpen = false;

/** What to write before a message to stderr: a newline when a bar's line is open. */
export function lineBreakForMessage(): string {
  return lineOpen ? '\n' : '';
}

export class ProgressBar {
  private readonly out: ProgressOutput;
  private readonly total: number | null;
  private readonly now: () => number;
  private readonly start: number;
  private received = 0;
  private lastDraw = 0;
  private drawn = false;
  private timer: NodeJS.Timeout | null;

  /** `total`: the bytes expected, or null when the length is not known. */
  constructor(
    out: ProgressOutput,
    total: number | null,
    now: () => number = () => performance.now(),
  ) {
    this.out = out;
    this.total = total;
    this.now = now;
    this.start = now();
    this.timer = setInterval(() => this.draw(false), TICK_MS);
    this.timer.unref();
    this.draw(false);
  }

  /** `n` more bytes arrived. */
  update(n: number): void {
    this.received += n;
    if (this.now() - this.lastDraw >= REDRAW_MS) this.draw(false);
  }

  /** The transfer completed: the last state, and the line is ended. */
  finish(): void {
    this.stop();
    this.draw(true);
    this.out.write('\n');
    lineOpen = false;
  }

  /** The transfer failed: end the line so the error starts on its own. */
  abort(): void {
    this.stop();
    if (this.drawn) this.out.write('\n');
    lineOpen = false;
  }

  private stop(): void {
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
  }

  private draw(done: boolean): void {
    const now = this.now();
    this.lastDraw = now;
    this.drawn = true;
    const line = formatProgress({
      received: this.received,
      total: this.total,
      elapsedMs: now - this.start,
      // A pseudo-terminal without a size (`script`) says 0 columns.
      columns: this.out.columns !== undefined && this.out.columns > 0 ? this.out.columns : 80,
      done,
    });
    // \r back to the start of the line, \x1b[K clears what a longer line left.
    this.out.write(`\r${line}\x1b[K`);
    lineOpen = true;
  }
}
