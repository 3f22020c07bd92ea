/**
 * Property tests (fast-check) over random inputs: the mount option parser gives a
 * ConfigError or a well-formed result, never anything else; in-root path resolution
 * never reaches outside the root, whatever the tree and the path.
 */
import * as fc from 'fast-check';
import { posix } from 'path';
import {
  EXTENSION_OPTIONS,
  MOUNT_FLAG_OPTIONS,
  PROPAGATION_OPTIONS,
  RECURSIVE_ATTR_OPTIONS,
  RELABEL_OPTIONS,
  parseMountOptions,
} from '../../src/core/config/options';
import { MOUNT_ATTR__ATIME } from '../../src/core/constants';
import { ConfigError, SyscallError } from '../../src/core/errors';
import { createInRoot, fdPath, makeFile, openInRoot, resolveInRoot } from '../../src/core/in-root';
import { containerPath, isWithin } from '../../src/core/paths';
import { FakeSyscalls, type FakeNode } from '../../src/core/syscalls/fake';

const KNOWN_WORDS = [...MOUNT_FLAG_OPTIONS.keys(), ...PROPAGATION_OPTIONS.keys(), ...RECURSIVE_ATTR_OPTIONS.keys(), ...EXTENSION_OPTIONS.keys(), ...RELABEL_OPTIONS];
const isKnown = (w: string) => KNOWN_WORDS.includes(w);

const union = (values: Iterable<bigint>) => [...values].reduce((a, b) => a | b, 0n);
const FLAG_BITS = union([...MOUNT_FLAG_OPTIONS.values()].map((o) => o.flag));
const PROPAGATIONS = new Set(PROPAGATION_OPTIONS.values());
const ATTR_BITS = union([...RECURSIVE_ATTR_OPTIONS.values()].map((o) => o.attr)) | MOUNT_ATTR__ATIME;

/** The single bits of a mask. */
function bits(mask: bigint): bigint[] {
  const out: bigint[] = [];
  for (let b = 1n; b <= mask; b <<= 1n) if ((mask & b) !== 0n) out.push(b);
  return out;
}

/** Words: known ones, near misses, hostile strings (NUL, commas, prototype names), any Unicode. */
const word = fc.oneof(
  { weight: 6, arbitrary: fc.constantFrom(...KNOWN_WORDS) },
  { weight: 2, arbitrary: fc.constantFrom('RO', 'Z ', 'zz', 'rbind ', 'mode=755', 'size=1k', '', ',', 'ro,rw', '__proto__', 'constructor', 'toString', 'x\u0000y') },
  { weight: 2, arbitrary: fc.string({ maxLength: 12 }) },
  { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 8 }) },
);
const words = fc.array(word, { maxLength: 24 });

