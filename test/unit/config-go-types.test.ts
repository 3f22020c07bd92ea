import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { GO_INTEGER_RANGE, GO_SPEC, fieldType, goMismatch, goTypeName, goTypeWords, goWithin, holdsInteger, isGoInteger, isGoStruct, structFields, type GoType } from '../../src/core/config/go-spec';
import { refuseGoTypeErrors } from '../../src/core/config/go-decode';
import { foldedKey } from '../../src/core/config/key-case';
import { fromOciSpec, loadBundle } from '../../src/core/config/oci';
import { SPEC_SHAPE, type FieldShape } from '../../src/core/config/spec-fields';
import { ConfigError } from '../../src/core/errors';

type Json = Record<string, any>;

/** The tail of every error the walk raises. */
const UNUSED = "runc's Go decoder refuses config.json for it, though mountkit does not use the field";

function minimalSpec(): Json {
  return {
    ociVersion: '1.0.2',
    process: { args: ['sh'], cwd: '/', user: { uid: 0, gid: 0 } },
    root: { path: 'rootfs' },
    linux: { namespaces: [{ type: 'mount' }] },
  };
}

/** The error's message fromOciSpec raises for `spec`; undefined when it takes it. */
function refusal(spec: unknown): string | undefined {
  try {
    fromOciSpec(spec, '/bundles/b');
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    return err.message;
  }
  return undefined;
}

/** A group of structFields as [name, type] pairs. */
function pairs(group: string): [string, GoType][] {
  return group
    .split(', ')
    .filter((field) => field !== '')
    .map((field): [string, GoType] => [field.slice(0, field.indexOf(' ')), field.slice(field.indexOf(' ') + 1)]);
}

/** Every field of a struct, checked ones first, each with whether it is checked. */
function fieldsOf(struct: string): [string, GoType, boolean][] {
  const { unchecked, checked } = structFields(struct);
  return [...pairs(checked).map(([n, t]): [string, GoType, boolean] => [n, t, true]), ...pairs(unchecked).map(([n, t]): [string, GoType, boolean] => [n, t, false])];
}

/** What a slice or map holds; undefined for a struct or scalar. */
function within(type: GoType): GoType | undefined {
  return type.startsWith('[]') ? type.slice(2) : type.startsWith('map[string]') ? type.slice(11) : undefined;
}

/** Every struct the table holds, each once, with the JSON path of one place it is at. */
function structs(): [string, string][] {
  const seen = new Map<string, string>();
  const todo: [GoType, string][] = [[GO_SPEC, '']];
  while (todo.length > 0) {
    const [type, at] = todo.pop()!;
    const inner = within(type);
    if (inner !== undefined) todo.push([inner, `${at}${type.startsWith('[]') ? '[0]' : '["k"]'}`]);
    else if (isGoStruct(type) && !seen.has(type)) {
      seen.set(type, at);
      for (const [name, field] of fieldsOf(type)) todo.push([field, at === '' ? name : `${at}.${name}`]);
    }
  }
  return [...seen];
}

/** A value as a title shows it. */
function shown(value: unknown): string {
  return typeof value === 'bigint' ? `${value}n` : Object.is(value, -0) ? '-0' : value === undefined || Number.isNaN(value) || value === Infinity ? String(value) : JSON.stringify(value);
}

