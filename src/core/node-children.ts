/**
 * The children this process started that a wait of their own reaps and has not reaped
 * yet: those Node's child_process started with spawn(), which libuv reaps by their pid
 * (waitpid(2) with WNOHANG at SIGCHLD) before it runs the ChildProcess's 'exit' and
 * 'close', and those runCommandAsync started with posix_spawn(3), which it reaps by their
 * pid once they have ended (core/syscalls/linux.ts). A process that takes such a child's
 * status first leaves that wait nothing to find (ECHILD): Node never ends that
 * ChildProcess, and runCommandAsync would fail. A reaper of this process's other children
 * (cli/orphans.ts reapOrphans) passes these over.
 *
 * A pid is recorded right after its start returned, before the event loop runs again, so
 * before any SIGCHLD listener can look at it; it is forgotten once its own wait has
 * reaped it. spawnSync(), runCommand and a child reaped before the event loop runs again
 * (core/syscalls/linux.ts withUserNamespaceHelper) need no record: no listener runs while
 * the child is there.
 */
const running = new Set<number>();

/** Records the child `pid` as one its own wait reaps; the function returned forgets it, once that wait has reaped it. */
export function recordAwaited(pid: number): () => void {
  running.add(pid);
  return () => running.delete(pid);
}

/** Records `child` (spawned, not yet reaped) as Node's own until its 'exit'. One that did not start (no pid) is not recorded. */
export function recordSpawned(child: { readonly pid?: number; once(event: 'exit', listener: () => void): unknown }): void {
  if (child.pid === undefined) return;
  const forget = recordAwaited(child.pid);
  child.once('exit', forget);
}

/** Whether `pid` is a child of this process that a wait of its own reaps and has not reaped yet. */
export function awaitedElsewhere(pid: number): boolean {
  return running.has(pid);
}
