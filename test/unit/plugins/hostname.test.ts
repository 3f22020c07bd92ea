import 'reflect-metadata';
import { silentLogger } from '../../../src/core/logger';
import { Orchestrator } from '../../../src/core/orchestrator';
import { FakeSyscalls } from '../../../src/core/syscalls/fake';
import { HostnameStep } from '../../../src/plugins/hostname';
import { makeConfig } from '../../helpers/config';
import type { NamespaceSpec } from '../../../src/core/config/model';

function run(hostname: string, namespaces: NamespaceSpec[]) {
  const sys = new FakeSyscalls();
  new Orchestrator(sys, silentLogger, [], [new HostnameStep(sys)]).run(makeConfig({ hostname, namespaces }));
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
});