describe('go-spec: goMismatch, Go\'s rule for one value and a field\'s type', () => {
  const cases: [unknown, GoType, ReturnType<typeof goMismatch>][] = [
    // null and an absent value: taken anywhere (a pointer made nil, any other value left as it was).
    [null, 'string', undefined],
    [null, 'uint16', undefined],
    [null, 'Spec', undefined],
    [undefined, 'bool', undefined],
    ['x', 'string', undefined],
    ['', 'string', undefined],
    [5, 'string', 'type'],
    [true, 'string', 'type'],
    [{}, 'string', 'type'],
    [[], 'string', 'type'],
    [false, 'bool', undefined],
    ['true', 'bool', 'type'],
    [0, 'bool', 'type'],
    // Integers: a number within the type's range, any other JSON type refused.
    [0, 'uint16', undefined],
    [65535, 'uint16', undefined],
    [65536, 'uint16', 'range'],
    [-1, 'uint16', 'range'],
    [-1, 'uint', 'range'],
    [-1, 'int64', undefined],
    [4294967295, 'uint32', undefined],
    [4294967296, 'uint32', 'range'],
    [1.5, 'int64', 'integer'],
    [Infinity, 'int64', 'integer'],
    ['1', 'int64', 'type'],
    [true, 'uint64', 'type'],
    [[1], 'int', 'type'],
    // -0 is 0 to Go (a spec built in code; config.json's `-0` in an unsigned field is number-literals.ts's).
    [-0, 'uint32', undefined],
    // Exactly as written beyond the exact doubles (a bigint), and a double standing for the integers it rounds.
    [2n ** 63n - 1n, 'int64', undefined],
    [2n ** 63n, 'int64', 'range'],
    [-(2n ** 63n), 'int', undefined],
    [-(2n ** 63n) - 1n, 'int', 'range'],
    [2n ** 64n - 1n, 'uint64', undefined],
    [2n ** 64n, 'uint64', 'range'],
    [-1n, 'uint', 'range'],
    [2 ** 63, 'int64', undefined],
    [2 ** 64, 'int64', 'range'],
    [2 ** 64, 'uint64', undefined],
    [2 ** 65, 'uint64', 'range'],
    // interface{}: anything.
    [[1, { a: 'b' }], 'any', undefined],
    [5, 'any', undefined],
    // A struct or map takes an object, a slice an array; what they hold is not looked at here.
    [{}, 'Spec', undefined],
    [[], 'Spec', 'type'],
    ['x', 'Spec', 'type'],
    [{ a: 5 }, 'map[string]string', undefined],
    [[], 'map[string]string', 'type'],
    [[5], '[]string', undefined],
    [{}, '[]string', 'type'],
    ['[]', '[]string', 'type'],
  ];
  test.each(cases.map(([value, type, expected]) => [`${shown(value)} into ${goTypeName(type)}: ${expected ?? 'taken'}`, value, type, expected] as const))('%s', (_title, value, type, expected) => {
    expect(goMismatch(value, type)).toBe(expected);
  });

  test('the ranges are strconv\'s bit sizes, int and uint 64 bits', () => {
    expect(Object.fromEntries(Object.entries(GO_INTEGER_RANGE).map(([t, [min, max]]) => [t, `${min}..${max}`]))).toEqual({
      int: '-9223372036854775808..9223372036854775807',
      int64: '-9223372036854775808..9223372036854775807',
      uint: '0..18446744073709551615',
      uint64: '0..18446744073709551615',
      uint32: '0..4294967295',
      uint16: '0..65535',
    });
  });
});

