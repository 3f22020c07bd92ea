/**
 * The options of the real port, apart from its class: the package's type declarations
 * reach them without linux.ts, whose declarations import koffi's types. koffi is an ES
 * module package, and TypeScript refuses (TS1541) a type import of one from a CommonJS
 * declaration file under "module": "node16" or "nodenext" unless skipLibCheck is on.
 */
export interface LinuxSyscallsOptions {
  /**
   * A directory where seccompCompile keeps the programs it builds, and finds them again
   * for the same filter, libseccomp and kernel (seccomp-cache.ts); made (0711) if missing,
   * used only when no other user could write to it. None unless given; the CLI gives
   * /run/mountkit/seccomp.
   */
  seccompCache?: string;
  /**
   * Whether the process that made this process's user namespace found seccompCache and
   * every directory above it trusted, from outside the namespace (owned by root or by its
   * own user, writable by no one else): inside, every owner the namespace does not map,
   * the host's root among them, shows as the overflow uid, and no directory there could
   * pass. The directories are then not checked again, and a record owned by the overflow
   * uid is taken too, if writable by no one else. bin/mountkit vouches for the cache of a
   * user namespace it makes, and `mountkit run` for its relaunch's.
   */
  seccompCacheVouched?: boolean;
}
