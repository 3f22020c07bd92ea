/**
 * mountkit's public API (`import ... from 'mountkit'`): configs, the kernel and the
 * plugin API, the pipeline and the plan, errors, constants, and the helpers the built-in
 * plugins use. The testkit is `mountkit/testing`. See docs/plugins.md.
 */
import 'reflect-metadata';

// ---- Configs: an OCI bundle, an OCI spec object, or the model built in code ----
export { bundleConfigText, loadBundle, fromOciSpec } from './core/config/oci';
export type {
  OciDevice,
  OciHook,
  OciHooks,
  OciIdMapping,
  OciLinux,
  OciMount,
  OciNamespace,
  OciProcess,
  OciSeccomp,
  OciSeccompArg,
  OciSeccompSyscall,
  OciSpec,
  OciUint64,
} from './core/config/oci-spec';
export { parseMountOptions, parsePropagation } from './core/config/options';
export type { ParsedMountOptions } from './core/config/options';
export { validateConfig } from './core/config/validate';
export type { HostQuery, ValidateOptions } from './core/config/validate';
export { checkedModel } from './core/config/model-check';
export { hasNamespace, mountSpec, needsDevSetup } from './core/config/model';
export type {
  DeviceSpec,
  DeviceType,
  HookSpec,
  MountExtensions,
  MountSpec,
  NamespaceSpec,
  NamespaceType,
  ProcessSpec,
  RecursiveAttrs,
  RootfsConfig,
} from './core/config/model';

// ---- The kernel and the plugin API ----
export { checkPluginEntries, createKernel, loadPluginModule, pluginsFromFile, readPluginsFile, DEFAULT_PLUGINS_FILE } from './core/kernel';
export type { Kernel, KernelOptions, PluginApi, PluginEntry, PluginModule, PluginsFile, RegisterPlugin } from './core/kernel';
export {
  DEFAULT_MOUNT_TYPE,
  LIFECYCLE_STEPS,
  LOGGER,
  MOUNT_HANDLERS,
  ORDERS,
  PHASES,
  PLUGIN_OPTIONS,
  RUN_HOOKS,
  SYSCALLS,
} from './core/plugin';
export type { LifecycleStep, Logger, MountHandler, Order, Phase, RunContext } from './core/plugin';
export { Orchestrator, sortSteps } from './core/orchestrator';
export type { RunHooks, StepWhere } from './core/orchestrator';
/**
 * tsyringe's decorators and delay(), from the copy the kernel uses: a plugin must not bring
 * its own. Those for constructor parameters only, which the module's container answers:
 * tsyringe's singleton, scoped, registry and autoInjectable register in or resolve from
 * tsyringe's global container, which is not the one a plugin's classes are built from.
 */
export { delay, inject, injectAll, injectAllWithTransform, injectWithTransform, injectable } from 'tsyringe';
export { BUILTIN_PLUGINS, builtinPlugin, type BuiltinPluginName } from './plugins';

