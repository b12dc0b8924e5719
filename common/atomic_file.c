/* common/atomic_file.c: temporary file + fsync + rename (see atomic_file.h). */

#include "atomic_file.h"

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
    free(dir);
    f->fd = mkstemp(f->tmp_path);
    if (f->fd < 0) {
        int e = errno;
        free(f->tmp_path);
        f->tmp_path = NULL;
        duet_atomic_abort(f);
        return duet_err_set(err, DUET_ERR_IO, "cannot create output: %s", strerror(e));
    }
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
