/**
 * A thread that sends one descriptor over a unix socket for the real port (startFdSender,
 * sendFd). A seccomp filter binds the thread that loads it and the threads and processes
 * it starts later, not the threads already running (seccomp(2), without
 * SECCOMP_FILTER_FLAG_TSYNC): a thread started before the filter sends the filter's
 * listener from outside it, as runc's parent process does, so the profile need not let
 * sendmsg(2) run.
 *
 * The thread is a worker_threads Worker with koffi, started before the jail (it loads
 * koffi from the host's files) and waiting on shared memory: no message passes through
 * the main thread's event loop, which does not turn while a run prepares the rootfs.
 * Once the filter is loaded the main thread makes no syscall until the descriptor is sent
 * (a notify rule could hold any of them until the agent answers, and the agent has no
 * listener yet): it stores the descriptor and spins on the shared state, reading the
 * clock through the vDSO; the thread, told before the load that a descriptor is coming,
 * polls for it every millisecond.
 */
import { StepError, SyscallError, errnoNumber } from '../errors';
import { SCM_RIGHTS_FD_OFFSET, scmRightsControl } from './scm-rights';

// The shared words: what the thread is at, the descriptor to send, the errno of the send.
const STATE = 0;
const FD = 1;
const ERRNO = 2;
// What the thread is at.
const STARTING = 0;
/** Loaded; waits, without a timeout, to be armed or cancelled. */
const READY = 1;
/** A filter is about to be loaded: polls for the descriptor. */
const ARMED = 2;
/** The descriptor is stored; the thread takes it (compare-and-exchange to SENDING). */
const GIVEN = 3;
const SENDING = 4;
const DONE = 5;
/** The run ended without a send (its socket closed, or the main thread gave up). */
const CANCELLED = 6;
/** ERRNO when the thread could not load koffi or libc; the reason comes as a message. */
const NOT_STARTED = -1;
/** How long the main thread waits for the thread to start, and for the send. */
const WAIT_MS = 10_000;

/** The thread's script (plain JavaScript: it is not compiled). */
const SCRIPT = `
const { workerData } = require('worker_threads');
const { shared, koffiFile, socket, data, little, errors, EINTR, EIO, cmsg } = workerData;
const words = new Int32Array(shared);
const finish = (errno) => { Atomics.store(words, ${ERRNO}, errno); Atomics.store(words, ${STATE}, ${DONE}); Atomics.notify(words, ${STATE}); };
let koffi, sendmsg;
try {
  koffi = require(koffiFile);
  const libc = koffi.load('libc.so.6');
  const iovec = koffi.struct({ base: 'void *', len: 'size_t' });
  const msghdr = koffi.struct({ name: 'void *', namelen: 'uint32_t', iov: koffi.pointer(iovec), iovlen: 'size_t', control: 'void *', controllen: 'size_t', flags: 'int' });
  sendmsg = libc.func('sendmsg', 'long', ['int', koffi.pointer(msghdr), 'int']);
} catch (err) {
  errors.postMessage(String(err && err.message || err));
  finish(${NOT_STARTED});
}
if (sendmsg) {
  Atomics.store(words, ${STATE}, ${READY});
  Atomics.notify(words, ${STATE});
  while (Atomics.load(words, ${STATE}) === ${READY}) Atomics.wait(words, ${STATE}, ${READY});
  while (Atomics.load(words, ${STATE}) === ${ARMED}) Atomics.wait(words, ${STATE}, ${ARMED}, 1);
  if (Atomics.compareExchange(words, ${STATE}, ${GIVEN}, ${SENDING}) === ${GIVEN}) {
    const payload = Buffer.from(data);
    // The control message as scm-rights.ts builds it, the descriptor written in.
    const control = Buffer.from(cmsg);
    new DataView(control.buffer, control.byteOffset, control.byteLength).setInt32(${SCM_RIGHTS_FD_OFFSET}, Atomics.load(words, ${FD}), little);
    // A send a signal interrupted before anything went (EINTR) is made again.
    const send = (buf, withFd) => {
      for (;;) {
        const n = Number(sendmsg(socket, { name: null, namelen: 0, iov: { base: buf, len: buf.length }, iovlen: 1, control: withFd ? control : null, controllen: withFd ? control.length : 0, flags: 0 }, 0));
        if (n >= 0 || koffi.errno() !== EINTR) return n < 0 ? -koffi.errno() : n;
      }
    };
    // A stream socket may take part of the data; the descriptor goes with its first byte.
    let at = 0;
    let errno = 0;
    while (at < payload.length && errno === 0) {
      const n = send(payload.subarray(at), at === 0);
      if (n < 0) errno = -n;
      else if (n === 0) errno = EIO;
      else at += n;
    }
    finish(errno);
  }
}
`;

