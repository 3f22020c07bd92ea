'use strict';
/**
 * The floor of a Node program making mountkit's calls: replays a recorded syscall list
 * through mountkit's own port (dist/core/syscalls/linux.js, koffi) in a bare loop, with
 * no config, kernel, plugins or lookups around the calls, then execve(2)s like mountkit's
 * last call. What mountkit's pipeline costs above this is its own JavaScript; what this
 * costs above bench/replay.c is Node and koffi.
 *
 * Usage: node bench/replay-port.js LIST OUT (under the same unshare(1) as replay.c)
 *   LIST  JSON from toPortList (bench/syscall-list.ts): [[op, args, fdPositions, ret, errno], ...],
 *         args in the port's parameter order; a string "0x..." is a BigInt; fdPositions
 *         lists the arguments that hold a descriptor; ret is a returned descriptor or
 *         null, errno the error code the call failed with or null.
 *   OUT   as replay.c's, "START_NS EXEC_NS CALLS MISMATCHES FIRST_NS MOUNT_NS", FIRST_NS
 *         being when the first call returned (it loads koffi's addon and binds libc).
 *         Written just before execve.
 *
 * As in replay.c, every call is made whatever the earlier ones returned, an outcome other
 * than the recorded one counts as a mismatch (the first few are described on stderr), and
 * descriptors the recorded run got are mapped to this process's, in descriptor arguments
 * and in /proc/self/fd/N and /proc/thread-self/fd/N paths.
 */
const fs = require('fs');
const path = require('path');
const { LinuxSyscalls } = require(path.join(__dirname, '..', 'dist', 'core', 'syscalls', 'linux.js'));

const [listFile, outFile] = process.argv.slice(2);
if (!listFile || !outFile) {
  process.stderr.write('usage: replay-port.js LIST OUT\n');
  process.exit(2);
}
const calls = JSON.parse(fs.readFileSync(listFile, 'utf8'));
const out = fs.openSync(outFile, 'w');
const sys = new LinuxSyscalls();
const HEX = /^0x[0-9a-f]+$/;
const FD_LINK = /^(\/proc\/(?:self|thread-self)\/fd\/)(\d+)(.*)$/s;
let mismatches = 0;

/**
 * Each call's arguments, converted before the timed loop (a BigInt for "0x...") so that
 * the loop does no more than mountkit's port needs, and the fix-ups the loop makes: a
 * descriptor argument, or a magic link's number in a string argument or in an item of a
 * list (execve's argv and envp, as replay.c maps them), the recorded run got from an
 * earlier call is this process's descriptor of that call.
 */
const prepared = calls.map(([op, args, fdPositions, ret, errno]) => {
  const fixes = [];
  const link = (v, into, at) => {
    const m = FD_LINK.exec(v);
    if (m) fixes.push([into, at, Number(m[2]), m[1], m[3]]);
  };
  const actual = args.map((v) => (typeof v === 'string' && HEX.test(v) ? BigInt(v) : Array.isArray(v) ? v.slice() : v));
  actual.forEach((v, p) => {
    if (fdPositions.includes(p) && typeof v === 'number') fixes.push([actual, p, v, undefined, undefined]);
    else if (typeof v === 'string') link(v, actual, p);
    else if (Array.isArray(v)) v.forEach((item, i) => typeof item === 'string' && link(item, v, i));
  });
  return { op, actual, fixes, ret, errno };
});
const fdMap = new Map();

function mismatch(i, op, want, got) {
  if (++mismatches <= 5) process.stderr.write(`replay-port: call ${i} ${op}: recorded ${want}, got ${got}\n`);
}

const start = process.hrtime.bigint();
let firstEnd = 0n;
let mountStart = 0n;
for (let i = 0; i < prepared.length; i++) {
  if (i === 1) firstEnd = process.hrtime.bigint();
  const { op, actual, fixes, ret, errno } = prepared[i];
  if (op === 'mount' && mountStart === 0n) mountStart = process.hrtime.bigint();
  for (let f = 0; f < fixes.length; f++) {
    const [into, at, recorded, prefix, suffix] = fixes[f];
    const fd = fdMap.get(recorded);
    if (fd !== undefined) into[at] = prefix === undefined ? fd : prefix + fd + suffix;
  }
  if (op === 'execve') {
    fs.writeSync(out, `${start} ${process.hrtime.bigint()} ${i + 1} ${mismatches} ${firstEnd} ${mountStart}\n`);
    fs.closeSync(out);
  }
  let got;
  try {
    got = sys[op](...actual);
  } catch (err) {
    const code = err && typeof err.code === 'string' ? err.code : String(err);
    if (code !== errno) mismatch(i, op, errno ?? 'success', code);
    continue;
  }
  if (errno !== null) mismatch(i, op, errno, 'success');
  else if (ret !== null && typeof got === 'number') fdMap.set(ret, got);
}
process.stderr.write('replay-port: the list ended without an execve that worked\n');
process.exit(2);
