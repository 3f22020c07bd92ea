import fc from 'fast-check';
import type { RootfsConfig } from '../../src/core/config/model';
import { checkedModel } from '../../src/core/config/model-check';
import { fromOciSpec } from '../../src/core/config/oci';
import { MS_BIND, MS_PRIVATE, MS_REMOUNT } from '../../src/core/constants';
import { ConfigError } from '../../src/core/errors';
import { makeConfig, makeMount } from '../helpers/config';

/** makeConfig() with `change` applied to a copy: the config a test row builds in code. */
function changed(change: (c: any) => void): unknown {
  const c: any = makeConfig({ mounts: [makeMount({ type: 'tmpfs', destination: '/tmp' })], devices: [{ type: 'c', path: '/dev/fuse', major: 10, minor: 229, fileMode: 0o666, uid: 0, gid: 0 }] });
  change(c);
  return c;
}

function messageOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    return err.message;
  }
  return undefined;
}

describe('checkedModel: a config built in code is refused where the loader would not have made it', () => {
  test.each<[string, (c: any) => void, string]>([
    ['not an object', () => undefined, 'config []: must be a RootfsConfig object, not an array'],
    ['no process', (c) => delete c.process, 'process: is required'],
    ['no hooks', (c) => delete c.hooks, 'hooks: is required'],
    ['no namespaces', (c) => delete c.namespaces, 'linux.namespaces: is required'],
    ['mounts null', (c) => (c.mounts = null), 'mounts null: must be an array, not null'],
    ['a hole in mounts', (c) => (c.mounts = [, c.mounts[0]]), 'mounts[0]: is missing: an array must have no holes'],
    ['sysctls null', (c) => (c.sysctls = null), 'linux.sysctl null: must be an object of strings, not null'],
    ['a sysctl value that is a number', (c) => (c.sysctls = { 'net.ipv4.ip_forward': 1 }), 'linux.sysctl["net.ipv4.ip_forward"] 1: must be a string, not a number'],
    ['a relative rootfs', (c) => (c.rootfs = 'bundle/rootfs'), 'root.path "bundle/rootfs": must be an absolute path'],
    ['an empty rootfs', (c) => (c.rootfs = ''), 'root.path "": must be an absolute path'],
    ['a relative bundle', (c) => (c.bundle = '.'), 'bundle ".": must be an absolute path'],
    ['a uid of NaN (setuid(2) would get 0)', (c) => (c.process.uid = NaN), 'process.user.uid NaN: must be an integer from 0 to 4294967295'],
    ['a uid of 2^32 (setuid(2) would get 0)', (c) => (c.process.uid = 2 ** 32), 'process.user.uid 4294967296: must be an integer from 0 to 4294967295'],
    ['a negative uid', (c) => (c.process.uid = -1), 'process.user.uid -1: must be an integer from 0 to 4294967295'],
    ['a uid as a string', (c) => (c.process.uid = '1000'), 'process.user.uid "1000": must be a number, not a string'],
    ['a gid with a fraction', (c) => (c.process.gid = 1.5), 'process.user.gid 1.5: must be an integer from 0 to 4294967295'],
    ['an additional gid as a bigint', (c) => (c.process.additionalGids = [5n]), 'process.user.additionalGids[0] 5: must be a number, not a bigint'],
    ['a umask of NaN (umask(2) would get 0)', (c) => (c.process.umask = NaN), 'process.user.umask NaN: must be an integer from 0 to 511'],
    ['a relative cwd', (c) => (c.process.cwd = 'tmp'), 'process.cwd "tmp": must be an absolute path'],
    ['an env entry without a name', (c) => (c.process.env = ['=x']), 'process.env[0] "=x": must be NAME=VALUE, with a name'],
    ['a capability set left out', (c) => (c.process.capabilities = { bounding: [] }), 'process.capabilities.effective: is required'],
    ['an rlimit whose resource is another', (c) => (c.process.rlimits = [{ type: 'RLIMIT_NOFILE', resource: 0, soft: 1n, hard: 1n }]), 'process.rlimits[0].resource 0: must be 7, the number of RLIMIT_NOFILE'],
    ['an rlimit given as numbers', (c) => (c.process.rlimits = [{ type: 'RLIMIT_NOFILE', resource: 7, soft: 1, hard: 1 }]), 'process.rlimits[0].soft 1: must be a bigint, not a number'],
    ['oomScoreAdj out of range', (c) => (c.process.oomScoreAdj = 1001), 'process.oomScoreAdj 1001: must be an integer from -1000 to 1000'],
    ['terminal as a string', (c) => (c.process.terminal = 'false'), 'process.terminal "false": must be a boolean, not a string'],
    ['an empty mount destination (the whole rootfs)', (c) => (c.mounts[0].destination = ''), 'mounts[0].destination "": must not be empty'],
    ['mount flags as a number', (c) => (c.mounts[0].flags = 4096), 'mounts[0].flags 4096: must be a bigint, not a number'],
    ['negative mount flags', (c) => (c.mounts[0].flags = -1n), 'mounts[0].flags -1: must be from 0n to 2n ** 64n - 1n'],
    ['mount data null', (c) => (c.mounts[0].data = null), 'mounts[0].data null: must be a string, not null'],
    ['a mount type that is a symbol', (c) => (c.mounts[0].type = Symbol('tmpfs')), 'mounts[0].type: must be a string, not a symbol'],
    ['no mount type, not a bind or a remount', (c) => (c.mounts[0].type = ''), 'mounts[0].type: must be set unless the flags hold MS_BIND or MS_REMOUNT'],
    ['a relative bind source', (c) => (c.mounts = [makeMount({ type: 'bind', source: 'data', destination: '/data', flags: MS_BIND })]), 'mounts[0].source "data": a bind\'s source must be an absolute path (the loader resolves a relative one against the bundle directory)'],
    ['a held copy that is no descriptor', (c) => (c.mounts = [makeMount({ type: 'bind', source: '/data', destination: '/data', flags: MS_BIND, tree: -1 })]), 'mounts[0].tree -1: must be an integer from 0 to 2147483647'],
    ['a held copy for a tmpfs', (c) => (c.mounts[0].tree = 12), 'mounts[0].tree 12: a held copy is attached by the bind handler alone (type "bind")'],
    ['a held copy of an idmapped bind', (c) => (c.mounts = [makeMount({ type: 'bind', source: '/data', destination: '/data', flags: MS_BIND, tree: 12, idmap: { recursive: false } })]), 'mounts[0].tree 12: a held copy is attached as it is: not with idmap or MS_REMOUNT'],
    ['a held copy with MS_REMOUNT', (c) => (c.mounts = [makeMount({ type: 'bind', source: '/data', destination: '/data', flags: MS_BIND | MS_REMOUNT, tree: 12 })]), 'mounts[0].tree 12: a held copy is attached as it is: not with idmap or MS_REMOUNT'],
    [
      'a mount destination of 4096 bytes, as the loader refuses it',
      (c) => (c.mounts[0].destination = `/${'d'.repeat(4095)}`),
      `mounts[0].destination ${JSON.stringify(`/${'d'.repeat(4095)}`)}: is 4096 bytes long: a path must be shorter than PATH_MAX (4096 bytes with its NUL)`,
    ],
    [
      'a relative mount destination of 4095 bytes, taken from / as the loader takes it: 4096',
      (c) => (c.mounts[0].destination = 'd'.repeat(4095)),
      `mounts[0].destination ${JSON.stringify(`/${'d'.repeat(4095)}`)}: is 4096 bytes long: a path must be shorter than PATH_MAX (4096 bytes with its NUL)`,
    ],
    [
      'a bind source of 4096 bytes, as the loader refuses it',
      (c) => (c.mounts = [makeMount({ type: 'bind', source: `/${'s'.repeat(4095)}`, destination: '/data', flags: MS_BIND })]),
      `mounts[0].source ${JSON.stringify(`/${'s'.repeat(4095)}`)}: is 4096 bytes long: a path must be shorter than PATH_MAX (4096 bytes with its NUL)`,
    ],
    ['a relabel other than z or Z', (c) => (c.mounts[0].relabel = 'shared'), 'mounts[0].relabel "shared": must be one of "", "z", "Z"'],
    ['a source with a NUL', (c) => (c.mounts[0].source = 'a\0b'), 'mounts[0].source "a\\u0000b": must not contain a NUL byte'],
    ['a device outside /dev', (c) => (c.devices[0].path = '/dev/../etc/passwd'), 'linux.devices[0].path "/etc/passwd": must be under /dev'],
    ['a device minor of NaN', (c) => (c.devices[0].minor = NaN), 'linux.devices[0].minor NaN: must be an integer from 0 to 1048575'],
    ['a device mode with a type', (c) => (c.devices[0].fileMode = 0o20666), 'linux.devices[0].fileMode 8630: must be an integer from 0 to 4095'],
    ['a namespace listed twice', (c) => (c.namespaces = [{ type: 'mount' }, { type: 'mount' }]), 'linux.namespaces[1].type "mount": is listed more than once'],
    ['a namespace of no kind', (c) => (c.namespaces = [{ type: 'net' }]), 'linux.namespaces[0].type "net": must be one of "mount", "pid", "uts", "ipc", "network", "user", "cgroup", "time"'],
    ['a relative namespace path', (c) => (c.namespaces = [{ type: 'mount', path: 'ns/mnt' }]), 'linux.namespaces[0].path "ns/mnt": must be an absolute path'],
    ['a relative masked path', (c) => (c.maskedPaths = ['proc/kcore']), 'linux.maskedPaths[0] "proc/kcore": must be an absolute path'],
    ['rootPropagation as a number', (c) => (c.rootPropagation = 0), 'linux.rootfsPropagation 0: must be a bigint, not a number'],
    [
      'rootPropagation that is no propagation',
      (c) => (c.rootPropagation = MS_BIND),
      'linux.rootfsPropagation 4096: must be 0n (the default) or the flags parsePropagation gives for one of private, rprivate, slave, rslave, shared, rshared, unbindable, runbindable',
    ],
    ['hostname as a number', (c) => (c.hostname = 5), 'hostname 5: must be a string, not a number'],
    ['a relative hook path', (c) => (c.hooks.prestart = [{ path: 'hook', args: [] }]), 'hooks.prestart[0].path "hook": must be an absolute path'],
    ['a hook timeout of 0', (c) => (c.hooks.prestart = [{ path: '/hook', args: [], timeout: 0 }]), 'hooks.prestart[0].timeout 0: must be an integer from 1 to 9007199254740991'],
    ['listenFds negative', (c) => (c.listenFds = -1), 'listenFds -1: must be an integer from 0 to 2147483647'],
    ['an execNotice of a fraction', (c) => (c.execNotice = 3.5), 'execNotice 3.5: must be an integer from 0 to 2147483647'],
    ['an empty console socket', (c) => (c.consoleSocket = ''), 'consoleSocket "": must not be empty'],
    ['a time offset of an unknown clock', (c) => (c.timeOffsets = { realtime: { secs: 1, nanosecs: 0 } }), 'linux.timeOffsets "realtime": is not a clock a time namespace offsets; known: monotonic, boottime'],
    ['an id mapping of NaN', (c) => (c.uidMappings = [{ containerID: 0, hostID: NaN, size: 1 }]), 'linux.uidMappings[0].hostID NaN: must be an integer from 0 to 4294967295'],
    ['a seccomp argument value as a number', (c) => (c.seccomp = { defaultAction: 'SCMP_ACT_ALLOW', architectures: [], syscalls: [{ names: ['read'], action: 'SCMP_ACT_ERRNO', args: [{ index: 0, value: 1, valueTwo: 0n, op: 'SCMP_CMP_EQ' }] }] }), 'linux.seccomp.syscalls[0].args[0].value 1: must be a bigint, not a number'],
    ['an empty annotation key', (c) => (c.annotations = { '': 'x' }), 'annotations "": keys must not be empty'],
    ['a field whose getter throws', (c) => Object.defineProperty(c.process, 'uid', { get: () => { throw new Error('no uid yet'); }, enumerable: true }), 'process.user.uid: cannot be read: no uid yet'],
    ['a Proxy whose keys cannot be listed', (c) => (c.process = new Proxy(c.process, { ownKeys: () => { throw 'revoked'; } })), 'process: cannot be read: revoked'],
  ])('%s', (_what, change, message) => {
    const config = _what === 'not an object' ? [] : changed(change);
    expect(messageOf(() => checkedModel(config))).toBe(message);
  });
});

