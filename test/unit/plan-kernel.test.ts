import 'reflect-metadata';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { MS_BIND, MS_NOSUID, MS_NOSYMFOLLOW, MS_RDONLY } from '../../src/core/constants';
import { SyscallError } from '../../src/core/errors';
import { LinuxSyscalls } from '../../src/core/syscalls/linux';
import { buildPlan, PlanSyscalls, type PlanKernelAnswers, type PlanOptions } from '../../src/core/plan';
import type { MountSpec } from '../../src/core/config/model';
import { makeConfig, makeMount } from '../helpers/config';
import { JAIL_STAND_IN_EXTRA } from '../helpers/jail-stand-in';

let tmp: string;
beforeAll(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'mountkit-plan-kernel-'));
  fs.mkdirSync(path.join(tmp, 'src'));
  fs.mkdirSync(path.join(tmp, 'rootfs', 'data'), { recursive: true });
  fs.mkdirSync(path.join(tmp, 'rootfs', 'etc'));
  fs.writeFileSync(path.join(tmp, 'rootfs', 'etc', 'copied'), 'x');
});
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

/**
 * The calls named in `ops` that the plan of `mounts` (with `module`, a built-in, alone
 * besides the jail's stand-in) makes for each mount, as "op" or "op ERRNO"; `port` the
 * plan's own options for its port (`syscalls` or `kernel`).
 */
function mountCalls(mounts: MountSpec[], module: string, ops: RegExp, port: Pick<PlanOptions, 'syscalls' | 'kernel'>): string[][] {
  const config = makeConfig({ bundle: tmp, rootfs: path.join(tmp, 'rootfs'), mounts, namespaces: [{ type: 'mount' }] });
  const plan = buildPlan(config, { ...port, plugins: { plugins: [{ module }] }, extra: [JAIL_STAND_IN_EXTRA], launch: { relaunched: false, inUserNamespace: false, euid: 0 } });
  expect(plan.error).toBeUndefined();
  return mounts.map((m) => plan.calls.filter((c) => c.mountIndex === m.index && ops.test(c.record.op)).map((c) => (c.errno ? `${c.record.op} ${c.errno}` : c.record.op)));
}

/** The mount calls of two read-only binds planned on a port whose newer mount calls answer as `kernel` says. */
function bindCalls(kernel: PlanKernelAnswers): string[][] {
  const src = path.join(tmp, 'src');
  const mounts = [0, 1].map((index) => makeMount({ index, type: 'bind', source: src, destination: '/data', flags: MS_BIND | MS_RDONLY }));
  return mountCalls(mounts, 'builtin:bind', /^(openTree|openTreeAttr|moveMount|mount|mountSetattr)$/, { syscalls: new PlanSyscalls(undefined, kernel) });
}

/** A copy made with its flags; one given them by mount_setattr(2); one remounted; a bind by mount(2), remounted. */
const WITH_FLAGS = ['openTreeAttr', 'moveMount'];
const SET_ON_COPY = ['openTree', 'mountSetattr', 'moveMount'];
const REMOUNTED = ['openTree', 'moveMount', 'mount'];
const BY_MOUNT = ['mount', 'mount'];
const MOUNT_SETATTR_EPERM = [
  ['openTreeAttr ENOSYS', 'openTree', 'mountSetattr EPERM', 'moveMount', 'mount'],
  ['openTree', 'mountSetattr EPERM', 'moveMount', 'mount'],
];

/** The mount calls of a tmpcopyup tmpfs (nosuid, and nosymfollow where `nosymfollow`) on /etc, planned through buildPlan's own port, as `kernel` says the calls answer. */
function copyupCalls(kernel: PlanKernelAnswers, nosymfollow = false): string[] {
  const mount = makeMount({ index: 0, type: 'tmpfs', source: 'tmpfs', destination: '/etc', flags: MS_NOSUID | (nosymfollow ? MS_NOSYMFOLLOW : 0n), extensions: { tmpcopyup: true } });
  return mountCalls([mount], 'builtin:tmpfs', /^(fsopen|fsmount|moveMount|mount)$/, { kernel })[0];
}

