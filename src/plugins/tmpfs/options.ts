/**
 * Pure decisions about a tmpfs mount's options.
 */

/**
 * The filesystem data of a tmpfs mounted over an existing directory of permissions
 * `perm`: `mode=` of them first, then the config's data. tmpfs(5): `mode=` sets the
 * permissions of the root directory (set-id and sticky bits included), 1777 when absent;
 * the kernel applies the options in order, so a `mode=` in the config's data wins. runc
 * (since 1.1.8) and crun give the directory's mode the same way, rather than a chmod
 * after the mount.
 */
export function withInheritedMode(perm: number, data: string): string {
  const mode = `mode=${(perm & 0o7777).toString(8).padStart(4, '0')}`;
  return data === '' ? mode : `${mode},${data}`;
}