describe('checkedModel: what it accepts, and the copy it gives', () => {
  test.each<[string, (c: any) => void]>([
    ['makeConfig as it is', () => undefined],
    ['a bind without a type of its own', (c) => (c.mounts = [makeMount({ type: '', source: '/src', destination: '/data', flags: MS_BIND })])],
    ['a remount without a type', (c) => (c.mounts = [makeMount({ type: '', destination: '/', flags: MS_REMOUNT })])],
    ['empty process.args (a pipeline without exec)', (c) => (c.process.args = [])],
    ['a frozen config', (c) => Object.freeze(c)],
    ['rootPropagation private', (c) => (c.rootPropagation = MS_PRIVATE)],
    ['uid 2^32 - 1, which the loader takes too', (c) => (c.process.uid = 0xffffffff)],
  ])('%s', (_what, change) => {
    const config = changed(change) as RootfsConfig;
    const copy = checkedModel(config);
    expect(copy).toEqual(config);
    expect(copy).not.toBe(config);
    expect(copy.process).not.toBe(config.process);
    expect(copy.mounts).not.toBe(config.mounts);
  });

  test('the mounts are numbered by their position, as the loader numbers them (makeMount leaves every index 0)', () => {
    const config = makeConfig({ mounts: [makeMount({ type: 'tmpfs', destination: '/a' }), makeMount({ type: 'tmpfs', destination: '/b', index: 7 })] });
    expect(checkedModel(config).mounts.map((m) => m.index)).toEqual([0, 1]);
    expect(config.mounts.map((m) => m.index)).toEqual([0, 7]);
  });

  test('each field is read once: a getter that changes its answer cannot give the run another value than the one checked', () => {
    const config: any = makeConfig();
    let reads = 0;
    Object.defineProperty(config.process, 'uid', { get: () => (reads++ === 0 ? 1000 : NaN), enumerable: true });
    const copy = checkedModel(config);
    expect(copy.process.uid).toBe(1000);
    expect(copy.process.uid).toBe(1000);
    expect(reads).toBe(1);
  });

  test('keys the model does not define are kept as read, by reference, for an embedder\'s own plugins', () => {
    const layers = { lower: ['/a', '/b'], describe: () => 'layers' };
    const config: any = makeConfig({ mounts: [makeMount({ type: 'overlay', destination: '/o' })] });
    config.layers = layers;
    config.mounts[0].layers = layers;
    const copy: any = checkedModel(config);
    expect(copy.layers).toBe(layers);
    expect(copy.mounts[0].layers).toBe(layers);
  });

  test("an embedder's key named as a property of Object.prototype is kept too", () => {
    const config: any = makeConfig({ mounts: [makeMount({ type: 'tmpfs', destination: '/t' })] });
    config.constructor = 'mine';
    config.mounts[0].toString = 'mine too';
    const copy: any = checkedModel(config);
    expect(Object.hasOwn(copy, 'constructor') && copy.constructor).toBe('mine');
    expect(Object.hasOwn(copy.mounts[0], 'toString') && copy.mounts[0].toString).toBe('mine too');
  });

  test('a "__proto__" key of an annotation or a sysctl stays a key', () => {
    const annotations = JSON.parse('{"__proto__": "x", "a": "b"}');
    const copy = checkedModel(makeConfig({ annotations }));
    expect(Object.getPrototypeOf(copy.annotations)).toBe(Object.prototype);
    expect(Object.keys(copy.annotations!)).toEqual(['__proto__', 'a']);
  });

  test('a class instance with the fields is taken as its fields', () => {
    class Process {
      args = ['/bin/true'];
      env: string[] = [];
      cwd = '/';
      uid = 1;
      gid = 1;
      terminal = false;
    }
    expect(checkedModel(makeConfig({ process: new Process() })).process).toEqual({ args: ['/bin/true'], env: [], cwd: '/', uid: 1, gid: 1, terminal: false });
  });
});

