/**
 * The real port's cache of built seccomp programs (the pure parts: ../seccomp/cache.ts).
 * A record is one file per key, written under a temporary name and renamed into place, so
 * that a reader sees a whole record or none; a run that finds none, or one it cannot
 * use, builds the filter and writes it. Nothing here fails a run: a cache that cannot be
 * used is only told of (SeccompCompiled.cache, logged at debug level).
 */
import fs = require('fs');
import { constants } from 'os';
import path = require('path');
import { O_CLOEXEC, O_CREAT, O_EXCL, O_NOFOLLOW, O_NONBLOCK, O_RDONLY, O_WRONLY } from '../constants';
import { SyscallError, errnoNumber } from '../errors';
import { CACHE_MAX_RECORD_BYTES, CACHE_MAX_RECORDS, decodeRecord, encodeRecord, isRecordName, isTemporaryName, untrusted } from '../seccomp/cache';
import { overflowUidOf } from '../task-limits';
import type { FileKind, SeccompCompiled } from './types';


function kindOf(st: fs.Stats): FileKind {
  if (st.isDirectory()) return 'dir';
  if (st.isFile()) return 'file';
  if (st.isSymbolicLink()) return 'symlink';
  if (st.isCharacterDevice()) return 'char';
  if (st.isBlockDevice()) return 'block';
  if (st.isFIFO()) return 'fifo';
  return 'socket';
}

const shape = (st: fs.Stats) => ({ kind: kindOf(st), uid: st.uid, perm: st.mode & 0o7777 });

/**
 * A failure as a line: a Node fs call's as this port names failures (the call, its errno
 * name, the path), any other's message: also one with a code of Node's own, which is no
 * errno name (ERR_FS_EISDIR, ERR_FS_FILE_TOO_LARGE), where naming it would throw.
 */
function reason(err: unknown): string {
  const e = err as NodeJS.ErrnoException;
  if (typeof e.code === 'string' && typeof e.syscall === 'string' && Object.hasOwn(constants.errno, e.code)) return new SyscallError(e.syscall, errnoNumber(e.code), e.path ? [e.path] : []).message;
  return err instanceof Error ? err.message : String(err);
}

/**
 * `dir`, made if missing (0711), when it and every directory above it can be trusted
 * (untrusted()); otherwise why not.
 */
function trustedDirectory(dir: string, euid: number): string | undefined {
  const parts = dir.split('/').filter((p) => p !== '');
  let at = '/';
  for (let i = 0; i <= parts.length; i++) {
    if (i > 0) at = `${at === '/' ? '' : at}/${parts[i - 1]}`;
    let st: fs.Stats;
    try {
      st = fs.lstatSync(at);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') return reason(err);
      try {
        // Searchable by others, as records are readable: the root of a user namespace of other host ids reads them by name (LinuxSyscallsOptions.seccompCacheVouched).
        fs.mkdirSync(at, 0o711);
      } catch (mkErr) {
        // Another run made it since the lstat: what is there now is judged as if it had been found.
        if ((mkErr as NodeJS.ErrnoException).code !== 'EEXIST') return reason(mkErr);
      }
      try {
        st = fs.lstatSync(at);
      } catch (again) {
        return reason(again);
      }
    }
    const why = untrusted(at, shape(st), euid, i === parts.length ? 'cache-dir' : 'dir');
    if (why) return why;
  }
  return undefined;
}

/** Whether `dir` (absolute) can be trusted as a cache here (trustedDirectory, which makes it if missing). */
export function trustedCacheDirectory(dir: string): boolean {
  return trustedDirectory(dir, process.geteuid?.() ?? 0) === undefined;
}

/** The record at `file`, or why none could be used; `unmapped` as untrusted() takes it. */
function readRecord(file: string, key: string, euid: number, unmapped: number | undefined): SeccompCompiled | string {
  let fd: number;
  try {
    // O_NONBLOCK: open(2) of a FIFO planted there would wait for a writer; it is then refused as no regular file.
    fd = fs.openSync(file, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no record' : reason(err);
  }
  try {
    const st = fs.fstatSync(fd);
    const why = untrusted(file, shape(st), euid, 'file', unmapped);
    if (why) return why;
    if (st.size > CACHE_MAX_RECORD_BYTES) return `${file} holds ${st.size} bytes`;
    return decodeRecord(fs.readFileSync(fd, 'utf8'), key);
  } catch (err) {
    return reason(err);
  } finally {
    fs.closeSync(fd);
  }
}

/** unlink(2) of `file`, which another run emptying the directory at the same time may have unlinked first. */
function unlinkGone(file: string): void {
  try {
    fs.unlinkSync(file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
}

/**
 * Writes the record for `key`; a directory already holding CACHE_MAX_RECORDS records and
 * files being written (those of runs killed before their rename stay) is emptied of them
 * first. A run whose file is removed meanwhile stores nothing: its rename fails.
 */
function writeRecord(dir: string, key: string, compiled: SeccompCompiled): string | undefined {
  const file = path.join(dir, `${key}.json`);
  // A name of this run's own: every run in a new pid namespace has pid 1.
  const { randomBytes } = require('crypto') as typeof import('crypto');
  const temp = path.join(dir, `.${key}.${randomBytes(8).toString('hex')}`);
  let created = false;
  try {
    const files = fs.readdirSync(dir).filter((name) => isRecordName(name) || isTemporaryName(name));
    if (files.length >= CACHE_MAX_RECORDS) for (const name of files) unlinkGone(path.join(dir, name));
    const fd = fs.openSync(temp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0o644);
    created = true;
    try {
      fs.writeFileSync(fd, encodeRecord(key, compiled));
    } finally {
      fs.closeSync(fd);
    }
    fs.renameSync(temp, file);
    return undefined;
  } catch (err) {
    if (created) {
      try {
        fs.rmSync(temp, { force: true });
      } catch {
        // The record was not stored either way; that is what is told.
      }
    }
    return reason(err);
  }
}

/**
 * The program for the key `keyOf()` gives from the cache in `dir`, or `build()`'s, written
 * there for the next run. `cache` on the result tells which, or why the cache was not
 * used; nothing about the cache throws (a failure of `build` does). `vouched`: the
 * directories were found trusted from outside this process's user namespace
 * (LinuxSyscallsOptions.seccompCacheVouched), and are not walked again here.
 */
export function compileCached(dir: string, keyOf: () => string, build: () => SeccompCompiled, vouched = false): SeccompCompiled {
  const euid = process.geteuid?.() ?? 0;
  // Checked and used as the same path: a relative one would be checked from / and used from the cwd.
  if (!path.isAbsolute(dir)) return { ...build(), cache: `cache not used: ${dir} is not an absolute path` };
  let key: string;
  try {
    key = keyOf();
  } catch (err) {
    return { ...build(), cache: `cache not used: ${reason(err)}` };
  }
  const file = path.join(dir, `${key}.json`);
  const distrust = vouched ? undefined : trustedDirectory(dir, euid);
  if (distrust) return { ...build(), cache: `cache not used: ${distrust}` };
  const found = readRecord(file, key, euid, vouched ? overflowUidOf((f) => fs.readFileSync(f, 'utf8')) : undefined);
  if (typeof found !== 'string') return { ...found, cache: `from the cache: ${file}` };
  const compiled = build();
  const failed = writeRecord(dir, key, compiled);
  return { ...compiled, cache: failed ? `${found}; not stored: ${failed}` : `${found}; stored in the cache: ${file}` };
}
