'use strict';
/**
 * Preloaded with NODE_OPTIONS=--require: in `run`'s first process (not the relaunched
 * one), holds Node for 1 s the first time process.stderr is read, before Node makes it
 * (and makes a pipe there non-blocking): what a busy machine can do to that process
 * while the relaunch goes on. Elsewhere it does nothing.
 */
if (process.env.MOUNTKIT_RELAUNCHED === undefined) {
  const made = Object.getOwnPropertyDescriptor(process, 'stderr');
  Object.defineProperty(process, 'stderr', {
    configurable: true,
    enumerable: made.enumerable,
    get() {
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 1000);
      Object.defineProperty(process, 'stderr', made);
      return made.get.call(process);
    },
  });
}
