/**
 * The control message that passes one descriptor with sendmsg(2) (unix(7), SCM_RIGHTS;
 * cmsg(3)): a struct cmsghdr (size_t cmsg_len, int cmsg_level, int cmsg_type) followed by
 * the int, padded to the size_t alignment. Built once for both senders of the real port:
 * LinuxSyscalls.sendFdMessage on the main thread, and the fd-sender thread, which is
 * given it with the descriptor left out and writes that in at SCM_RIGHTS_FD_OFFSET.
 */

/** SOL_SOCKET and SCM_RIGHTS, include/uapi/asm-generic/socket.h and include/linux/socket.h: both 1. */
const SOL_SOCKET = 1;
const SCM_RIGHTS = 1;

/**
 * CMSG_LEN(sizeof(int)) on a 64-bit kernel: the 16-byte header and the int. As a
 * receiver's msg_controllen it takes one descriptor at most: the kernel installs as many
 * as the room after the header holds and releases the rest (scm_detach_fds(), with
 * MSG_CTRUNC), where CMSG_SPACE's padding would hold a second.
 */
export const CMSG_LEN_INT = 20;

/** CMSG_SPACE(sizeof(int)): the message with its padding, what msg_controllen counts. */
export const SCM_RIGHTS_SPACE = 24;

/** Where the descriptor sits (CMSG_DATA). */
export const SCM_RIGHTS_FD_OFFSET = 16;

/** The control message passing `fd`, in the machine's byte order (`little`: little-endian). */
export function scmRightsControl(fd: number, little: boolean): Buffer {
  const control = Buffer.alloc(SCM_RIGHTS_SPACE);
  const view = new DataView(control.buffer, control.byteOffset, control.byteLength);
  view.setBigUint64(0, BigInt(CMSG_LEN_INT), little);
  view.setInt32(8, SOL_SOCKET, little);
  view.setInt32(12, SCM_RIGHTS, little);
  view.setInt32(SCM_RIGHTS_FD_OFFSET, fd, little);
  return control;
}

/**
 * The descriptor a received control message passed (recvmsg(2) filled `control`, zeroed
 * before): the first SCM_RIGHTS message's first int, or undefined when there is none.
 */
export function scmRightsFd(control: Uint8Array, little: boolean): number | undefined {
  if (control.length < SCM_RIGHTS_SPACE) return undefined;
  const view = new DataView(control.buffer, control.byteOffset, control.byteLength);
  const len = view.getBigUint64(0, little);
  if (len < BigInt(CMSG_LEN_INT) || view.getInt32(8, little) !== SOL_SOCKET || view.getInt32(12, little) !== SCM_RIGHTS) return undefined;
  return view.getInt32(SCM_RIGHTS_FD_OFFSET, little);
}
