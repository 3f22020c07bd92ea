/*
 * The syscall floor: replays a list of syscall-port calls (the line format written by
 * bench/syscall-list.ts) with plain libc and syscall(2), then execve(2)s like mountkit's
 * last call. It runs in the namespaces mountkit's relaunch makes (the harness starts it
 * under unshare(1)), so the list does the same work in the same place.
 *
 * Usage: replay LIST OUT
 *   LIST  one call per line: OP TAB EXPECT {TAB FIELD}
 *         EXPECT: "ok", "ok:N" (returned descriptor N), "err:N" (failed with errno N),
 *                 "?" (not known: not checked)
 *         FIELD:  "-" null, '"' + string (\\ \t \n escaped), or a number (decimal or 0x hex);
 *                 a list is its length followed by its items.
 *   OUT   opened before the first call; just before execve one line is written to it:
 *         "START_NS EXEC_NS CALLS MISMATCHES 0 MOUNT_NS" (CLOCK_MONOTONIC, as Node's
 *         process.hrtime; MOUNT_NS when the list's first mount call started, 0 if none;
 *         the 0 stands where replay-port.js writes when its first call returned).
 *
 * Every call is made whatever the previous ones returned; a result that differs from
 * EXPECT counts as a mismatch and the first few are described on stderr. Descriptors a
 * call returned in the recorded run are mapped to the ones this process got, in
 * descriptor arguments and in /proc/self/fd/N paths.
 *
 * Build: cc -O2 -o replay replay.c (the harness does this at bench time).
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <signal.h>
#include <string.h>
#include <net/if.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/personality.h>
#include <sys/prctl.h>
#include <sys/random.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <sys/xattr.h>
#include <time.h>
#include <unistd.h>

/* Syscalls glibc 2.36 has no wrapper for; since 5.x one number on every architecture
 * (include/uapi/asm-generic/unistd.h). pivot_root has SYS_pivot_root. */
#define NR_open_tree 428
#define NR_move_mount 429
#define NR_close_range 436
#define NR_openat2 437
#define NR_mount_setattr 442
#define NR_open_tree_attr 467
/* close_range(2) flag, include/uapi/linux/close_range.h */
#define CLOSE_RANGE_CLOEXEC (1U << 2)
/* capset(2): _LINUX_CAPABILITY_VERSION_3, two 32-bit words per set, linux/capability.h */
#define CAP_VERSION_3 0x20080522
/* Descriptors up to this number are mapped from the recorded run; above, used as given. */
#define MAX_FD 65536

struct open_how_arg { uint64_t flags, mode, resolve; };
struct mount_attr_arg { uint64_t attr_set, attr_clr, propagation, userns_fd; };

struct call {
    char *op;
    char *expect;
    char **f;
    int n;
};

static int fd_map[MAX_FD];
static int mismatches;

static void die(const char *what) {
    fprintf(stderr, "replay: %s\n", what);
    exit(2);
}

static uint64_t now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static char *read_all(const char *path) {
    FILE *f = fopen(path, "rb");
    if (!f) die("cannot open the list");
    size_t cap = 1 << 16, len = 0;
    char *buf = malloc(cap);
    size_t got;
    while (buf && (got = fread(buf + len, 1, cap - len - 1, f)) > 0) {
        len += got;
        if (cap - len < 2) buf = realloc(buf, cap *= 2);
    }
    if (!buf) die("out of memory");
    fclose(f);
    buf[len] = '\0';
    return buf;
}

/* Undoes the \\ \t \n escapes of a string field in place. */
static char *unescape(char *s) {
    char *r = s, *w = s;
    for (; *r; r++) {
        if (*r == '\\' && r[1]) {
            r++;
            *w++ = *r == 't' ? '\t' : *r == 'n' ? '\n' : *r;
        } else {
            *w++ = *r;
        }
    }
    *w = '\0';
    return s;
}

