import 'reflect-metadata';
import { silentLogger } from '../../../src/core/logger';
import { Orchestrator } from '../../../src/core/orchestrator';
import { FakeSyscalls } from '../../../src/core/syscalls/fake';
import { HostnameStep } from '../../../src/plugins/hostname';
import { makeConfig } from '../../helpers/config';
import type { NamespaceSpec } from '../../../src/core/config/model';

function run(hostname: string, namespaces: NamespaceSpec[], domainname?: string) {
  const sys = new FakeSyscalls();
  new Orchestrator(sys, silentLogger, [], [new HostnameStep(sys)]).run(makeConfig({ hostname, namespaces, ...(domainname === undefined ? {} : { domainname }) }));
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
    expect(() => run('box', [{ type: 'mount' }])).toThrow('prepare-root: plugin hostname: hostname "box": needs a uts namespace in linux.namespaces');
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
    expect(() => new Orchestrator(sys, silentLogger, [], [new HostnameStep(sys)]).run(config)).toThrow(
      'prepare-root: plugin hostname: domainname "example.org": needs a uts namespace in linux.namespaces',
    );
    expect(sys.calls).toEqual([]);
  });

  test('a failed setdomainname stops the run, naming the name', () => {
    const sys = new FakeSyscalls().failOn('setdomainname', 'EPERM');
    const config = makeConfig({ hostname: 'box', namespaces: [{ type: 'uts' }], domainname: 'example.org' });
    expect(() => new Orchestrator(sys, silentLogger, [], [new HostnameStep(sys)]).run(config)).toThrow('prepare-root: plugin hostname: setdomainname "example.org": EPERM');
  });
});
