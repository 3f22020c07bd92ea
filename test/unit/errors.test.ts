import { ConfigError, MountkitError, PluginError, StartupError, StepError, SyscallError, errnoName, errnoNumber, mountDetail, naming, syscallErrorOf } from '../../src/core/errors';
import { MS_BIND, MS_MOVE, MS_NOSUID, MS_PRIVATE, MS_REC, MS_REMOUNT, MS_SLAVE } from '../../src/core/constants';
import { PHASES, type Phase } from '../../src/core/plugin';

describe('ConfigError shows the value on one line, whatever it is', () => {
  const deep: unknown[] = [];
  let inner = deep;
  for (let i = 0; i < 20000; i++) {
    const next: unknown[] = [];
    inner.push(next);
    inner = next;
  }
  const cyclic: Record<string, unknown> = {};
  cyclic.self = cyclic;
  const long = `/${'a'.repeat(99999)}`;

  test.each<[string, unknown, string]>([
    ['a string, quoted', '/a b', 'f "/a b": r'],
    ['a number', 5, 'f 5: r'],
    ['Infinity (1e309 in JSON), which JSON.stringify writes as null', Infinity, 'f Infinity: r'],
    ['-Infinity', -Infinity, 'f -Infinity: r'],
    ['a bigint', 12n, 'f 12: r'],
    ['an array nested deeper than the stack, walked only as far as it is shown', deep, `f ${'['.repeat(77)}...: r`],
    ['a cyclic object, walked only as far as it is shown', cyclic, `f ${'{"self":'.repeat(10).slice(0, 77)}...: r`],
    ['a huge array, walked only as far as it is shown (JSON.stringify of it all took seconds and gigabytes)', new Array(2 ** 27), `f [${'null,'.repeat(16).slice(0, 76)}...: r`],
    ['an object with a getter, which is not run: no value shown', Object.defineProperty({}, 'k', { get: () => { throw new Error('ran'); }, enumerable: true }), 'f: r'],
    ['a Proxy, whose traps are not run: no value shown', new Proxy({}, { ownKeys: () => { throw new Error('ran'); } }), 'f: r'],
    ['an object of a class (a Date, whose toJSON is not run): no value shown', new Date(0), 'f: r'],
    ['a function or a symbol alone: no value shown', Symbol('s'), 'f: r'],
    ['functions and symbols inside, as JSON writes them', { a: () => 1, b: [Symbol('s'), 1] }, 'f {"b":[null,1]}: r'],
    ['a character of two UTF-16 units is never cut in two', ['\u{1F600}'.repeat(50)], `f ${JSON.stringify(['\u{1F600}'.repeat(50)]).slice(0, 76)}...: r`],
    ['an object, cut to a glimpse', { k: 'v'.repeat(200) }, `f ${JSON.stringify({ k: 'v'.repeat(200) }).slice(0, 77)}...: r`],
    ['a cut never splits an escape: \\n', { k: '\n'.repeat(100) }, `f {"k":"${'\\n'.repeat(35)}...: r`],
    ['a cut never splits an escape: \\\\ (a backslash)', { k: '\\'.repeat(100) }, `f {"k":"${'\\\\'.repeat(35)}...: r`],
    ['a cut never splits an escape: \\u001b', { k: '\x1b'.repeat(100) }, `f {"k":"${'\\u001b'.repeat(11)}...: r`],
    ['a cut never splits an escape, in a long string either', '\x1b'.repeat(1000), `f "${'\\u001b'.repeat(699)}... (1000 characters): r`],
    ['a cut after an escaped backslash keeps it', { k: `${'a'.repeat(69)}\\${'b'.repeat(20)}` }, `f {"k":"${'a'.repeat(69)}\\\\...: r`],
    ['a string longer than any path, cut, saying how long', long, `f ${JSON.stringify(long).slice(0, 4197)}... (100000 characters): r`],
    ['a string of PATH_MAX, whole', `/${'p'.repeat(4095)}`, `f ${JSON.stringify(`/${'p'.repeat(4095)}`)}: r`],
  ])('%s', (_what, value, message) => {
    expect(new ConfigError('f', value, 'r').message).toBe(message);
  });
});