static struct call *parse(char *text, int *count) {
    int cap = 256, n = 0;
    struct call *calls = malloc(sizeof *calls * cap);
    for (char *line = strtok(text, "\n"); line; line = strtok(NULL, "\n")) {
        if (n == cap) calls = realloc(calls, sizeof *calls * (cap *= 2));
        if (!calls) die("out of memory");
        struct call *c = &calls[n++];
        int fcap = 8;
        c->f = malloc(sizeof *c->f * fcap);
        c->n = 0;
        char *save = line;
        c->op = strsep(&save, "\t");
        c->expect = strsep(&save, "\t");
        if (!c->expect) die("a line without EXPECT");
        char *field;
        while ((field = strsep(&save, "\t")) != NULL) {
            if (c->n == fcap) c->f = realloc(c->f, sizeof *c->f * (fcap *= 2));
            if (!c->f) die("out of memory");
            c->f[c->n++] = field[0] == '"' ? unescape(field + 1) : field;
        }
    }
    *count = n;
    return calls;
}

/* Field accessors: a cursor over one call's fields. */
struct cur { struct call *c; int i; };

static const char *field(struct cur *k) {
    if (k->i >= k->c->n) die("missing field");
    const char *f = k->c->f[k->i++];
    return strcmp(f, "-") == 0 ? NULL : f;
}

/*
 * A string argument; a descriptor's magic link (/proc/self/fd/N, /proc/thread-self/fd/N,
 * proc(5)) names the descriptor this process got where the recorded run got N.
 */
static const char *str(struct cur *k) {
    static const char *const prefixes[] = { "/proc/self/fd/", "/proc/thread-self/fd/" };
    static char ring[4][4096];
    static int next;
    const char *f = field(k);
    for (size_t p = 0; f && p < sizeof prefixes / sizeof *prefixes; p++) {
        size_t len = strlen(prefixes[p]);
        if (strncmp(f, prefixes[p], len) != 0) continue;
        char *end;
        long n = strtol(f + len, &end, 10);
        if (end == f + len || n < 0 || n >= MAX_FD || fd_map[n] < 0) return f;
        char *out = ring[next++ % 4];
        snprintf(out, sizeof ring[0], "%s%d%s", prefixes[p], fd_map[n], end);
        return out;
    }
    return f;
}

static long long num(struct cur *k) {
    const char *f = field(k);
    if (!f) die("a null number");
    return strtoll(f, NULL, 0);
}

static unsigned long long u64(struct cur *k) {
    const char *f = field(k);
    if (!f) die("a null number");
    return strtoull(f, NULL, 0);
}

/* struct mount_attr's attr_set, attr_clr and propagation, in that order (no userns_fd). */
static struct mount_attr_arg mount_attr(struct cur *k) {
    struct mount_attr_arg attr = { 0, 0, 0, 0 };
    attr.attr_set = u64(k);
    attr.attr_clr = u64(k);
    attr.propagation = u64(k);
    return attr;
}

/* A list of strings, NULL-terminated, for execve. */
static char **strs(struct cur *k) {
    long long n = num(k);
    char **v = calloc((size_t)n + 1, sizeof *v);
    if (!v) die("out of memory");
    for (long long i = 0; i < n; i++) v[i] = (char *)str(k);
    return v;
}

static int fd(struct cur *k) {
    long long f = num(k);
    return f >= 0 && f < MAX_FD && fd_map[f] >= 0 ? fd_map[f] : (int)f;
}

static long read_file(const char *path) {
    int f = open(path, O_RDONLY | O_CLOEXEC);
    if (f < 0) return -1;
    char buf[65536];
    ssize_t r;
    while ((r = read(f, buf, sizeof buf)) > 0) {}
    close(f);
    return r < 0 ? -1 : 0;
}

static long write_file(const char *path, const char *data, mode_t mode) {
    int f = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
    if (f < 0) return -1;
    ssize_t r = write(f, data, strlen(data));
    close(f);
    return r < 0 ? -1 : 0;
}