describe('go-spec: the table', () => {
  test.each<[string, string | undefined]>([
    ['ociVersion', 'string'],
    ['OCIVERSION', 'string'],
    ['linux', 'Linux'],
    ['Linux', 'Linux'],
    // A checked field is not among the unchecked ones, in any case.
    ['mounts', undefined],
    ['Mounts', undefined],
    ['no such field', undefined],
    ['ociVersion string, process', undefined],
    ['', undefined],
    [',', undefined],
    ['__proto__', undefined],
  ])('Spec\'s unchecked field %p: %p', (key, expected) => {
    expect(fieldType(structFields('Spec').unchecked, key)).toBe(expected);
  });

  test.each<[string, string | undefined]>([
    ['kernelTCP', 'int64'],
    ['KernelTcp', 'int64'],
    // Go folds the Kelvin sign to k and the long s to s (its equalFoldRight), as key-case.ts's foldedKey does.
    ['\u212aernel', 'int64'],
    ['\u212aERNEL', 'int64'],
    ['\u017fwap', 'int64'],
    ['\u017fwappine\u017f\u017f', 'uint64'],
    ['kernel\u212a', undefined],
    ['limit ', undefined],
    ['imit', undefined],
    ['limi', undefined],
  ])('linux.resources.memory\'s field named %p: %p', (key, expected) => {
    expect(fieldType(structFields('LinuxMemory').unchecked, key)).toBe(expected);
  });

  test('exact: another case names no field', () => {
    expect([fieldType(structFields('LinuxMemory').unchecked, 'Limit', true), fieldType(structFields('LinuxMemory').unchecked, 'limit', true)]).toEqual([undefined, 'int64']);
  });

  test('every struct named has a line of its own, with fields', () => {
    const empty = structs().filter(([struct]) => fieldsOf(struct).length === 0 || fieldsOf(struct).some(([name, type]) => !/^[A-Za-z][A-Za-z0-9]*$/.test(name) || !/^(\[\]|map\[string\])*[A-Za-z][A-Za-z0-9]*$/.test(type)));
    expect(empty.map(([struct, at]) => `${struct} at ${at}`)).toEqual([]);
  });

  test('no two fields of a struct are one name in Go\'s folding, so which of them a key in another case names never matters', () => {
    const clashes = structs().flatMap(([struct, at]) => {
      const names = fieldsOf(struct).map(([name]) => name);
      return names.filter((name, i) => names.findIndex((other) => foldedKey(other) === foldedKey(name)) !== i).map((name) => `${at}.${name}`);
    });
    expect(clashes).toEqual([]);
  });

  /** Whether mountkit's shape `read` (spec-fields.ts) covers all of a value of `type`: the loader's readers then check every value of it. */
  function covered(type: GoType, read: FieldShape | undefined): boolean {
    if (read === undefined) return false;
    const inner = within(type);
    if (typeof read === 'string') return read === 'plain' ? type === 'string' || type === 'bool' || type === '[]string' : isGoInteger(type);
    if (type.startsWith('[]')) return read.kind === 'list' && covered(inner!, read.item);
    if (inner !== undefined) return read.kind === 'map' && covered(inner, read.value);
    return isGoStruct(type) && read.kind === 'struct' && fieldsOf(type).every(([name, field]) => covered(field, read.fields.get(name)));
  }

  test('a struct\'s checked fields are those mountkit\'s shape (SPEC_SHAPE) covers whole, wherever the struct is read, and no others', () => {
    const wrong: string[] = [];
    const todo: [GoType, FieldShape | undefined, string][] = [[GO_SPEC, SPEC_SHAPE, '']];
    while (todo.length > 0) {
      const [type, read, at] = todo.pop()!;
      const inner = within(type);
      if (inner !== undefined) {
        const kind = type.startsWith('[]') ? 'list' : 'map';
        const readInner = typeof read === 'object' && read.kind === kind ? (read.kind === 'list' ? read.item : read.kind === 'map' ? read.value : undefined) : undefined;
        todo.push([inner, readInner, `${at}${kind === 'list' ? '[0]' : '["k"]'}`]);
      } else if (isGoStruct(type)) {
        const fields = typeof read === 'object' && read.kind === 'struct' ? read.fields : undefined;
        for (const [name, field, checked] of fieldsOf(type)) {
          const fieldAt = at === '' ? name : `${at}.${name}`;
          if (checked !== covered(field, fields?.get(name))) wrong.push(`${fieldAt} (${checked ? 'checked' : 'unchecked'})`);
          // Within a checked field the loader's readers check all: its own groups do not matter.
          if (!checked) todo.push([field, fields?.get(name), fieldAt]);
        }
      }
    }
    expect(wrong).toEqual([]);
  });

  test('the runtime-spec of the installed runc (Debian\'s 1.1.5+ds1, specs-go 1.0.2.118.g5cfc4c3): the sections and the fields upstream 1.1.5\'s copy lacks', () => {
    expect(fieldsOf(GO_SPEC).map(([name]) => name).sort()).toEqual(['annotations', 'domainname', 'hooks', 'hostname', 'linux', 'mounts', 'ociVersion', 'process', 'root', 'solaris', 'vm', 'windows', 'zos']);
    expect([fieldType(structFields('LinuxCPU').unchecked, 'burst'), fieldType(structFields('LinuxCPU').unchecked, 'idle')]).toEqual(['uint64', 'int64']);
    // Fields of later runtime-specs are no field of runc 1.1.5's.
    expect(fieldsOf('Linux').some(([name]) => name === 'timeOffsets')).toBe(false);
    expect(fieldsOf('Process').some(([name]) => name === 'scheduler')).toBe(false);
    expect(structs().length).toBe(49);
  });

  test('goWithin follows only unchecked fields, in any case; holdsInteger says where an integer is to be read from the text', () => {
    expect(goWithin(GO_SPEC, 'linux')).toBe('Linux');
    expect(goWithin(GO_SPEC, 'mounts')).toBeUndefined();
    expect(goWithin('Linux', 'Resources')).toBe('LinuxResources');
    expect(goWithin('[]LinuxDeviceCgroup', 0)).toBe('LinuxDeviceCgroup');
    expect(goWithin('[]LinuxDeviceCgroup', 'x')).toBeUndefined();
    expect(goWithin('map[string]string', 'io.max')).toBe('string');
    expect(goWithin('map[string]string', 0)).toBeUndefined();
    expect(goWithin('string', 'x')).toBeUndefined();
    expect(goWithin('LinuxResources', 0)).toBeUndefined();
    expect(goWithin(undefined, 0)).toBeUndefined();
    expect(['LinuxResources', 'map[string]string', 'VM', 'uint16', 'string', '[]LinuxThrottleDevice', 'map[string]LinuxRdma'].map(holdsInteger)).toEqual([true, false, false, true, false, true, true]);
    expect([isGoInteger('uint'), isGoInteger('any'), isGoInteger(undefined), isGoStruct('Spec'), isGoStruct('[]Spec'), isGoStruct('any'), isGoStruct('int')]).toEqual([true, false, false, true, false, false, false]);
  });

  test('goTypeName and goTypeWords: Go\'s name of a type and what its values are', () => {
    const types: GoType[] = ['string', 'bool', 'uint16', 'any', 'LinuxResources', '[]LinuxDeviceCgroup', 'map[string]string'];
    expect(types.map((t) => `${goTypeName(t)}: ${goTypeWords(t)}`)).toEqual([
      'string: a string',
      'bool: a boolean',
      'uint16: an integer from 0 to 65535',
      'interface {}: anything',
      'LinuxResources: an object',
      '[]LinuxDeviceCgroup: an array',
      'map[string]string: an object',
    ]);
  });
});