describe('an error of another copy of mountkit (a plugin package with its own) is known for what it is', () => {
  // A second copy of the module: its classes are other functions than these.
  const other = (() => {
    let copy!: typeof import('../../src/core/errors');
    jest.isolateModules(() => {
      copy = require('../../src/core/errors');
    });
    return copy;
  })();

  test('the copies are apart: their classes differ, so only the kinds can tell', () => {
    expect(other.ConfigError).not.toBe(ConfigError);
    expect(Object.getPrototypeOf(new other.ConfigError('f', 1, 'r'))).not.toBe(ConfigError.prototype);
  });

  test.each([
    ['ConfigError', () => new other.ConfigError('process.cwd', 'x', 'must be absolute'), ['MountkitError', 'ConfigError']],
    ['SyscallError', () => new other.SyscallError('mount', 2, ['/x']), ['MountkitError', 'SyscallError']],
    ['StepError', () => new other.StepError('no'), ['MountkitError', 'StepError']],
    ['StartupError', () => new other.StartupError('m', 'bad'), ['MountkitError', 'StartupError']],
    ['PluginError', () => new other.PluginError({ phase: 'mounts', plugin: 'p' }, new Error('x')), ['MountkitError', 'PluginError']],
  ])('%s', (_name, make, kinds) => {
    const err = make();
    const classes = { MountkitError, ConfigError, SyscallError, StepError, StartupError, PluginError };
    for (const [name, cls] of Object.entries(classes)) expect([name, err instanceof cls]).toEqual([name, kinds.includes(name)]);
    expect(err instanceof Error).toBe(true);
  });

  test("a plugin's failure with the other copy's ConfigError or SyscallError: exit status 2, and the errno read", () => {
    expect(new PluginError({ phase: 'mounts', plugin: 'p' }, new other.ConfigError('mounts[0].options', 'x', 'unknown')).exitCode).toBe(2);
    expect(new PluginError({ phase: 'mounts', plugin: 'p' }, new other.StepError('x', { cause: 1 })).exitCode).toBe(1);
    const err: unknown = new other.SyscallError('open', 13, ['/x']);
    expect(err instanceof SyscallError && err.code).toBe('EACCES');
  });

  test('a subclass of its own (a plugin\'s) is itself only in its own copy, and still the kind it extends', () => {
    class OwnError extends other.ConfigError {}
    const err = new OwnError('f', undefined, 'r');
    expect([err instanceof OwnError, err instanceof ConfigError, err instanceof MountkitError, err instanceof StepError]).toEqual([true, true, true, false]);
    expect(new Error('plain') instanceof MountkitError).toBe(false);
    expect(([null, undefined, 'ConfigError', 2] as unknown[]).map((v) => (v as object) instanceof ConfigError)).toEqual([false, false, false, false]);
  });
});

describe('syscallErrorOf: the SyscallError behind an error, for an embedder to read its errno', () => {
  const open = new SyscallError('open_tree', errnoNumber('ENOENT'), ['/host/missing']);
  const named = (() => {
    try {
      return naming('mounts[3] "/data"', () => {
        throw open;
      });
    } catch (err) {
      return err;
    }
  })();
  const cyclic = new StepError('a', { cause: new StepError('b') });
  (cyclic.cause as { cause?: unknown }).cause = cyclic;

  test.each<[string, () => unknown, SyscallError | undefined]>([
    ['the SyscallError itself', () => open, open],
    ["a PluginError's cause", () => new PluginError({ phase: 'mounts', plugin: 'default' }, open), open],
    ["a PluginError's StepError's cause, as naming() wraps a call (a bind's open_tree)", () => new PluginError({ phase: 'mounts', plugin: 'bind', mountIndex: 3, destination: '/data' }, named), open],
    ['the first along the chain, where two are', () => new StepError('x', { cause: open }), open],
    ['none behind a ConfigError', () => new PluginError({ phase: 'mounts', plugin: 'p' }, new ConfigError('mounts[0].options', 'x', 'unknown')), undefined],
    ["none behind a plugin's own Error", () => new PluginError({ phase: 'mounts', plugin: 'p' }, new Error('mine')), undefined],
    ['none in a chain that turns back on itself', () => cyclic, undefined],
    ['none for what is no Error', () => 'ENOENT', undefined],
  ])('%s', (_what, make, found) => {
    expect(syscallErrorOf(make())).toBe(found);
  });

  test("another copy's SyscallError is found too (a plugin package with its own copy of mountkit)", () => {
    let copy!: typeof import('../../src/core/errors');
    jest.isolateModules(() => {
      copy = require('../../src/core/errors');
    });
    const theirs = new copy.SyscallError('mount', errnoNumber('EPERM'), ['/x']);
    expect(syscallErrorOf(new PluginError({ phase: 'mounts', plugin: 'p' }, new copy.StepError('s', { cause: theirs })))?.code).toBe('EPERM');
  });
});

