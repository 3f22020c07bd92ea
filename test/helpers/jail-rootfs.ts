import { execFileSync } from 'child_process';
import { mkdirSync, symlinkSync, writeFileSync } from 'fs';
import * as path from 'path';
import type { MountSpec } from '../../src/core/config/model';
import { O_DIRECTORY, O_RDONLY, O_RDWR } from '../../src/core/constants';
import { makeMount } from './config';

/** Absolute paths of the lifecycle plugin folders, for realRun's `plugins`. */
export const PLUGIN_DIR = path.resolve(__dirname, '../../src/plugins');
export const PREPARE_ROOT = path.join(PLUGIN_DIR, 'prepare-root');
export const JAIL = path.join(PLUGIN_DIR, 'jail');
export const AFTER_JAIL = path.join(PLUGIN_DIR, 'after-jail');

/** The fd the beforeJail hook keeps on the host's `/`, open across the jail. */
export const OLD_ROOT_FD = 99;

/** Entries of the rootfs that jailRootfs() builds, sorted. */
export const ROOTFS_ENTRIES = ['dev', 'etc', 'kproc', 'proc', 'work'];

/**
 * A small rootfs for jail tests: `proc` is a symlink to `kproc`, where the proc mount
 * (PROC_MOUNT, for the default handler, which refuses /proc itself) goes, so that the
 * post-run report can read /proc/self/mountinfo after the jail. dev/null is a real
 * 1:3 node made here, standing in for what the /dev plugin makes.
 */
export function jailRootfs(rootfs: string): void {
  for (const d of ['dev', 'etc', 'kproc', 'work']) mkdirSync(path.join(rootfs, d), { recursive: true });
  symlinkSync('kproc', path.join(rootfs, 'proc'));
  writeFileSync(path.join(rootfs, 'etc/hostname'), 'jailed\n');
  execFileSync('mknod', ['-m', '666', path.join(rootfs, 'dev/null'), 'c', '1', '3']);
}

export const PROC_MOUNT: MountSpec = makeMount({ index: 0, type: 'proc', source: 'proc', destination: '/kproc' });

/**
 * A beforeJail hook body (run in the child, still outside the rootfs): duplicates a
 * descriptor of the host's `/` onto OLD_ROOT_FD, so that afterwards
 * /proc/self/fd/OLD_ROOT_FD/... reaches the old root and /proc/self/fdinfo/OLD_ROOT_FD
 * names its mount; with `devNullStdin`, also makes stdin the host's /dev/null.
 */
export function keepOldRootHook(devNullStdin = false): string {
  return `
const { LinuxSyscalls } = require('./src/core/syscalls/linux');
const s = new LinuxSyscalls();
const keep = (p, flags, fd) => { const t = s.open(p, flags, 0); s.dup3(t, fd, 0); s.close(t); };
keep('/', ${O_DIRECTORY | O_RDONLY}, ${OLD_ROOT_FD});
${devNullStdin ? `keep('/dev/null', ${O_RDWR}, 0);` : ''}
`;
}

/** The mount id an fd's file lives on, from /proc/self/fdinfo/N text. */
export function fdMountId(fdinfo: string): number {
  const m = /^mnt_id:\s*(\d+)$/m.exec(fdinfo);
  if (!m) throw new Error(`no mnt_id in fdinfo: ${fdinfo}`);
  return Number(m[1]);
}
