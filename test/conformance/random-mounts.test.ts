/**
 * Random mount lists, run under runc 1.1.5 and under mountkit on the same bundle: tmpfs
 * mounts, directory binds and rbinds, file binds, each with a random set of the flag,
 * atime, recursive-attribute and propagation words runc takes, some nested in an earlier
 * mount of the list (or in a later one, which then covers them), under a read-only or
 * writable root and any root propagation. Both runtimes must start the program or both
 * refuse; when they start it, the container must see the same mount table, modes and
 * owners of the destinations, and writes. The seed is fixed, so every run tries the same
 * lists (MOUNTKIT_TEST_SEED tries others); a failure prints the list (fast-check's
 * counterexample), unshrunk.
 */
import * as fc from 'fast-check';
import { mkdirSync, rmSync, writeFileSync } from 'fs';
import * as path from 'path';
import { BUSYBOX, PROBE, RUNC, busyboxConfig, copyBundle, makeBundle, normalize, runMountkit, runRunc } from './harness';

const available = Boolean(RUNC && BUSYBOX) && process.getuid?.() === 0;
const maybe = available ? describe : describe.skip;

const SEED = Number(process.env.MOUNTKIT_TEST_SEED ?? 20261201);
const RUNS = 24;

const FLAGS = ['ro', 'rw', 'nosuid', 'nodev', 'noexec', 'suid', 'dev', 'exec', 'nodiratime'];
const ATIMES = ['noatime', 'relatime', 'strictatime', 'norelatime'];
const PROPAGATIONS = ['private', 'rprivate', 'slave', 'rslave', 'shared', 'rshared', 'unbindable', 'runbindable'];
// At most one word of each group: conflicting recursive words end with the last one under
// mountkit, as under runc 1.2, where runc 1.1.5 lets a set win over a clear or ORs two
// atime values (README.md, "Differences from runc 1.1.5").
const RECURSIVE_GROUPS = [['rro', 'rrw'], ['rnosuid'], ['rnodev'], ['rnoexec'], ['rnoatime', 'rrelatime', 'rstrictatime'], ['rnodiratime']];
const RECURSIVE = RECURSIVE_GROUPS.flat();
const MODES = ['mode=755', 'mode=700', 'mode=1777', 'mode=0555'];
const SIZES = ['size=1m', 'size=64k', 'size=10%'];

type Kind = 'tmpfs' | 'bind' | 'rbind' | 'file';

interface Drawn {
  kind: Kind;
  /** An earlier or later entry of the list to nest in (modulo the list's length), or none. */
  parent: number | null;
  words: string[];
}

const drawn: fc.Arbitrary<Drawn> = fc.record({
  kind: fc.constantFrom<Kind>('tmpfs', 'bind', 'rbind', 'file'),
  parent: fc.option(fc.nat(5), { freq: 2 }),
  words: fc.tuple(
    fc.subarray(FLAGS, { maxLength: 3 }),
    fc.option(fc.constantFrom(...ATIMES)),
    fc.option(fc.constantFrom(...PROPAGATIONS), { freq: 2 }),
    fc.tuple(...RECURSIVE_GROUPS.map((group) => fc.option(fc.constantFrom(...group), { freq: 4 }))).map((picked) => picked.filter((w): w is string => w !== null)),
    fc.option(fc.constantFrom(...MODES)),
    fc.option(fc.constantFrom(...SIZES)),
  ).map(([flags, atime, propagation, recursive, mode, size]) => [...flags, ...(atime ? [atime] : []), ...(propagation ? [propagation] : []), ...recursive, ...(mode ? [mode] : []), ...(size ? [size] : [])]),
});

const setup = fc.record({
  mounts: fc.array(drawn, { minLength: 1, maxLength: 6 }),
  readonlyRoot: fc.boolean(),
  rootfsPropagation: fc.option(fc.constantFrom('private', 'rprivate', 'slave', 'rslave', 'shared', 'rshared')),
});

interface Listed {
  destination: string;
  type: string;
  source: string;
  options: string[];
}

/**
 * The config's mounts: entry i at /m<i>, or under the destination of the directory mount
 * it nests in; a tmpfs keeps its mode and size words, a bind drops them (runc passes them
 * to a bind as data, which a bind ignores), recursive words go to binds only (runc 1.1.5
 * refuses them elsewhere). Nothing nests in a later tmpfs, whose destination would then
 * exist when it is mounted: runc 1.1.5 chmods such a tmpfs to the directory's mode even
 * when its options give one, and mountkit passes the directory's mode as `mode=` when
 * they give none, as runc 1.1.8 does (README.md, "Differences from runc 1.1.5").
 */