describe("a PluginError tells an embedder where the run stopped, typed", () => {
  test('its phase is one of the pipeline phases, as the type says: a switch over it needs no cast', () => {
    const err = new PluginError({ phase: 'dev', plugin: 'device-nodes' }, new SyscallError('mknodat', 1, ['/b/rootfs/dev/null']));
    const phase: Phase = err.phase;
    expect(PHASES.indexOf(phase)).toBe(2);
    // @ts-expect-error 'mount' is not a phase ('mounts' is)
    expect(new PluginError({ phase: 'mount', plugin: 'p' }, 1).message).toBe('mount: plugin p: 1');
  });
});

describe("an errno's name is the kernel's, where Node's table has an alias of the same number too", () => {
  test.each([
    ['EAGAIN', 'EWOULDBLOCK'],
    ['EOPNOTSUPP', 'ENOTSUP'],
  ])('%s, not %s', (name, alias) => {
    expect(errnoNumber(alias)).toBe(errnoNumber(name));
    expect(errnoName(errnoNumber(name))).toBe(name);
    expect(new SyscallError('fork', errnoNumber(alias)).message).toBe(`fork: ${name}`);
  });
});

describe('mountDetail: what a failed mount(2) names beside its source and target', () => {
  test.each<[string, string | null, string | null, bigint, string | null, string | undefined]>([
    ['a filesystem whose source says its type: the data', 'tmpfs', 'tmpfs', MS_NOSUID, 'nr_inodes=zz', 'data "nr_inodes=zz"'],
    ['a device: its type and data', '/dev/vdb', 'ext4', 0n, 'errors=remount-ro', 'type "ext4", data "errors=remount-ro"'],
    ['no data', 'proc', 'proc', 0n, null, undefined],
    ['empty data and a source of its own', 'none', 'mqueue', 0n, '', 'type "mqueue"'],
    ['a remount reads both', 'tmpfs', 'tmpfs', MS_REMOUNT, 'size=1k', 'data "size=1k"'],
    ['a bind reads neither', '/src', 'bind', MS_BIND | MS_REC, 'mode=755', undefined],
    ['a move', '/a', null, MS_MOVE, null, undefined],
    ['a propagation change', null, null, MS_PRIVATE | MS_REC, null, undefined],
    ['a slave one with data', null, 'none', MS_SLAVE, 'x', undefined],
    ['secrets shown as ***', '//srv/share', 'cifs', 0n, 'username=u,password=p,w,password2=q,vers=3.0', 'type "cifs", data "username=u,password=***,w,password2=***,vers=3.0"'],
    // cifs takes ",," as a comma of the password: "p,w" here, then the option "x".
    ['a cifs password with a doubled comma', '//srv/share', 'cifs', 0n, 'password=p,,w,,,x,vers=3.0', 'type "cifs", data "password=***,x,vers=3.0"'],
    ['a secret key in another case (a typo the kernel refuses, EINVAL)', '//srv/share', 'cifs', 0n, 'Password=p,PASS=q', 'type "cifs", data "Password=***,PASS=***"'],
    ["ceph's secret, and a key that only ends like one", 'mon:/', 'ceph', 0n, 'name=admin,secret=AQB==,mypass=ok', 'type "ceph", data "name=admin,secret=***,mypass=ok"'],
  ])('%s', (_what, source, fstype, flags, data, expected) => expect(mountDetail(source, fstype, flags, data)).toBe(expected));
});
