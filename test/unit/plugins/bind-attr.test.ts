import {
  MOUNT_ATTR__ATIME,
  MOUNT_ATTR_NOATIME,
  MOUNT_ATTR_NODEV,
  MOUNT_ATTR_NODIRATIME,
  MOUNT_ATTR_NOEXEC,
  MOUNT_ATTR_NOSUID,
  MOUNT_ATTR_NOSYMFOLLOW,
  MOUNT_ATTR_RDONLY,
  MOUNT_ATTR_RELATIME,
  MOUNT_ATTR_STRICTATIME,
  MS_BIND,
  MS_LAZYTIME,
  MS_NOATIME,
  MS_NODEV,
  MS_NODIRATIME,
  MS_NOEXEC,
  MS_NOSUID,
  MS_NOSYMFOLLOW,
  MS_RDONLY,
  MS_RELATIME,
  MS_SILENT,
  MS_STRICTATIME,
  MS_SYNCHRONOUS,
} from '../../../src/core/constants';
import { remountAttrs } from '../../../src/plugins/bind/attr';

/** Every flag a bind remount sets or clears, none of the atime ones. */
const OWN = MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC | MOUNT_ATTR_NOSYMFOLLOW;
/** The atime field and nodiratime, cleared whenever an atime flag is given. */
const ATIME = MOUNT_ATTR__ATIME | MOUNT_ATTR_NODIRATIME;

describe('remountAttrs: the attributes that give a copy what MS_REMOUNT|MS_BIND with the flags gives the bind', () => {
  test.each<[string, bigint, bigint, bigint]>([
    // No atime flag: the atime mode and nodiratime are the mount's own, untouched.
    ['nothing but MS_BIND: every flag of its own cleared', MS_BIND, 0n, OWN],
    ['ro', MS_BIND | MS_RDONLY, MOUNT_ATTR_RDONLY, OWN & ~MOUNT_ATTR_RDONLY],
    ['nosuid,nodev,noexec', MS_NOSUID | MS_NODEV | MS_NOEXEC, MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC, MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSYMFOLLOW],
    ['nosymfollow', MS_NOSYMFOLLOW, MOUNT_ATTR_NOSYMFOLLOW, OWN & ~MOUNT_ATTR_NOSYMFOLLOW],
    // An atime flag: relatime unless noatime or strictatime, which wins over noatime; nodiratime with it.
    ['noatime', MS_NOATIME, MOUNT_ATTR_NOATIME, OWN | ATIME],
    ['relatime', MS_RELATIME, MOUNT_ATTR_RELATIME, OWN | ATIME],
    ['strictatime', MS_STRICTATIME, MOUNT_ATTR_STRICTATIME, OWN | ATIME],
    ['noatime,strictatime', MS_NOATIME | MS_STRICTATIME, MOUNT_ATTR_STRICTATIME, OWN | ATIME],
    ['relatime,noatime', MS_RELATIME | MS_NOATIME, MOUNT_ATTR_NOATIME, OWN | ATIME],
    ['nodiratime alone: relatime with it', MS_NODIRATIME, MOUNT_ATTR_RELATIME | MOUNT_ATTR_NODIRATIME, OWN | MOUNT_ATTR__ATIME],
    ['ro,noatime,nodiratime', MS_RDONLY | MS_NOATIME | MS_NODIRATIME, MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOATIME | MOUNT_ATTR_NODIRATIME, (OWN & ~MOUNT_ATTR_RDONLY) | MOUNT_ATTR__ATIME],
    // The superblock's flags and MS_SILENT change nothing of a bind.
    ['sync,lazytime,silent', MS_SYNCHRONOUS | MS_LAZYTIME | MS_SILENT, 0n, OWN],
  ])('%s', (_words, flags, attrSet, attrClr) => {
    expect(remountAttrs(flags)).toEqual({ attrSet, attrClr });
  });
});
