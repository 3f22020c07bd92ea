import { main } from '../../src/cli/main';
import { CA_CERTS_ENV, STASHED_CA_CERTS_ENV, nodeStartEnv, nodeStartOptions, restoreCaCertsEnv } from '../../src/cli/node-env';

describe('NODE_EXTRA_CA_CERTS around the Node processes mountkit starts', () => {
  test.each([
    ['set', { PATH: '/bin', [CA_CERTS_ENV]: '/etc/ca.pem' }, { PATH: '/bin', [STASHED_CA_CERTS_ENV]: '/etc/ca.pem' }],
    ['empty stays empty', { [CA_CERTS_ENV]: '' }, { [STASHED_CA_CERTS_ENV]: '' }],
    ['unset', { PATH: '/bin' }, { PATH: '/bin' }],
    ['a stale stash without the variable is dropped', { [STASHED_CA_CERTS_ENV]: '/old.pem' }, {}],
    ['the variable wins over a stale stash', { [CA_CERTS_ENV]: '/new.pem', [STASHED_CA_CERTS_ENV]: '/old.pem' }, { [STASHED_CA_CERTS_ENV]: '/new.pem' }],
  ])('nodeStartEnv: %s', (_name, env, expected) => {
    const before = { ...env };
    expect(nodeStartEnv(env)).toEqual(expected);
    expect(env).toEqual(before);
  });

  test.each([
    ['stashed', { [STASHED_CA_CERTS_ENV]: '/etc/ca.pem', PATH: '/bin' }, { [CA_CERTS_ENV]: '/etc/ca.pem', PATH: '/bin' }],
    ['stashed empty', { [STASHED_CA_CERTS_ENV]: '' }, { [CA_CERTS_ENV]: '' }],
    ['nothing stashed', { [CA_CERTS_ENV]: '/etc/ca.pem' }, { [CA_CERTS_ENV]: '/etc/ca.pem' }],
  ])('restoreCaCertsEnv: %s', (_name, env, expected) => {
    const copy: NodeJS.ProcessEnv = { ...env };
    restoreCaCertsEnv(copy);
    expect(copy).toEqual(expected);
  });

  test('restoring undoes moving aside', () => {
    const env = { HOME: '/root', [CA_CERTS_ENV]: '/etc/ca.pem' };
    const moved = nodeStartEnv(env);
    restoreCaCertsEnv(moved);
    expect(moved).toEqual(env);
  });

  test('the CLI puts the variable back before anything else', () => {
    const saved = { certs: process.env[CA_CERTS_ENV], stash: process.env[STASHED_CA_CERTS_ENV] };
    const write = jest.spyOn(process.stdout, 'write').mockImplementation(() => true);
    try {
      delete process.env[CA_CERTS_ENV];
      process.env[STASHED_CA_CERTS_ENV] = '/etc/ca.pem';
      expect(main(['--version'])).toBe(0);
      expect([process.env[CA_CERTS_ENV], process.env[STASHED_CA_CERTS_ENV]]).toEqual(['/etc/ca.pem', undefined]);
    } finally {
      write.mockRestore();
      for (const [name, value] of [[CA_CERTS_ENV, saved.certs], [STASHED_CA_CERTS_ENV, saved.stash]] as const) {
        if (value === undefined) delete process.env[name];
        else process.env[name] = value;
      }
    }
  });
});

describe("the relaunch's Node options: the inspector's websocket id on stderr alone, as bin/mountkit starts Node", () => {
  test.each([
    [[], ['--inspect-publish-uid=stderr']],
    [['--inspect-publish-uid=stderr'], ['--inspect-publish-uid=stderr']],
    [['--max-old-space-size=64'], ['--inspect-publish-uid=stderr', '--max-old-space-size=64']],
    // One the caller chose is theirs.
    [['--inspect-publish-uid=http'], ['--inspect-publish-uid=http']],
    [['--inspect-publish-uid', 'stderr,http'], ['--inspect-publish-uid', 'stderr,http']],
  ])('%j: %j', (execArgv, options) => {
    expect(nodeStartOptions(execArgv)).toEqual(options);
  });
});