describe('key-case: foldedKey folds a key as Go\'s encoding/json compares it with a field name', () => {
  test('a character folds to an ASCII letter only as Go folds it (bytes.EqualFold): its other case, the Kelvin sign to k, the long s to s', () => {
    const found: string[] = [];
    for (let cp = 0; cp <= 0x10ffff; cp++) {
      if (cp >= 0xd800 && cp <= 0xdfff) continue;
      const folded = foldedKey(String.fromCodePoint(cp));
      // Only what folds to ASCII can match a field name, all of which are ASCII.
      if (!/^[\x00-\x7f]+$/.test(folded)) continue;
      if (cp < 0x80) expect(folded).toBe(String.fromCharCode(cp).toLowerCase());
      else found.push(`U+${cp.toString(16).toUpperCase()} ${folded}`);
    }
    expect(found).toEqual(['U+17F s', 'U+212A k']);
  });

  test('İ (U+0130), whose lower case is i and a combining dot, matches no field, as in Go', () => {
    expect(foldedKey('\u0130d')).not.toBe(foldedKey('id'));
  });
});

describe('refuseGoTypeErrors: what runc refuses in the fields mountkit does not check (each checked with runc run)', () => {
  test.each<[string, (s: Json) => void, string]>([
    ['linux.resources.memory.limit a string', (s) => (s.linux.resources = { memory: { limit: 'x' } }), `linux.resources.memory.limit "x": must be an integer from -9223372036854775808 to 9223372036854775807 (Go int64), not a string: ${UNUSED}`],
    ['linux.cgroupsPath a number', (s) => (s.linux.cgroupsPath = 5), `linux.cgroupsPath 5: must be a string (Go string), not a number: ${UNUSED}`],
    ['linux.CgroupsPath, another case of it', (s) => (s.linux.CgroupsPath = 5), `linux.CgroupsPath 5: must be a string (Go string), not a number: ${UNUSED}`],
    ['linux.cgroupſPath, with a long s', (s) => (s.linux['cgroup\u017fPath'] = 5), `linux.cgroup\u017fPath 5: must be a string (Go string), not a number: ${UNUSED}`],
    ['a Kelvin sign (linux.resources.memory.Kernel)', (s) => (s.linux.resources = { memory: { '\u212aernel': 'x' } }), `linux.resources.memory.\u212aernel "x": must be an integer from -9223372036854775808 to 9223372036854775807 (Go int64), not a string: ${UNUSED}`],
    ['ociVersion a number', (s) => (s.ociVersion = 1), `ociVersion 1: must be a string (Go string), not a number: ${UNUSED}`],
    ['process.commandLine (Windows\') a boolean', (s) => (s.process.commandLine = true), `process.commandLine true: must be a string (Go string), not a boolean: ${UNUSED}`],
    ['process.user.username an object', (s) => (s.process.user.username = {}), `process.user.username {}: must be a string (Go string), not an object: ${UNUSED}`],
    ['a uint16 beyond its range', (s) => (s.linux.resources = { blockIO: { weight: 65536 } }), `linux.resources.blockIO.weight 65536: must be an integer from 0 to 65535 (Go uint16): ${UNUSED}`],
    ['a negative uint32', (s) => (s.linux.resources = { network: { classID: -1 } }), `linux.resources.network.classID -1: must be an integer from 0 to 4294967295 (Go uint32): ${UNUSED}`],
    ['a fraction in an int64', (s) => (s.linux.resources = { pids: { limit: 1.5 } }), `linux.resources.pids.limit 1.5: must be an integer from -9223372036854775808 to 9223372036854775807 (Go int64): ${UNUSED}`],
    ['an item of a list', (s) => (s.linux.resources = { devices: [{ allow: true, access: 'rwm' }, { allow: 'yes' }] }), `linux.resources.devices[1].allow "yes": must be a boolean (Go bool), not a string: ${UNUSED}`],
    ['a map\'s value (unified)', (s) => (s.linux.resources = { unified: { 'io.max': 1 } }), `linux.resources.unified["io.max"] 1: must be a string (Go string), not a number: ${UNUSED}`],
    ['a map\'s struct value (rdma)', (s) => (s.linux.resources = { rdma: { mlx5_0: { hcaHandles: '1' } } }), `linux.resources.rdma["mlx5_0"].hcaHandles "1": must be an integer from 0 to 4294967295 (Go uint32), not a string: ${UNUSED}`],
    ['linux.intelRdt.enableCMT a number', (s) => (s.linux.intelRdt = { enableCMT: 1 }), `linux.intelRdt.enableCMT 1: must be a boolean (Go bool), not a number: ${UNUSED}`],
    ['a section of another platform (solaris)', (s) => (s.solaris = { anet: {} }), `solaris.anet {}: must be an array (Go []SolarisAnet), not an object: ${UNUSED}`],
    ['windows.resources.cpu.shares beyond a uint16', (s) => (s.windows = { resources: { cpu: { shares: 70000 } } }), `windows.resources.cpu.shares 70000: must be an integer from 0 to 65535 (Go uint16): ${UNUSED}`],
    ['vm.kernel an array (a struct, not a pointer, in Go)', (s) => (s.vm = { kernel: [] }), `vm.kernel []: must be an object (Go VMKernel), not an array: ${UNUSED}`],
    ['zos a number', (s) => (s.zos = 5), `zos 5: must be an object (Go ZOS), not a number: ${UNUSED}`],
    ['linux.resources an array', (s) => (s.linux.resources = []), `linux.resources []: must be an object (Go LinuxResources), not an array: ${UNUSED}`],
  ])('%s is refused', (_name, edit, message) => {
    const spec = minimalSpec();
    edit(spec);
    expect(refusal(spec)).toBe(message);
  });

  test.each<[string, (s: Json) => void]>([
    ['null anywhere', (s) => Object.assign(s, { ociVersion: null, solaris: null, vm: { kernel: null, hypervisor: { parameters: null } }, windows: { layerFolders: null } })],
    ['null in a list of strings and a map, which Go takes as "" (mountkit does not read them)', (s) => (s.windows = { layerFolders: ['a', null], network: { DNSSearchList: [null] } }, (s.linux.resources = { unified: { a: null } }))],
    ['interface{} takes anything (windows.credentialSpec)', (s) => (s.windows = { credentialSpec: [1, { a: true }, 'x'] })],
    ['keys that name no field, in any case, are ignored', (s) => Object.assign(s, { vendor: 5, linux: { ...s.linux, resources: { memory: { limits: 'x', Limitt: 'y' } }, netDevices: 5 } })],
    ['the fields of later runtime-specs (process.execCPUAffinity, linux.memoryPolicy)', (s) => ((s.process.execCPUAffinity = 5), (s.linux.memoryPolicy = 5))],
    ['every field of the right type', (s) =>
      Object.assign(s, {
        ociVersion: '1.0.2',
        solaris: { milestone: 'm', anet: [{ linkname: 'l' }], cappedCPU: { ncpus: '1' } },
        windows: { layerFolders: ['a'], resources: { memory: { limit: 1 }, cpu: { count: 1, shares: 65535, maximum: 0 } }, servicing: false },
        vm: { hypervisor: { path: '/h', parameters: [] }, kernel: { path: '/k' }, image: { path: '/i', format: 'raw' } },
        zos: { devices: [{ path: '/d', type: 'c', major: -1, minor: 9223372036854775807n, fileMode: 0o644, uid: 4294967295 }] },
        linux: {
          ...s.linux,
          cgroupsPath: '/c',
          intelRdt: { closID: 'c', enableCMT: true },
          resources: {
            devices: [{ allow: false, access: 'rwm', major: -1 }],
            memory: { limit: -1, swap: 9223372036854775807n, swappiness: 18446744073709551615n, disableOOMKiller: true },
            cpu: { shares: 1024, quota: -1, burst: 0, cpus: '0-1', idle: 1 },
            pids: { limit: -1 },
            blockIO: { weight: 10, weightDevice: [{ major: 8, minor: 0, weight: 65535 }], throttleReadBpsDevice: [{ major: 8, minor: 0, rate: 1 }] },
            hugepageLimits: [{ pageSize: '2MB', limit: 0 }],
            network: { classID: 4294967295, priorities: [{ name: 'eth0', priority: 1 }] },
            rdma: { mlx5_0: { hcaHandles: 1 } },
            unified: { 'io.max': 'max' },
          },
        },
      })],
  ])('%s: taken', (_name, edit) => {
    const spec = minimalSpec();
    edit(spec);
    expect(refusal(spec)).toBeUndefined();
  });

  test('the first in the text is named, as Go names the first it meets', () => {
    const spec = minimalSpec();
    spec.linux = { resources: { memory: { limit: 'x' } }, cgroupsPath: 5, namespaces: [{ type: 'mount' }] };
    spec.vm = 5;
    expect(refusal(spec)).toMatch(/^linux\.resources\.memory\.limit "x":/);
    spec.linux = { cgroupsPath: 5, resources: { memory: { limit: 'x' } } };
    expect(refusal(spec)).toMatch(/^linux\.cgroupsPath 5:/);
    spec.ociVersion = 1;
    expect(refusal(spec)).toMatch(/^ociVersion 1:/);
  });

  test('a field the loader\'s readers check keeps their message (process.user.uid a string)', () => {
    const spec = minimalSpec();
    spec.process.user.uid = 'x';
    expect(refusal(spec)).toBe('process.user.uid "x": must be a number, not a string');
  });

  test('the walk leaves checked fields alone', () => {
    // A direct call: the walk would refuse nothing of these, whatever their values.
    expect(() => refuseGoTypeErrors({ mounts: 5, root: 'x', hooks: [], annotations: { a: 1 }, hostname: {} })).not.toThrow();
    expect(() => refuseGoTypeErrors({ process: { args: 5, user: { uid: 'x' } }, linux: { seccomp: 'x', sysctl: { a: 1 } } })).not.toThrow();
  });
});

