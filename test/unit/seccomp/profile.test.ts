import type { SeccompSpec } from '../../../src/core/config/model';
import { ConfigError } from '../../../src/core/errors';
import { seccompProfile } from '../../../src/core/seccomp/profile';

const ALLOW = 0x7fff0000;
const ERRNO = 0x00050000;
const EPERM = 1;
const EACCES = 13;
const ENOSYS = 38;
const SPEC_ALLOW = 4;

function spec(fields: Partial<SeccompSpec> = {}): SeccompSpec {
  return { defaultAction: 'SCMP_ACT_ERRNO', architectures: [], syscalls: [], ...fields };
}

function refusal(s: SeccompSpec): string {
  try {
    seccompProfile(s);
  } catch (err) {
    if (err instanceof ConfigError) return err.message;
    throw err;
  }
  throw new Error('accepted');
}

describe('seccomp profile -> filter', () => {
  test('errnoRet takes the 16 bits of SECCOMP_RET_DATA, 65535 the largest; SCMP_ACT_NOTIFY takes read, only write is refused', () => {
    const p = seccompProfile(spec({ defaultAction: 'SCMP_ACT_ALLOW', defaultErrnoRet: 65535, syscalls: [{ names: ['mkdir'], action: 'SCMP_ACT_ERRNO', errnoRet: 65535, args: [] }] }));
    expect(p.filter.rules).toEqual([{ syscall: 'mkdir', action: ERRNO | 65535, args: [], field: 'linux.seccomp.syscalls[0]' }]);
    expect(() => seccompProfile(spec({ listenerPath: '/a', syscalls: [{ names: ['read'], action: 'SCMP_ACT_NOTIFY', args: [] }] }))).not.toThrow();
  });

  test('each name a rule with the entry\'s action; errnoRet the data of SCMP_ACT_ERRNO, EPERM when absent', () => {
    const p = seccompProfile(
      spec({
        defaultAction: 'SCMP_ACT_ALLOW',
        syscalls: [
          { names: ['mkdir', 'mkdirat'], action: 'SCMP_ACT_ERRNO', errnoRet: EACCES, args: [] },
          { names: ['reboot'], action: 'SCMP_ACT_ERRNO', args: [] },
          { names: ['ptrace'], action: 'SCMP_ACT_KILL_PROCESS', args: [] },
        ],
      }),
    );
    expect(p.filter.defaultAction).toBe(ALLOW);
    expect(p.filter.rules).toEqual([
      { syscall: 'mkdir', action: ERRNO | EACCES, args: [], field: 'linux.seccomp.syscalls[0]' },
      { syscall: 'mkdirat', action: ERRNO | EACCES, args: [], field: 'linux.seccomp.syscalls[0]' },
      { syscall: 'reboot', action: ERRNO | EPERM, args: [], field: 'linux.seccomp.syscalls[1]' },
      { syscall: 'ptrace', action: 0x80000000, args: [], field: 'linux.seccomp.syscalls[2]' },
    ]);
    expect(p.filter.names).toEqual(['mkdir', 'mkdirat', 'reboot', 'ptrace']);
  });

  test.each([
    ['SCMP_ACT_KILL', 0],
    ['SCMP_ACT_KILL_THREAD', 0],
    ['SCMP_ACT_KILL_PROCESS', 0x80000000],
    ['SCMP_ACT_TRAP', 0x00030000],
    ['SCMP_ACT_ERRNO', ERRNO | EPERM],
    ['SCMP_ACT_TRACE', 0x7ff00000 | EPERM],
    ['SCMP_ACT_LOG', 0x7ffc0000],
    ['SCMP_ACT_ALLOW', ALLOW],
  ])('default action %s is 0x%s', (name, value) => {
    expect(seccompProfile(spec({ defaultAction: name })).filter.defaultAction).toBe(value);
  });

  test('defaultErrnoRet is the default action\'s errno; with an action that returns none it is ignored, and said', () => {
    expect(seccompProfile(spec({ defaultErrnoRet: ENOSYS })).filter.defaultAction).toBe(ERRNO | ENOSYS);
    const p = seccompProfile(spec({ defaultAction: 'SCMP_ACT_KILL', defaultErrnoRet: 5, syscalls: [{ names: ['read'], action: 'SCMP_ACT_ALLOW', errnoRet: 3, args: [] }] }));
    expect(p.filter.defaultAction).toBe(0);
    expect(p.filter.rules[0].action).toBe(ALLOW);
    expect(p.ignored).toEqual(['linux.seccomp.defaultErrnoRet (SCMP_ACT_KILL returns no errno)', 'linux.seccomp.syscalls[0].errnoRet (SCMP_ACT_ALLOW returns no errno)']);
  });

  test('a rule whose action, errno included, is the default action is left out; its names still count for the ENOSYS stub', () => {
    const p = seccompProfile(
      spec({
        syscalls: [
          { names: ['open'], action: 'SCMP_ACT_ERRNO', args: [] },
          { names: ['clone3'], action: 'SCMP_ACT_ERRNO', errnoRet: ENOSYS, args: [] },
          { names: ['read'], action: 'SCMP_ACT_ALLOW', args: [] },
        ],
      }),
    );
    expect(p.filter.rules.map((r) => r.syscall)).toEqual(['clone3', 'read']);
    expect(p.filter.names).toEqual(['open', 'clone3', 'read']);
  });

  test('comparisons of different arguments make one rule; one argument compared twice makes a rule per comparison', () => {
    const p = seccompProfile(
      spec({
        defaultAction: 'SCMP_ACT_ALLOW',
        syscalls: [
          {
            names: ['personality'],
            action: 'SCMP_ACT_ERRNO',
            args: [
              { index: 0, value: 8n, valueTwo: 0n, op: 'SCMP_CMP_NE' },
              { index: 1, value: 0xffn, valueTwo: 0x10n, op: 'SCMP_CMP_MASKED_EQ' },
            ],
          },
          {
            names: ['clone'],
            action: 'SCMP_ACT_ERRNO',
            args: [
              { index: 0, value: 1n, valueTwo: 0n, op: 'SCMP_CMP_EQ' },
              { index: 0, value: 2n, valueTwo: 0n, op: 'SCMP_CMP_EQ' },
            ],
          },
        ],
      }),
    );
    expect(p.filter.rules.map((r) => [r.syscall, r.args])).toEqual([
      [
        'personality',
        [
          { arg: 0, op: 1, datumA: 8n, datumB: 0n },
          { arg: 1, op: 7, datumA: 0xffn, datumB: 0x10n },
        ],
      ],
      ['clone', [{ arg: 0, op: 4, datumA: 1n, datumB: 0n }]],
      ['clone', [{ arg: 0, op: 4, datumA: 2n, datumB: 0n }]],
    ]);
  });

  test.each([
    ['SCMP_CMP_NE', 1],
    ['SCMP_CMP_LT', 2],
    ['SCMP_CMP_LE', 3],
    ['SCMP_CMP_EQ', 4],
    ['SCMP_CMP_GE', 5],
    ['SCMP_CMP_GT', 6],
    ['SCMP_CMP_MASKED_EQ', 7],
  ])('operator %s is enum scmp_compare %d', (op, value) => {
    const p = seccompProfile(spec({ defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['x'], action: 'SCMP_ACT_KILL', args: [{ index: 5, value: 1n, valueTwo: 0n, op }] }] }));
    expect(p.filter.rules[0].args[0]).toEqual({ arg: 5, op: value, datumA: 1n, datumB: 0n });
  });

  test('architectures by their libseccomp tokens, each with its field', () => {
    const p = seccompProfile(spec({ architectures: ['SCMP_ARCH_X86_64', 'SCMP_ARCH_X86', 'SCMP_ARCH_X32', 'SCMP_ARCH_AARCH64'] }));
    expect(p.filter.architectures).toEqual([
      { arch: 0xc000003e, field: 'linux.seccomp.architectures[0]' },
      { arch: 0x40000003, field: 'linux.seccomp.architectures[1]' },
      { arch: 0x4000003e, field: 'linux.seccomp.architectures[2]' },
      { arch: 0xc00000b7, field: 'linux.seccomp.architectures[3]' },
    ]);
  });

  test.each([
    // [flags, seccomp(2) flags, implicit]
    [undefined, SPEC_ALLOW, SPEC_ALLOW],
    [[], 0, 0],
    [['SECCOMP_FILTER_FLAG_LOG'], 2, 0],
    [['SECCOMP_FILTER_FLAG_SPEC_ALLOW', 'SECCOMP_FILTER_FLAG_LOG'], 6, 0],
    // TSYNC is accepted and not passed on.
    [['SECCOMP_FILTER_FLAG_TSYNC'], 0, 0],
  ])('flags %j: seccomp(2) flags %d, %d of them implicit', (flags, value, implicit) => {
    const p = seccompProfile(spec(flags === undefined ? {} : { flags }));
    expect([p.flags, p.implicitFlags]).toEqual([value, implicit]);
  });

  test('WAIT_KILLABLE_RECV without a notify rule is left out (seccomp(2) refuses it without a listener), and said', () => {
    const p = seccompProfile(spec({ flags: ['SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV'] }));
    expect(p.flags).toBe(0);
    expect(p.ignored).toEqual(['linux.seccomp.flags SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV (no SCMP_ACT_NOTIFY rule)']);
  });

  test('an SCMP_ACT_NOTIFY rule asks for a listener (NEW_LISTENER) sent to listenerPath; WAIT_KILLABLE_RECV goes with it', () => {
    const p = seccompProfile(
      spec({
        defaultAction: 'SCMP_ACT_ALLOW',
        flags: ['SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV'],
        listenerPath: '/run/agent.sock',
        listenerMetadata: 'meta',
        syscalls: [{ names: ['mount'], action: 'SCMP_ACT_NOTIFY', args: [] }],
      }),
    );
    expect(p.filter.rules).toEqual([{ syscall: 'mount', action: 0x7fc00000, args: [], field: 'linux.seccomp.syscalls[0]' }]);
    expect(p.flags).toBe(8 | 32);
    expect(p.listener).toEqual({ path: '/run/agent.sock', metadata: 'meta' });
  });

  test.each([
    ['SCMP_ACT_ERRNO', true],
    ['SCMP_ACT_KILL_PROCESS', true],
    ['SCMP_ACT_TRAP', true],
    ['SCMP_ACT_ALLOW', false],
    ['SCMP_ACT_LOG', false],
    ['SCMP_ACT_TRACE', false],
  ])('default action %s: ENOSYS stub %s', (defaultAction, stub) => {
    expect(seccompProfile(spec({ defaultAction })).enosysStub).toBe(stub);
  });

  test('a default action of ERRNO(ENOSYS) needs no stub: every syscall no rule names answers ENOSYS already', () => {
    expect(seccompProfile(spec({ defaultErrnoRet: ENOSYS })).enosysStub).toBe(false);
  });

  test('more than 32 rules ask for libseccomp\'s binary tree, as runc 1.2 does past 32 names; names with the default action add none', () => {
    const names = (n: number) => Array.from({ length: n }, (_, i) => `s${i}`);
    expect(seccompProfile(spec({ syscalls: [{ names: names(32), action: 'SCMP_ACT_ALLOW', args: [] }] })).filter.binaryTree).toBe(false);
    expect(seccompProfile(spec({ syscalls: [{ names: names(33), action: 'SCMP_ACT_ALLOW', args: [] }] })).filter.binaryTree).toBe(true);
    expect(seccompProfile(spec({ syscalls: [{ names: names(40), action: 'SCMP_ACT_ERRNO', args: [] }] })).filter.binaryTree).toBe(false);
  });

  test.each([
    [spec({ defaultAction: 'SCMP_ACT_DENY' }), 'linux.seccomp.defaultAction "SCMP_ACT_DENY": is not a seccomp action; known: SCMP_ACT_KILL, SCMP_ACT_KILL_THREAD, SCMP_ACT_KILL_PROCESS, SCMP_ACT_TRAP, SCMP_ACT_ERRNO, SCMP_ACT_TRACE, SCMP_ACT_LOG, SCMP_ACT_ALLOW, SCMP_ACT_NOTIFY'],
    [spec({ defaultAction: 'SCMP_ACT_NOTIFY', listenerPath: '/a' }), 'linux.seccomp.defaultAction "SCMP_ACT_NOTIFY": cannot be the default action, as in runc: every syscall would wait for the agent'],
    [spec({ syscalls: [{ names: ['read', ''], action: 'SCMP_ACT_ALLOW', args: [] }] }), 'linux.seccomp.syscalls[0].names[1] "": must name a syscall'],
    [spec({ defaultErrnoRet: 65536 }), 'linux.seccomp.defaultErrnoRet 65536: must be an integer from 0 to 65535'],
    [spec({ architectures: ['SCMP_ARCH_X86_64', 'amd64'] }), expect.stringMatching(/^linux\.seccomp\.architectures\[1\] "amd64": is not a seccomp architecture; known: SCMP_ARCH_X86, /)],
    [spec({ flags: ['SECCOMP_FILTER_FLAG_NEW_LISTENER'] }), 'linux.seccomp.flags[0] "SECCOMP_FILTER_FLAG_NEW_LISTENER": is not a seccomp flag; known: SECCOMP_FILTER_FLAG_TSYNC, SECCOMP_FILTER_FLAG_LOG, SECCOMP_FILTER_FLAG_SPEC_ALLOW, SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV'],
    [spec({ syscalls: [{ names: ['read'], action: 'allow', args: [] }] }), expect.stringMatching(/^linux\.seccomp\.syscalls\[0\]\.action "allow": is not a seccomp action/)],
    [spec({ syscalls: [{ names: ['read'], action: 'SCMP_ACT_ALLOW', errnoRet: 70000, args: [] }] }), 'linux.seccomp.syscalls[0].errnoRet 70000: must be an integer from 0 to 65535'],
    [spec({ syscalls: [{ names: ['read'], action: 'SCMP_ACT_ALLOW', args: [{ index: 6, value: 0n, valueTwo: 0n, op: 'SCMP_CMP_EQ' }] }] }), 'linux.seccomp.syscalls[0].args[0].index 6: must be from 0 to 5: a syscall has 6 arguments'],
    [spec({ syscalls: [{ names: ['read'], action: 'SCMP_ACT_ALLOW', args: [{ index: 0, value: 0n, valueTwo: 0n, op: 'EQ' }] }] }), expect.stringMatching(/^linux\.seccomp\.syscalls\[0\]\.args\[0\]\.op "EQ": is not a seccomp operator; known: SCMP_CMP_NE, /)],
    [spec({ listenerPath: '/a', syscalls: [{ names: ['read', 'write'], action: 'SCMP_ACT_NOTIFY', args: [] }] }), 'linux.seccomp.syscalls[0].action "SCMP_ACT_NOTIFY": cannot be the action for write, as in runc'],
    [spec({ listenerPath: '/a', syscalls: [{ names: ['write'], action: 'SCMP_ACT_NOTIFY', args: [] }] }), 'linux.seccomp.syscalls[0].action "SCMP_ACT_NOTIFY": cannot be the action for write, as in runc'],
    [spec({ syscalls: [{ names: ['mount'], action: 'SCMP_ACT_NOTIFY', args: [] }] }), 'linux.seccomp.listenerPath: is required with SCMP_ACT_NOTIFY: the listener is sent there'],
  ])('refused: %#', (s, message) => {
    expect(refusal(s)).toEqual(message);
  });
});
