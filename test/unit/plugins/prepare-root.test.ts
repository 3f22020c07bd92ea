import 'reflect-metadata';
import { MS_BIND, MS_PRIVATE, MS_REC, MS_SHARED, MS_SLAVE, MS_UNBINDABLE } from '../../../src/core/constants';
import { silentLogger } from '../../../src/core/logger';
import { parseMountInfo } from '../../../src/core/mountinfo';
import { Orchestrator } from '../../../src/core/orchestrator';
import { FakeSyscalls } from '../../../src/core/syscalls/fake';
import { PrepareRootStep, rootPropagation, sharedParentOf } from '../../../src/plugins/prepare-root';
import { makeConfig } from '../../helpers/config';

/** One /proc/self/mountinfo line. */
function line(id: number, parent: number, mountpoint: string, optional = '', fstype = 'ext4'): string {
  return `${id} ${parent} 8:1 / ${mountpoint} rw,relatime ${optional ? optional + ' ' : ''}- ${fstype} /dev/sda1 rw`;
}

const ROOTFS = '/bundle/rootfs';
const slaveRoot = { op: 'mount', source: null, target: '/', fstype: null, flags: MS_SLAVE | MS_REC, data: null };
const rbind = { op: 'mount', source: ROOTFS, target: ROOTFS, fstype: 'bind', flags: MS_BIND | MS_REC, data: null };
const intoRootfs = { op: 'chdir', path: ROOTFS };

function setup(mountinfo: string[], over: Parameters<typeof makeConfig>[0] = {}) {
  const sys = new FakeSyscalls();
  sys.addDir(ROOTFS);
  sys.addFile('/proc/self/mountinfo', mountinfo.join('\n') + '\n');
  // The mounts the table lists are there: mount(2) changes a mount's propagation at its root only.
  for (const m of parseMountInfo(mountinfo.join('\n'))) sys.addDir(m.mountpoint).addMountpoint(m.mountpoint);
  const run = () => new Orchestrator(sys, silentLogger, [], [new PrepareRootStep(sys)]).run(makeConfig({ rootfs: ROOTFS, ...over }), { checkClaims: false });
  return { sys, run };
}

describe('rootPropagation', () => {
  test.each([
    ['unset (0n): rslave', 0n, MS_SLAVE | MS_REC],
    ['rshared', MS_SHARED | MS_REC, MS_SHARED | MS_REC],
    ['private', MS_PRIVATE, MS_PRIVATE],
    ['runbindable', MS_UNBINDABLE | MS_REC, MS_UNBINDABLE | MS_REC],
  ])('%s', (_what, configured, flags) => {
    expect(rootPropagation(makeConfig({ rootPropagation: configured }))).toBe(flags);
  });
});

describe('sharedParentOf', () => {
  const table = parseMountInfo(
    [
      line(1, 0, '/', 'shared:1'),
      line(2, 1, '/bundle', 'master:3'),
      line(3, 1, '/data', 'shared:4'),
      line(4, 3, '/data/ctr/rootfs', 'shared:5 master:2'),
      line(5, 1, '/bun', 'shared:6'),
      line(6, 1, '/stack', 'shared:7'),
      line(7, 1, '/stack'),
    ].join('\n'),
  );
  test.each([
    ['the root mount, shared', '/srv/rootfs', '/'],
    ['a slave mount below the root', '/bundle/rootfs', undefined],
    ['the longest mountpoint wins', '/data/other/rootfs', '/data'],
    ['the rootfs itself when it is a mountpoint', '/data/ctr/rootfs', '/data/ctr/rootfs'],
    ['below a mountpoint of its own', '/data/ctr/rootfs/sub', '/data/ctr/rootfs'],
    ['whole components only: /bunx is not below /bun', '/bunx/rootfs', '/'],
    ['an unclean rootfs path', '/data//other/../x/', '/data'],
    ['the top of a stack of mounts at one mountpoint', '/stack/rootfs', undefined],
  ])('%s', (_what, rootfs, expected) => {
    expect(sharedParentOf(table, rootfs)).toBe(expected);
  });

  test('no mount holding the rootfs is an error', () => {
    expect(() => sharedParentOf(parseMountInfo(line(2, 1, '/other')), '/bundle/rootfs')).toThrow(
      'no mount holds the rootfs "/bundle/rootfs" in /proc/self/mountinfo',
    );
  });
});

