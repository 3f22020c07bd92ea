/**
 * The container's session keyring (keyrings(7), session-keyring(7)), as runc's init
 * joins one: a keyring of its own, named after the container, so that the keys its
 * processes add (`keyctl add ... @s`) are not the session keyring of whoever started
 * mountkit, which every other container started from there would share.
 */

/** Key permission bits, include/uapi/linux/keyctl.h (KEY_USR_* for the key's owner, KEY_OTH_* for anyone else). */
export const KEY_USR_SEARCH = 0x00080000;
export const KEY_OTH_SEARCH = 0x00000008;

/** What the kernel names a session keyring joined without a name (keyctl(2)). */
export const ANONYMOUS_SESSION_KEYRING = '_ses';

/** The keyring's name, as runc names it: processes that join a session keyring by that name share it. */
export function sessionKeyringName(containerId: string): string {
  return `_ses.${containerId}`;
}

/**
 * The permissions a KEYCTL_DESCRIBE text gives ("type;uid;gid;perm;description", perm
 * in hex, keyctl(2)); undefined for a text without them. The description may hold ';'.
 */
export function keyPermissions(description: string): number | undefined {
  const perm = description.split(';')[3];
  return perm !== undefined && /^[0-9a-f]{1,8}$/i.test(perm) ? parseInt(perm, 16) : undefined;
}
