/**
 * Terminal modes for `mountkit run`'s foreground console (src/cli/console-relay.ts), as
 * pure functions over the kernel's struct termios (Termios, read and written with
 * TCGETS and TCSETS through the port).
 */
import {
  BRKINT,
  CS8,
  CSIZE,
  ECHO,
  ECHONL,
  ICANON,
  ICRNL,
  IEXTEN,
  IGNBRK,
  IGNCR,
  INLCR,
  ISIG,
  ISTRIP,
  IXON,
  ONLCR,
  PARENB,
  PARMRK,
  VMIN,
  VTIME,
} from './constants';
import type { Termios } from './syscalls/types';

/**
 * The host terminal's mode while the console is copied: every byte typed goes to the
 * container's terminal as it is, whose own line discipline then echoes, edits lines and
 * turns Ctrl-C into SIGINT (termios(3), "Raw mode"). Output processing stays on (OPOST,
 * ONLCR kept), as runc's raw mode leaves it: the host terminal still turns a newline
 * into CR LF, since the container's terminal does not (withoutOnlcr).
 */
export function rawMode(t: Termios): Termios {
  const cc = [...t.cc];
  // read(2) returns as soon as one byte is there, with no timer.
  cc[VMIN] = 1;
  cc[VTIME] = 0;
  return {
    iflag: t.iflag & ~(IGNBRK | BRKINT | PARMRK | ISTRIP | INLCR | IGNCR | ICRNL | IXON),
    oflag: t.oflag,
    cflag: (t.cflag & ~(CSIZE | PARENB)) | CS8,
    lflag: t.lflag & ~(ECHO | ECHONL | ICANON | ISIG | IEXTEN),
    line: t.line,
    cc,
  };
}

/**
 * The container's terminal without ONLCR: a newline it writes reaches the master as
 * written, and the host terminal's own ONLCR adds the carriage return once (runc clears
 * it on the console it receives, so that output is not given two).
 */
export function withoutOnlcr(t: Termios): Termios {
  return { ...t, cc: [...t.cc], oflag: t.oflag & ~ONLCR };
}
