/**
 * The calls of a plan that failed, and the errno name each failed with, whether the code
 * that made it went on (openat2 answering ENOENT before the mkdirat that makes the
 * directory) or stopped there. A port method that fails throws a SyscallError after it has
 * recorded its call; the pipeline holds a view of the port that notes, for each method
 * that throws one, the last call it recorded. Calls a method makes of its own port inside
 * (the model's lookups) are not the pipeline's and are not seen.
 */
import { SyscallError } from '../errors';
import type { FakeSyscalls, SyscallRecord } from '../syscalls/fake';

/** The errno name each failed call of a plan's port failed with (SyscallError.code: "ENOENT"). */
export type FailedCalls = WeakMap<SyscallRecord, string>;

/**
 * `port` as the pipeline uses it, with each method call that throws a SyscallError noted in
 * `failed` under the last call it recorded (none when it recorded none). Everything else
 * is the port's own: its fields, its class (instanceof), what each method returns and throws.
 */
export function noteFailures<T extends FakeSyscalls>(port: T, failed: FailedCalls): T {
  /** The wrapper of each method (or function-valued field, such as PlanSyscalls.onEvent) read, made once. */
  const methods = new WeakMap<object, unknown>();
  return new Proxy(port, {
    get(target, key) {
      const value: unknown = Reflect.get(target, key);
      if (typeof value !== 'function') return value;
      let method = methods.get(value);
      if (method === undefined) {
        method = function (this: unknown, ...args: unknown[]): unknown {
          const before = target.calls.length;
          try {
            return (value as (...a: unknown[]) => unknown).apply(target, args);
          } catch (err) {
            if (err instanceof SyscallError && target.calls.length > before) failed.set(target.calls[target.calls.length - 1], err.code);
            throw err;
          }
        };
        methods.set(value, method);
      }
      return method;
    },
  });
}
