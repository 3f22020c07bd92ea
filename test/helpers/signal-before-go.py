"""Runs bin/mountkit (argv[2:]) under ptrace(2) and sends it signal argv[1] between the
fork of its job and the line that lets the job go on, a window of well under a
millisecond in a free-running shell.

The launcher is stopped at every system call (PTRACE_SYSCALL) until the first stop at
which it holds descriptor 9 (the go line's writer), no longer holds 7 (closed once the
job is forked) and has two children (the job and the watch): that is the return of the
watch's fork, and the go line, `echo >&9`, is the launcher's next write. The signal is
sent to the stopped launcher, which is then let go (PTRACE_DETACH): the signal stays
pending and is delivered as the shell goes on, so its trap runs before the go line.
Its children are never traced. Exits with the launcher's status (128+N for signal N),
or 99 when the launcher ended before that moment came.
"""
import ctypes
import os
import sys

PTRACE_TRACEME = 0
PTRACE_SYSCALL = 24
PTRACE_DETACH = 17
PTRACE_SETOPTIONS = 0x4200
# Syscall stops report SIGTRAP | 0x80, told apart from a real SIGTRAP.
PTRACE_O_TRACESYSGOOD = 0x1
# The tracee is killed when its tracer ends, so that no launcher stays stopped.
PTRACE_O_EXITKILL = 0x100000

libc = ctypes.CDLL(None, use_errno=True)
libc.ptrace.argtypes = [ctypes.c_long, ctypes.c_long, ctypes.c_void_p, ctypes.c_void_p]
libc.ptrace.restype = ctypes.c_long


def ptrace(request, pid, data=0):
    if libc.ptrace(request, pid, None, ctypes.c_void_p(data)) == -1:
        err = ctypes.get_errno()
        raise OSError(err, f"ptrace({request}): {os.strerror(err)}")


def at_moment(pid):
    fds = f"/proc/{pid}/fd"
    if not os.path.exists(f"{fds}/9") or os.path.exists(f"{fds}/7"):
        return False
    with open(f"/proc/{pid}/task/{pid}/children") as f:
        return len(f.read().split()) == 2


def status_of(status):
    return os.WEXITSTATUS(status) if os.WIFEXITED(status) else 128 + os.WTERMSIG(status)


def main():
    sig = int(sys.argv[1])
    argv = sys.argv[2:]
    pid = os.fork()
    if pid == 0:
        ptrace(PTRACE_TRACEME, 0)
        os.execvp(argv[0], argv)
    # The exec stops the tracee with SIGTRAP.
    _, status = os.waitpid(pid, 0)
    ptrace(PTRACE_SETOPTIONS, pid, PTRACE_O_TRACESYSGOOD | PTRACE_O_EXITKILL)
    inject = 0
    while True:
        ptrace(PTRACE_SYSCALL, pid, inject)
        inject = 0
        _, status = os.waitpid(pid, 0)
        if os.WIFEXITED(status) or os.WIFSIGNALED(status):
            print("signal-before-go: the launcher ended before its watch's fork", file=sys.stderr)
            sys.exit(99)
        stopsig = os.WSTOPSIG(status)
        if stopsig != (0x80 | 5):
            # A signal for the tracee: delivered as it goes on.
            inject = stopsig
            continue
        if at_moment(pid):
            os.kill(pid, sig)
            ptrace(PTRACE_DETACH, pid, 0)
            break
    _, status = os.waitpid(pid, 0)
    sys.exit(status_of(status))


main()
