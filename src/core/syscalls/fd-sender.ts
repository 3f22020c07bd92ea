/**
 * A thread that sends one descriptor over a unix socket for the real port (startFdSender,
 * sendFd). A seccomp filter binds the thread that loads it and the threads and processes
 * it starts later, not the threads already running (seccomp(2), without
 * SECCOMP_FILTER_FLAG_TSYNC): a thread started before the filter sends the filter's
 * listener from outside it, as runc's parent process does, so the profile need not let
 * sendmsg(2) run, and the agent can answer notifications of any call made after it.
 *
 * The thread is a worker_threads Worker with koffi, started before the jail (it loads
 * koffi from the host's files) and waiting on shared memory: no message passes through
 * the main thread's event loop, which does not turn while a run prepares the rootfs.
 */
import { StepError, SyscallError } from '../errors';

// The shared words: what the thread is at, the descriptor to send, the errno of the send.
const STATE = 0;
const FD = 1;
const ERRNO = 2;
// What the thread is at: starting, waiting for the descriptor, given it, finished.
const STARTING = 0;
const READY = 1;
const GIVEN = 2;
const DONE = 3;
/** ERRNO when the thread could not load koffi or libc. */
const NOT_STARTED = -1;
/** How long the main thread waits for the thread to start, and for the send. */
const WAIT_MS = 10_000;

/**
 * The thread's script (plain JavaScript: it is not compiled). While it waits it checks
 * every second that the socket is still open (fcntl(2) F_GETFD): a run that failed before
 * the send closed it, and the thread then ends.
 */
const SCRIPT = `
const { workerData } = require('worker_threads');
const { shared, koffiFile, socket, data, little } = workerData;
const words = new Int32Array(shared);
const finish = (errno) => { Atomics.store(words, ${ERRNO}, errno); Atomics.store(words, ${STATE}, ${DONE}); Atomics.notify(words, ${STATE}); };
let koffi, sendmsg, fcntl;
try {
  koffi = require(koffiFile);
  const libc = koffi.load('libc.so.6');
  const iovec = koffi.struct({ base: 'void *', len: 'size_t' });
  const msghdr = koffi.struct({ name: 'void *', namelen: 'uint32_t', iov: koffi.pointer(iovec), iovlen: 'size_t', control: 'void *', controllen: 'size_t', flags: 'int' });
  sendmsg = libc.func('sendmsg', 'long', ['int', koffi.pointer(msghdr), 'int']);
  fcntl = libc.func('int fcntl(int fd, int cmd, ...)');
} catch {
  finish(${NOT_STARTED});
}
if (sendmsg) {
  Atomics.store(words, ${STATE}, ${READY});
  Atomics.notify(words, ${STATE});
  // F_GETFD is 1.
  while (Atomics.wait(words, ${STATE}, ${READY}, 1000) === 'timed-out') if (fcntl(socket, 1) < 0) process.exit(0);
  const payload = Buffer.from(data);
  // struct cmsghdr (size_t cmsg_len, int cmsg_level, int cmsg_type) and one int: CMSG_LEN(4) 20, CMSG_SPACE(4) 24; SOL_SOCKET and SCM_RIGHTS are 1.
  const control = Buffer.alloc(24);
  const view = new DataView(control.buffer, control.byteOffset, control.byteLength);
  view.setBigUint64(0, 20n, little);
  view.setInt32(8, 1, little);
  view.setInt32(12, 1, little);
  view.setInt32(16, Atomics.load(words, ${FD}), little);
  let sent = Number(sendmsg(socket, { name: null, namelen: 0, iov: { base: payload, len: payload.length }, iovlen: 1, control, controllen: 24, flags: 0 }, 0));
  // A stream socket may take part of the data; the descriptor went with its first byte.
  for (let at = sent; sent >= 0 && at < payload.length; at += sent) {
    const rest = payload.subarray(at);
    sent = Number(sendmsg(socket, { name: null, namelen: 0, iov: { base: rest, len: rest.length }, iovlen: 1, control: null, controllen: 0, flags: 0 }, 0));
  }
  finish(sent < 0 ? koffi.errno() : 0);
}
`;

export class FdSender {
  private constructor(
    private readonly words: Int32Array,
    private readonly socketPath: string,
  ) {}

  /** Starts the thread that will send `data` on `socket`, and waits until it is ready. */
  static start(koffiFile: string, socket: number, data: string, socketPath: string, little: boolean): FdSender {
    // Required here: a run without a notify rule never starts a thread.
    const { Worker } = require('worker_threads') as typeof import('worker_threads');
    const words = new Int32Array(new SharedArrayBuffer(3 * Int32Array.BYTES_PER_ELEMENT));
    const worker = new Worker(SCRIPT, { eval: true, workerData: { shared: words.buffer, koffiFile, socket, data, little }, stdout: true, stderr: true });
    // It must not keep an embedding process alive, and ends after its one send.
    worker.unref();
    Atomics.wait(words, STATE, STARTING, WAIT_MS);
    const state = Atomics.load(words, STATE);
    if (state !== READY) {
      void worker.terminate();
      throw new StepError(`linux.seccomp: the thread that sends the listener to ${socketPath} ${state === DONE ? 'could not load koffi' : `did not start within ${WAIT_MS} ms`}`);
    }
    return new FdSender(words, socketPath);
  }

  /** Gives the thread `fd` and waits for the send; its failure is sendmsg(2)'s. */
  send(fd: number): void {
    Atomics.store(this.words, FD, fd);
    Atomics.store(this.words, STATE, GIVEN);
    Atomics.notify(this.words, STATE);
    Atomics.wait(this.words, STATE, GIVEN, WAIT_MS);
    if (Atomics.load(this.words, STATE) !== DONE) throw new StepError(`linux.seccomp: sending the listener to ${this.socketPath} did not finish within ${WAIT_MS} ms`);
    const errno = Atomics.load(this.words, ERRNO);
    if (errno !== 0) throw new SyscallError('sendmsg', errno, [this.socketPath]);
  }
}
