import fc from 'fast-check';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { loadBundle } from '../../src/core/config/oci';
import { readIntegerLiterals, scanIntegerLiterals } from '../../src/core/config/number-literals';
import { SPEC_SHAPE, type FieldShape } from '../../src/core/config/spec-fields';
import { ConfigError } from '../../src/core/errors';

const NOT_INTEGER = "is not an integer literal: runc's Go decoder takes an integer field's number as digits only, with no fraction or exponent";
const SIGNED = "is not an unsigned integer literal: runc's Go decoder takes an unsigned field's number as digits only, with no sign";

/** What readIntegerLiterals does with `text`: the error's message, or the parsed value it leaves. */
function outcome(text: string, read: (text: string, spec: unknown) => void = readIntegerLiterals): { error: string } | { spec: unknown } {
  const spec: unknown = JSON.parse(text);
  try {
    read(text, spec);
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    return { error: err.message };
  }
  return { spec };
}

describe('loadBundle: integer fields as runc 1.1.5 reads them (each spelling run with runc run on a bundle)', () => {
  let dir: string;

  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mountkit-numbers-'));
  });

  afterAll(() => {
    fs.rmSync(dir, { recursive: true, force: true });
  });

  /** loadBundle of a config with `json` (a fragment) merged at the top: the config, or the error's message. */
  function load(fragment: string): ReturnType<typeof loadBundle> | string {
    fs.writeFileSync(path.join(dir, 'config.json'), `{"root": {"path": "rootfs"}, ${fragment}}`);
    try {
      return loadBundle(dir);
    } catch (err) {
      if (!(err instanceof ConfigError)) throw err;
      return err.message;
    }
  }

  const user = (uid: string) => `"process": {"cwd": "/", "args": ["sh"], "user": {"uid": ${uid}, "gid": 0}}`;
  test.each([
    // [literal, the uid read, or the error]; runc: "cannot unmarshal number 1.0 into Go struct field User.process.user.uid of type uint32"
    ['0', 0],
    ['1000', 1000],
    ['1.0', `process.user.uid: 1.0 ${NOT_INTEGER}`],
    ['0.0', `process.user.uid: 0.0 ${NOT_INTEGER}`],
    ['1.5', `process.user.uid: 1.5 ${NOT_INTEGER}`],
    ['1E2', `process.user.uid: 1E2 ${NOT_INTEGER}`],
    ['1e2', `process.user.uid: 1e2 ${NOT_INTEGER}`],
    ['1e-400', `process.user.uid: 1e-400 ${NOT_INTEGER}`],
    ['1e309', `process.user.uid: 1e309 ${NOT_INTEGER}`],
    ['-0', `process.user.uid: -0 ${SIGNED}`],
    ['-1', 'process.user.uid -1: must be a non-negative integer'],
    ['4294967296', 'process.user.uid 4294967296: must be at most 4294967295'],
    ['9007199254740993', 'process.user.uid 9007199254740993: must be at most 4294967295'],
    ['1' + '0'.repeat(100), `process.user.uid ${'1' + '0'.repeat(76)}... (101 characters): must be at most 4294967295`],
    ['1.' + '0'.repeat(100), `process.user.uid: 1.${'0'.repeat(35)}... (102 characters) ${NOT_INTEGER}`],
  ])('process.user.uid %s (uint32)', (literal, expected) => {
    const got = load(user(literal));
    expect(typeof got === 'string' ? got : got.process.uid).toBe(expected);
  });

  const oom = (v: string) => `"process": {"cwd": "/", "args": ["sh"], "oomScoreAdj": ${v}}`;
  test.each([
    // A signed field (Go's int) takes -0, as 0; the kernel's range stays mountkit's check.
    ['-0', 0],
    ['5', 5],
    ['5.0', `process.oomScoreAdj: 5.0 ${NOT_INTEGER}`],
    ['5e0', `process.oomScoreAdj: 5e0 ${NOT_INTEGER}`],
    ['-0.0', `process.oomScoreAdj: -0.0 ${NOT_INTEGER}`],
    ['-9007199254740993', 'process.oomScoreAdj -9007199254740993: must be an integer from -1000 to 1000'],
  ])('process.oomScoreAdj %s (int)', (literal, expected) => {
    const got = load(oom(literal));
    expect(typeof got === 'string' ? got : got.process.oomScoreAdj).toBe(expected);
  });

  const rlimit = (soft: string) => `"process": {"cwd": "/", "args": ["sh"], "rlimits": [{"type": "RLIMIT_CORE", "soft": ${soft}, "hard": 18446744073709551615}]}`;
  test.each([
    // runc 1.1.5 sets each of these exactly (the container's /proc/self/limits).
    ['9007199254740993', 9007199254740993n],
    ['18446744073709551614', 18446744073709551614n],
    ['18446744073709551615', 18446744073709551615n],
    ['18446744073709551616', 'process.rlimits[0].soft 18446744073709551616: must be at most 18446744073709551615'],
    ['99999999999999999999999', 'process.rlimits[0].soft 99999999999999999999999: must be at most 18446744073709551615'],
    ['-0', `process.rlimits[0].soft: -0 ${SIGNED}`],
    ['0.5', `process.rlimits[0].soft: 0.5 ${NOT_INTEGER}`],
    ['1e3', `process.rlimits[0].soft: 1e3 ${NOT_INTEGER}`],
  ])('process.rlimits[0].soft %s (uint64)', (literal, expected) => {
    const got = load(rlimit(literal));
    expect(typeof got === 'string' ? got : got.process.rlimits?.[0].soft).toBe(expected);
  });

  test.each([
    // [fragment, the error]: each field's Go type, as runc 1.1.5 names it
    ['"hooks": {"prestart": [{"path": "/bin/true", "timeout": 1.0}]}', `hooks.prestart[0].timeout: 1.0 ${NOT_INTEGER}`],
    ['"linux": {"devices": [{"path": "/dev/x", "type": "c", "major": 1.0, "minor": 1}]}', `linux.devices[0].major: 1.0 ${NOT_INTEGER}`],
    ['"linux": {"seccomp": {"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["mkdirat"], "action": "SCMP_ACT_ERRNO", "errnoRet": 1.0}]}}', `linux.seccomp.syscalls[0].errnoRet: 1.0 ${NOT_INTEGER}`],
    ['"linux": {"seccomp": {"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["mkdirat"], "action": "SCMP_ACT_ERRNO", "errnoRet": -0}]}}', `linux.seccomp.syscalls[0].errnoRet: -0 ${SIGNED}`],
    ['"linux": {"seccomp": {"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["mkdirat"], "action": "SCMP_ACT_ERRNO", "args": [{"index": 0, "value": 1.0, "op": "SCMP_CMP_EQ"}]}]}}', `linux.seccomp.syscalls[0].args[0].value: 1.0 ${NOT_INTEGER}`],
    ['"linux": {"seccomp": {"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["mkdirat"], "action": "SCMP_ACT_ERRNO", "args": [{"index": 0, "value": 18446744073709551616, "op": "SCMP_CMP_EQ"}]}]}}', 'linux.seccomp.syscalls[0].args[0].value 18446744073709551616: must be at most 18446744073709551615'],
    ['"process": {"cwd": "/", "args": ["sh"], "consoleSize": {"height": 1.0, "width": 1}}', `process.consoleSize.height: 1.0 ${NOT_INTEGER}`],
    ['"process": {"cwd": "/", "args": ["sh"], "consoleSize": {"height": -0, "width": 1}}', `process.consoleSize.height: -0 ${SIGNED}`],
    ['"linux": {"uidMappings": [{"containerID": 0, "hostID": 1.0, "size": 1}]}', `linux.uidMappings[0].hostID: 1.0 ${NOT_INTEGER}`],
    ['"linux": {"uidMappings": [{"containerID": 0, "hostID": -0, "size": 1}]}', `linux.uidMappings[0].hostID: -0 ${SIGNED}`],
    ['"mounts": [{"destination": "/proc", "type": "proc", "uidMappings": [{"containerID": 0, "hostID": 1.0, "size": 1}]}]', `mounts[0].uidMappings[0].hostID: 1.0 ${NOT_INTEGER}`],
    ['"mounts": [{"destination": "/proc", "type": "proc", "uidMappings": [{"containerID": 0, "hostID": -0, "size": 1}]}]', `mounts[0].uidMappings[0].hostID: -0 ${SIGNED}`],
    ['"process": {"cwd": "/", "args": ["sh"], "user": {"uid": 0, "additionalGids": [0, 5, 1.0]}}', `process.user.additionalGids[2]: 1.0 ${NOT_INTEGER}`],
    // Items that are no integers still count for the path.
    ['"process": {"cwd": "/", "args": ["sh"], "user": {"uid": 0, "additionalGids": ["5", null, 1.0]}}', `process.user.additionalGids[2]: 1.0 ${NOT_INTEGER}`],
    ['"process": {"cwd": "/", "args": ["sh"], "rlimits": ["x", [], {"type": "RLIMIT_CORE", "soft": 1.0}]}', `process.rlimits[2].soft: 1.0 ${NOT_INTEGER}`],
    // runtime-spec 1.2's types, which mountkit reads as runc 1.2 does (runc 1.1.5 knows no scheduler and ignores it).
    ['"process": {"cwd": "/", "args": ["sh"], "scheduler": {"policy": "SCHED_OTHER", "nice": 1.0}}', `process.scheduler.nice: 1.0 ${NOT_INTEGER}`],
    ['"linux": {"timeOffsets": {"boottime": {"secs": 1, "nanosecs": 1e3}}}', `linux.timeOffsets.boottime.nanosecs: 1e3 ${NOT_INTEGER}`],
    ['"linux": {"timeOffsets": {"boottime": {"secs": 9007199254740993}}}', 'linux.timeOffsets.boottime.secs 9007199254740993: must be an integer of at most 2^53 - 1 either way'],
    // Every occurrence of a key is decoded by Go: runc refuses these too.
    ['"process": {"cwd": "/", "args": ["sh"], "user": {"uid": 1.0, "uid": 0}}', `process.user.uid: 1.0 ${NOT_INTEGER}`],
    ['"process": {"cwd": "/", "args": ["sh"], "user": {"uid": 0, "uid": 1.0}}', `process.user.uid: 1.0 ${NOT_INTEGER}`],
    ['"process": {"cwd": "/", "args": ["sh"], "user": {"uid": 1.0}}, "process": {"cwd": "/", "args": ["sh"]}', `process.user.uid: 1.0 ${NOT_INTEGER}`],
    // A key is read as Go reads it, escapes and all.
    ['"process": {"cwd": "/", "args": ["sh"], "user": {"\\u0075id": 1.0}}', `process.user.uid: 1.0 ${NOT_INTEGER}`],
    // A field mountkit does not read, a Go int64 in runc's runtime-spec.
    ['"linux": {"resources": {"memory": {"limit": 1.0}}}', `linux.resources.memory.limit: 1.0 ${NOT_INTEGER}`],
  ])('%s is refused', (fragment, message) => {
    expect(load(fragment)).toBe(message);
  });

  test.each([
    // Keys runc 1.1.5 has no field for, as it ignores them (config-go-types.test.ts has its fields mountkit does not read).
    '"vendor": {"n": 1.5, "m": -0, "uid": 1e2}',
    '"process": {"cwd": "/", "args": ["sh"], "user": {"uid": 0, "size": 1.0}}',
    // Numbers in strings are text.
    '"process": {"cwd": "/", "args": ["sh", ": 1.0", ",-0", "[1e2", "\\\\", "\\", 1.0"]}, "annotations": {"k": "1.0"}',
  ])('%s is taken', (fragment) => {
    expect(typeof load(fragment)).toBe('object');
  });

  test('the last of duplicate keys is the one read, exactly, as Go reads it', () => {
    const soft = (fragment: string) => {
      const got = load(`"process": {"cwd": "/", "args": ["sh"], "rlimits": [{"type": "RLIMIT_CORE", ${fragment}, "hard": 18446744073709551615}]}`);
      return typeof got === 'string' ? got : got.process.rlimits?.[0].soft;
    };
    expect(soft('"soft": 9007199254740993, "soft": 5')).toBe(5n);
    expect(soft('"soft": 5, "soft": 9007199254740993')).toBe(9007199254740993n);
    expect(soft('"soft": 9007199254740993, "soft": 9007199254740992')).toBe(9007199254740992n);
  });

  const MERGED = "runc's Go decoder merges the second into the first (what only the first gives is kept), where JSON.parse keeps the second alone; give it once";
  test.each([
    // [fragment, the error]: runc 1.1.5 runs each with what both give (a read-only root and the seccomp filter of the first, here)
    ['"linux": {"seccomp": {"defaultAction": "SCMP_ACT_ALLOW"}}, "linux": {"namespaces": [{"type": "mount"}]}', `linux: is given twice, each time an object: ${MERGED}`],
    ['"process": {"cwd": "/", "args": ["sh"], "user": {"uid": 1}, "user": {"gid": 1}}', `process.user: is given twice, each time an object: ${MERGED}`],
    ['"mounts": [{"destination": "/a", "type": "tmpfs", "options": ["ro"]}], "mounts": [{"destination": "/a", "type": "tmpfs"}]', `mounts: is given twice, each time an array: ${MERGED}`],
    ['"annotations": {"a": "1"}, "annotations": {}', `annotations: is given twice, each time an object: ${MERGED}`],
    ['"mounts": [{"destination": "/a", "type": "tmpfs"}, {"destination": "/b", "type": "tmpfs", "uidMappings": [{"containerID": 0, "hostID": 1, "size": 1}], "uidMappings": [{"containerID": 0, "hostID": 2}]}]', `mounts[1].uidMappings: is given twice, each time an array: ${MERGED}`],
    ['"process": {"rlimits": [{"type": "RLIMIT_CORE", "soft": 9007199254740993, "hard": 18446744073709551615}]}, "process": {"cwd": "/", "args": ["sh"]}', `process: is given twice, each time an object: ${MERGED}`],
  ])('%s: an object or array runc merges is refused', (fragment, message) => {
    expect(load(fragment)).toBe(message);
  });

  test.each<[string, (c: ReturnType<typeof loadBundle>) => unknown, unknown]>([
    // Go replaces a string, a number, a list of strings, or a null pointer, as JSON.parse does.
    ['"hostname": "a", "hostname": "b"', (c) => c.hostname, 'b'],
    ['"process": {"cwd": "/", "args": ["true"], "args": ["sh"]}', (c) => c.process.args, ['sh']],
    ['"linux": null, "linux": {"namespaces": [{"type": "mount"}]}', (c) => c.namespaces, [{ type: 'mount' }]],
    // What mountkit does not read, it ignores, given twice or not.
    ['"linux": {"resources": {"memory": {}}, "resources": {"pids": {}}}, "vendor": {}, "vendor": {"a": [{}]}', (c) => c.namespaces, []],
    // Brackets in strings: the text is scanned, and nothing is given twice.
    ['"annotations": {"k": "{[x]}", "l": "["}', (c) => c.annotations, { k: '{[x]}', l: '[' }],
  ])('%s is taken as JSON.parse read it', (fragment, read, value) => {
    const got = load(fragment);
    expect(typeof got === 'string' ? got : read(got)).toEqual(value);
  });
});

