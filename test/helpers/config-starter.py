"""Starts its arguments as a relaunch's starter does, with descriptor 5 a unix stream
socket on which it sends DATA (latin-1) and then ends, the way a starter killed
(SIGKILL) while it writes config.json ends: `end` shuts its side down at once; `reset`
waits for the line the relaunch writes there first thing and closes with it unread,
which resets the relaunch's side (unix(7): its next read fails with ECONNRESET). Passes
the child's standard error through, and exits with its status.

usage: config-starter.py end|reset DATA PROGRAM [ARG...]
"""
import os
import select
import socket
import subprocess
import sys

mode, data, argv = sys.argv[1], sys.argv[2].encode('latin-1'), sys.argv[3:]
here, there = socket.socketpair()
os.dup2(there.fileno(), 5)
there.close()
child = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, pass_fds=(5,))
os.close(5)
here.sendall(data)
if mode == 'reset':
    select.select([here], [], [], 60)
else:
    here.shutdown(socket.SHUT_WR)
here.close()
sys.exit(child.wait())
