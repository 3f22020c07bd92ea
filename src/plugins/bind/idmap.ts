import type { MountIdmap, MountSpec } from '../../core/config/model';
import { MS_REC } from '../../core/constants';
import { StepError, naming } from '../../core/errors';
import { NO_MAPPINGS } from '../../core/idmap';
import { attachTree, idmappedTree } from '../../core/idmapped-tree';
import { answerResult, eventLine } from '../../core/runtime-channel';
import { keptForRun } from '../../core/mounting';
import type { Syscalls } from '../../core/syscalls/types';

/**
 * An idmapped bind of `m.source` onto the target open as `targetFd`, in place of the
 * mount(2) of a plain bind: a detached copy of the source (with its submounts for rbind),
 * mapped through the mount's own mappings (with every mount of the copy for ridmap; else
 * its top one) and attached (core/idmapped-tree.ts). Its descriptor, which names the
 * mount attached, is the caller's to close: the flags, propagation and recursive
 * attributes come after, through it (afterAttach), as for any bind.
 */
export function mountIdmapped(sys: Syscalls, m: MountSpec, idmap: MountIdmap, targetFd: number, shared: Map<string, unknown>): number {
  const { uidMappings: uid, gidMappings: gid } = idmap;
  if (!uid || !gid) throw new StepError(NO_MAPPINGS);
  // One user namespace per set of mappings for the run, as runc keeps one: each costs a helper process.
  const userns = keptForRun(shared, `userns ${JSON.stringify([uid, gid])}`, () => sys.userNamespace(uid, gid));
  const tree = idmappedTree(sys, m.source, (m.flags & MS_REC) !== 0n, idmap.recursive, userns);
  try {
    attachTree(sys, tree, m.source, targetFd);
  } catch (err) {
    sys.close(tree);
    throw err;
  }
  return tree;
}

/**
 * The idmapped copy of `m.source` that mountkit's first process makes from inside this
 * process's mount namespace (core/idmapped-tree.ts, sendIdmappedCopy), for a process
 * that is a user namespace's root and may not map a host filesystem itself: asked for
 * with the runtime channel's "idmap" event by the mount's index, received on the idmap
 * socket (RootfsConfig.idmapSocket), tagged with that index. The caller attaches it
 * (attachTree) and closes it.
 */
export function requestIdmapped(sys: Syscalls, m: MountSpec, channel: number, socket: number): number {
  naming('the runtime channel: the idmapped copy', () => answerResult(sys.exchange(channel, eventLine('idmap', m.index))));
  const { data, fd } = naming('the idmap socket', () => sys.recvFdMessage(socket));
  if (fd !== undefined && data === String(m.index)) return fd;
  if (fd !== undefined) sys.close(fd);
  throw new StepError(`the idmap socket: the first process sent ${fd === undefined ? 'no copy' : `the copy of another mount (${JSON.stringify(data)})`} for mount ${m.index}`);
}
