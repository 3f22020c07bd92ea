import { relaunchEnd } from '../../src/cli/relaunch-end';

const KILLED = "unable to start the container's process: the process preparing the rootfs was killed by";

describe('relaunchEnd: how mountkit run ends once its relaunch has ended', () => {
  test.each([
    // The program started (the exec event came): the container's status, 128+N for signal N, as runc 1.1.5.
    ['started, exited 0', { status: 0, signal: null }, false, true, { status: 0 }],
    ['started, exited 3', { status: 3, signal: null }, false, true, { status: 3 }],
    ['started, killed (SIGKILL: an OOM kill, kill -9)', { status: null, signal: 'SIGKILL' }, false, true, { status: 137 }],
    ['started in a new pid namespace, killed: the forking shell exits 137', { status: 137, signal: null }, true, true, { status: 137 }],
    ['started, killed by SIGTERM', { status: null, signal: 'SIGTERM' }, false, true, { status: 143 }],
    // Before the program: the relaunch's own failure (it told its error) keeps its status.
    ['not started, failed (1)', { status: 1, signal: null }, false, false, { status: 1 }],
    ['not started, refused config (2)', { status: 2, signal: null }, true, false, { status: 2 }],
    ['not started, no exec step (0)', { status: 0, signal: null }, false, false, { status: 0 }],
    // A status above 128 is a signal only from the forking shell; the relaunch spawned itself never exits so.
    ['not started, exited 137 by itself (no fork)', { status: 137, signal: null }, false, false, { status: 137 }],
    // Killed before the program: a runtime error naming the signal (exit 1), as runc 1.1.5's "unable to start container process".
    ['not started, killed by SIGKILL', { status: null, signal: 'SIGKILL' }, false, false, { error: `${KILLED} SIGKILL` }],
    ['not started, killed by SIGSEGV', { status: null, signal: 'SIGSEGV' }, false, false, { error: `${KILLED} SIGSEGV` }],
    ['not started in a new pid namespace, PID 1 killed: the shell exits 137', { status: 137, signal: null }, true, false, { error: `${KILLED} SIGKILL` }],
    ['not started in a new pid namespace, the shell itself killed', { status: null, signal: 'SIGKILL' }, true, false, { error: `${KILLED} SIGKILL` }],
    ['not started in a new pid namespace, a status naming no signal', { status: 255, signal: null }, true, false, { status: 255 }],
  ] as const)('%s', (_name, exit, forks, started, expected) => expect(relaunchEnd(exit, forks, started)).toEqual(expected));
});