describe('checkedModel: paths as the loader gives them', () => {
  /** The mount fromOciSpec makes of a tmpfs at `destination` in config.json. */
  function loaded(destination: string) {
    return fromOciSpec({ root: { path: 'rootfs' }, mounts: [{ destination, type: 'tmpfs', source: 'tmpfs' }] }, '/bundle').mounts[0];
  }

  test.each<[string, string, string | undefined]>([
    ['/tmp', '/tmp', undefined],
    ['/mnt//rel/', '/mnt/rel', undefined],
    ['/a/./b/../c', '/a/c', undefined],
    ['/../../etc', '/etc', undefined],
    ['/', '/', undefined],
    ['tmp', '/tmp', 'tmp'],
    ['./mnt//rel/', '/mnt/rel', './mnt//rel/'],
    ['../../etc', '/etc', '../../etc'],
    ['.', '/', '.'],
  ])('a mount destination %j built in code is %j, relative as written %j, as config.json\'s is', (written, destination, relative) => {
    const given: any = changed((c) => (c.mounts[0].destination = written));
    const mount = checkedModel(given).mounts[0];
    expect(mount.destination).toBe(destination);
    expect(mount.relativeDestination).toBe(relative);
    expect(Object.hasOwn(mount, 'relativeDestination')).toBe(relative !== undefined);
    expect({ destination: mount.destination, relativeDestination: mount.relativeDestination }).toEqual({ destination: loaded(written).destination, relativeDestination: loaded(written).relativeDestination });
    // The copy is cleaned; the caller's object is not changed.
    expect(given.mounts[0].destination).toBe(written);
    expect(given.mounts[0]).not.toHaveProperty('relativeDestination');
  });

  test("a relative destination's written form replaces a relativeDestination given beside it; an absolute one keeps it, as the loader's own output holds it", () => {
    const relative = checkedModel(changed((c) => Object.assign(c.mounts[0], { destination: 'data', relativeDestination: 'other' }))).mounts[0];
    expect([relative.destination, relative.relativeDestination]).toEqual(['/data', 'data']);
    const absolute = checkedModel(changed((c) => Object.assign(c.mounts[0], { destination: '/data/', relativeDestination: 'data/' }))).mounts[0];
    expect([absolute.destination, absolute.relativeDestination]).toEqual(['/data', 'data/']);
  });

  test.each([
    ['/dev/fuse', '/dev/fuse'],
    ['/dev/./fuse', '/dev/fuse'],
    ['/dev//net/tun/', '/dev/net/tun'],
    ['/dev/x/../fuse', '/dev/fuse'],
  ])('a device path %j built in code is %j, as config.json\'s is', (written, expected) => {
    expect(checkedModel(changed((c) => (c.devices[0].path = written))).devices[0].path).toBe(expected);
    expect(fromOciSpec({ root: { path: 'rootfs' }, linux: { devices: [{ type: 'c', path: written, major: 10, minor: 229 }] } }, '/bundle').devices[0].path).toBe(expected);
  });
});