function listed(mounts: readonly Drawn[]): Listed[] {
  const destinations: string[] = [];
  return mounts.map((m, i) => {
    const parentIndex = m.parent === null ? null : m.parent % mounts.length;
    const parent = parentIndex !== null && parentIndex !== i && mounts[parentIndex].kind !== 'file' && (parentIndex < i || mounts[parentIndex].kind !== 'tmpfs') ? parentIndex : null;
    const under = parent === null ? '' : parent < i ? destinations[parent] : `/m${parent}`;
    const destination = `${under}/m${i}`;
    destinations.push(destination);
    const words = m.words.filter((w) => (m.kind === 'tmpfs' ? !RECURSIVE.includes(w) : !w.startsWith('mode=') && !w.startsWith('size=')));
    if (m.kind === 'tmpfs') return { destination, type: 'tmpfs', source: 'tmpfs', options: words };
    const bind = m.kind === 'rbind' ? 'rbind' : 'bind';
    return { destination, type: 'bind', source: m.kind === 'file' ? `src/f${i}` : `src/d${i}`, options: [bind, ...words] };
  });
}

/** What the container prints beyond the probe: each destination's mode, owner and type (or that it is missing, under a mount that covers it), and whether a file can be made in it (or written, for a file). */
function inspect(mounts: readonly Listed[]): string {
  const dests = mounts.map((m) => m.destination).join(' ');
  return [
    `echo "== destinations"; for d in ${dests}; do stat -c "%n %a %u %g %F" "$d" 2>/dev/null || echo "$d missing"; done`,
    `echo "== writes"; for d in ${dests}; do if [ -d "$d" ]; then t="$d/.w"; else t="$d"; fi; if (echo x >>"$t") 2>/dev/null; then echo "$d writable"; else echo "$d not"; fi; done`,
  ].join('; ');
}

maybe('random mount lists: runc 1.1.5 and mountkit', () => {
  test('start the program or refuse alike, and show the container the same mounts', () => {
    let started = 0;
    fc.assert(
      fc.property(setup, ({ mounts, readonlyRoot, rootfsPropagation }) => {
        const list = listed(mounts);
        const config = busyboxConfig(['sh', '-c', `${PROBE}; ${inspect(list)}`]);
        config.root.readonly = readonlyRoot;
        if (rootfsPropagation !== null) config.linux.rootfsPropagation = rootfsPropagation;
        config.mounts.push(...list);
        const bundle = makeBundle(config);
        const copies: string[] = [];
        try {
          list.forEach((m, i) => {
            if (m.source === `src/f${i}`) {
              mkdirSync(path.join(bundle.dir, 'src'), { recursive: true });
              writeFileSync(path.join(bundle.dir, m.source), 'file\n');
            } else if (m.type === 'bind') {
              mkdirSync(path.join(bundle.dir, m.source), { recursive: true });
            }
          });
          copies.push(copyBundle(bundle.dir), copyBundle(bundle.dir));
          const runc = runRunc(copies[0]);
          const mk = runMountkit(copies[1]);
          const said = (o: { status: number | null; stderr: string }) => (o.status === 0 ? 'started' : `refused (${o.status}): ${o.stderr.trim()}`);
          if ((runc.status === 0) !== (mk.status === 0)) throw new Error(`runc ${said(runc)}; mountkit ${said(mk)}`);
          if (runc.status !== 0) return;
          started++;
          expect({ runc: runc.stderr, mountkit: mk.stderr }).toEqual({ runc: '', mountkit: '' });
          const a = normalize(runc.stdout.split(copies[0]).join('<bundle>'));
          const b = normalize(mk.stdout.split(copies[1]).join('<bundle>'));
          expect(a.destinations).toHaveLength(list.length);
          expect(b).toEqual(a);
        } finally {
          for (const copy of copies) rmSync(copy, { recursive: true, force: true });
          bundle.cleanup();
        }
      }),
      { seed: SEED, numRuns: RUNS, endOnFailure: true },
    );
    // Most lists start: a comparison of refusals alone would say little of the mounts.
    expect(started).toBeGreaterThan(RUNS / 2);
  }, 600_000);
});
