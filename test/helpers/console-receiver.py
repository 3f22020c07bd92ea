"""A console socket for tests, as a runtime's caller keeps one (runc --console-socket):
listens on a unix socket, receives the pseudo-terminal master a runtime sends (one
message, the descriptor as SCM_RIGHTS), reads everything the container writes to its
terminal until the container is gone, and writes a JSON report: the message, whether a
descriptor came, the output, and how reading it ended.

usage: console-receiver.py SOCKET REPORT
"""
import array
import errno
import json
import os
import socket
import sys

path, report = sys.argv[1], sys.argv[2]
server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
server.bind(path)
server.listen(1)
print("ready", flush=True)
conn, _ = server.accept()
data, ancillary, _, _ = conn.recvmsg(4096, socket.CMSG_SPACE(4))
fds = array.array("i")
for level, kind, payload in ancillary:
    if level == socket.SOL_SOCKET and kind == socket.SCM_RIGHTS:
        fds.frombytes(payload[: len(payload) - len(payload) % fds.itemsize])
output = b""
# How reading ended: "EIO" is the end of the output (pty(7): once no process holds the
# terminal, after what was written to it: n_tty_read runs the flip buffer's work before it
# answers EIO); anything else (EAGAIN, a read of 0 bytes) cut it short.
end = None
# What a read after that EIO still gave, which a terminal never holds: EIO came too soon.
late = b""
if fds:
    while True:
        try:
            chunk = os.read(fds[0], 4096)
        except OSError as err:
            end = errno.errorcode.get(err.errno, str(err.errno))
            break
        if not chunk:
            end = "EOF"
            break
        output += chunk
    if end == "EIO":
        # Non-blocking: a process that opened the terminal again since would make it wait.
        os.set_blocking(fds[0], False)
        try:
            late = os.read(fds[0], 4096)
        except OSError:
            pass
with open(report, "w") as f:
    json.dump({"message": data.decode(), "fds": len(fds), "output": output.decode(errors="replace"), "end": end, "late": late.decode(errors="replace")}, f)
