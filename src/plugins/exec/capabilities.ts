import { capabilityMask, capabilityName, lastCapability, resolveCapabilities, type CapabilityNames, type ResolvedCapabilities } from '../../core/capabilities';
import { StepError, SyscallError } from '../../core/errors';
import type { Logger } from '../../core/plugin';
import type { Syscalls } from '../../core/syscalls/types';

/**
 * process.capabilities, applied as runc's init applies them (capabilities(7)), in three
 * steps around the change of user. Every call acts on the calling thread only, which is
 * the one that execs.
 */
export class CapabilityChange {
  private constructor(
    private readonly sys: Syscalls,
    private readonly caps: ResolvedCapabilities,
    private readonly last: number,
  ) {}

  /**
   * The config's lists resolved against the kernel: its last capability read with
   * PR_CAPBSET_READ, never /proc/sys/kernel/cap_last_cap, which after the jail is the
   * container's file. Names it lacks are left out with a warning, as runc's, each quoted
   * as JSON: a name is the config's text, and one with a newline would otherwise write a
   * line of its own into mountkit's log. An effective capability that is not permitted
   * is refused by name.
   */
  static of(sys: Syscalls, names: CapabilityNames, log: Logger): CapabilityChange {
    const last = lastCapability((cap) => {
      try {
        sys.capbsetRead(cap);
        return true;
      } catch (err) {
        if (err instanceof SyscallError && err.code === 'EINVAL') return false;
        throw err;
      }
    });
    const caps = resolveCapabilities(names, last);
    if (caps.unavailable.length) log.warn(`process.capabilities: ignoring unknown or unavailable ${caps.unavailable.map((name) => JSON.stringify(name)).join(', ')}`);
    // capset(2) refuses an effective set that is not within the permitted one (EPERM,
    // cap_capset), whatever mountkit holds: said by name before the bounding set, the ids
    // and the capability sets change.
    const { effective, permitted } = caps.sets;
    const unpermitted = effective.filter((cap) => !permitted.includes(cap));
    if (unpermitted.length) {
      throw new StepError(`process.capabilities.effective: ${unpermitted.map(capabilityName).join(', ')} not in process.capabilities.permitted, and capset(2) refuses an effective capability that is not permitted (EPERM)`);
    }
    return new CapabilityChange(sys, caps, last);
  }

  /**
   * Before the user changes: every capability not in the config's bounding set is
   * dropped from it, and PR_SET_KEEPCAPS keeps the permitted set through setuid(2) to a
   * non-zero uid, which would clear it. PR_CAPBSET_DROP needs CAP_SETPCAP and answers
   * EPERM without it, even for a capability already gone: only then is the set read,
   * and one still in it is an error. The container would otherwise keep a wider bounding
   * set than the config's, which runc 1.1 allows silently.
   */
  beforeUser(): void {
    const bounding = new Set(this.caps.sets.bounding);
    for (let cap = 0; cap <= this.last; cap++) {
      if (bounding.has(cap)) continue;
      try {
        this.sys.capbsetDrop(cap);
      } catch (err) {
        if (!(err instanceof SyscallError) || err.code !== 'EPERM') throw err;
        if (!this.sys.capbsetRead(cap)) continue;
        throw new StepError(`process.capabilities.bounding: ${capabilityName(cap)} cannot be dropped from the bounding set without CAP_SETPCAP, which mountkit lacks (prctl: EPERM)`);
      }
    }
    this.sys.setKeepCaps(true);
  }

  /**
   * After it: keep-caps off again, the effective, permitted and inheritable sets with
   * capset(2), then the ambient set cleared and raised one by one. A kernel without
   * ambient capabilities (before 4.3) answers EINVAL to the clear; a capability that
   * cannot be raised (it must be permitted and inheritable: `runc spec`'s default lists
   * three that are not) is left out, with a debug line, as runc 1.1 leaves it out
   * silently (runc 1.3 warns).
   */
  afterUser(log: Logger): void {
    const { effective, permitted, inheritable, ambient } = this.caps.sets;
    this.sys.setKeepCaps(false);
    this.sys.capset(capabilityMask(effective), capabilityMask(permitted), capabilityMask(inheritable));
    try {
      this.sys.ambientClearAll();
    } catch (err) {
      if (err instanceof SyscallError && err.code === 'EINVAL') return;
      throw err;
    }
    for (const cap of ambient) {
      try {
        this.sys.ambientRaise(cap);
      } catch (err) {
        if (!(err instanceof SyscallError)) throw err;
        log.debug(`process.capabilities.ambient: ${capabilityName(cap)} not raised: ${err.message}`);
      }
    }
  }
}