/**
 * Every field of the table, and each JSON type Go refuses there: a spec with that value
 * at that place (the places on the way made valid for the loader's readers) is refused,
 * by the loader's readers for a checked field, by the walk for the others, naming the
 * field or the list or map it is in. For an unchecked field a value of its type is
 * taken, and so is null.
 */
describe('every field of runc\'s runtime-spec: a value of another JSON type is refused, as runc refuses it', () => {
  /** What a value of a struct mountkit reads needs besides the field set (the loader refuses it without). */
  const FILLERS: Record<string, Json> = {
    Process: { args: ['sh'], cwd: '/' },
    Root: { path: 'rootfs' },
    Mount: { destination: '/x', type: 'tmpfs', source: 'tmpfs' },
    Hook: { path: '/bin/true' },
    POSIXRlimit: { type: 'RLIMIT_NOFILE', hard: 1, soft: 1 },
    LinuxIDMapping: { containerID: 0, hostID: 0, size: 1 },
    LinuxNamespace: { type: 'pid' },
    LinuxDevice: { type: 'c', path: '/dev/x', major: 1, minor: 1 },
    LinuxSyscall: { names: ['read'], action: 'SCMP_ACT_ALLOW' },
    LinuxSeccompArg: { index: 0, value: 0, op: 'SCMP_CMP_EQ' },
    LinuxPersonality: { domain: 'LINUX' },
    Box: { height: 1, width: 1 },
  };

  interface Place {
    /** JSON path, as errors name it. */
    at: string;
    /** Keys and indexes from the top. */
    steps: (string | number)[];
    /** The types the steps go through, the field's last. */
    types: GoType[];
    checked: boolean;
  }

  function places(): Place[] {
    const out: Place[] = [];
    const todo: Place[] = [{ at: '', steps: [], types: [GO_SPEC], checked: false }];
    while (todo.length > 0) {
      const p = todo.pop()!;
      const type = p.types[p.types.length - 1];
      if (p.steps.length > 0) out.push(p);
      const inner = within(type);
      if (type.startsWith('[]')) todo.push({ at: `${p.at}[0]`, steps: [...p.steps, 0], types: [...p.types, inner!], checked: p.checked });
      else if (inner !== undefined) todo.push({ at: `${p.at}["k"]`, steps: [...p.steps, 'k'], types: [...p.types, inner], checked: p.checked });
      else if (isGoStruct(type)) {
        for (const [name, field, checked] of fieldsOf(type)) {
          todo.push({ at: p.at === '' ? name : `${p.at}.${name}`, steps: [...p.steps, name], types: [...p.types, field], checked: p.checked || checked });
        }
      }
    }
    return out;
  }

  /** A value of `type` that Go takes. */
  function valueOf(type: GoType): unknown {
    if (type.startsWith('[]')) return [];
    if (isGoStruct(type)) return { ...FILLERS[type] };
    if (type.startsWith('map[')) return {};
    return type === 'string' ? '' : type === 'bool' ? false : type === 'any' ? null : 0;
  }

  /** Values of every JSON type but those Go takes for `type`. */
  function wrongFor(type: GoType): unknown[] {
    const all: unknown[] = ['x', 5, true, {}, []];
    const wrong = all.filter((v) => goMismatch(v, type) !== undefined);
    if (isGoInteger(type)) {
      const [min, max] = GO_INTEGER_RANGE[type];
      wrong.push(1.5);
      if (min === 0n) wrong.push(-1);
      if (max < 2n ** 53n) wrong.push(Number(max) + 1);
    }
    return wrong;
  }

  /** The minimal spec with `value` at `place`, each place on the way an array or object (a filler where the loader needs one). */
  function specWith(place: Place, value: unknown): Json {
    const spec = minimalSpec();
    let node: any = spec;
    for (let i = 0; i < place.steps.length - 1; i++) {
      const step = place.steps[i];
      const next = place.types[i + 1];
      if (typeof node[step] !== 'object' || node[step] === null) node[step] = valueOf(next);
      else if (next.startsWith('[]')) node[step] = [];
      node = node[step];
      if (Array.isArray(node) && node.length === 0) node.push(valueOf(place.types[i + 2]));
    }
    node[place.steps[place.steps.length - 1]] = value;
    return spec;
  }

  const all = places();

  test('the table has every place (a few hundred, every kind)', () => {
    expect(all.length).toBeGreaterThan(250);
    expect(all.filter((p) => p.checked).length).toBeGreaterThan(60);
  });

  test('a value of another JSON type, a fraction, or an integer beyond its type is refused, naming the field or what holds it', () => {
    const taken: string[] = [];
    const misnamed: string[] = [];
    for (const place of all) {
      const type = place.types[place.types.length - 1];
      for (const value of wrongFor(type)) {
        const message = refusal(specWith(place, value));
        if (message === undefined) taken.push(`${place.at} = ${JSON.stringify(value)}`);
        else {
          const field = message.slice(0, message.search(/[ :]/));
          if (!place.at.startsWith(field) || field === '') misnamed.push(`${place.at} = ${JSON.stringify(value)}: ${message}`);
        }
      }
    }
    expect(taken).toEqual([]);
    expect(misnamed).toEqual([]);
  });

  test('in a field mountkit does not check, a value of its type is taken, and so is null', () => {
    const refused: string[] = [];
    for (const place of all.filter((p) => !p.checked)) {
      const type = place.types[place.types.length - 1];
      for (const value of [valueOf(type), null]) {
        const message = refusal(specWith(place, value));
        if (message !== undefined) refused.push(`${place.at} = ${JSON.stringify(value)}: ${message}`);
      }
    }
    expect(refused).toEqual([]);
  });
});

