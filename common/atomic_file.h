/* common/atomic_file.h: write-to-temporary-then-rename outputs.
 *
 * Every file duet writes goes through this: the data is written to a
 * temporary file in the target's folder (so the rename stays on one file
 * system), flushed, fsync'd, and renamed over the target only on commit. A
 * crash or an error leaves the target untouched and no partial file under
 * the target's name. A process killed while writing leaves its hidden
 * temporary (".<name>.tmp.XXXXXX", flock'd while live); the next
 * duet_atomic_open() of the same target removes such temporaries once no
 * process holds their lock and they are 10 s old. */
#ifndef DUET_COMMON_ATOMIC_FILE_H
#define DUET_COMMON_ATOMIC_FILE_H

#include <stdio.h>
#include "status.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct duet_atomic_file duet_atomic_file;

/* Create a temporary file next to `final_path`. On success *out owns an open
 * handle that must end in exactly one of duet_atomic_commit() or
 * duet_atomic_abort(). Errors: DUET_ERR_IO (missing or read-only folder,
 * with the errno text in err), DUET_ERR_NOMEM, DUET_ERR_ARG (empty path). */
duet_status duet_atomic_open(const char *final_path, duet_atomic_file **out, duet_err *err);

/* The stdio stream of the temporary file (owned by the handle; do not fclose). */
FILE *duet_atomic_fp(duet_atomic_file *f);

/* The file descriptor of the temporary file (for libraries that write to fds,
 * e.g. sf_open_fd; owned by the handle). */
int duet_atomic_fd(duet_atomic_file *f);

/* The temporary file's path (owned by the handle). */
const char *duet_atomic_tmp_path(const duet_atomic_file *f);

/* Flush, fsync, close and rename the temporary onto the final path, then
 * fsync the folder. Frees the handle in every case. On failure the temporary
 * is removed and the target is untouched. Errors: DUET_ERR_IO (e.g. disk full). */
duet_status duet_atomic_commit(duet_atomic_file *f, duet_err *err);

/* Close and remove the temporary; frees the handle. NULL is ignored. */
void duet_atomic_abort(duet_atomic_file *f);

/* An anonymous temporary file: created in $TMPDIR (or /tmp) as
 * "duet-<tag>-XXXXXX" and unlinked at once, so it vanishes when closed or
 * when the process dies. Returns the read/write fd (the caller closes it), or
 * -1 with DUET_ERR_IO in err naming the folder. */
int duet_temp_fd(const char *tag, duet_err *err);

#ifdef __cplusplus
}
#endif

#endif
