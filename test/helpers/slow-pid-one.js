'use strict';
/**
 * Preloaded with NODE_OPTIONS=--require: in PID 1 of a pid namespace, holds Node for
 * 1.5 s before its script runs, the time in which mountkit has not set its parent-death
 * signal yet. Elsewhere (the Node entry's first process) it does nothing.
 */
if (process.pid === 1) Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 1500);