/** An integer field of the runtime-spec's types, somewhere in config.json: its path's steps and whether it is unsigned. */
interface Slot {
  steps: (string | number)[];
  unsigned: boolean;
}

/** Every integer field of SPEC_SHAPE, each list's item at index 1 (after one before it) and each map's at the key "boottime". */
function integerSlots(shape: FieldShape, steps: (string | number)[] = []): Slot[] {
  if (shape === 'int' || shape === 'uint') return [{ steps, unsigned: shape === 'uint' }];
  if (shape === 'plain') return [];
  if (shape.kind === 'list') return integerSlots(shape.item, [...steps, 1]);
  if (shape.kind === 'map') return integerSlots(shape.value, [...steps, 'boottime']);
  return [...shape.fields].flatMap(([name, field]) => integerSlots(field, [...steps, name]));
}

const SLOTS = integerSlots(SPEC_SHAPE);

function pathOf(steps: (string | number)[]): string {
  return steps.map((s, k) => (typeof s === 'number' ? `[${s}]` : k === 0 ? s : `.${s}`)).join('');
}

/** Sets `value` at `steps` in `root`, making the objects and arrays on the way; an array's earlier items are 0 or {}. */
function put(root: Record<string, unknown>, steps: (string | number)[], value: unknown): void {
  let node: Record<string | number, unknown> = root;
  steps.forEach((step, k) => {
    if (k === steps.length - 1) {
      node[step] = value;
      return;
    }
    const next = steps[k + 1];
    if (node[step] === undefined) node[step] = typeof next === 'number' ? [] : {};
    const child = node[step] as Record<string | number, unknown>;
    if (Array.isArray(child) && typeof next === 'number') for (let i = 0; i < next; i++) child[i] ??= k + 1 === steps.length - 1 ? 0 : {};
    node = child;
  });
}

