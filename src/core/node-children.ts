/**
 * The children Node's child_process started in this process with spawn() that libuv has
 * not reaped yet. libuv reaps each of those by its pid (waitpid(2) with WNOHANG at
 * SIGCHLD) and then runs the ChildProcess's 'exit' and 'close'; a process that takes
 * such a child's status first leaves libuv nothing to find (ECHILD), and Node never
 * ends that ChildProcess. A reaper of this process's other children (cli/orphans.ts
 * reapOrphans) passes these over.
 *
 * A pid is recorded right after spawn() returned, before the event loop runs again, so
 * before any SIGCHLD listener can look at it; it is forgotten at the child's 'exit',
 * which libuv runs once it has reaped it. spawnSync() and a child reaped before the event
 * loop runs again (core/syscalls/linux.ts withUserNamespaceHelper) need no record: no
 * listener runs while the child is there.
 */
const running = new Set<number>();

/** Records `child` (spawned, not yet reaped) as Node's own until its 'exit'. One that did not start (no pid) is not recorded. */
export function recordSpawned(child: { readonly pid?: number; once(event: 'exit', listener: () => void): unknown }): void {
  const pid = child.pid;
  if (pid === undefined) return;
  running.add(pid);
  child.once('exit', () => running.delete(pid));
}

/** Whether `pid` is a child Node's child_process started here that libuv has not reaped yet. */
export function spawnedByNode(pid: number): boolean {
  return running.has(pid);
}
