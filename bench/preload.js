'use strict';
/**
 * Bench-only preload (`node -r bench/preload.js bin/mountkit.js run ...`): the real CLI
 * runs unchanged and nothing in src/ knows about timing. Node forwards `-r` to the
 * process mountkit relaunches itself as (process.execArgv), where the pipeline runs.
 * Files are opened here, before any namespace or jail change, and written with
 * write(2) just before the execve(2) call (or at exit when there is none): after the
 * jail their paths are out of reach, after execve nothing is left to write them.
 *
 * MOUNTKIT_BENCH_TRACE=FILE  wraps every method of the compiled LinuxSyscalls in place
 *   and appends one JSON line: { pid, loadedMs, execMs, calls: [[op, startNs, endNs,
 *   args?, ret?, errno?], ...] }; ns from process.hrtime.bigint() (CLOCK_MONOTONIC) as
 *   hex strings, loadedMs and execMs from performance.now() (ms since the process
 *   started) when this preload ran and at the execve.
 * MOUNTKIT_BENCH_ARGS=1  also keeps each call's arguments, its result when a number
 *   (a descriptor) and the error code it failed with: a syscall-list run, not a timed one.
 * MOUNTKIT_BENCH_PROFILE=DIR  writes DIR/PID-TIME.cpuprofile: a V8 CPU profile (100 us
 *   sampling) from this preload to the execve or exit.
 * MOUNTKIT_BENCH_SPLIT=FILE  appends one JSON line of marks, ms since the process started
 *   (performance.now()): { pid, loadedMs, compile: [start, end] of the CLI bundle's
 *   vm.Script (its code cache read in), topLevelMs (the bundled modules' top levels, each
 *   counted once, nested requires in their requirer's; topLevelBeforeMountMs of them before
 *   the first mount), firstCall: [start, end] (koffi's addon loaded and libc bound), mountMs
 *   (the first mount(2)), execMs }. A few clock reads
 *   per module and one per port call: no call list is kept.
 */
const fs = require('fs');
const path = require('path');

const loadedMs = performance.now();
const flushers = [];
let flushed = false;
const flush = () => {
  if (flushed) return;
  flushed = true;
  for (const f of flushers) f();
};
process.on('exit', flush);

const profileDir = process.env.MOUNTKIT_BENCH_PROFILE;
if (profileDir) {
  const fd = fs.openSync(path.join(profileDir, `${process.pid}-${Date.now()}.cpuprofile`), 'w');
  const inspector = require('inspector');
  const session = new inspector.Session();
  session.connect();
  // The in-process inspector session answers synchronously, inside post().
  session.post('Profiler.enable');
  session.post('Profiler.setSamplingInterval', { interval: 100 });
  session.post('Profiler.start');
  flushers.push(() =>
    session.post('Profiler.stop', (err, result) => {
      if (!err) fs.writeSync(fd, JSON.stringify(result.profile));
    }),
  );
}

const traceFile = process.env.MOUNTKIT_BENCH_TRACE;
const withArgs = process.env.MOUNTKIT_BENCH_ARGS === '1';
const calls = [];
if (traceFile) {
  const fd = fs.openSync(traceFile, 'a');
  const hex = (_k, v) => (typeof v === 'bigint' ? `0x${v.toString(16)}` : v);
  flushers.unshift(() => {
    if (calls.length) fs.writeSync(fd, JSON.stringify({ pid: process.pid, loadedMs, execMs: performance.now(), calls }, hex) + '\n');
  });
}

const splitFile = process.env.MOUNTKIT_BENCH_SPLIT;
const marks = { pid: process.pid, loadedMs, compile: null, topLevelMs: 0, topLevelBeforeMountMs: 0, firstCall: null, mountMs: null, execMs: null };
if (splitFile) {
  const fd = fs.openSync(splitFile, 'a');
  flushers.push(() => {
    if (marks.execMs === null) marks.execMs = performance.now();
    fs.writeSync(fd, JSON.stringify(marks) + '\n');
  });
}

/** How many port calls are running: a method the port calls itself runs at depth 2 and more. */
let depth = 0;

