/**
 * The frame of the random conformance properties: one config run under runc and under
 * mountkit, each on its own copy of one bundle, and what the two printed compared as the
 * property says (its view of a run's output).
 */
import { rmSync } from 'fs';
import { copyBundle, makeBundle, runMountkit, runRunc, type Outcome } from './harness';

/** How each runtime runs a bundle. */
export interface Runners {
  runc: (bundle: string) => Outcome;
  mountkit: (bundle: string) => Outcome;
}

/** runRunc and runMountkit as they are. */
export const PLAIN_RUNNERS: Runners = { runc: (bundle) => runRunc(bundle), mountkit: (bundle) => runMountkit(bundle) };

/**
 * What a property compares of the two runs. Both runtimes must start the program or both
 * refuse; `refusals` says what two refusals are: `fail` (runc must start it), `pass`, or
 * `compare` (their views compared, as two starts are). Started, both must write nothing
 * to stderr, and `view` of runc's stdout must equal `view` of mountkit's.
 */
export interface Comparison<V> {
  /** A run's stdout made comparable: the path of its copy of the bundle is `<bundle>` there already. */
  view: (stdout: string) => V;
  /** Checks of runc's view alone when it started the program, that the draw printed what it meant to. */
  checked?: (view: V) => void;
  refusals: 'fail' | 'pass' | 'compare';
  runners?: Runners;
}

/**
 * Runs `config` under both runtimes on copies of one bundle (`prepare` adds to it first)
 * and compares them as `how` says; removes the bundle and its copies. Whether they
 * started the program.
 */
export function sideBySide<V>(config: Record<string, any>, prepare: (bundle: string) => void, how: Comparison<V>): boolean {
  const runners = how.runners ?? PLAIN_RUNNERS;
  const bundle = makeBundle(config);
  const copies: string[] = [];
  try {
    prepare(bundle.dir);
    copies.push(copyBundle(bundle.dir), copyBundle(bundle.dir));
    const runc = runners.runc(copies[0]);
    const mk = runners.mountkit(copies[1]);
    const said = (o: Outcome) => (o.status === 0 ? 'started' : `refused (${o.status}): ${o.stderr.trim()}`);
    if ((runc.status === 0) !== (mk.status === 0) || (how.refusals === 'fail' && runc.status !== 0)) throw new Error(`runc ${said(runc)}; mountkit ${said(mk)}`);
    const started = runc.status === 0;
    if (!started && how.refusals === 'pass') return false;
    if (started) expect({ runc: runc.stderr, mountkit: mk.stderr }).toEqual({ runc: '', mountkit: '' });
    const a = how.view(runc.stdout.split(copies[0]).join('<bundle>'));
    const b = how.view(mk.stdout.split(copies[1]).join('<bundle>'));
    if (started) how.checked?.(a);
    expect(b).toEqual(a);
    return started;
  } finally {
    for (const copy of copies) rmSync(copy, { recursive: true, force: true });
    bundle.cleanup();
  }
}
