/**
 * Pure decisions about a tmpfs mount's options.
 */

/** An option that starts with `mode=`: at the start of the data or after a comma. */
const MODE_OPTION = /(?:^|,)mode=/;

/**
 * Whether the filesystem data names the root directory's mode. tmpfs(5): `mode=` sets the
 * permissions of the root directory, 1777 when absent. The kernel splits the data on
 * commas and matches option names exactly (case-sensitive, no spaces trimmed).
 */
export function hasModeOption(data: string): boolean {
  return MODE_OPTION.test(data);
}

/**
 * The filesystem data of a tmpfs mounted over an existing directory of permissions
 * `perm`: the config's data, with `mode=` of them added in front when it names no mode
 * of its own (tmpfs(5): the root directory's permissions, set-id and sticky bits
 * included). runc (since 1.1.8) and crun give the directory's mode this way rather
 * than by a chmod after the mount.
 */
export function withInheritedMode(perm: number, data: string): string {
  if (hasModeOption(data)) return data;
  const mode = `mode=${(perm & 0o7777).toString(8).padStart(4, '0')}`;
  return data === '' ? mode : `${mode},${data}`;
}
