"""A console socket for tests, as a runtime's caller keeps one (runc --console-socket):
listens on a unix socket, receives the pseudo-terminal master a runtime sends (one
message, the descriptor as SCM_RIGHTS), reads everything the container writes to its
terminal until the container is gone, and writes a JSON report: the message, whether a
descriptor came, and the output.

usage: console-receiver.py SOCKET REPORT
"""
import array
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
if fds:
    # Reading the master ends with EIO once no process holds the terminal any more.
    while True:
        try:
            chunk = os.read(fds[0], 4096)
        except OSError:
            break
        if not chunk:
            break
        output += chunk
with open(report, "w") as f:
    json.dump({"message": data.decode(), "fds": len(fds), "output": output.decode(errors="replace")}, f)
