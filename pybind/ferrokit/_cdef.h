/* cffi declarations of ferrokit, generated with include/ferrokit.h; do not edit. */

#define FK_ABI_VERSION 1

#define FK_MAX_THREADS 1024

enum fk_status {
  FK_OK = 0,
  FK_ERR_NULL_POINTER = 1,
  FK_ERR_LENGTH_MISMATCH = 2,
  FK_ERR_INVALID_ARGUMENT = 3,
  FK_ERR_NON_FINITE = 4,
  FK_ERR_OVERFLOW = 5,
  FK_ERR_ALLOCATION = 6,
  FK_ERR_PANIC = 7,
  FK_ERR_MISALIGNED = 8,
  FK_ERR_TOO_LARGE = 9,
  FK_ERR_ALIASING = 10,
  FK_ERR_IO = 11,
  FK_ERR_INVALID_FORMAT = 12,
  FK_ERR_UNSUPPORTED_VERSION = 13,
  FK_ERR_INVALID_STATE = 14,
};
typedef int32_t fk_status;

size_t fk_last_error_message(char *buf, size_t cap);

uint32_t fk_abi_version(void);

const char *fk_version(void);

const char *fk_simd_level(void);

size_t fk_get_num_threads(void);

fk_status fk_set_num_threads(size_t n);

fk_status fk_add_numbers(int32_t a, int32_t b, int32_t *out);

fk_status fk_dot_f64(const double *x, size_t nx, const double *y, size_t ny, double *out);

fk_status fk_dot_f32(const float *x, size_t nx, const float *y, size_t ny, double *out);

fk_status fk_normalize_f64(const double *x, size_t n, double *out, size_t n_out);

fk_status fk_normalize_f32(const float *x, size_t n, float *out, size_t n_out);

const char *fk_status_name(int32_t status);
