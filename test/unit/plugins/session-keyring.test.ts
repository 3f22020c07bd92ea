import 'reflect-metadata';
import type { RootfsConfig } from '../../../src/core/config/model';
import { Orchestrator } from '../../../src/core/orchestrator';
import type { RunContext } from '../../../src/core/plugin';
import { FakeSyscalls } from '../../../src/core/syscalls/fake';
import { SessionKeyringStep } from '../../../src/plugins/exec';
import { memoryLogger } from '../../../src/testing/logger';
import { makeConfig } from '../../helpers/config';

function setup(over: Partial<RootfsConfig> = {}, shared: [string, unknown][] = [], sys = new FakeSyscalls()) {
  const log = memoryLogger();
  const config = makeConfig({ bundle: '/srv/bundles/web-1', ...over });
  // An earlier step of an embedder's sets the shared keys.
  const setShared = { name: 'embedder', phase: 'prepare-root' as const, order: 'pre' as const, run: (ctx: RunContext) => shared.forEach(([k, v]) => ctx.shared.set(k, v)) };
  const run = () => new Orchestrator(sys, log, [], [setShared, new SessionKeyringStep(sys)]).run(config, { checkClaims: false });
  return { sys, log, run };
}

describe("the container's session keyring (prepare-root, pre)", () => {
  test("in prepare-root's pre steps, as runc's init joins it first", () => {
    const step = new SessionKeyringStep(new FakeSyscalls());
    expect([step.name, step.phase, step.order]).toEqual(['session-keyring', 'prepare-root', 'pre']);
  });

  test.each([
    ['the id given (mountkit run ID), without a user namespace: its owner may search it', { id: 'c0ffee' }, [], '_ses.c0ffee', 0x80000],
    ["an embedder's shared container.id first", { id: 'c0ffee' }, [['container.id', 'emb']], '_ses.emb', 0x80000],
    ["no id given: a new anonymous one, not one named after the bundle directory (two bundles of one name would share it)", {}, [], null, 0x80000],
    ['in a user namespace: anyone may search it (KEY_OTH_SEARCH)', { id: 'c0ffee', namespaces: [{ type: 'mount' }, { type: 'user' }] }, [], '_ses.c0ffee', 0x8],
  ] as [string, Partial<RootfsConfig>, [string, unknown][], string | null, number][])('%s', (_name, over, shared, name, permissions) => {
    const { sys, run } = setup(over, shared);
    run();
    expect(sys.calls).toEqual([{ op: 'joinSessionKeyring', name, permissions }]);
    expect(sys.sessionKeyring).toEqual({ name: name ?? '_ses', serial: expect.any(Number), permissions });
  });

  test('noNewKeyring (--no-new-keyring): no call, the starter keeps its keyring', () => {
    const { sys, run } = setup({ noNewKeyring: true });
    run();
    expect(sys.calls).toEqual([]);
  });

  test("with process.selinuxLabel: the thread's keycreate label first, so the keyring gets the program's label", () => {
    const sys = new FakeSyscalls().addFile('/proc/thread-self/attr/keycreate', '');
    const { run } = setup({ process: { ...makeConfig().process, selinuxLabel: 'system_u:system_r:container_t:s0' } }, [], sys);
    run();
    expect(sys.effects()).toEqual([
      { op: 'writeFile', path: '/proc/thread-self/attr/keycreate', data: 'system_u:system_r:container_t:s0' },
      { op: 'joinSessionKeyring', name: null, permissions: 0x80000 },
    ]);
  });

  test('a kernel without keys (ENOSYS): the run goes on with the starter\'s keyring, as runc goes on, and says so at debug', () => {
    const { log, run } = setup({}, [], new FakeSyscalls().failOn('joinSessionKeyring', 'ENOSYS'));
    expect(() => run()).not.toThrow();
    expect(log.entries.map((e) => [e.level, e.message])).toContainEqual(['debug', 'keyctl "_ses": ENOSYS: this kernel has no keys, the container keeps the session keyring mountkit was started with']);
  });

  test('any other refusal (a seccomp filter refusing keyctl) stops the run, naming the keyring', () => {
    const { run } = setup({ id: 'web-1' }, [], new FakeSyscalls().failOn('joinSessionKeyring', 'EPERM'));
    expect(() => run()).toThrow('prepare-root: plugin session-keyring: keyctl "_ses.web-1": EPERM');
  });
});
