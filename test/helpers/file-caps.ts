/**
 * A security.capability value, the bytes `setcap cap_net_raw+ep` writes: VFS_CAP_REVISION_2
 * with VFS_CAP_FLAGS_EFFECTIVE, CAP_NET_RAW (13) permitted, no inheritable
 * (linux/capability.h, struct vfs_cap_data, little-endian). The tmpcopyup tests copy it.
 */
export const NET_RAW_FILE_CAPS: readonly number[] = [1, 0, 0, 2, 0, 0x20, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0];