describe('readIntegerLiterals: every integer field of the runtime-spec types mountkit reads', () => {
  test('there are the fields config-linux.md and config.md give integers to', () => {
    expect(SLOTS.map((s) => `${pathOf(s.steps)} ${s.unsigned ? 'uint' : 'int'}`)).toEqual(
      expect.arrayContaining(['process.user.uid uint', 'process.rlimits[1].hard uint', 'process.oomScoreAdj int', 'linux.devices[1].major int', 'linux.timeOffsets.boottime.secs int', 'hooks.poststop[1].timeout int', 'linux.seccomp.syscalls[1].args[1].valueTwo uint']),
    );
    expect(SLOTS.length).toBe(45);
  });

  test.each(SLOTS.map((slot) => [pathOf(slot.steps), slot] as const))('%s: 1.0 and 1E2 are refused, -0 in an unsigned field (in a signed one it is 0), each named by its path', (at, slot) => {
    for (const literal of ['1.0', '1E2', '-0']) {
      const spec: Record<string, unknown> = {};
      put(spec, slot.steps, '@');
      const text = JSON.stringify(spec).replace('"@"', literal);
      put(spec, slot.steps, 0);
      const expected = literal === '-0' && !slot.unsigned ? { spec } : { error: `${at}: ${literal} ${literal === '-0' ? SIGNED : NOT_INTEGER}` };
      expect(outcome(text)).toEqual(expected);
    }
  });
});

