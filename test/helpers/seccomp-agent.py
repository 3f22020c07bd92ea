"""A seccomp agent for tests: listens on a unix socket, receives the listener and the
container process state the runtime sends (one message, the descriptor as SCM_RIGHTS),
answers the first notification with an error, and writes what it saw as JSON.

usage: seccomp-agent.py SOCKET REPORT ERRNO
"""
import array
import fcntl
import json
import os
import socket
import struct
import sys

# include/uapi/linux/seccomp.h: _IOWR('!', 0, struct seccomp_notif) (80 bytes) and
# _IOWR('!', 1, struct seccomp_notif_resp) (24 bytes).
SECCOMP_IOCTL_NOTIF_RECV = 0xC0502100
SECCOMP_IOCTL_NOTIF_SEND = 0xC0182101

path, report, errno = sys.argv[1], sys.argv[2], int(sys.argv[3])
server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
server.bind(path)
server.listen(1)
print("ready", flush=True)
conn, _ = server.accept()
data, ancillary, _, _ = conn.recvmsg(65536, socket.CMSG_SPACE(4))
fds = array.array("i")
for level, kind, payload in ancillary:
    if level == socket.SOL_SOCKET and kind == socket.SCM_RIGHTS:
        fds.frombytes(payload)
listener = fds[0]
# struct seccomp_notif: u64 id, u32 pid, u32 flags, struct seccomp_data (int nr, u32 arch, u64 ip, u64 args[6]); zeroed before the call.
notif = bytearray(80)
fcntl.ioctl(listener, SECCOMP_IOCTL_NOTIF_RECV, notif, True)
notif_id, pid, _, nr, arch = struct.unpack_from("=QIIiI", notif)
# struct seccomp_notif_resp: u64 id, s64 val, s32 error (negative errno), u32 flags.
fcntl.ioctl(listener, SECCOMP_IOCTL_NOTIF_SEND, bytearray(struct.pack("=QqiI", notif_id, 0, -errno, 0)), True)
with open(report, "w") as out:
    json.dump({"state": json.loads(data), "fds": len(fds), "listener": os.readlink("/proc/self/fd/%d" % listener), "nr": nr, "arch": arch}, out)