export class FdSender {
  private constructor(
    private readonly words: Int32Array,
    /** The socket the thread sends on: closing it ends a thread still waiting. */
    readonly socket: number,
    private readonly socketPath: string,
  ) {}

  /** Starts the thread that will send `data` on `socket`, and waits until it is ready. */
  static start(koffiFile: string, socket: number, data: string, socketPath: string, little: boolean): FdSender {
    // Required here: a run without a notify rule never starts a thread.
    const { MessageChannel, Worker, receiveMessageOnPort } = require('worker_threads') as typeof import('worker_threads');
    const words = new Int32Array(new SharedArrayBuffer(3 * Int32Array.BYTES_PER_ELEMENT));
    const { port1, port2 } = new MessageChannel();
    let worker;
    try {
      const cmsg = Uint8Array.from(scmRightsControl(-1, little));
      const workerData = { shared: words.buffer, koffiFile, socket, data, little, errors: port2, EINTR: errnoNumber('EINTR'), EIO: errnoNumber('EIO'), cmsg };
      worker = new Worker(SCRIPT, { eval: true, workerData, transferList: [port2], stdout: true, stderr: true });
    } catch (err) {
      throw new StepError(`linux.seccomp: the thread that sends the listener to ${socketPath} cannot start: ${(err as Error).message}`, { cause: err });
    }
    // Its failures are read from the shared state; an 'error' event must not end the embedding process.
    worker.on('error', () => undefined);
    // It must not keep an embedding process alive; it ends after its one send, or when cancelled.
    worker.unref();
    port1.unref();
    Atomics.wait(words, STATE, STARTING, WAIT_MS);
    const state = Atomics.load(words, STATE);
    if (state === READY) return new FdSender(words, socket, socketPath);
    void worker.terminate();
    const reason = state === DONE ? `could not load koffi: ${String(receiveMessageOnPort(port1)?.message ?? 'no reason given')}` : `did not start within ${WAIT_MS} ms`;
    throw new StepError(`linux.seccomp: the thread that sends the listener to ${socketPath} ${reason}`);
  }

  /** Before a filter is loaded: the descriptor is coming, and the thread starts polling for it. */
  arm(): void {
    if (Atomics.compareExchange(this.words, STATE, READY, ARMED) === READY) Atomics.notify(this.words, STATE);
  }

  /** The run ends without a send (its socket is being closed): a waiting thread ends. */
  cancel(): void {
    for (const from of [READY, ARMED, GIVEN]) {
      if (Atomics.compareExchange(this.words, STATE, from, CANCELLED) === from) {
        Atomics.notify(this.words, STATE);
        return;
      }
    }
  }

  /**
   * Gives the thread `fd` and waits for the send, making no syscall (see the module's
   * comment); the send's failure is sendmsg(2)'s.
   */
  send(fd: number): void {
    Atomics.store(this.words, FD, fd);
    Atomics.store(this.words, STATE, GIVEN);
    // Date.now() reads CLOCK_REALTIME through the vDSO, without entering the kernel; it is
    // read once in 65536 turns, so that the loop allocates (and collects) next to nothing.
    const deadline = Date.now() + WAIT_MS;
    let state = GIVEN;
    for (let turn = 1; state === GIVEN || state === SENDING; turn++) {
      state = Atomics.load(this.words, STATE);
      if ((turn & 0xffff) === 0 && Date.now() > deadline) break;
    }
    if (state === GIVEN || state === SENDING) {
      // A thread that has not taken the descriptor never will; one sending finishes with it.
      const taken = Atomics.compareExchange(this.words, STATE, GIVEN, CANCELLED) !== GIVEN;
      throw new StepError(`linux.seccomp: the listener ${taken ? 'was not sent' : 'was not taken'} to ${this.socketPath} within ${WAIT_MS} ms`);
    }
    const errno = Atomics.load(this.words, ERRNO);
    // CANCELLED: the socket was closed meanwhile.
    if (state !== DONE) throw new SyscallError('sendmsg', errnoNumber('EBADF'), [this.socketPath]);
    if (errno !== 0) throw new SyscallError('sendmsg', errno, [this.socketPath]);
  }
}
