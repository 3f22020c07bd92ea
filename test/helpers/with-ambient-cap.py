#!/usr/bin/env python3
"""Runs COMMAND as UID (and gid UID, no supplementary groups) with capability CAP in its
effective set, through the ambient set: raised in the inheritable set, kept across the
uid change (SECBIT_KEEP_CAPS), then made ambient, which execve(2) turns into permitted
and effective for a program without file capabilities (capabilities(7)).

Usage: with-ambient-cap.py CAP UID COMMAND...  (CAP by number: 21 is CAP_SYS_ADMIN)
"""
import ctypes
import os
import sys

libc = ctypes.CDLL(None, use_errno=True)
cap, uid, command = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3:]


class Header(ctypes.Structure):
    _fields_ = [('version', ctypes.c_uint32), ('pid', ctypes.c_int)]


class Data(ctypes.Structure):
    _fields_ = [('effective', ctypes.c_uint32), ('permitted', ctypes.c_uint32), ('inheritable', ctypes.c_uint32)]


def check(result, what):
    if result != 0:
        err = ctypes.get_errno()
        raise OSError(err, f'{what}: {os.strerror(err)}')


_LINUX_CAPABILITY_VERSION_3 = 0x20080522
PR_SET_SECUREBITS, SECBIT_KEEP_CAPS = 28, 1 << 4
PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE = 47, 2

header, data = Header(_LINUX_CAPABILITY_VERSION_3, 0), (Data * 2)()
check(libc.capget(ctypes.byref(header), data), 'capget')
data[cap // 32].inheritable |= 1 << (cap % 32)
check(libc.capset(ctypes.byref(header), data), 'capset')
check(libc.prctl(PR_SET_SECUREBITS, SECBIT_KEEP_CAPS, 0, 0, 0), 'prctl PR_SET_SECUREBITS')
os.setgroups([])
os.setresgid(uid, uid, uid)
os.setresuid(uid, uid, uid)
check(libc.prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, cap, 0, 0), 'prctl PR_CAP_AMBIENT_RAISE')
os.execvp(command[0], command)