/**
 * Wraps the port's methods: every call is timed when tracing; execve flushes first. Only
 * the calls made from outside the port are kept: what a method does through its own
 * methods (userNamespace's writes to the helper's /proc files, its private writeIdMap,
 * seccompCompile's compileSeccomp) is part of that call, and the time is counted once.
 */
function wrap(proto) {
  for (const op of Object.getOwnPropertyNames(proto)) {
    const original = proto[op];
    if (op === 'constructor' || typeof original !== 'function') continue;
    if (!traceFile && !splitFile && op !== 'execve') continue;
    proto[op] = function (...args) {
      if (depth > 0) return original.apply(this, args);
      depth += 1;
      try {
        return traced(op, original, this, args);
      } finally {
        depth -= 1;
      }
    };
  }
}

/** One port call made from outside the port, timed and kept in `calls` when tracing. */
function traced(op, original, port, args) {
  if (splitFile) return marked(op, original, port, args);
  const entry = [op, process.hrtime.bigint(), 0n];
  if (traceFile) calls.push(entry);
  if (withArgs) entry.push(args);
  if (op === 'execve') flush();
  try {
    const ret = original.apply(port, args);
    entry[2] = process.hrtime.bigint();
    if (withArgs) entry.push(typeof ret === 'number' ? ret : null);
    return ret;
  } catch (err) {
    entry[2] = process.hrtime.bigint();
    if (withArgs) entry.push(null, err && typeof err.code === 'string' ? err.code : String(err));
    throw err;
  }
}

/** One port call made from outside the port, in split mode: the first call's span, the first mount's start, the execve. */
function marked(op, original, port, args) {
  const start = performance.now();
  if (op === 'mount' && marks.mountMs === null) {
    marks.mountMs = start;
    marks.topLevelBeforeMountMs = marks.topLevelMs;
  }
  if (op === 'execve') {
    marks.execMs = start;
    flush();
    return original.apply(port, args);
  }
  try {
    return original.apply(port, args);
  } finally {
    if (marks.firstCall === null) marks.firstCall = [start, performance.now()];
  }
}

/** A bundled module's function, timed in split mode: its top level with what it requires, counted once at the outermost. */
let moduleDepth = 0;
function timedModule(body) {
  return function (...args) {
    const start = moduleDepth === 0 ? performance.now() : 0;
    moduleDepth += 1;
    try {
      return body.apply(this, args);
    } finally {
      moduleDepth -= 1;
      if (moduleDepth === 0) marks.topLevelMs += performance.now() - start;
    }
  };
}

// The port module is wrapped when mountkit itself first loads it, so that what loads
// when, and what it costs, stays mountkit's own: from the CLI bundle (dist/bundle/load.js
// compiles dist/cli.bundle.js with vm.Script; its value is an array of [id, deps,
// module function] entries), or from its file (MOUNTKIT_BUNDLE=0, or no bundle).
if (traceFile || profileDir || splitFile) {
  const Module = require('module');
  const vm = require('vm');
  const PORT_ID = 'dist/core/syscalls/linux.js';
  const portFile = path.join(__dirname, '..', PORT_ID);
  let wrapped = false;
  const wrapOnce = (exports) => {
    if (wrapped) return;
    wrapped = true;
    wrap(exports.LinuxSyscalls.prototype);
  };
  const Script = vm.Script;
  vm.Script = class BundleScript extends Script {
    constructor(code, options) {
      const start = performance.now();
      super(code, options);
      this.isBundle = typeof options?.filename === 'string' && options.filename.endsWith('cli.bundle.js');
      if (this.isBundle) marks.compile = [start, performance.now()];
    }
    runInThisContext(...args) {
      const entries = super.runInThisContext(...args);
      if (!this.isBundle) return entries;
      if (splitFile) for (const entry of entries) entry[2] = timedModule(entry[2]);
      for (const entry of entries) {
        if (entry[0] !== PORT_ID) continue;
        const body = entry[2];
        entry[2] = function (exports, req, module, ...rest) {
          body.call(this, exports, req, module, ...rest);
          wrapOnce(module.exports);
        };
      }
      return entries;
    }
  };
  const load = Module._load;
  Module._load = function (...args) {
    const exports = load.apply(this, args);
    const loaded = require.cache[portFile];
    if (loaded && loaded.loaded) {
      Module._load = load;
      wrapOnce(loaded.exports);
    }
    return exports;
  };
}
