/**
 * Timing helpers: one timed process, interleaved repetitions, medians. Pure except
 * `timeRun`, which spawns.
 */
import { spawnSync } from 'child_process';

export interface Timed {
  ms: number;
  status: number | null;
  stderr: string;
}

/**
 * Wall time of one process from spawn to exit, as seen by this process. stdin and stdout
 * are /dev/null and stderr a pipe, the same for every contender (mountkit's after-jail
 * step reopens exactly the descriptors that are /dev/null, so this keeps runs comparable).
 */
export function timeRun(argv: readonly string[], env: NodeJS.ProcessEnv = process.env): Timed {
  const [cmd, ...args] = argv;
  const start = process.hrtime.bigint();
  const r = spawnSync(cmd, args, { env, stdio: ['ignore', 'ignore', 'pipe'], encoding: 'utf8', timeout: 120_000 });
  const ms = Number(process.hrtime.bigint() - start) / 1e6;
  if (r.error) throw r.error;
  return { ms, status: r.status, stderr: r.stderr };
}

export interface Contender {
  name: string;
  /** One run; returns its time in ms, or throws. */
  run(): number;
}

/**
 * `reps` rounds; in each, every contender runs once, the order rotating by one each
 * round, so that drift (cache, CPU frequency, other load) spreads over all of them.
 * `warmup` untimed rounds come first.
 */
export function interleave(contenders: readonly Contender[], reps: number, warmup = 1): Map<string, number[]> {
  const times = new Map(contenders.map((c) => [c.name, [] as number[]]));
  for (let round = -warmup; round < reps; round++) {
    const shift = ((round % contenders.length) + contenders.length) % contenders.length;
    const order = [...contenders.slice(shift), ...contenders.slice(0, shift)];
    for (const c of order) {
      const ms = c.run();
      if (round >= 0) times.get(c.name)!.push(ms);
    }
  }
  return times;
}

export function quantile(values: readonly number[], q: number): number {
  if (values.length === 0) return NaN;
  const s = [...values].sort((a, b) => a - b);
  const pos = (s.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return s[lo] + (s[hi] - s[lo]) * (pos - lo);
}

export function median(values: readonly number[]): number {
  return quantile(values, 0.5);
}

export interface Summary {
  median: number;
  p25: number;
  p75: number;
  n: number;
}

export function summarize(values: readonly number[]): Summary {
  return { median: round(median(values)), p25: round(quantile(values, 0.25)), p75: round(quantile(values, 0.75)), n: values.length };
}

/** Least-squares slope of y over x: the cost of one more unit of x. */
export function slope(points: readonly { x: number; y: number }[]): number {
  const n = points.length;
  const mx = points.reduce((s, p) => s + p.x, 0) / n;
  const my = points.reduce((s, p) => s + p.y, 0) / n;
  const num = points.reduce((s, p) => s + (p.x - mx) * (p.y - my), 0);
  const den = points.reduce((s, p) => s + (p.x - mx) ** 2, 0);
  return den === 0 ? NaN : num / den;
}

/** Three significant decimals, enough for ms and ratios. */
export function round(x: number): number {
  return Math.round(x * 1000) / 1000;
}
