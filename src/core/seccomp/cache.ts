/**
 * The cache of built seccomp programs: pure parts (the key, the record, which directories
 * can be trusted). libseccomp's work is most of what a profile costs a run (bench/README.md,
 * section 5), and platforms start container after container with the same profile, so the
 * real port keeps what it built in a directory (syscalls/seccomp-cache.ts), as crun keeps
 * its own under its state directory.
 *
 * A record is used only when everything that decides libseccomp's program is the same:
 * the filter (action, architectures, rules, layout, names), mountkit's version, and the
 * `identity` the port gives (libseccomp's version, its API level, which it reads from the
 * kernel, and the kernel's release, version and machine). The config fields named in
 * errors are left out: they change nothing in the program.
 */
import type { FileStat, SeccompCompiled, SeccompFilter } from '../syscalls/types';
import { BPF_MAXINSNS, SOCK_FILTER_SIZE } from './enosys';

/** Changes whenever what a record holds, or how a filter is built from the same input, changes. */
export const CACHE_FORMAT = 'mountkit-seccomp/2';
/** A directory holding this many records and files being written is emptied of them before the next record is written. */
export const CACHE_MAX_RECORDS = 64;
/** Larger files are not records: a program of BPF_MAXINSNS instructions in base64, and its lists. */
export const CACHE_MAX_RECORD_BYTES = 256 * 1024;

const KEY = /^[0-9a-f]{64}$/;
const S_IWGRP = 0o020;
const S_IWOTH = 0o002;
const S_ISVTX = 0o1000;

/** The record's file name: the key, hex sha256 of everything that decides the program. */
export function cacheKey(filter: SeccompFilter, identity: string, version: string): string {
  const input = {
    format: CACHE_FORMAT,
    version,
    identity,
    defaultAction: filter.defaultAction,
    architectures: filter.architectures.map((a) => a.arch),
    rules: filter.rules.map((r) => [r.syscall, r.action, r.args.map((a) => [a.arg, a.op, a.datumA.toString(), a.datumB.toString()])]),
    binaryTree: filter.binaryTree,
    names: filter.names,
  };
  // Required here: loading Node's crypto (OpenSSL's start) takes about 3 ms, which a run without a profile never needs.
  const { createHash } = require('crypto') as typeof import('crypto');
  return createHash('sha256').update(JSON.stringify(input)).digest('hex');
}

/** Whether `name` is a record's file name (what eviction may remove). */
export function isRecordName(name: string): boolean {
  return name.endsWith('.json') && KEY.test(name.slice(0, -5));
}

const TEMPORARY = /^\.[0-9a-f]{64}\.[0-9a-f]+$/;

/**
 * Whether `name` is the name a record is written under before its rename (`.KEY.SUFFIX`):
 * a run killed in between leaves it, and eviction removes it with the records.
 */
export function isTemporaryName(name: string): boolean {
  return TEMPORARY.test(name);
}

interface Record {
  format: string;
  key: string;
  program: string;
  nativeArch: number;
  unknown: string[];
  lastSyscalls: { arch: number; nr: number }[];
}

export function encodeRecord(key: string, compiled: SeccompCompiled): string {
  const record: Record = {
    format: CACHE_FORMAT,
    key,
    program: Buffer.from(compiled.program.buffer, compiled.program.byteOffset, compiled.program.byteLength).toString('base64'),
    nativeArch: compiled.nativeArch,
    unknown: compiled.unknown,
    lastSyscalls: compiled.lastSyscalls,
  };
  return JSON.stringify(record);
}

const isUint32 = (v: unknown): v is number => Number.isInteger(v) && (v as number) >= 0 && (v as number) <= 0xffffffff;

/**
 * The compiled filter a record holds, or why it is not one for `key` (a file cut short
 * by a crash, another format, another key, a program of a size the kernel would refuse).
 */
export function decodeRecord(text: string, key: string): SeccompCompiled | string {
  let r: Partial<Record>;
  try {
    r = JSON.parse(text) as Partial<Record>;
  } catch {
    return 'not JSON';
  }
  if (typeof r !== 'object' || r === null) return 'not a record';
  if (r.format !== CACHE_FORMAT) return `format ${JSON.stringify(r.format)}, not ${CACHE_FORMAT}`;
  if (r.key !== key) return 'another key';
  if (typeof r.program !== 'string' || !/^[A-Za-z0-9+/]*={0,2}$/.test(r.program)) return 'no program';
  const program = Buffer.from(r.program, 'base64');
  if (program.length === 0 || program.length % SOCK_FILTER_SIZE !== 0 || program.length > BPF_MAXINSNS * SOCK_FILTER_SIZE) {
    return `a program of ${program.length} bytes`;
  }
  if (!isUint32(r.nativeArch)) return 'no native architecture';
  if (!Array.isArray(r.unknown) || !r.unknown.every((n) => typeof n === 'string')) return 'no list of unknown names';
  const last = r.lastSyscalls;
  if (!Array.isArray(last) || !last.every((l) => typeof l === 'object' && l !== null && isUint32(l.arch) && isUint32(l.nr))) return 'no largest numbers';
  return {
    program: new Uint8Array(program.buffer, program.byteOffset, program.length),
    nativeArch: r.nativeArch,
    unknown: r.unknown,
    lastSyscalls: last.map((l) => ({ arch: l.arch, nr: l.nr })),
  };
}

/**
 * Why a file on the cache's path cannot be trusted, or undefined: a record is loaded into
 * the container's filter, so no other user may be able to put one in the cache directory
 * or move a directory on its path away. Each must be owned by root or by this process's
 * user and writable by no one else; a directory above the cache's may be sticky instead
 * (/tmp: others cannot rename or remove what they do not own). `want` is the kind it must
 * be: a symlink is never followed. `unmapped`: the overflow uid, taken as an owner too
 * for a record in a directory vouched for from outside this process's user namespace
 * (compileCached): the kernel shows every owner the namespace does not map, the host's
 * root among them, as that uid (user_namespaces(7)).
 */
export function untrusted(path: string, st: Pick<FileStat, 'kind' | 'uid' | 'perm'>, euid: number, want: 'dir' | 'cache-dir' | 'file', unmapped?: number): string | undefined {
  const kind = want === 'file' ? 'file' : 'dir';
  const word = (k: string) => (k === 'dir' ? 'directory' : k === 'file' ? 'regular file' : k);
  if (st.kind !== kind) return `${path} is a ${word(st.kind)}, not a ${word(kind)}`;
  if (st.uid !== 0 && st.uid !== euid && st.uid !== unmapped) return `${path} is owned by uid ${st.uid}`;
  const sticky = want === 'dir' && (st.perm & S_ISVTX) !== 0;
  if (st.perm & (S_IWGRP | S_IWOTH) && !sticky) return `${path} is writable by ${st.perm & S_IWOTH ? 'others' : 'its group'}`;
  return undefined;
}
