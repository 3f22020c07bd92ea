/**
 * The options of the real port, apart from its class: the package's type declarations
 * reach them without linux.ts, whose declarations import koffi's types. koffi is an ES
 * module package, and TypeScript refuses (TS1541) a type import of one from a CommonJS
 * declaration file under "module": "node16" or "nodenext" unless skipLibCheck is on.
 */
export interface LinuxSyscallsOptions {
  /**
   * A directory where seccompCompile keeps the programs it builds, and finds them again
   * for the same filter, libseccomp and kernel (seccomp-cache.ts); made (0700) if missing,
   * used only when no other user could write to it. None unless given; the CLI gives
   * /run/mountkit/seccomp.
   */
  seccompCache?: string;
}