describe('prepare-root step', () => {
  test('the default: into the rootfs directory as it is, / rslave, then the rootfs bound onto itself', () => {
    const { sys, run } = setup([line(1, 0, '/'), line(2, 1, '/bundle', 'master:1')]);
    run();
    expect(sys.effects()).toEqual([intoRootfs, slaveRoot, rbind]);
  });

  test('the mount table is read after / has its propagation, once', () => {
    const { sys, run } = setup([line(1, 0, '/')]);
    run();
    expect(sys.calls.map((c) => c.op + ' ' + ('target' in c ? c.target : 'path' in c ? c.path : ''))).toEqual([
      `chdir ${ROOTFS}`,
      'mount /',
      'readFile /proc/self/mountinfo',
      `mount ${ROOTFS}`,
    ]);
  });

  test('a configured propagation replaces rslave; a shared parent becomes private before the bind', () => {
    const { sys, run } = setup([line(1, 0, '/', 'shared:1'), line(2, 1, '/bundle', 'shared:2')], { rootPropagation: MS_SHARED | MS_REC });
    run();
    expect(sys.effects()).toEqual([
      intoRootfs,
      { ...slaveRoot, flags: MS_SHARED | MS_REC },
      { op: 'mount', source: null, target: '/bundle', fstype: null, flags: MS_PRIVATE, data: null },
      rbind,
    ]);
  });

  test('a rootfs that is a shared mountpoint itself becomes private', () => {
    const { sys, run } = setup([line(1, 0, '/'), line(2, 1, ROOTFS, 'shared:9')]);
    run();
    expect(sys.effects()).toEqual([intoRootfs, slaveRoot, { op: 'mount', source: null, target: ROOTFS, fstype: null, flags: MS_PRIVATE, data: null }, rbind]);
  });

  test.each([
    ['/ propagation', 1, `mount "/": EPERM`],
    ['parent private', 2, `mount "/bundle": EPERM`],
    ['rootfs bind', 3, `mount "${ROOTFS}" -> "${ROOTFS}": EPERM`],
  ])('a failing %s mount stops the step as a PluginError', (_what, nth, message) => {
    const { sys, run } = setup([line(1, 0, '/'), line(2, 1, '/bundle', 'shared:2')]);
    sys.failOn('mount', 'EPERM', { nth });
    expect(() => run()).toThrow(`prepare-root: plugin prepare-root: ${message}`);
    expect(sys.effects()).toHaveLength(nth + 1);
  });

  test('a failing chdir(2) into the rootfs stops the step before any mount, naming it', () => {
    const { sys, run } = setup([line(1, 0, '/')]);
    sys.failOn('chdir', 'EACCES');
    expect(() => run()).toThrow(`prepare-root: plugin prepare-root: chdir "${ROOTFS}": EACCES`);
    expect(sys.effects()).toEqual([intoRootfs]);
  });

  test('an unreadable mount table stops the step before the bind', () => {
    const { sys, run } = setup([line(1, 0, '/')]);
    sys.failOn('readFile', 'EACCES');
    expect(() => run()).toThrow('prepare-root: plugin prepare-root: readFile "/proc/self/mountinfo": EACCES');
    expect(sys.effects()).toEqual([intoRootfs, slaveRoot]);
  });

  test('a table without a mount for the rootfs stops the step before the bind', () => {
    const { sys, run } = setup([line(2, 1, '/elsewhere')]);
    expect(() => run()).toThrow(`prepare-root: plugin prepare-root: no mount holds the rootfs "${ROOTFS}" in /proc/self/mountinfo`);
    expect(sys.effects()).toEqual([intoRootfs, slaveRoot]);
  });
});
