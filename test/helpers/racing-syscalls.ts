import { readlinkSync, renameSync, symlinkSync } from 'fs';
import { parseFdPath } from '../../src/core/in-root';
import { LinuxSyscalls } from '../../src/core/syscalls/linux';
import type { FileStat } from '../../src/core/syscalls/types';

/** What another process does, once, when `path` has just been examined: moves it to `movedTo` and puts a symlink to `swapTo` in its place. */
export interface Race {
  path: string;
  movedTo: string;
  swapTo: string;
}

/**
 * The real port with a deterministic race: right after the file at `race.path` is
 * examined (fstat of a descriptor of it, or lstat of a path to it), it is swapped for a
 * symlink on the real filesystem, as a process writing a shared volume could do between
 * a check and a use. Children load it by path (`require('./test/helpers/racing-syscalls')`).
 */
export class RacingSyscalls extends LinuxSyscalls {
  private raced = false;

  constructor(private readonly race: Race) {
    super();
  }

  override fstat(fd: number): FileStat {
    const st = super.fstat(fd);
    this.after(readlinkSync(`/proc/thread-self/fd/${fd}`));
    return st;
  }

  override lstat(path: string): FileStat {
    const st = super.lstat(path);
    const link = parseFdPath(path);
    this.after(link ? [readlinkSync(link.link), link.rest].filter(Boolean).join('/') : path);
    return st;
  }

  private after(examined: string): void {
    if (this.raced || examined !== this.race.path) return;
    this.raced = true;
    renameSync(this.race.path, this.race.movedTo);
    symlinkSync(this.race.swapTo, this.race.path);
  }
}
