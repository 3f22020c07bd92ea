/**
 * The idmapped copies `mountkit run`'s first process makes for a relaunch into a user
 * namespace, at its bind handler's "idmap" event (core/runtime-hooks.ts). The relaunched
 * process is that namespace's root, and mount_setattr(2) maps a host filesystem only
 * for a caller with CAP_SYS_ADMIN in the initial user namespace; this process has it, but
 * a copy made in its own mount namespace would not carry the locks a copy made in the
 * container's keeps (core/idmapped-tree.ts), so that a read-only host bind could be made
 * writable inside. The copy is made as runc 1.2 makes it: by a process of the initial
 * user namespace in the container's mount namespace. A multithreaded process cannot join
 * a mount namespace (setns(2): EINVAL when it shares CLONE_FS), so nsenter(1) joins it
 * and starts this file's main there, which makes the copy through the relaunched
 * process's user namespace (/proc/PID/ns/user) or one of the mount's own mappings, and
 * sends it on the idmap socket, tagged with the mount's index.
 */
import * as path from 'path';
import type { RootfsConfig } from '../core/config/model';
import { SyscallError, errnoNumber } from '../core/errors';
import { idmapCopyRequest, sendIdmappedCopy, type IdmapCopyRequest } from '../core/idmapped-tree';

/** The helper's descriptor for the idmap socket. */
const SOCKET_FD = 3;

/**
 * Makes the idmapped copy of the config's mount `index` (idmapCopyRequest) in the mount
 * namespace of the relaunched process `pid` and sends it on `socket`. A failure is thrown
 * as the helper's SyscallError.
 */
export function makeIdmapCopy(config: Pick<RootfsConfig, 'mounts'>, index: number, pid: number | undefined, socket: number): void {
  const request = idmapCopyRequest(config, index, pid);
  // Required here: child_process loads Node's net and stream modules, which a run without idmapped binds never uses.
  const { spawnSync } = require('child_process') as typeof import('child_process');
  const r = spawnSync('nsenter', [`--mount=/proc/${pid}/ns/mnt`, '--', process.execPath, path.join(__dirname, 'idmap-copy.js'), JSON.stringify(request)], {
    stdio: ['ignore', 'ignore', 'pipe', socket],
    encoding: 'utf8',
  });
  if (r.status === 0) return;
  throw failureOf(r.stderr ?? '', r.error?.message ?? `nsenter ended with ${r.signal ?? `status ${r.status}`}`);
}

/** The helper's error, from the JSON line it wrote last; else what else is known. */
function failureOf(stderr: string, otherwise: string): SyscallError {
  const last = stderr.trim().split('\n').pop() ?? '';
  try {
    const e = JSON.parse(last) as { syscall: string; code: string; paths: string[]; detail?: string };
    return new SyscallError(e.syscall, errnoNumber(e.code), e.paths, e.detail);
  } catch {
    return new SyscallError('open_tree', errnoNumber('EIO'), [], last || otherwise);
  }
}

if (require.main === module) {
  const { LinuxSyscalls } = require('../core/syscalls/linux') as typeof import('../core/syscalls/linux');
  try {
    sendIdmappedCopy(new LinuxSyscalls(), JSON.parse(process.argv[2]) as IdmapCopyRequest, SOCKET_FD);
  } catch (err) {
    const e = err instanceof SyscallError ? { syscall: err.syscall, code: err.code, paths: err.paths, detail: err.detail } : { syscall: 'open_tree', code: 'EIO', paths: [], detail: String(err) };
    process.stderr.write(`${JSON.stringify(e)}\n`);
    process.exitCode = 1;
  }
}
