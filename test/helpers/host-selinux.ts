/**
 * Whether this host could have SELinux as runc and mountkit tell it (go-selinux's
 * GetEnabled, core/selinux.ts): neither takes SELinux without a selinuxfs mounted, so a
 * host whose mount table has none runs the tests written for a host without SELinux. An
 * enforce file alone says nothing (an image or a tmpfs may hold one). Any selinuxfs
 * counts, a read-only one too, which both runtimes take for disabled: those tests are
 * skipped rather than run where their premise is in doubt.
 */
import { readFileSync } from 'fs';

/** The filesystem type field of each mountinfo line (proc(5): after the " - " separator). */
function mountedTypes(mountinfo: string): string[] {
  return mountinfo
    .split('\n')
    .filter((line) => line.includes(' - '))
    .map((line) => line.slice(line.indexOf(' - ') + 3).split(' ')[0]);
}

export function hostMountsSelinuxfs(mountinfo = readFileSync('/proc/self/mountinfo', 'utf8')): boolean {
  return mountedTypes(mountinfo).includes('selinuxfs');
}