static long copy_file(const char *from, const char *to) {
    int in = open(from, O_RDONLY | O_CLOEXEC);
    if (in < 0) return -1;
    int out = open(to, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
    if (out < 0) {
        close(in);
        return -1;
    }
    char buf[65536];
    ssize_t r;
    while ((r = read(in, buf, sizeof buf)) > 0 && write(out, buf, (size_t)r) == r) {}
    close(in);
    close(out);
    return r < 0 ? -1 : 0;
}

/* The port's copyFileRange: the rest of `in` onto `out`, read(2) and write(2) as its fallback does. */
static long copy_fds(int in, int out) {
    char buf[65536];
    ssize_t r;
    while ((r = read(in, buf, sizeof buf)) > 0 && write(out, buf, (size_t)r) == r) {}
    return r < 0 ? -1 : 0;
}

static long read_dir(const char *path) {
    DIR *d = opendir(path);
    if (!d) return -1;
    while (readdir(d)) {}
    closedir(d);
    return 0;
}

/* joinSessionKeyring: KEYCTL_JOIN_SESSION_KEYRING (an anonymous keyring for no name), then KEYCTL_DESCRIBE for the keyring's
 * permissions (the fourth ';' field, hex) and KEYCTL_SETPERM with the given bits added. */
static long join_keyring(const char *name, unsigned int add) {
    long serial = syscall(SYS_keyctl, 1 /* KEYCTL_JOIN_SESSION_KEYRING */, name);
    if (serial < 0) return -1;
    /* 0: that keyring is the session keyring already; KEYCTL_GET_KEYRING_ID of KEY_SPEC_SESSION_KEYRING. */
    if (serial == 0) serial = syscall(SYS_keyctl, 0, -3, 0);
    if (serial < 0) return -1;
    char text[4096];
    long size = syscall(SYS_keyctl, 6 /* KEYCTL_DESCRIBE */, serial, text, sizeof text);
    if (size < 0) return -1;
    if ((size_t)size > sizeof text) { errno = E2BIG; return -1; }
    const char *p = text;
    for (int i = 0; i < 3 && p; i++) {
        p = strchr(p, ';');
        if (p) p++;
    }
    if (!p) { errno = EINVAL; return -1; }
    unsigned int perm = (unsigned int)strtoul(p, NULL, 16);
    if (syscall(SYS_keyctl, 5 /* KEYCTL_SETPERM */, serial, perm | add) < 0) return -1;
    return serial;
}

/* setInterfaceUp: SIOCGIFFLAGS, then SIOCSIFFLAGS with IFF_UP unless it is up (netdevice(7)). */
static long interface_up(const char *name) {
    struct ifreq req;
    memset(&req, 0, sizeof req);
    strncpy(req.ifr_name, name, IFNAMSIZ - 1);
    int sock = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (sock < 0) return -1;
    long ret = ioctl(sock, SIOCGIFFLAGS, &req);
    if (ret == 0 && !(req.ifr_flags & IFF_UP)) {
        req.ifr_flags |= IFF_UP;
        ret = ioctl(sock, SIOCSIFFLAGS, &req);
    }
    int err = errno;
    close(sock);
    errno = err;
    return ret;
}

static long set_groups(struct cur *k) {
    long long n = num(k);
    gid_t *g = calloc((size_t)n + 1, sizeof *g);
    if (!g) die("out of memory");
    for (long long i = 0; i < n; i++) g[i] = (gid_t)num(k);
    long r = setgroups((size_t)n, g);
    free(g);
    return r;
}

/* When the list's first mount call started: where the work on the new mount namespace begins. */
static uint64_t mount_start;

/* Makes one call; returns its result (-1 with errno set on failure). */
static long replay(struct call *c, FILE *out, uint64_t start, int total) {
    struct cur k = { c, 0 };
    const char *op = c->op;
    struct stat st;
    struct statfs sfs;
    struct statx stx;
    char link[4096];
    if (!strcmp(op, "mount")) {
        if (!mount_start) mount_start = now_ns();
        const char *src = str(&k), *target = str(&k), *fstype = str(&k);
        unsigned long flags = u64(&k);
        return mount(src, target, fstype, flags, str(&k));
    }
    if (!strcmp(op, "umount2")) {
        const char *target = str(&k);
        return umount2(target, (int)num(&k));
    }
    if (!strcmp(op, "mountSetattr")) {
        int dirfd = fd(&k);
        const char *path = str(&k);
        unsigned int at = (unsigned int)num(&k);
        struct mount_attr_arg attr = mount_attr(&k);
        return syscall(NR_mount_setattr, dirfd, path, at, &attr, sizeof attr);
    }
    if (!strcmp(op, "openTree")) {
        int dirfd = fd(&k);
        const char *path = str(&k);
        return syscall(NR_open_tree, dirfd, path, (unsigned int)num(&k));
    }
    if (!strcmp(op, "openTreeAttr")) {
        int dirfd = fd(&k);
        const char *path = str(&k);
        unsigned int flags = (unsigned int)num(&k);
        struct mount_attr_arg attr = mount_attr(&k);
        return syscall(NR_open_tree_attr, dirfd, path, flags, &attr, sizeof attr);
    }
    if (!strcmp(op, "moveMount")) {
        int from = fd(&k);
        const char *from_path = str(&k);
        int to = fd(&k);
        const char *to_path = str(&k);
        return syscall(NR_move_mount, from, from_path, to, to_path, (unsigned int)num(&k));
    }
    if (!strcmp(op, "pivotRoot")) {
        const char *new_root = str(&k);
        return syscall(SYS_pivot_root, new_root, str(&k));
    }
    if (!strcmp(op, "mknod")) {
        const char *path = str(&k);
        mode_t mode = (mode_t)num(&k);
        return mknod(path, mode, (dev_t)u64(&k));
    }
    if (!strcmp(op, "mknodat")) {
        int dirfd = fd(&k);
        const char *path = str(&k);
        mode_t mode = (mode_t)num(&k);
        return mknodat(dirfd, path, mode, (dev_t)u64(&k));
    }
    if (!strcmp(op, "fchownat")) {
        int dirfd = fd(&k);
        const char *path = str(&k);
        uid_t uid = (uid_t)num(&k);
        gid_t gid = (gid_t)num(&k);
        return fchownat(dirfd, path, uid, gid, (int)num(&k));
    }
    if (!strcmp(op, "chown") || !strcmp(op, "lchown")) {
        const char *path = str(&k);
        uid_t uid = (uid_t)num(&k);
        gid_t gid = (gid_t)num(&k);
        return op[0] == 'c' ? chown(path, uid, gid) : lchown(path, uid, gid);
    }
    if (!strcmp(op, "chmod")) {
        const char *path = str(&k);
        return chmod(path, (mode_t)num(&k));
    }
    if (!strcmp(op, "fchmod")) {
        int f = fd(&k);
        return fchmod(f, (mode_t)num(&k));
    }
    if (!strcmp(op, "chdir")) return chdir(str(&k));
    if (!strcmp(op, "fchdir")) return fchdir(fd(&k));
    if (!strcmp(op, "chroot")) return chroot(str(&k));
    if (!strcmp(op, "umask")) return umask((mode_t)num(&k));
    if (!strcmp(op, "open")) {
        const char *path = str(&k);
        int flags = (int)num(&k);
        return open(path, flags, (mode_t)num(&k));
    }
    if (!strcmp(op, "openat")) {
        int dirfd = fd(&k);
        const char *path = str(&k);
        int flags = (int)num(&k);
        return openat(dirfd, path, flags, (mode_t)num(&k));
    }
    if (!strcmp(op, "openat2")) {
        int dirfd = fd(&k);
        const char *path = str(&k);
        struct open_how_arg how = { 0, 0, 0 };
        how.flags = (uint64_t)num(&k);
        how.mode = (uint64_t)num(&k);
        how.resolve = u64(&k);
        return syscall(NR_openat2, dirfd, path, &how, sizeof how);
    }
    if (!strcmp(op, "close")) return close(fd(&k));
    if (!strcmp(op, "dup3")) {
        int oldfd = fd(&k), newfd = fd(&k);
        return dup3(oldfd, newfd, (int)num(&k));
    }
    if (!strcmp(op, "dupCloexec")) {
        int f = fd(&k);
        return fcntl(f, F_DUPFD_CLOEXEC, (int)num(&k));
    }
    if (!strcmp(op, "stat")) return stat(str(&k), &st);
    if (!strcmp(op, "lstat")) return lstat(str(&k), &st);
    if (!strcmp(op, "fstat")) return fstat(fd(&k), &st);
    if (!strcmp(op, "mkdir")) {
        const char *path = str(&k);
        return mkdir(path, (mode_t)num(&k));
    }
    if (!strcmp(op, "mkdirat")) {
        int dirfd = fd(&k);
        const char *path = str(&k);
        return mkdirat(dirfd, path, (mode_t)num(&k));
    }
    if (!strcmp(op, "fstatfs")) return fstatfs(fd(&k), &sfs);
    if (!strcmp(op, "faccessat")) {
        int dirfd = fd(&k);
        const char *path = str(&k);
        int mode = (int)num(&k);
        return faccessat(dirfd, path, mode, (int)num(&k));
    }
    /* The port's fstatMount: statx(2) of the descriptor for its type and mount id. */
    if (!strcmp(op, "fstatMount")) return statx(fd(&k), "", AT_EMPTY_PATH, STATX_TYPE | STATX_MNT_ID, &stx);
    if (!strcmp(op, "unlinkat")) {
        int dirfd = fd(&k);
        const char *path = str(&k);
        return unlinkat(dirfd, path, (int)num(&k));
    }
    if (!strcmp(op, "symlinkat")) {
        const char *target = str(&k);
        int dirfd = fd(&k);
        return symlinkat(target, dirfd, str(&k));
    }
    if (!strcmp(op, "readlinkat")) {
        int dirfd = fd(&k);
        return readlinkat(dirfd, str(&k), link, sizeof link);
    }
    if (!strcmp(op, "rmdir")) return rmdir(str(&k));
    if (!strcmp(op, "unlink")) return unlink(str(&k));
    if (!strcmp(op, "symlink")) {
        const char *target = str(&k);
        return symlink(target, str(&k));
    }
    if (!strcmp(op, "readlink")) return readlink(str(&k), link, sizeof link);
    if (!strcmp(op, "readdir")) return read_dir(str(&k));
    if (!strcmp(op, "readFile")) return read_file(str(&k));
    if (!strcmp(op, "writeFile")) {
        const char *path = str(&k), *data = str(&k);
        return write_file(path, data, k.i < c->n ? (mode_t)num(&k) : 0666);
    }
    if (!strcmp(op, "copyFile")) {
        const char *from = str(&k);
        return copy_file(from, str(&k));
    }
    if (!strcmp(op, "copyFileRange")) {
        int in = fd(&k);
        return copy_fds(in, fd(&k));
    }
    if (!strcmp(op, "fsetxattr")) {
        int f = fd(&k);
        const char *name = str(&k), *value = str(&k);
        return fsetxattr(f, name, value, strlen(value), 0);
    }
    if (!strcmp(op, "lsetxattr")) {
        const char *path = str(&k), *name = str(&k), *value = str(&k);
        return lsetxattr(path, name, value, strlen(value), 0);
    }
    if (!strcmp(op, "unshare")) return unshare((int)num(&k));
    if (!strcmp(op, "cloexecFrom")) return syscall(NR_close_range, (unsigned int)num(&k), ~0U, CLOSE_RANGE_CLOEXEC);
    if (!strcmp(op, "setCloexec")) return fcntl(fd(&k), F_SETFD, FD_CLOEXEC);
    if (!strcmp(op, "sethostname")) {
        const char *name = str(&k);
        return sethostname(name, strlen(name));
    }
    if (!strcmp(op, "setdomainname")) {
        const char *name = str(&k);
        return setdomainname(name, strlen(name));
    }
    if (!strcmp(op, "setInterfaceUp")) return interface_up(str(&k));
    if (!strcmp(op, "joinSessionKeyring")) {
        const char *name = str(&k);
        return join_keyring(name, (unsigned int)num(&k));
    }
    if (!strcmp(op, "setgroups")) return set_groups(&k);
    if (!strcmp(op, "setgid")) return setgid((gid_t)num(&k));
    if (!strcmp(op, "setuid")) return setuid((uid_t)num(&k));
    if (!strcmp(op, "setns")) {
        int nsfd = fd(&k);
        return setns(nsfd, (int)num(&k));
    }
    if (!strcmp(op, "getpid")) return getpid();
    if (!strcmp(op, "getrandom")) {
        static unsigned char bytes[256];
        size_t length = (size_t)num(&k);
        if (length > sizeof bytes) { errno = E2BIG; return -1; }
        return getrandom(bytes, length, (unsigned int)num(&k));
    }
    if (!strcmp(op, "write")) {
        int f = fd(&k);
        const char *data = str(&k);
        return write(f, data, strlen(data));
    }
    if (!strcmp(op, "setsid")) return setsid();
    if (!strcmp(op, "getsid")) return getsid(0);
    if (!strcmp(op, "releaseTerminal")) return ioctl(fd(&k), TIOCNOTTY);
    if (!strcmp(op, "ioprioSet")) {
        int which = (int)num(&k), who = (int)num(&k);
        return syscall(SYS_ioprio_set, which, who, (int)num(&k));
    }
    if (!strcmp(op, "personality")) return personality((unsigned long)num(&k));
    if (!strcmp(op, "ptyUnlock")) {
        int unlock = 0;
        return ioctl(fd(&k), TIOCSPTLCK, &unlock);
    }
    if (!strcmp(op, "ptyPeer")) {
        int master = fd(&k);
        return ioctl(master, TIOCGPTPEER, (int)num(&k));
    }
    if (!strcmp(op, "setWindowSize")) {
        int tty = fd(&k);
        struct winsize size = { 0 };
        size.ws_row = (unsigned short)num(&k);
        size.ws_col = (unsigned short)num(&k);
        return ioctl(tty, TIOCSWINSZ, &size);
    }
    if (!strcmp(op, "setControllingTerminal")) return ioctl(fd(&k), TIOCSCTTY, 0);
    if (!strcmp(op, "setNonBlocking") || !strcmp(op, "setBlocking")) {
        int on = !strcmp(op, "setNonBlocking"), f = fd(&k), flags = fcntl(f, F_GETFL);
        if (flags < 0) return flags;
        int want = on ? flags | O_NONBLOCK : flags & ~O_NONBLOCK;
        return want == flags ? 0 : fcntl(f, F_SETFL, want);
    }
    if (!strcmp(op, "setNoNewPrivs")) return prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
    if (!strcmp(op, "setDumpable")) return prctl(PR_SET_DUMPABLE, (unsigned long)num(&k), 0, 0, 0);
    if (!strcmp(op, "setParentDeathSignal")) return prctl(PR_SET_PDEATHSIG, (unsigned long)num(&k), 0, 0, 0);
    if (!strcmp(op, "setChildSubreaper")) return prctl(PR_SET_CHILD_SUBREAPER, 1UL, 0, 0, 0);
    if (!strcmp(op, "unsetChildSubreaper")) return prctl(PR_SET_CHILD_SUBREAPER, 0UL, 0, 0, 0);
    if (!strcmp(op, "prepareExec")) {
        /* The port's work that a C program has too: the real-time signals to their default
           (SIGRTMIN 34 to 64). Node's own SIGPIPE and SIGXFSZ have no counterpart here. */
        for (int sig = 34; sig <= 64; sig++) signal(sig, SIG_DFL);
        return 0;
    }
    if (!strcmp(op, "getrlimit")) {
        struct rlimit limit;
        return prlimit(0, (int)num(&k), NULL, &limit);
    }
    if (!strcmp(op, "setrlimit")) {
        int resource = (int)num(&k);
        struct rlimit limit;
        limit.rlim_cur = u64(&k);
        limit.rlim_max = u64(&k);
        return prlimit(0, resource, &limit, NULL);
    }
    if (!strcmp(op, "capbsetRead")) return prctl(PR_CAPBSET_READ, (unsigned long)num(&k), 0, 0, 0);
    if (!strcmp(op, "capbsetDrop")) return prctl(PR_CAPBSET_DROP, (unsigned long)num(&k), 0, 0, 0);
    if (!strcmp(op, "setKeepCaps")) return prctl(PR_SET_KEEPCAPS, (unsigned long)num(&k), 0, 0, 0);
    if (!strcmp(op, "ambientClearAll")) return prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0);
    if (!strcmp(op, "ambientRaise")) return prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, (unsigned long)num(&k), 0, 0);
    if (!strcmp(op, "capset")) {
        uint32_t header[2] = { CAP_VERSION_3, 0 }, data[6];
        for (int i = 0; i < 3; i++) {
            uint64_t mask = u64(&k);
            data[i] = (uint32_t)mask;
            data[3 + i] = (uint32_t)(mask >> 32);
        }
        return syscall(SYS_capset, header, data);
    }
    if (!strcmp(op, "sleep")) {
        long long ms = num(&k);
        struct timespec ts = { ms / 1000, (ms % 1000) * 1000000 };
        return nanosleep(&ts, NULL);
    }
    if (!strcmp(op, "execve")) {
        const char *path = str(&k);
        char **argv = strs(&k), **envp = strs(&k);
        fprintf(out, "%llu %llu %d %d 0 %llu\n", (unsigned long long)start, (unsigned long long)now_ns(), total, mismatches,
                (unsigned long long)mount_start);
        fclose(out);
        return execve(path, argv, envp);
    }
    fprintf(stderr, "replay: cannot replay %s\n", op);
    exit(2);
}