describe("PlanSyscalls given the kernel's answers: a plan as on another kernel, whatever this one has", () => {
  test.each<[string, PlanKernelAnswers, string[][]]>([
    ['Linux 6.15 and later: each copy made with its flags', {}, [WITH_FLAGS, WITH_FLAGS]],
    ['before 6.15 (open_tree_attr ENOSYS): tried once, each copy given its flags by mount_setattr', { openTreeAttr: 'ENOSYS' }, [['openTreeAttr ENOSYS', ...SET_ON_COPY], SET_ON_COPY]],
    ["a seccomp filter's EPERM to open_tree_attr: tried by each bind, each copy remounted", { openTreeAttr: 'EPERM' }, [['openTreeAttr EPERM', ...REMOUNTED], ['openTreeAttr EPERM', ...REMOUNTED]]],
    ["before 6.15, a seccomp filter's EPERM to mount_setattr: tried by each copy, each copy remounted", { openTreeAttr: 'ENOSYS', mountSetattr: 'EPERM' }, MOUNT_SETATTR_EPERM],
    ['before 5.12 (mount_setattr ENOSYS): each copy remounted after its attach, mount_setattr tried once', { openTreeAttr: 'ENOSYS', mountSetattr: 'ENOSYS' }, [['openTreeAttr ENOSYS', 'openTree', 'mountSetattr ENOSYS', 'moveMount', 'mount'], REMOUNTED]],
    ['5.12 and 5.13 (MOUNT_ATTR_NOSYMFOLLOW unknown): the first copy refused its flags (EINVAL), each copy remounted', { openTreeAttr: 'ENOSYS', mountSetattr: 'NOSYMFOLLOW' }, [['openTreeAttr ENOSYS', 'openTree', 'mountSetattr EINVAL', 'moveMount', 'mount'], REMOUNTED]],
    ['before 5.2 (open_tree ENOSYS): each bind made by mount(2) and remounted', { openTreeAttr: 'ENOSYS', mountSetattr: 'ENOSYS', openTree: 'ENOSYS', fsopen: 'ENOSYS' }, [['openTreeAttr ENOSYS', 'openTree ENOSYS', ...BY_MOUNT], BY_MOUNT]],
  ])('%s', (_, kernel, expected) => {
    expect(bindCalls(kernel)).toEqual(expected);
  });
});

describe("buildPlan's own port given the kernel's answers (PlanOptions.kernel)", () => {
  test.each<[string, PlanKernelAnswers, boolean, string[]]>([
    ['fsopen there: a detached tmpfs, moved onto the target', {}, false, ['fsopen', 'fsmount', 'moveMount']],
    ['before 5.2 (fsopen ENOSYS): mounted on the target', { fsopen: 'ENOSYS' }, false, ['fsopen ENOSYS', 'mount']],
    ["a seccomp filter's EPERM to fsopen: mounted on the target", { fsopen: 'EPERM' }, false, ['fsopen EPERM', 'mount']],
    ['nosymfollow on 6.15: the detached tmpfs made with it', {}, true, ['fsopen', 'fsmount', 'moveMount']],
    ['nosymfollow on 5.12 and 5.13 (fsmount refuses MOUNT_ATTR_NOSYMFOLLOW): mounted on the target', { mountSetattr: 'NOSYMFOLLOW', openTreeAttr: 'ENOSYS' }, true, ['fsopen', 'fsmount EINVAL', 'mount']],
  ])('tmpcopyup, %s', (_, kernel, nosymfollow, expected) => {
    expect(copyupCalls(kernel, nosymfollow)).toEqual(expected);
  });

  test('a port given answers asks this kernel nothing; one given none asks at the first call', () => {
    const asked = (['openTree', 'openTreeAttr', 'mountSetattr', 'fsopen'] as const).map((op) => jest.spyOn(LinuxSyscalls.prototype, op));
    try {
      bindCalls({ openTreeAttr: 'ENOSYS' });
      copyupCalls({}, true);
      expect(asked.map((spy) => spy.mock.calls.length)).toEqual([0, 0, 0, 0]);
      const unanswered = new PlanSyscalls();
      try {
        unanswered.openTreeAttr(-100, path.join(tmp, 'src'), 0x80001, 0n, 0n, 0n);
      } catch (err) {
        // A kernel before 6.15, or a filter, refused the probe: the plan refuses the call as the run would meet it.
        expect(err).toBeInstanceOf(SyscallError);
      }
      expect(asked[1].mock.calls.length).toBe(1);
    } finally {
      for (const spy of asked) spy.mockRestore();
    }
  });

  test.each([
    [{ openTreeAttr: 'ENOENT' }, 'PlanKernelAnswers.openTreeAttr: "ENOENT" is none of ENOSYS, EPERM'],
    [{ mountSetattr: 'nosymfollow' }, 'PlanKernelAnswers.mountSetattr: "nosymfollow" is none of ENOSYS, EINVAL, NOSYMFOLLOW, EPERM'],
    [{ mount: 'ENOSYS' }, 'PlanKernelAnswers: no call "mount" (openTree, openTreeAttr, mountSetattr, fsopen)'],
  ])('an answer no call gives, %j: refused, naming it', (kernel, message) => {
    expect(() => new PlanSyscalls(undefined, kernel as PlanKernelAnswers)).toThrow(new TypeError(message));
  });
});
