"""A unix socket server for tests: signals the process that connects, then reads what it
sends until the connection ends (a seccomp agent's socket takes the listener that way).
The connecting process is known from SO_PEERCRED (socket(7)).

usage: signal-on-connect.py SOCKET SIGNUM
"""
import os
import socket
import struct
import sys

path, signum = sys.argv[1], int(sys.argv[2])
server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
server.bind(path)
server.listen(1)
print("ready", flush=True)
conn, _ = server.accept()
# struct ucred: pid_t pid, uid_t uid, gid_t gid.
pid, _, _ = struct.unpack("=iII", conn.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, 12))
os.kill(pid, signum)
print("signalled %d" % pid, flush=True)
while conn.recv(65536):
    pass