describe('checkedModel over what the loader makes', () => {
  const bundle = '/bundle';
  const mount = fc.constantFrom<Record<string, unknown>>(
    { destination: '/proc', type: 'proc', source: 'proc' },
    { destination: 'tmp/', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'size=1m', 'tmpcopyup', 'rro'] },
    { destination: '/data', source: 'data', options: ['rbind', 'ro', 'z', 'rprivate'] },
    { destination: '/', options: ['remount', 'ro'] },
    { destination: '/id', type: 'bind', source: '/src', options: ['bind', 'ridmap'], uidMappings: [{ containerID: 0, hostID: 1000, size: 10 }], gidMappings: [{ containerID: 0, hostID: 1000, size: 10 }] },
  );
  const processSpec = fc.record(
    {
      args: fc.constant(['/bin/sh']),
      env: fc.constantFrom(['PATH=/bin'], []),
      cwd: fc.constant('/'),
      terminal: fc.boolean(),
      user: fc.record({ uid: fc.nat(0xffffffff), gid: fc.nat(0xffffffff), umask: fc.nat(0xffffffff), additionalGids: fc.array(fc.nat(0xffffffff), { maxLength: 3 }) }, { requiredKeys: [] }),
      rlimits: fc.constant([{ type: 'RLIMIT_NOFILE', soft: 1024, hard: 18446744073709551615 }]),
      oomScoreAdj: fc.integer({ min: -1000, max: 1000 }),
      capabilities: fc.constant({ bounding: ['CAP_CHOWN'] }),
      scheduler: fc.constant({ policy: 'SCHED_FIFO', priority: 99, flags: ['SCHED_FLAG_RESET_ON_FORK'] }),
      ioPriority: fc.constant({ class: 'IOPRIO_CLASS_BE', priority: 7 }),
      consoleSize: fc.constant({ height: 24, width: 80 }),
      noNewPrivileges: fc.boolean(),
      apparmorProfile: fc.constantFrom('', 'p'),
    },
    { requiredKeys: ['args', 'cwd'] },
  );
  const linux = fc.record(
    {
      namespaces: fc.constant([{ type: 'mount' }, { type: 'network' }, { type: 'uts', path: '/proc/1/ns/uts' }, { type: 'time' }]),
      devices: fc.constant([{ type: 'c', path: '/dev/fuse', major: 10, minor: 229, fileMode: 0o20666 }, { type: 'p', path: '/dev/./fifo' }]),
      rootfsPropagation: fc.constantFrom('', 'rprivate', 'shared'),
      maskedPaths: fc.constant(['/proc/kcore']),
      readonlyPaths: fc.constant(['/proc/sys']),
      sysctl: fc.constant({ 'net.ipv4.ip_forward': '1' }),
      mountLabel: fc.constantFrom('', 'system_u:object_r:container_file_t:s0'),
      seccomp: fc.constant({ defaultAction: 'SCMP_ACT_ERRNO', defaultErrnoRet: 1, architectures: ['SCMP_ARCH_X86_64'], syscalls: [{ names: ['read'], action: 'SCMP_ACT_ALLOW', args: [{ index: 0, value: 1, op: 'SCMP_CMP_EQ' }] }] }),
      timeOffsets: fc.constant({ monotonic: { secs: -5, nanosecs: 3 } }),
      personality: fc.constant({ domain: 'LINUX32', flags: [] }),
      uidMappings: fc.constant([{ containerID: 0, hostID: 1000, size: 1 }]),
      gidMappings: fc.constant([{ containerID: 0, hostID: 1000, size: 1 }]),
    },
    { requiredKeys: [] },
  );
  const spec = fc.record(
    {
      root: fc.record({ path: fc.constantFrom('rootfs', '/abs/rootfs'), readonly: fc.boolean() }),
      mounts: fc.array(mount, { maxLength: 5 }),
      process: processSpec,
      hostname: fc.constantFrom('', 'box'),
      domainname: fc.constantFrom('', 'lan'),
      annotations: fc.constant({ a: 'b' }),
      hooks: fc.constant({ prestart: [{ path: '/hook', args: ['hook'], env: [], timeout: 5 }], poststop: [{ path: '/hook' }] }),
      linux,
    },
    { requiredKeys: ['root'] },
  );

  test('every config fromOciSpec makes passes, and its copy is equal to it', () => {
    let made = 0;
    fc.assert(
      fc.property(spec, (s) => {
        let config: RootfsConfig;
        try {
          config = fromOciSpec(s, bundle);
        } catch (err) {
          if (err instanceof ConfigError) return;
          throw err;
        }
        expect(checkedModel(config)).toEqual(config);
        made++;
      }),
      { numRuns: 300 },
    );
    // Most specs are ones the loader takes: the property is not vacuous.
    expect(made).toBeGreaterThan(150);
  });
});