// ---- Running and planning ----
export { plan, runPipeline, sharedJoinedNamespaceProblem, sharedMountNamespaceProblem, sharedNamespaceProblem, writtenInJoined, WRITTEN_NAMESPACES } from './api/pipeline';
export type { EmbeddedPlanApiOptions, PipelineOptions, PlanApiOptions, RunPipelineOptions } from './api/pipeline';
export {
  PLAN_SCHEMA_VERSION,
  PlanSyscalls,
  buildPlan,
  decodeArgs,
  formatCall,
  formatDev,
  formatDirfd,
  formatFlags,
  formatPlanText,
  flagTables,
  planCallToJson,
  planToJson,
} from './core/plan';
export type { EmbeddedPlanOptions, Plan, PlanCall, PlanCallJson, PlanJson, PlanKernelAnswers, PlanMode, PlanOptions, PlanPhase, PlanPort, PlanRecord, RelaunchRecord } from './core/plan';
export { connectHostSocket, consoleToStarter, foregroundConsole, hasConsole, hostSocketPaths } from './core/host-sockets';
export type { HostSocketRole } from './core/host-sockets';
export {
  checkUserNamespaceMaps,
  enterNamespaces,
  fromJoinedPidNamespace,
  hasRuntimeHooks,
  staysWhereStarted,
  launcherJoins,
  mapsBesidePath,
  planLaunch,
  relaunchForks,
  userNamespaceProblem,
  NAMESPACE_KINDS,
  PID_NAMESPACE_PARENT,
  PID_NAMESPACE_PARENT_ENV,
  RELAUNCH_FIRST_JOIN_FD,
  RELAUNCH_USERNS_FD,
} from './core/namespaces';
export { prepareRelaunch, takeRelaunchDescriptors, RELAUNCH_SOCKET_FDS } from './core/relaunch';
export { answerResult, channelMessage, eventLine, execEventSeen } from './core/runtime-channel';
export type { ChannelEvent, ChannelMessage } from './core/runtime-channel';
export { serveRuntimeChannel } from './core/runtime-hooks';
export type { RuntimeSide, RuntimeSideOptions } from './core/runtime-hooks';
export type { RelaunchDescriptors } from './core/relaunch';
export type { LaunchConfig, LaunchContext, LaunchPlan, NamespaceJoin, UserNamespaceMappings } from './core/namespaces';

// ---- The syscall port ----
export { DryRunSyscalls } from './core/syscalls/dryrun';
export type {
  CommandResult,
  CommandSpec,
  FileKind,
  FileStat,
  FsStat,
  MountStat,
  IdMapping,
  SeccompArgCmp,
  SeccompCompiled,
  SeccompFilter,
  SeccompRule,
  SyscallName,
  Syscalls,
  Termios,
} from './core/syscalls/types';
export { linuxSyscalls } from './api/linux';
export type { LinuxSyscallsOptions } from './core/syscalls/linux-options';

// ---- Helpers for plugins: everything goes through the port they are given ----
export {
  afterAttach,
  afterEarlierMount,
  afterMount,
  applyPropagation,
  applyRecursiveAttrs,
  bindNeedsRemount,
  containerRoot,
  exists,
  mountOn,
  mountPropagate,
  refuseUnderProc,
  remountBind,
  withMountTarget,
} from './core/mounting';
export { requireContainerProc } from './core/procfs';
export { formatMountLabel, mountLabel, setFileLabel } from './core/selinux';
export type { AfterAttach, MountAt, MountTarget, TargetOptions } from './core/mounting';
export { THREAD_SELF_FD, createInRoot, fdPath, makeFile, openInRoot, withInRoot } from './core/in-root';
export type { CreateOptions, Created, MakeEntry, Root, RootDir } from './core/in-root';
export { cleanPath, containerPath, isWithin, procDestinationProblem } from './core/paths';
export { parseMountInfo } from './core/mountinfo';
export type { MountInfo, MountTable } from './core/mountinfo';

// ---- Errors ----
export { ConfigError, MountkitError, PluginError, StartupError, StepError, SyscallError, errnoName, errnoNumber, syscallErrorOf } from './core/errors';
export type { PluginErrorWhere } from './core/errors';

// ---- Constants (kernel names) and logging ----
export * from './core/constants';
export { CLONE_FS, CLONE_NEWTIME } from './core/namespaces';
export { LOG_LEVELS, createLogger, silentLogger } from './core/logger';
export type { LogFormat, LogLevel, LoggerOptions, RunFields } from './core/logger';
export { keepStderr } from './core/streams';

// ---- Node run from a read-only copy of its file (CVE-2019-5736), for embedders ----
export { NODE_PATH_ENV, UNSEALED_WARNING, execSealedNode, kernelCannotSeal, ownFileWritable, resealedExec, sealedCopy } from './core/sealed-node';
export type { NodeStart } from './core/sealed-node';
