import 'reflect-metadata';
import { silentLogger } from '../../../src/core/logger';
import { Orchestrator } from '../../../src/core/orchestrator';
import { FakeSyscalls } from '../../../src/core/syscalls/fake';
import { LoopbackStep } from '../../../src/plugins/network';
import { makeConfig } from '../../helpers/config';
import type { NamespaceSpec } from '../../../src/core/config/model';

function run(namespaces: NamespaceSpec[], sys = new FakeSyscalls()) {
  new Orchestrator(sys, silentLogger, [], [new LoopbackStep(sys)]).run(makeConfig({ namespaces }), { checkClaims: false });
  return sys.effects();
}

describe('loopback step', () => {
  test('a new network namespace: its loopback interface is brought up, as runc and crun do', () => {
    expect(run([{ type: 'mount' }, { type: 'network' }])).toEqual([{ op: 'setInterfaceUp', name: 'lo' }]);
  });

  test.each([
    ['no network namespace (the host network)', [{ type: 'mount' }] as NamespaceSpec[]],
    ['a network namespace joined by path (a CNI-made one, a pod sandbox): left as it is', [{ type: 'mount' }, { type: 'network', path: '/run/netns/cni-1' }] as NamespaceSpec[]],
  ])('%s: no call', (_name, namespaces) => {
    expect(run(namespaces)).toEqual([]);
  });

  test('a refused ioctl stops the run, naming the interface', () => {
    const sys = new FakeSyscalls().failOn('setInterfaceUp', 'EPERM');
    expect(() => run([{ type: 'mount' }, { type: 'network' }], sys)).toThrow('prepare-root: plugin loopback: ioctl "lo": EPERM');
  });
});