describe('parseMountOptions over random word lists', () => {
  test('a ConfigError (z with Z) or a result within the known bits', () => {
    fc.assert(
      fc.property(words, (ws) => {
        let parsed;
        try {
          parsed = parseMountOptions(ws, 'mounts[0].options');
        } catch (err) {
          expect(err).toBeInstanceOf(ConfigError);
          expect((err as ConfigError).field).toBe('mounts[0].options');
          expect(ws.includes('z') && ws.includes('Z')).toBe(true);
          return;
        }
        expect(ws.includes('z') && ws.includes('Z')).toBe(false);
        expect(parsed.flags & ~FLAG_BITS).toBe(0n);
        expect(parsed.clearedFlags & ~FLAG_BITS).toBe(0n);
        expect(parsed.flags & parsed.clearedFlags).toBe(0n);
        for (const p of parsed.propagationFlags) expect(PROPAGATIONS.has(p)).toBe(true);
        expect(parsed.propagationFlags).toEqual(ws.filter((w) => PROPAGATION_OPTIONS.has(w)).map((w) => PROPAGATION_OPTIONS.get(w)));
        if (parsed.recAttrs) {
          expect(parsed.recAttrs.attrSet & ~ATTR_BITS).toBe(0n);
          expect(parsed.recAttrs.attrClr & ~ATTR_BITS).toBe(0n);
          // A bit is never both set and cleared; the atime value travels with the whole atime mask cleared.
          expect(parsed.recAttrs.attrSet & parsed.recAttrs.attrClr & ~MOUNT_ATTR__ATIME).toBe(0n);
          if ((parsed.recAttrs.attrSet & MOUNT_ATTR__ATIME) !== 0n) expect(parsed.recAttrs.attrClr & MOUNT_ATTR__ATIME).toBe(MOUNT_ATTR__ATIME);
        } else {
          // rnorelatime clears MOUNT_ATTR_RELATIME, which is 0: alone, it asks for nothing.
          expect(ws.some((w) => RECURSIVE_ATTR_OPTIONS.has(w) && w !== 'rnorelatime')).toBe(false);
        }
        expect(parsed.data).toBe(ws.filter((w) => !isKnown(w)).join(','));
        expect(parsed.extensions).toEqual({ tmpcopyup: ws.includes('tmpcopyup') });
        expect(parsed.relabel).toBe(ws.find((w) => RELABEL_OPTIONS.has(w)) ?? '');
      }),
      { numRuns: 2000 },
    );
  });

  test('for every flag bit, the last word touching it decides', () => {
    fc.assert(
      fc.property(words, (ws) => {
        const parsed = parseMountOptions(ws.filter((w) => w !== 'Z'));
        for (const bit of bits(FLAG_BITS)) {
          const last = ws.filter((w) => ((MOUNT_FLAG_OPTIONS.get(w)?.flag ?? 0n) & bit) !== 0n).pop();
          const option = last === undefined ? undefined : MOUNT_FLAG_OPTIONS.get(last)!;
          expect((parsed.flags & bit) !== 0n).toBe(option !== undefined && !option.clear);
          expect((parsed.clearedFlags & bit) !== 0n).toBe(option !== undefined && option.clear);
        }
      }),
      { numRuns: 1000 },
    );
  });
});

/** The shape of a model tree: every path below `at` with its kind (and a link's target), sorted. */
function treeOf(sys: FakeSyscalls, at: string, skip: readonly string[] = []): string[] {
  const out: string[] = [];
  const visit = (p: string, node: FakeNode): void => {
    if (skip.includes(p)) return;
    out.push(`${p} ${node.kind}${node.kind === 'symlink' ? ` -> ${node.target}` : ''}${node.kind === 'file' ? ` ${node.content}` : ''}`);
    for (const [name, child] of node.children ?? []) visit(posix.join(p, name), child);
  };
  visit(at, sys.node(at)!);
  return out.sort();
}

const ROOT = '/root';
const NAMES = ['a', 'b', 'c', 'd'];
/** Path segments: names inside the root, names of things outside it, `..`, `.` and empty ones (doubled slashes). */
const segment = fc.constantFrom(...NAMES, '..', '..', '.', '', 'outside', 'root', 'secret', 'proc');
const relative = fc.array(segment, { maxLength: 7 }).map((s) => s.join('/'));
const anyPath = fc.tuple(fc.boolean(), relative).map(([abs, p]) => (abs ? '/' : '') + p);

interface Entry {
  at: string[];
  kind: 'dir' | 'file' | 'link';
  target: string;
}
const entry: fc.Arbitrary<Entry> = fc.record({
  at: fc.array(fc.constantFrom(...NAMES), { minLength: 1, maxLength: 3 }),
  kind: fc.constantFrom<Entry['kind']>('dir', 'file', 'link', 'link'),
  target: anyPath.map((p) => p || '.'),
});

/**
 * A host with a rootfs of random entries (links to anywhere: absolute, climbing with
 * `..`, to links, dangling, in loops) and, outside it, what an escape would reach.
 * Entries that collide with an earlier one are left out.
 */
