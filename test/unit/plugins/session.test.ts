import 'reflect-metadata';
import type { RootfsConfig } from '../../../src/core/config/model';
import { O_CLOEXEC, O_NOCTTY, O_RDWR } from '../../../src/core/constants';
import { Orchestrator } from '../../../src/core/orchestrator';
import { FakeSyscalls } from '../../../src/core/syscalls/fake';
import { SessionStep } from '../../../src/plugins/exec';
import { memoryLogger } from '../../../src/testing/logger';
import { makeConfig } from '../../helpers/config';

const TTY_FLAGS = O_RDWR | O_NOCTTY | O_CLOEXEC;

/** The session step alone on the fake, the process with a controlling terminal at /dev/tty unless `session` says otherwise. */
function setup(over: Partial<RootfsConfig> = {}, session: Partial<FakeSyscalls['session']> = {}) {
  const sys = new FakeSyscalls().addDevice('/dev/tty', 'char', 5, 0);
  sys.session = { ...sys.session, ...session };
  const log = memoryLogger();
  const config = makeConfig(over);
  const run = () => new Orchestrator(sys, log, [], [new SessionStep(sys)]).run(config, { checkClaims: false });
  return { sys, log, run };
}

describe('the container\'s session (prepare-root, pre)', () => {
  test('in prepare-root\'s pre steps, before any mount, as runc\'s init calls setsid before its mounts', () => {
    const step = new SessionStep(new FakeSyscalls());
    expect([step.name, step.phase, step.order]).toEqual(['session', 'prepare-root', 'pre']);
  });

  test('a process mountkit started (newSession, the default): setsid, a session and process group of its own without a terminal', () => {
    for (const newSession of [undefined, true]) {
      const { sys, run } = setup(newSession === undefined ? {} : { newSession });
      run();
      expect(sys.calls).toEqual([{ op: 'setsid' }]);
      expect(sys.session).toEqual({ sid: 1, groupLeader: true, terminal: false });
    }
  });

  test('the process the user started (newSession false): it keeps its process group and gives its terminal up (TIOCNOTTY)', () => {
    const { sys, run } = setup({ newSession: false });
    run();
    expect(sys.calls).toEqual([
      { op: 'open', path: '/dev/tty', flags: TTY_FLAGS, mode: 0 },
      { op: 'getsid' },
      { op: 'getpid' },
      { op: 'releaseTerminal', fd: 100 },
      { op: 'close', fd: 100 },
    ]);
    expect(sys.session).toEqual({ sid: 4000, groupLeader: false, terminal: false });
  });

  test('a process group leader, which setsid refuses (EPERM), gives its terminal up instead', () => {
    const { sys, log, run } = setup({}, { groupLeader: true });
    run();
    expect(sys.calls.map((c) => c.op)).toEqual(['setsid', 'open', 'getsid', 'getpid', 'releaseTerminal', 'close']);
    expect(sys.session.terminal).toBe(false);
    expect(log.entries.filter((e) => e.meta.plugin === 'session').map((e) => [e.level, e.message])).toEqual([
      ['debug', 'setsid: EPERM, this process leads its process group (or, a relaunch cli/run.ts started, its session already); it gives up any controlling terminal instead'],
    ]);
  });

  test('no controlling terminal (ENXIO) or no /dev/tty: nothing to give up', () => {
    const none = setup({ newSession: false }, { terminal: false });
    none.run();
    expect(none.sys.calls).toEqual([{ op: 'open', path: '/dev/tty', flags: TTY_FLAGS, mode: 0 }]);
    const bare = new FakeSyscalls();
    new Orchestrator(bare, memoryLogger(), [], [new SessionStep(bare)]).run(makeConfig({ newSession: false }), { checkClaims: false });
    expect(bare.calls.map((c) => c.op)).toEqual(['open']);
  });

  test('a session leader keeps its terminal: giving it up would hang up its session, which is the container\'s own', () => {
    const { sys, log, run } = setup({ newSession: false }, { sid: 1 });
    run();
    expect(sys.calls.map((c) => c.op)).toEqual(['open', 'getsid', 'getpid', 'close']);
    expect(sys.session.terminal).toBe(true);
    expect(log.entries.filter((e) => e.meta.plugin === 'session').map((e) => [e.level, e.message])).toEqual([
      ['debug', 'this process leads its session: it keeps its controlling terminal, which giving up would hang up the session'],
    ]);
  });

  test('process.terminal: the container keeps the terminal it was started on, nothing is called', () => {
    const config = makeConfig();
    const { sys, run } = setup({ process: { ...config.process, terminal: true } });
    run();
    expect(sys.calls).toEqual([]);
  });

  test('a failure other than EPERM stops the run, naming the call; so does a failed TIOCNOTTY', () => {
    const refused = setup();
    refused.sys.failOn('setsid', 'EINVAL');
    expect(refused.run).toThrow('prepare-root: plugin session: setsid: EINVAL');
    const stuck = setup({ newSession: false });
    stuck.sys.failOn('releaseTerminal', 'EIO');
    expect(stuck.run).toThrow('prepare-root: plugin session: ioctl "TIOCNOTTY": EIO');
    expect(stuck.sys.calls.at(-1)).toEqual({ op: 'close', fd: 100 });
  });
});
