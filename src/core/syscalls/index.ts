export type { CommandResult, CommandSpec, FileKind, FileStat, SyscallName, Syscalls } from './types';

// The real port (koffi, libc).
export { LinuxSyscalls } from './linux';

// Doubles that never change the host: the recording fake for tests, the dry-run port for `plan`.
export { FakeSyscalls, ExecveCalled, QUERY_SYSCALLS } from './fake';
export { kindFromMode, toFileStat } from './stat';
export type { FailOptions, FakeNode, MountEntry, SyscallArgs, SyscallRecord, SyscallRecordOf } from './fake';
export { DryRunSyscalls } from './dryrun';
