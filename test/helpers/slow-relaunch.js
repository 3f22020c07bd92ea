'use strict';
/**
 * Preloaded with NODE_OPTIONS=--require: in the relaunched mountkit that is not PID 1 of
 * a pid namespace, holds Node for 1.5 s before its script runs, the time in which its
 * signal listeners are not there yet (Node resets the signals it was started ignoring to
 * their default as it starts, and unblocks every one but SIGUSR1). Elsewhere (the first
 * process, PID 1 of a new pid namespace) it does nothing.
 */
if (process.env.MOUNTKIT_RELAUNCHED !== undefined && process.pid !== 1) Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 1500);
