"""Runs its arguments with standard error a pipe whose reader has gone (a caller that
stopped reading: a write there fails with EPIPE, or SIGPIPE ends the writer), and prints
how they ended as subprocess gives it: the exit status, or -N for signal N.

usage: closed-stderr.py PROGRAM [ARG...]
"""
import os
import subprocess
import sys

r, w = os.pipe()
os.close(r)
child = subprocess.Popen(sys.argv[1:], stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=w)
os.close(w)
print(child.wait(), flush=True)
