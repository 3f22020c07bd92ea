"""A service manager's sd_notify(3) socket for tests (systemd's NOTIFY_SOCKET): binds a
unix datagram socket at PATH (or, for @NAME, NAME in the abstract namespace), lets any
user send to it (mode 0777), says "listening", then prints each datagram it receives as
a JSON line, its text and the sender's pid (SCM_CREDENTIALS, as systemd checks it),
until it is killed.

usage: notify-receiver.py PATH
"""
import json
import os
import socket
import struct
import sys

path = sys.argv[1]
server = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
server.setsockopt(socket.SOL_SOCKET, socket.SO_PASSCRED, 1)
server.bind("\0" + path[1:] if path.startswith("@") else path)
if not path.startswith("@"):
    os.chmod(path, 0o777)
print("listening", flush=True)
# struct ucred: pid_t pid, uid_t uid, gid_t gid.
UCRED = struct.Struct("iII")
while True:
    data, ancillary, _, _ = server.recvmsg(4096, socket.CMSG_SPACE(UCRED.size))
    pid = None
    for level, kind, value in ancillary:
        if level == socket.SOL_SOCKET and kind == socket.SCM_CREDENTIALS:
            pid = UCRED.unpack(value[: UCRED.size])[0]
    print(json.dumps({"data": data.decode(), "pid": pid}), flush=True)
