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
