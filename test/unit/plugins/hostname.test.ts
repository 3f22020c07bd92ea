import 'reflect-metadata';
import { silentLogger } from '../../../src/core/logger';
import { Orchestrator } from '../../../src/core/orchestrator';
import { FakeSyscalls } from '../../../src/core/syscalls/fake';
import { createKernel } from '../../../src/core/kernel';
import { HostnameStep } from '../../../src/plugins/hostname';
import { CreateContainerHooksStep } from '../../../src/plugins/hooks';
import { makeConfig } from '../../helpers/config';
import type { NamespaceSpec } from '../../../src/core/config/model';

function run(hostname: string, namespaces: NamespaceSpec[], domainname?: string) {
  const sys = new FakeSyscalls();
  new Orchestrator(sys, silentLogger, [], [new HostnameStep(sys)]).run(makeConfig({ hostname, namespaces, ...(domainname === undefined ? {} : { domainname }) }), { checkClaims: false });
  return sys.effects();
}

describe('hostname step', () => {
  test('sets the hostname in the container uts namespace', () => {
    expect(run('box', [{ type: 'uts' }])).toEqual([{ op: 'sethostname', name: 'box' }]);
  });

  test('no hostname, no call', () => {
    expect(run('', [{ type: 'uts' }])).toEqual([]);
  });

  test('a hostname without a uts namespace would rename the host: refused', () => {
    expect(() => run('box', [{ type: 'mount' }])).toThrow('finalize: plugin hostname: hostname "box": needs a uts namespace in linux.namespaces');
  });

  test('the domainname after the hostname, as runc 1.2 sets them; either alone', () => {
    expect(run('box', [{ type: 'uts' }], 'example.org')).toEqual([
      { op: 'sethostname', name: 'box' },
      { op: 'setdomainname', name: 'example.org' },
    ]);
    expect(run('', [{ type: 'uts' }], 'example.org')).toEqual([{ op: 'setdomainname', name: 'example.org' }]);
    expect(run('box', [{ type: 'uts' }], '')).toEqual([{ op: 'sethostname', name: 'box' }]);
  });

  test('a domainname without a uts namespace would rename the host\'s: refused before any call', () => {
    const sys = new FakeSyscalls();
    const config = makeConfig({ hostname: '', namespaces: [{ type: 'mount' }], domainname: 'example.org' });
    expect(() => new Orchestrator(sys, silentLogger, [], [new HostnameStep(sys)]).run(config, { checkClaims: false })).toThrow(
      'finalize: plugin hostname: domainname "example.org": needs a uts namespace in linux.namespaces',
    );
    expect(sys.calls).toEqual([]);
  });

  test("with the built-in plugins, where runc's init sets the names: after the createContainer hooks and the jail, first of the finalize phase, before the sysctls", () => {
    const steps = createKernel({ syscalls: new FakeSyscalls() }).orchestrator.orderedSteps().map((s) => s.constructor.name);
    const at = (name: string) => steps.indexOf(name);
    expect(at('HostnameStep')).toBeGreaterThan(at('CreateContainerHooksStep'));
    expect(at('HostnameStep')).toBeGreaterThan(at('JailStep'));
    expect(steps.slice(at('HostnameStep'), at('SysctlsStep') + 1)).toEqual(['HostnameStep', 'ReadonlyMountsStep', 'ReadonlyRootfsStep', 'SysctlsStep']);
  });

  test("a createContainer hook sees the uts namespace's name from before, as under runc: sethostname comes after it", () => {
    const sys = new FakeSyscalls().addDir('/bundle/rootfs');
    const seen: number[] = [];
    sys.commandResult = () => {
      seen.push(sys.callsOf('sethostname').length);
      return { status: 0, signal: null, output: '' };
    };
    const config = makeConfig({ hostname: 'box', namespaces: [{ type: 'uts' }], hooks: { prestart: [], createRuntime: [], createContainer: [{ path: '/c', args: ['c'] }], poststart: [], poststop: [] } });
    new Orchestrator(sys, silentLogger, [], [new HostnameStep(sys), new CreateContainerHooksStep(sys)]).run(config, { checkClaims: false });
    expect([seen, sys.callsOf('sethostname').length]).toEqual([[0], 1]);
  });

  test('a failed setdomainname stops the run, naming the name', () => {
    const sys = new FakeSyscalls().failOn('setdomainname', 'EPERM');
    const config = makeConfig({ hostname: 'box', namespaces: [{ type: 'uts' }], domainname: 'example.org' });
    expect(() => new Orchestrator(sys, silentLogger, [], [new HostnameStep(sys)]).run(config, { checkClaims: false })).toThrow('finalize: plugin hostname: setdomainname "example.org": EPERM');
  });
});
