import { CAPABILITIES, capabilityMask, capabilityName, lastCapability, resolveCapabilities, type CapabilityNames } from '../../src/core/capabilities';

const none: CapabilityNames = { bounding: [], effective: [], inheritable: [], permitted: [], ambient: [] };

describe('capability names and numbers (linux/capability.h)', () => {
  test.each([
    ['CAP_CHOWN', 0],
    ['CAP_SETPCAP', 8],
    ['CAP_NET_BIND_SERVICE', 10],
    ['CAP_SYS_ADMIN', 21],
    ['CAP_AUDIT_WRITE', 29],
    ['CAP_SETFCAP', 31],
    ['CAP_BPF', 39],
    ['CAP_CHECKPOINT_RESTORE', 40],
  ])('%s is %i', (name, cap) => {
    expect(CAPABILITIES.get(name)).toBe(cap);
    expect(capabilityName(cap)).toBe(name);
  });

  test('41 of them, numbered without a gap; an unknown number is named by it', () => {
    expect([...CAPABILITIES.values()]).toEqual(Array.from({ length: 41 }, (_, i) => i));
    expect(capabilityName(41)).toBe('CAP_41');
  });
});

describe('resolveCapabilities', () => {
  test('names to numbers, each once, per set', () => {
    const r = resolveCapabilities({ ...none, bounding: ['CAP_KILL', 'CAP_CHOWN', 'CAP_KILL'], ambient: ['CAP_NET_RAW'] }, 40);
    expect(r).toEqual({ sets: { ...none, bounding: [5, 0], ambient: [13] }, unavailable: [] });
  });

  test("the kernel's last capability is one it has (/proc/sys/kernel/cap_last_cap names it)", () => {
    expect(resolveCapabilities({ ...none, bounding: ['CAP_CHECKPOINT_RESTORE', 'CAP_BPF'] }, 40)).toEqual({ sets: { ...none, bounding: [40, 39] }, unavailable: [] });
    expect(resolveCapabilities({ ...none, bounding: ['CAP_CHECKPOINT_RESTORE', 'CAP_BPF'] }, 39)).toEqual({ sets: { ...none, bounding: [39] }, unavailable: ['CAP_CHECKPOINT_RESTORE'] });
  });

  test('names the kernel lacks (past its last) or nobody knows are left out and listed once, sorted', () => {
    const r = resolveCapabilities({ ...none, bounding: ['CAP_BPF', 'CAP_KILL', 'CAP_NOPE'], effective: ['CAP_CHECKPOINT_RESTORE', 'CAP_NOPE', 'cap_kill'] }, 37);
    expect(r).toEqual({ sets: { ...none, bounding: [5] }, unavailable: ['CAP_BPF', 'CAP_CHECKPOINT_RESTORE', 'CAP_NOPE', 'cap_kill'] });
  });
});

describe('capabilityMask', () => {
  test.each<[number[], bigint]>([
    [[], 0n],
    [[0], 1n],
    [[5, 10], 0x420n],
    [[21, 40], (1n << 21n) | (1n << 40n)],
  ])('%j -> 0x%s', (caps, mask) => expect(capabilityMask(caps)).toBe(mask));
});

describe('lastCapability: binary search of a contiguous 0..last', () => {
  test.each([0, 1, 37, 40, 41, 62, 63])('last %i', (last) => {
    const asked: number[] = [];
    expect(lastCapability((cap) => (asked.push(cap), cap <= last))).toBe(last);
    expect(asked.length).toBeLessThanOrEqual(6);
  });
});