/** Literals: taken as they are, beyond the exact doubles, or refused. */
const LITERALS = ['0', '7', '-5', '-0', '1.0', '1E2', '1e-400', '0.5e1', '9007199254740993', '-9007199254740993', '18446744073709551615', '18446744073709551616', '123456789012345678901234567890', '1000000000000000'];

/** What runc's decoder makes of `literal` in a field: refused (a message), or the value read exactly. */
function expectedValue(literal: string, slot: Slot, at: string): { error: string } | { value: number | bigint } {
  if (/[.eE]/.test(literal)) return { error: `${at}: ${literal} ${NOT_INTEGER}` };
  if (literal === '-0') return slot.unsigned ? { error: `${at}: -0 ${SIGNED}` } : { value: 0 };
  const n = Number(literal);
  return { value: Number.isSafeInteger(n) ? n : BigInt(literal) };
}

/** Strings that look like numbers after a comma, colon or bracket, and other values, in fields mountkit does not read. */
const noise = fc.oneof(fc.jsonValue({ maxDepth: 3 }), fc.constantFrom(': 1.0', ',-0', '[1e2]', '"\\', 'a", 1.0', '{"uid": 1.0}'));

describe('readIntegerLiterals: random configs', () => {
  test('each literal of an integer field is refused or read exactly, the first refused named, whatever the layout and what is around it; the quick test changes nothing', () => {
    fc.assert(
      fc.property(
        fc.uniqueArray(fc.integer({ min: 0, max: SLOTS.length - 1 }), { minLength: 1, maxLength: 6 }),
        fc.array(fc.constantFrom(...LITERALS), { minLength: 6, maxLength: 6 }),
        fc.array(noise, { maxLength: 4 }),
        fc.constantFrom(0, 1, 2, '\t'),
        (picked, literals, noises, indent) => {
          const slots = picked.map((i) => SLOTS[i]);
          const spec: Record<string, unknown> = {};
          slots.forEach((slot, k) => put(spec, slot.steps, `@${k}@`));
          noises.forEach((value, k) => put(spec, k % 2 === 0 ? ['vendor', `n${k}`] : ['process', 'args', k], value));
          let text = JSON.stringify(spec, null, indent);
          const order = slots.map((_, k) => k).sort((a, b) => text.indexOf(`"@${a}@"`) - text.indexOf(`"@${b}@"`));
          slots.forEach((_, k) => (text = text.replace(`"@${k}@"`, literals[k])));
          const expectations = slots.map((slot, k) => expectedValue(literals[k], slot, pathOf(slot.steps)));
          const refused = order.map((k) => expectations[k]).find((e) => 'error' in e);
          const got = outcome(text);
          expect(outcome(text, scanIntegerLiterals)).toEqual(got);
          if (refused !== undefined) {
            expect(got).toEqual(refused);
            return;
          }
          const read = JSON.parse(text);
          slots.forEach((slot, k) => put(read, slot.steps, (expectations[k] as { value: unknown }).value));
          expect(got).toEqual({ spec: read });
        },
      ),
      { numRuns: 300 },
    );
  });

  test('a text with no number that could be read otherwise is left as JSON.parse read it', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (v) => {
        const text = JSON.stringify({ process: { user: { uid: 5 } }, vendor: v });
        expect(outcome(text)).toEqual(outcome(text, scanIntegerLiterals));
      }),
    );
  });
});