/* Compares the outcome with EXPECT; remembers descriptors the recorded run got. */
static void check(struct call *c, int index, long ret, int err) {
    const char *e = c->expect;
    if (!strncmp(e, "ok", 2)) {
        if (e[2] == ':' && ret >= 0) {
            long long recorded = strtoll(e + 3, NULL, 10);
            if (recorded >= 0 && recorded < MAX_FD) fd_map[recorded] = (int)ret;
        }
        if (ret >= 0) return;
    } else if (e[0] == '?' || (ret < 0 && err == atoi(e + 4))) {
        return;
    }
    if (mismatches++ < 5)
        fprintf(stderr, "replay: call %d %s: expected %s, got %s\n", index, c->op, e, ret < 0 ? strerror(err) : "success");
}

int main(int argc, char **argv) {
    if (argc != 3) die("usage: replay LIST OUT");
    for (int i = 0; i < MAX_FD; i++) fd_map[i] = -1;
    int n;
    struct call *calls = parse(read_all(argv[1]), &n);
    FILE *out = fopen(argv[2], "a");
    if (!out) die("cannot open OUT");
    uint64_t start = now_ns();
    for (int i = 0; i < n; i++) {
        errno = 0;
        long ret = replay(&calls[i], out, start, n);
        check(&calls[i], i, ret, errno);
    }
    fprintf(stderr, "replay: the list ended without an execve that worked\n");
    return 127;
}