describe('loadBundle: integers of fields mountkit does not read, as runc reads them from the text', () => {
  let dir: string;
  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mountkit-go-types-'));
  });
  afterAll(() => {
    fs.rmSync(dir, { recursive: true, force: true });
  });

  function load(fragment: string): string | undefined {
    fs.writeFileSync(path.join(dir, 'config.json'), `{"root": {"path": "rootfs"}, ${fragment}}`);
    try {
      loadBundle(dir);
    } catch (err) {
      if (!(err instanceof ConfigError)) throw err;
      return err.message;
    }
    return undefined;
  }

  const NOT_INTEGER = "is not an integer literal: runc's Go decoder takes an integer field's number as digits only, with no fraction or exponent";
  const SIGNED = "is not an unsigned integer literal: runc's Go decoder takes an unsigned field's number as digits only, with no sign";
  const INT64 = 'must be an integer from -9223372036854775808 to 9223372036854775807 (Go int64)';
  const UINT64 = 'must be an integer from 0 to 18446744073709551615 (Go uint64)';

  test.each<[string, string | undefined]>([
    // runc: "cannot unmarshal number 1.0 into Go struct field LinuxMemory.linux.resources.memory.limit of type int64"
    ['"linux": {"resources": {"memory": {"limit": 1.0}}}', `linux.resources.memory.limit: 1.0 ${NOT_INTEGER}`],
    ['"linux": {"resources": {"memory": {"limit": 1e3}}}', `linux.resources.memory.limit: 1e3 ${NOT_INTEGER}`],
    ['"linux": {"resources": {"memory": {"Limit": 1e3}}}', `linux.resources.memory.Limit: 1e3 ${NOT_INTEGER}`],
    ['"linux": {"resources": {"blockIO": {"weight": -0}}}', `linux.resources.blockIO.weight: -0 ${SIGNED}`],
    ['"linux": {"resources": {"pids": {"limit": -0}}}', undefined],
    ['"linux": {"resources": {"pids": {"limit": 9223372036854775807}}}', undefined],
    ['"linux": {"resources": {"pids": {"limit": -9223372036854775808}}}', undefined],
    ['"linux": {"resources": {"pids": {"limit": 9223372036854775808}}}', `linux.resources.pids.limit 9223372036854775808: ${INT64}: ${UNUSED}`],
    ['"linux": {"resources": {"pids": {"limit": -9223372036854775809}}}', `linux.resources.pids.limit -9223372036854775809: ${INT64}: ${UNUSED}`],
    ['"linux": {"resources": {"memory": {"swappiness": 18446744073709551615}}}', undefined],
    ['"linux": {"resources": {"memory": {"swappiness": 18446744073709551616}}}', `linux.resources.memory.swappiness 18446744073709551616: ${UINT64}: ${UNUSED}`],
    ['"linux": {"resources": {"devices": [{"allow": true}, {"allow": false, "major": 1.0}]}}', `linux.resources.devices[1].major: 1.0 ${NOT_INTEGER}`],
    ['"linux": {"resources": {"rdma": {"mlx": {"hcaObjects": 1E1}}}}', `linux.resources.rdma["mlx"].hcaObjects: 1E1 ${NOT_INTEGER}`],
    ['"windows": {"resources": {"storage": {"iops": 1.0}}}', `windows.resources.storage.iops: 1.0 ${NOT_INTEGER}`],
    // Every occurrence of a key is read from the text, as Go decodes each.
    ['"linux": {"resources": {"pids": {"limit": 1.0, "limit": 1}}}', `linux.resources.pids.limit: 1.0 ${NOT_INTEGER}`],
    // Numbers where runc has no field, or in strings, are not its.
    ['"linux": {"resources": {"pids": {"limits": 1.0}, "unified": {"a": "1.0"}}, "vendor": {"limit": 1e3}}', undefined],
  ])('%s: %p', (fragment, expected) => {
    expect(load(fragment)).toBe(expected);
  });
});
