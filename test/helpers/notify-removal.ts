import { AT_REMOVEDIR } from '../../src/core/constants';

/**
 * The calls that remove the NOTIFY_SOCKET relay's socket and directories once its socket
 * is closed (core/notify-socket.ts): through the two directories it holds open (`held`:
 * the run's directory `parent`, then the socket's), then `parent` by path, then the
 * descriptors closed: the copy of the socket's directory (`tree`) where one was made,
 * then the two directories'.
 */
export function relayRemoval(parent: string, [parentFd, dirFd]: readonly number[], tree?: number): object[] {
  return [
    { op: 'unlinkat', dirfd: dirFd, path: 'notify.sock', flags: 0 },
    { op: 'unlinkat', dirfd: parentFd, path: 'notify', flags: AT_REMOVEDIR },
    { op: 'rmdir', path: parent },
    ...(tree === undefined ? [] : [{ op: 'close', fd: tree }]),
    { op: 'close', fd: dirFd },
    { op: 'close', fd: parentFd },
  ];
}
