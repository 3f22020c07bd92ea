/**
 * mountkit's testkit (`import ... from 'mountkit/testing'`): everything `mountkit`
 * exports, plus the recording fake port, config builders, a runner that loads plugins
 * as a real run does, and assertions on the recorded calls. See docs/plugins.md.
 */
export * from '../index';
export { ExecveCalled, FakeSyscalls, QUERY_SYSCALLS } from '../core/syscalls/fake';
export { kindFromMode } from '../core/syscalls/stat';
export type { FailOptions, FakeNode, MountEntry, SyscallArgs, SyscallRecord, SyscallRecordOf } from '../core/syscalls/fake';
export { makeConfig, makeMount } from './config';
export { runHandler, runPlugin } from './run';
export type { Constructor, PluginRun, RunPluginOptions, TestPlugin } from './run';
export { call, effectsOf, expectCalls, expectEffects, mountCall, resolvedCalls } from './calls';
export type { AnyCallSource, CallSource, Resolved, ResolvedCommand, ResolvedRecord } from './calls';
export { memoryLogger } from './logger';
export type { LogEntry, MemoryLogger } from './logger';
