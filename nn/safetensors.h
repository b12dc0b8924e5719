/* nn/safetensors.h: reader and writer for the safetensors format
 * (https://huggingface.co/docs/safetensors): 8-byte little-endian header
 * length N, then N bytes of UTF-8 JSON mapping tensor names to
 * {"dtype", "shape", "data_offsets": [begin, end]} (offsets relative to the
 * byte after the header), plus an optional "__metadata__" object of
 * string -> string; then the raw little-endian tensor data.
 *
 * The reader is strict, for files from strangers: header length capped and
 * checked against the file size, JSON fully validated (UTF-8 names, no
 * duplicates, no unknown keys, nesting only where the format has it), every
 * shape product checked for overflow, byte sizes exact (end - begin ==
 * numel * dtype size), offsets inside the data area and not overlapping.
 * The weights are used for duet's models and checkpoints. */
#ifndef DUET_NN_SAFETENSORS_H
#define DUET_NN_SAFETENSORS_H

#include <stddef.h>
#include <stdint.h>
#include "../common/status.h"

#ifdef __cplusplus
extern "C" {
#endif

#define DUET_ST_MAX_DIMS 8
#define DUET_ST_MAX_HEADER (100u << 20) /* 100 MiB JSON header cap */

typedef enum duet_st_dtype {
    DUET_ST_F32 = 0,
    DUET_ST_F64,
    DUET_ST_F16,
    DUET_ST_BF16,
    DUET_ST_I64,
    DUET_ST_I32,
    DUET_ST_I16,
    DUET_ST_I8,
    DUET_ST_U8,
    DUET_ST_U64,
    DUET_ST_U32,
    DUET_ST_BOOL
} duet_st_dtype;

/* Bytes per element; "F32" style name. */
size_t duet_st_dtype_size(duet_st_dtype t);
const char *duet_st_dtype_name(duet_st_dtype t);

/* One tensor of a loaded file. All pointers are owned by the file object and
 * valid until duet_st_free(). `data` is suitably aligned for its dtype. */
typedef struct duet_st_tensor {
    const char *name;
    duet_st_dtype dtype;
    int ndim;                        /* 0 .. DUET_ST_MAX_DIMS (0 = scalar) */
    int64_t shape[DUET_ST_MAX_DIMS];
    int64_t numel;
    const void *data;
    size_t nbytes;
} duet_st_tensor;

typedef struct duet_st_file duet_st_file;

/* Reader choices (beyond the list above): the header must start with '{'
 * and only JSON whitespace (space padding) may follow its closing '}';
 * tensor names must be non-empty; shapes have at most DUET_ST_MAX_DIMS
 * dimensions each <= INT64_MAX; the tensors, sorted by data offsets, must
 * tile the data area exactly (no gap, no overlap, nothing after the last
 * one: the rule of the reference reader); a zero-size tensor's begin == end
 * must fall on a tile boundary. "U16" and the F8/F4/F6 types of the format
 * are rejected with DUET_ERR_UNSUPPORTED, other names with DUET_ERR_FORMAT.
 * Each tensor's data is copied into its own 64-byte-aligned slot, as stored
 * (little-endian; duet targets little-endian hosts). duet_st_load refuses
 * anything but a regular file (a FIFO is refused without blocking), and
 * allocates at most the file's size plus 64 bytes per tensor: no size
 * declared in the header is trusted before it is checked against the file.
 *
 * Read and validate a whole file. *out must be freed with duet_st_free().
 * Errors: DUET_ERR_IO (cannot open/read), DUET_ERR_FORMAT (any violation of
 * the format, with the reason and byte offset in err), DUET_ERR_RANGE (header
 * over the cap, sizes overflowing, a tensor over DUET_MAX_TENSOR_BYTES of
 * common/limits.h: refused before allocation), DUET_ERR_NOMEM. */
duet_status duet_st_load(const char *path, duet_st_file **out, duet_err *err);

/* The same from a memory buffer (copied; the buffer may be freed after the
 * call). This is the entry point of the fuzz target. */
duet_status duet_st_parse(const void *buf, size_t len, duet_st_file **out, duet_err *err);

void duet_st_free(duet_st_file *f);

/* Number of tensors and the i-th one in file order of data offsets (ties of
 * zero-size tensors broken by name). duet_st_at returns NULL past the end. */
size_t duet_st_count(const duet_st_file *f);
const duet_st_tensor *duet_st_at(const duet_st_file *f, size_t i);
/* Look up by name; NULL when absent. */
const duet_st_tensor *duet_st_get(const duet_st_file *f, const char *name);

/* Find a float32 tensor `name` whose shape equals shape[0..ndim). Errors:
 * DUET_ERR_NOTFOUND (absent), DUET_ERR_SHAPE (wrong dtype or shape; the
 * message names the tensor, the expected and the found shape). */
duet_status duet_st_get_f32(const duet_st_file *f, const char *name, int ndim,
                            const int64_t *shape, const float **data, duet_err *err);

/* Metadata value for key (owned by f), or NULL. */
const char *duet_st_meta(const duet_st_file *f, const char *key);
size_t duet_st_meta_count(const duet_st_file *f);
/* i-th metadata key/value pair (owned by f), in byte order of the keys;
 * NULLs when i is out of range. */
void duet_st_meta_at(const duet_st_file *f, size_t i, const char **key, const char **value);

/* Writer: collect tensors and metadata, then save atomically. */
typedef struct duet_st_writer duet_st_writer;

/* Errors: DUET_ERR_NOMEM. Free with duet_st_writer_free(). */
duet_status duet_st_writer_new(duet_st_writer **out, duet_err *err);
void duet_st_writer_free(duet_st_writer *w);

/* Add a tensor. The data is COPIED (nbytes = numel * dtype size), so the
 * caller's buffer may change afterwards. Errors: DUET_ERR_ARG (duplicate or
 * empty name, bad ndim, negative dim), DUET_ERR_NOMEM. */
duet_status duet_st_writer_add(duet_st_writer *w, const char *name, duet_st_dtype dtype, int ndim,
                               const int64_t *shape, const void *data, duet_err *err);

/* Set a metadata string (copied; a later call with the same key replaces). */
duet_status duet_st_writer_meta(duet_st_writer *w, const char *key, const char *value, duet_err *err);

/* Write the file atomically (temporary + fsync + rename). Errors: DUET_ERR_IO,
 * DUET_ERR_ARG (empty path), DUET_ERR_NOMEM, DUET_ERR_RANGE (header over the
 * cap). The output is deterministic and byte-identical to what the reference
 * serializer (huggingface safetensors, `serialize`) writes for the same
 * tensors: tensors ordered by descending dtype in the reference's enum order
 * (U64, I64, F64, F32, U32, I32, BF16, F16, I16, I8, U8, BOOL), then by name
 * (byte order), each aligned for its dtype; "__metadata__" first with its
 * keys sorted by bytes (omitted when no metadata was set); compact JSON
 * (escapes as serde_json / Python json.dumps(ensure_ascii=False)); header
 * padded with spaces to a multiple of 8 bytes. */
duet_status duet_st_writer_save(const duet_st_writer *w, const char *path, duet_err *err);

/* The same bytes into memory: *buf (malloc'd, the caller frees it with
 * free()) of *len bytes. Errors: DUET_ERR_NOMEM, DUET_ERR_RANGE. */
duet_status duet_st_writer_serialize(const duet_st_writer *w, void **buf, size_t *len, duet_err *err);

#ifdef __cplusplus
}
#endif

#endif
