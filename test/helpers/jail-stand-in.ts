import type { LifecycleStep } from '../../src/core/plugin';

/**
 * A step standing in for builtin:jail in plugin lists that test something else: it lists
 * `root.path` in its handles, which every config asks for (core/claims.ts), and makes no
 * call, so a test's expected calls are those of the steps it is about. The process is
 * not jailed: the fake port's runs only.
 */
export const JAIL_STAND_IN: LifecycleStep = { name: 'jail-stand-in', phase: 'jail', handles: ['root.path'], run: () => undefined };

/** JAIL_STAND_IN as an `extra` entry of createKernel, runPipeline and buildPlan. */
export const JAIL_STAND_IN_EXTRA = { module: 'jail-stand-in', plugin: { register: (api: { step(step: LifecycleStep): void }) => api.step(JAIL_STAND_IN) } };
