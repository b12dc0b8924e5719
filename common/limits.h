/* common/limits.h: caps that protect the machine from sizes a file declares.
 *
 * A tiny hostile file can declare billions of audio frames or a tensor of
 * many gigabytes. Readers check such declared sizes against these caps
 * BEFORE allocating anything and refuse the file with DUET_ERR_RANGE and a
 * message naming the cap and its environment variable:
 *
 *   DUET_MAX_SAMPLES       audio decoded into memory (duet_audio_read):
 *                          frames x channels (default 2^30 = 1073741824
 *                          samples, 4 GiB of float: 3.4 h of 44.1 kHz
 *                          stereo). Streaming paths (duet_audio_reader_*,
 *                          duet separate) keep memory bounded and are not
 *                          limited by it.
 *   DUET_MAX_TENSOR_BYTES  one tensor of a safetensors file (model,
 *                          checkpoint): default 2^30 bytes (1 GiB).
 *
 * Values are positive integers with an optional K, M, G or T suffix (powers
 * of 1024), e.g. DUET_MAX_SAMPLES=4G. An unset, empty or invalid value means
 * the default. The variables are only read (no state is kept). */
#ifndef DUET_COMMON_LIMITS_H
#define DUET_COMMON_LIMITS_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define DUET_DEFAULT_MAX_SAMPLES ((int64_t)1 << 30)
#define DUET_DEFAULT_MAX_TENSOR_BYTES ((int64_t)1 << 30)

/* Parse a cap like "4096", "64K", "2G" into *out (> 0). Returns 0 on
 * success, -1 for an empty, non-positive, malformed or overflowing value. */
int duet_limit_parse(const char *s, int64_t *out);

/* The value of environment variable `name` parsed by duet_limit_parse, or
 * `def` when it is unset or invalid. */
int64_t duet_limit_env(const char *name, int64_t def);

/* DUET_MAX_SAMPLES or its default. */
int64_t duet_max_samples(void);

/* DUET_MAX_TENSOR_BYTES or its default. */
int64_t duet_max_tensor_bytes(void);

#ifdef __cplusplus
}
#endif

#endif