function hostWith(entries: readonly Entry[]): FakeSyscalls {
  const sys = new FakeSyscalls().addDir(ROOT).addFile('/outside/secret', 'host').addDir('/outside/dir').addSymlink('/outside/up', '..');
  for (const e of entries) {
    const p = posix.join(ROOT, ...e.at);
    // The builders follow links on the way (and would build outside the root): only real
    // directories may lead to an entry, and nothing may be there yet.
    const parents = e.at.slice(0, -1).map((_, i) => posix.join(ROOT, ...e.at.slice(0, i + 1)));
    if (sys.node(p) || parents.some((d) => sys.node(d) !== undefined && sys.node(d)!.kind !== 'dir')) continue;
    if (e.kind === 'dir') sys.addDir(p);
    else if (e.kind === 'file') sys.addFile(p, 'in root');
    else sys.addSymlink(p, e.target);
  }
  return sys.clearCalls();
}

const RESOLVERS = [
  ['openat2 with RESOLVE_IN_ROOT', (sys: FakeSyscalls) => sys],
  ['the component walk (a kernel without openat2)', (sys: FakeSyscalls) => sys.failOn('openat2', 'ENOSYS', { times: Infinity })],
] as const;

/** Errors a lookup may end with: something missing, not a directory, too many links. */
const LOOKUP_ERRNOS = ['ENOENT', 'ENOTDIR', 'ELOOP'];

function outcome<T>(fn: () => T): { ok: T } | { code: string } {
  try {
    return { ok: fn() };
  } catch (err) {
    expect(err).toBeInstanceOf(SyscallError);
    expect(LOOKUP_ERRNOS).toContain((err as SyscallError).code);
    return { code: (err as SyscallError).code };
  }
}

describe.each(RESOLVERS)('in-root resolution over random trees and paths: %s', (_name, prepare) => {
  test('openInRoot opens only inside the root, or fails with a lookup errno; resolveInRoot agrees', () => {
    fc.assert(
      fc.property(fc.array(entry, { maxLength: 14 }), anyPath, (entries, unsafe) => {
        const sys = prepare(hostWith(entries));
        const opened = outcome(() => {
          const fd = openInRoot(sys, ROOT, unsafe);
          try {
            return sys.readlink(fdPath(fd));
          } finally {
            sys.close(fd);
          }
        });
        const resolved = outcome(() => resolveInRoot(sys, ROOT, unsafe));
        if ('ok' in opened) {
          expect(isWithin(ROOT, opened.ok)).toBe(true);
          expect(resolved).toEqual({ ok: containerPath(ROOT, opened.ok) });
        }
        if ('ok' in resolved) expect(resolved.ok.startsWith('/')).toBe(true);
        expect(treeOf(sys, '/', [ROOT])).toEqual(treeOf(hostWith([]), '/', [ROOT]));
      }),
      { numRuns: 1500 },
    );
  });

  test('createInRoot makes what is missing inside the root, never outside', () => {
    fc.assert(
      fc.property(fc.array(entry, { maxLength: 14 }), anyPath, fc.boolean(), (entries, unsafe, file) => {
        const sys = prepare(hostWith(entries));
        const made = outcome(() => {
          const created = createInRoot(sys, ROOT, unsafe, file ? { make: makeFile(sys, 0o644) } : {});
          try {
            return sys.readlink(fdPath(created.fd));
          } finally {
            sys.close(created.fd);
          }
        });
        if ('ok' in made) expect(isWithin(ROOT, made.ok)).toBe(true);
        expect(treeOf(sys, '/', [ROOT])).toEqual(treeOf(hostWith([]), '/', [ROOT]));
      }),
      { numRuns: 1500 },
    );
  });
});

test('both resolvers reach the same file for the same tree and path', () => {
  fc.assert(
    fc.property(fc.array(entry, { maxLength: 14 }), anyPath, (entries, unsafe) => {
      const [viaOpenat2, viaWalk] = RESOLVERS.map(([, prepare]) => {
        const sys = prepare(hostWith(entries));
        return outcome(() => resolveInRoot(sys, ROOT, unsafe));
      });
      expect(viaWalk).toEqual(viaOpenat2);
    }),
    { numRuns: 1500 },
  );
});
