import { chmodSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'fs';
import { tmpdir } from 'os';
import * as path from 'path';
import { RELAY_SOCKET, connectLauncherRelay, keptFromOthers, relayTarget, running } from '../../src/cli/console-relay';
import { FakeSyscalls } from '../../src/core/syscalls/fake';

describe("bin/mountkit's console relay: the variables it is given", () => {
  test.each<[string | undefined, { pid: number; dir: string } | undefined]>([
    ['4242:/tmp/mountkit-console-4242', { pid: 4242, dir: '/tmp/mountkit-console-4242' }],
    ['1:/a:b', { pid: 1, dir: '/a:b' }],
    [undefined, undefined],
    ['', undefined],
    ['4242', undefined],
    ['4242:', undefined],
    ['4242:relative/dir', undefined],
    ['0:/tmp/x', undefined],
    ['-1:/tmp/x', undefined],
    ['12345678901:/tmp/x', undefined],
    [' 42:/tmp/x', undefined],
  ])('relayTarget(%j)', (value, expected) => expect(relayTarget(value)).toEqual(expected));
});

describe("keptFromOthers: the relay's directory's parent lets no one else swap it", () => {
  test.each<[string, { uid: number; mode: number }, number, boolean]>([
    ['/tmp: root\'s, sticky, writable by all', { uid: 0, mode: 0o41777 }, 1000, true],
    ["root's, 0755", { uid: 0, mode: 0o40755 }, 1000, true],
    ["the user's own, 0700", { uid: 1000, mode: 0o40700 }, 1000, true],
    ["the user's own, group-writable", { uid: 1000, mode: 0o40770 }, 1000, false],
    ["root's, writable by all, not sticky", { uid: 0, mode: 0o40777 }, 1000, false],
    ["another user's, 0755", { uid: 1001, mode: 0o40755 }, 1000, false],
    ["another user's, sticky", { uid: 1001, mode: 0o41777 }, 1000, false],
  ])('%s', (_case, parent, euid, expected) => expect(keptFromOthers(parent, euid)).toBe(expected));

  test.each<[string, { uid: number; mode: number }, boolean]>([
    ["root's /tmp as a user namespace shows it (the overflow uid), sticky", { uid: 65534, mode: 0o41777 }, true],
    ['an unmapped owner, not sticky', { uid: 65534, mode: 0o40755 }, false],
    ['an unmapped owner, writable by all, not sticky', { uid: 65534, mode: 0o40777 }, false],
  ])('in a user namespace: %s', (_case, parent, expected) => expect(keptFromOthers(parent, 0, 65534)).toBe(expected));
});

describe('running: a process by its /proc/PID/stat', () => {
  test.each<[string, string | Error, boolean]>([
    ['sleeping', '77 (node) S 1 77 77 0', true],
    ['running', '77 (node) R 1 77 77 0', true],
    ['a name with a parenthesis and spaces', '77 (a) b) Z x) S 1', true],
    ['a zombie', '77 (node) Z 1 77 77 0', false],
    ['dead', '77 (node) X 1', false],
    ['gone', new Error('ENOENT'), false],
    ['cut short', '77 (node)', false],
  ])('%s', (_case, stat, expected) =>
    expect(
      running(() => {
        if (stat instanceof Error) throw stat;
        return stat;
      }),
    ).toBe(expected),
  );
});

describe('connectLauncherRelay: the run\'s Node connects to the relay beside it', () => {
  let base: string;
  beforeEach(() => {
    base = mkdtempSync(path.join(tmpdir(), 'mountkit-relay-unit-'));
  });
  afterEach(() => rmSync(base, { recursive: true, force: true }));
  const euid = process.geteuid?.() ?? 0;
  const self = { pid: process.pid };

  test("a directory of this process's euid, mode 0700: its socket connected, once", () => {
    const dir = path.join(base, 'relay');
    mkdirSync(dir, 0o700);
    const sys = new FakeSyscalls();
    expect(connectLauncherRelay(sys, { ...self, dir }, euid)).toBeGreaterThan(2);
    expect(sys.calls).toEqual([{ op: 'connectUnix', path: path.join(dir, RELAY_SOCKET) }]);
  });

  test.each<[string, (dir: string) => void, number]>([
    ['others may reach in (0755)', (dir) => mkdirSync(dir, 0o755), euid],
    ['its group may (0750)', (dir) => mkdirSync(dir, 0o750), euid],
    ["another user's", (dir) => mkdirSync(dir, 0o700), euid + 1],
    ['a symlink to a directory of the right kind', (dir) => {
      mkdirSync(`${dir}.real`, 0o700);
      symlinkSync(`${dir}.real`, dir);
    }, euid],
    ['a file', (dir) => writeFileSync(dir, ''), euid],
    ['in a directory others may write in, not sticky', (dir) => {
      mkdirSync(dir, 0o700);
      chmodSync(path.dirname(dir), 0o777);
    }, euid],
  ])('%s: not connected, at once', (_case, make, asEuid) => {
    const dir = path.join(base, 'relay');
    make(dir);
    const sys = new FakeSyscalls();
    expect(connectLauncherRelay(sys, { ...self, dir }, asEuid)).toBeUndefined();
    expect(sys.calls).toEqual([]);
  });

  test('a relay that has ended (no such pid) is not waited for: one look, then none', () => {
    const sys = new FakeSyscalls();
    const started = Date.now();
    expect(connectLauncherRelay(sys, { pid: 999999999, dir: path.join(base, 'never') }, euid)).toBeUndefined();
    expect(Date.now() - started).toBeLessThan(1000);
    expect(sys.calls).toEqual([]);
  });

  test('a relay still starting is waited for: tried again until its socket listens', () => {
    const dir = path.join(base, 'relay');
    mkdirSync(dir, 0o700);
    const sys = new FakeSyscalls().failOn('connectUnix', 'ECONNREFUSED', { times: 3 });
    expect(connectLauncherRelay(sys, { ...self, dir }, euid)).toBeGreaterThan(2);
    expect(sys.callsOf('connectUnix')).toHaveLength(4);
  });
});
