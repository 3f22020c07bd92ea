/**
 * Where the time goes: V8 CPU profiles (written by bench/preload.js) summarized by
 * package, and require() times of the modules a run loads, each in a fresh Node.
 */
import { spawnSync } from 'child_process';
import { REPO } from './bundles';
import { median, round } from './measure';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}

export interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  /** Microseconds before each sample. */
  timeDeltas: number[];
  startTime: number;
  endTime: number;
}

export interface ProfileSummary {
  /** Wall time covered, ms. */
  totalMs: number;
  /**
   * Time in samples whose stack holds code of an npm package or of mountkit's core, plugins
   * or api (module top level, and so its own require()s, included), ms; categories overlap.
   */
  inclusive: Record<string, number>;
  /** Time in samples whose own frame is of each category, ms. */
  self: Record<string, number>;
  /** The functions with the most self time. */
  top: { fn: string; where: string; ms: number }[];
}

const VM_FRAMES = new Set(['(garbage collector)', '(program)', '(idle)', '(root)']);
/** The bench's own preload: its require hook sits on the stack of every module load, so it is skipped. */
const PRELOAD = 'bench-preload';
/** Categories whose inclusive time means something: the ones below the entry module. */
const INCLUSIVE = /^(npm:|mountkit:(core|plugins|api)$)/;

/** A frame's category: mountkit's layers, an npm package, Node's module loader, V8 itself. */
export function category(url: string, fn: string): string {
  if (VM_FRAMES.has(fn) && url === '') return fn;
  const pkg = /\/node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(url);
  if (pkg) return `npm:${pkg[1]}`;
  if (url.startsWith('node:internal/modules/')) return 'node:module-loader';
  if (url.startsWith('node:')) return 'node:other';
  if (url.endsWith('/bench/preload.js')) return PRELOAD;
  if (url.endsWith('/bin/mountkit.js')) return 'mountkit:bin';
  const own = /\/dist\/(plugins|core|cli|api)\//.exec(url);
  if (own) return `mountkit:${own[1]}`;
  return url === '' ? 'native' : 'other';
}

export function summarizeProfile(p: CpuProfile): ProfileSummary {
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of p.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const inclusive: Record<string, number> = {};
  const self: Record<string, number> = {};
  const selfByFn = new Map<string, number>();
  p.samples.forEach((id, i) => {
    const ms = (p.timeDeltas[i] ?? 0) / 1000;
    const leaf = byId.get(id)!;
    const leafCat = category(leaf.callFrame.url, leaf.callFrame.functionName);
    self[leafCat] = (self[leafCat] ?? 0) + ms;
    const fnKey = `${leaf.callFrame.functionName || '(anonymous)'}\t${leaf.callFrame.url.replace(REPO, '.')}:${leaf.callFrame.lineNumber + 1}`;
    selfByFn.set(fnKey, (selfByFn.get(fnKey) ?? 0) + ms);
    const seen = new Set<string>();
    for (let n: number | undefined = id; n !== undefined; n = parent.get(n)) {
      const f = byId.get(n)!.callFrame;
      const c = category(f.url, f.functionName);
      if (INCLUSIVE.test(c)) seen.add(c);
    }
    for (const c of seen) inclusive[c] = (inclusive[c] ?? 0) + ms;
  });
  const rounded = (r: Record<string, number>) =>
    Object.fromEntries(Object.entries(r).sort((a, b) => b[1] - a[1]).map(([k, v]) => [k, round(v)]));
  const top = [...selfByFn]
    .sort((a, b) => b[1] - a[1])
    .slice(0, 12)
    .map(([key, ms]) => {
      const [fn, where] = key.split('\t');
      return { fn, where, ms: round(ms) };
    });
  return { totalMs: round((p.endTime - p.startTime) / 1000), inclusive: rounded(inclusive), self: rounded(self), top };
}

interface RequireProbe {
  name: string;
  /** Loaded first, untimed (tsyringe needs the Reflect polyfill). */
  before?: string;
  /** Timed. */
  code: string;
}

const req = (m: string) => `require(${JSON.stringify(m)})`;

/** What a run loads, piece by piece; paths relative to the repository. */
export const REQUIRE_PROBES: readonly RequireProbe[] = [
  { name: 'reflect-metadata', code: req('reflect-metadata') },
  { name: 'tsyringe', before: req('reflect-metadata'), code: req('tsyringe') },
  { name: 'koffi', code: req('koffi') },
  { name: 'winston', code: req('winston') },
  { name: 'dist/cli/main (what every run loads first)', code: req('./dist/cli/main') },
  { name: 'dist/core/kernel (with the built-in plugins)', code: req('./dist/core/kernel') },
  { name: 'dist/core/syscalls/linux (koffi is loaded by the first call)', code: req('./dist/core/syscalls/linux') },
  {
    name: 'koffi binding of libc (first port call)',
    before: req('./dist/core/syscalls/linux'),
    code: `new (${req('./dist/core/syscalls/linux')}.LinuxSyscalls)().umask(0o22)`,
  },
  {
    name: 'createKernel() (plugins registered, orchestrator built)',
    before: `${req('./dist/core/kernel')}; ${req('./dist/core/syscalls/linux')}`,
    code: `${req('./dist/core/kernel')}.createKernel({ syscalls: new (${req('./dist/core/syscalls/linux')}.LinuxSyscalls)() })`,
  },
  {
    name: 'createLogger() at the default level',
    before: req('./dist/core/logger'),
    code: `${req('./dist/core/logger')}.createLogger({})`,
  },
  {
    name: 'all a relaunched run loads (main, kernel, logger, port, createKernel)',
    code: [
      req('./dist/cli/main'),
      `const k = ${req('./dist/core/kernel')}`,
      `const l = ${req('./dist/core/logger')}.createLogger({})`,
      `const s = new (${req('./dist/core/syscalls/linux')}.LinuxSyscalls)()`,
      'k.createKernel({ syscalls: s, logger: l })',
    ].join('; '),
  },
  {
    name: 'the same from the CLI bundle and its code cache (what bin/mountkit.js does)',
    code: [
      `const b = ${req('./dist/bundle/load')}.openBundle(process.cwd())`,
      "if (!b.ok || b.compiled.cacheRejected !== false) throw new Error('no usable CLI bundle')",
      'const r = (id) => b.compiled.bundle.require(id)',
      "r('dist/cli/main.js')",
      "const k = r('dist/core/kernel.js')",
      "const l = r('dist/core/logger.js').createLogger({})",
      "const s = new (r('dist/core/syscalls/linux.js').LinuxSyscalls)()",
      'k.createKernel({ syscalls: s, logger: l })',
    ].join('; '),
  },
];

/** Median ms of each probe over `reps` fresh Node processes. */
export function requireTimings(reps: number): { name: string; ms: number }[] {
  return REQUIRE_PROBES.map((probe) => {
    const script = `${probe.before ?? ''}; const t = performance.now(); ${probe.code}; process.stdout.write(String(performance.now() - t));`;
    const times: number[] = [];
    for (let i = 0; i < reps; i++) {
      const r = spawnSync(process.execPath, ['-e', script], { cwd: REPO, encoding: 'utf8' });
      if (r.status !== 0) throw new Error(`require probe ${probe.name} failed: ${r.stderr}`);
      times.push(Number(r.stdout));
    }
    return { name: probe.name, ms: round(median(times)) };
  });
}
