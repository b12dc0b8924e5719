/* common/atomic_file.c: temporary file + fsync + rename (see atomic_file.h). */

#define _DEFAULT_SOURCE /* flock() */
#include "atomic_file.h"

#include <dirent.h>
#include <sys/file.h>
#include <time.h>

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

struct duet_atomic_file {
    FILE *fp;
    int fd;
    char *final_path;
    char *tmp_path;
};

static char *dir_of(const char *path)
{
    const char *slash = strrchr(path, '/');
    if (!slash) return strdup(".");
    if (slash == path) return strdup("/");
    size_t n = (size_t)(slash - path);
    char *d = malloc(n + 1);
    if (!d) return NULL;
    memcpy(d, path, n);
    d[n] = '\0';
    return d;
}

/* A writer holds flock(LOCK_EX) on its temporary for as long as it is open;
 * the lock dies with the process. So a temporary ".<base>.tmp.XXXXXX" of the
 * same target that nobody holds a lock on, and that has not been touched for
 * STALE_SECONDS (covering the instant between mkstemp and flock), was left by
 * a writer that was killed: remove it. Best effort; errors are ignored. */
#define STALE_SECONDS 10
static void remove_stale_temporaries(const char *dir, const char *base)
{
    size_t nb = strlen(base);
    DIR *d = opendir(dir);
    if (!d) return;
    int dfd = dirfd(d);
    time_t now = time(NULL);
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        const char *n = de->d_name;
        if (n[0] != '.' || strncmp(n + 1, base, nb) != 0 || strncmp(n + 1 + nb, ".tmp.", 5) != 0 ||
            strlen(n + 1 + nb + 5) != 6)
            continue;
        int fd = openat(dfd, n, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
        if (fd < 0) continue;
        struct stat sb;
        if (fstat(fd, &sb) == 0 && S_ISREG(sb.st_mode) && now - sb.st_mtime >= STALE_SECONDS &&
            flock(fd, LOCK_EX | LOCK_NB) == 0)
            (void)unlinkat(dfd, n, 0);
        close(fd); /* releases our lock */
    }
    closedir(d);
}

duet_status duet_atomic_open(const char *final_path, duet_atomic_file **out, duet_err *err)
{
    *out = NULL;
    if (!final_path || !final_path[0])
        return duet_err_set(err, DUET_ERR_ARG, "empty output path");
    /* Only regular files are replaced: renaming a temporary over a device
     * (/dev/full, /dev/null), a FIFO or a folder would destroy it. */
    struct stat sb;
    if (stat(final_path, &sb) == 0 && !S_ISREG(sb.st_mode))
        return duet_err_set(err, DUET_ERR_IO, "cannot write output: not a regular file");
    duet_atomic_file *f = calloc(1, sizeof *f);
    if (!f) return duet_err_set(err, DUET_ERR_NOMEM, "out of memory");
    f->fd = -1;
    f->final_path = strdup(final_path);
    char *dir = dir_of(final_path);
    const char *base = strrchr(final_path, '/');
    base = base ? base + 1 : final_path;
    if (!f->final_path || !dir) {
        free(dir);
        duet_atomic_abort(f);
        return duet_err_set(err, DUET_ERR_NOMEM, "out of memory");
    }
    size_t n = strlen(dir) + strlen(base) + 32;
    f->tmp_path = malloc(n);
    if (!f->tmp_path) {
        free(dir);
        duet_atomic_abort(f);
        return duet_err_set(err, DUET_ERR_NOMEM, "out of memory");
    }
    snprintf(f->tmp_path, n, "%s/.%s.tmp.XXXXXX", dir, base);
    remove_stale_temporaries(dir, base);
    free(dir);
    f->fd = mkstemp(f->tmp_path);
    if (f->fd < 0) {
        int e = errno;
        free(f->tmp_path);
        f->tmp_path = NULL;
        duet_atomic_abort(f);
        return duet_err_set(err, DUET_ERR_IO, "cannot create output: %s", strerror(e));
    }
    /* Marks the temporary as live (see remove_stale_temporaries); not
     * supported everywhere (some network file systems), hence no error. */
    (void)flock(f->fd, LOCK_EX | LOCK_NB);
    (void)fchmod(f->fd, 0644);
    f->fp = fdopen(f->fd, "w+b");
    if (!f->fp) {
        int e = errno;
        duet_atomic_abort(f);
        return duet_err_set(err, DUET_ERR_IO, "cannot open output: %s", strerror(e));
    }
    *out = f;
    return DUET_OK;
}

FILE *duet_atomic_fp(duet_atomic_file *f) { return f->fp; }
int duet_atomic_fd(duet_atomic_file *f) { return f->fd; }
const char *duet_atomic_tmp_path(const duet_atomic_file *f) { return f->tmp_path; }

static void fsync_dir(const char *path)
{
    char *dir = dir_of(path);
    if (!dir) return;
    int dfd = open(dir, O_RDONLY);
    if (dfd >= 0) {
        (void)fsync(dfd);
        close(dfd);
    }
    free(dir);
}

duet_status duet_atomic_commit(duet_atomic_file *f, duet_err *err)
{
    duet_status st = DUET_OK;
    int e = 0;
    if (fflush(f->fp) != 0 || ferror(f->fp)) e = errno ? errno : EIO;
    if (!e && fsync(f->fd) != 0) e = errno;
    if (fclose(f->fp) != 0 && !e) e = errno ? errno : EIO;
    f->fp = NULL;
    f->fd = -1;
    if (!e && rename(f->tmp_path, f->final_path) != 0) e = errno;
    if (e) {
        st = duet_err_set(err, DUET_ERR_IO, "cannot write output: %s", strerror(e));
        unlink(f->tmp_path);
    } else {
        fsync_dir(f->final_path);
    }
    free(f->tmp_path);
    free(f->final_path);
    free(f);
    return st;
}

void duet_atomic_abort(duet_atomic_file *f)
{
    if (!f) return;
    if (f->fp) fclose(f->fp);
    else if (f->fd >= 0) close(f->fd);
    if (f->tmp_path) unlink(f->tmp_path);
    free(f->tmp_path);
    free(f->final_path);
    free(f);
}

int duet_temp_fd(const char *tag, duet_err *err)
{
    const char *dir = getenv("TMPDIR");
    if (!dir || !dir[0]) dir = "/tmp";
    char path[4096];
    snprintf(path, sizeof path, "%s/duet-%s-XXXXXX", dir, tag ? tag : "tmp");
    int fd = mkstemp(path);
    if (fd < 0) {
        duet_err_set(err, DUET_ERR_IO, "cannot create a temporary file in %s: %s", dir, strerror(errno));
        return -1;
    }
    unlink(path);
    return fd;
}
