#!/usr/bin/env python3
"""A user at a terminal, for the foreground console's tests.

Usage: pty-session.py ROWS COLS STEPS_JSON -- COMMAND...

Runs COMMAND as the session leader of a new pseudo-terminal sized ROWS x COLS (its
controlling terminal and standard streams), then follows STEPS in order, each one of:
  {"wait": TEXT}            until the output so far holds TEXT (10 s at most)
  {"send": TEXT}            writes TEXT to the terminal, as typed
  {"modes": true}           records the terminal's modes now (icanon, echo, isig, icrnl, opost)
  {"resize": [ROWS, COLS]}  resizes the terminal: the kernel sends SIGWINCH to its foreground
Then reads the output until the command has ended and the terminal is closed, and prints
one JSON object: {"status", "output", "modes": [...], "after": modes once it ended,
"timeout": the step that timed out, if one did}.
"""
import fcntl
import json
import os
import pty
import select
import struct
import sys
import termios
import time

rows, cols, steps = int(sys.argv[1]), int(sys.argv[2]), json.loads(sys.argv[3])
command = sys.argv[sys.argv.index('--') + 1:]


def set_size(fd, r, c):
    fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack('HHHH', r, c, 0, 0))


pid, master = pty.fork()
if pid == 0:
    set_size(0, rows, cols)
    os.execvp(command[0], command)

output = b''


def read_some(timeout):
    """Reads what comes within `timeout`: 'data', 'none' or 'closed' (EIO: every descriptor of the terminal is closed)."""
    global output
    ready, _, _ = select.select([master], [], [], timeout)
    if not ready:
        return 'none'
    try:
        chunk = os.read(master, 65536)
    except OSError:
        return 'closed'
    if not chunk:
        return 'closed'
    output += chunk
    return 'data'


def modes():
    iflag, oflag, _, lflag, _, _, _ = termios.tcgetattr(master)
    return {
        'icanon': bool(lflag & termios.ICANON),
        'echo': bool(lflag & termios.ECHO),
        'isig': bool(lflag & termios.ISIG),
        'icrnl': bool(iflag & termios.ICRNL),
        'opost': bool(oflag & termios.OPOST),
    }


seen_modes = []
timed_out = None
for step in steps:
    if 'wait' in step:
        deadline = time.monotonic() + 10
        while step['wait'].encode() not in output:
            if time.monotonic() > deadline or read_some(0.1) == 'closed':
                timed_out = step
                break
        if timed_out:
            break
    elif 'send' in step:
        os.write(master, step['send'].encode())
    elif 'modes' in step:
        seen_modes.append(modes())
    elif 'resize' in step:
        set_size(master, *step['resize'])

after = None
deadline = time.monotonic() + 20
status = None
while time.monotonic() < deadline:
    done, code = os.waitpid(pid, os.WNOHANG)
    if done:
        status = os.waitstatus_to_exitcode(code)
        after = modes()
        while read_some(0.2) == 'data':
            pass
        break
    read_some(0.05)
else:
    os.kill(pid, 9)
    os.waitpid(pid, 0)
    timed_out = timed_out or {'exit': True}

print(json.dumps({
    'status': status,
    'output': output.decode('utf-8', 'replace'),
    'modes': seen_modes,
    'after': after,
    **({'timeout': timed_out} if timed_out else {}),
}))
