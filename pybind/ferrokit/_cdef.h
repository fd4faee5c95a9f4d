/* cffi declarations of ferrokit, generated with include/ferrokit.h; do not edit. */

#define FK_ABI_VERSION 1

#define FK_MAX_THREADS 1024

#define FK_COLSTATS_FIELDS 8

#define FK_LAYOUT_C 0

#define FK_LAYOUT_F 1

#define FK_NORM_L1 0

#define FK_NORM_L2 1

#define FK_NORM_MAX 2

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

fk_status fk_colstats_f64(const double *x,
                          size_t rows,
                          size_t cols,
                          int32_t layout,
                          const double *w,
                          size_t n_w,
                          double *out,
                          size_t n_out);

fk_status fk_colstats_f32(const float *x,
                          size_t rows,
                          size_t cols,
                          int32_t layout,
                          const float *w,
                          size_t n_w,
                          double *out,
                          size_t n_out);

fk_status fk_colstats_merge(const double *a,
                            size_t n_a,
                            const double *b,
                            size_t n_b,
                            size_t cols,
                            double *out,
                            size_t n_out);

fk_status fk_col_argminmax_f64(const double *x,
                               size_t rows,
                               size_t cols,
                               int32_t layout,
                               size_t *argmin,
                               size_t *argmax,
                               size_t n_out);

fk_status fk_col_argminmax_f32(const float *x,
                               size_t rows,
                               size_t cols,
                               int32_t layout,
                               size_t *argmin,
                               size_t *argmax,
                               size_t n_out);

fk_status fk_colminmax_f64(const double *x,
                           size_t rows,
                           size_t cols,
                           int32_t layout,
                           double *out_min,
                           double *out_max,
                           size_t n_out);

fk_status fk_colminmax_f32(const float *x,
                           size_t rows,
                           size_t cols,
                           int32_t layout,
                           float *out_min,
                           float *out_max,
                           size_t n_out);

fk_status fk_affine_cols_f64(const double *x,
                             size_t rows,
                             size_t cols,
                             int32_t layout,
                             const double *sub,
                             const double *scale,
                             const double *add,
                             size_t n_params,
                             int32_t divide,
                             int32_t clip,
                             double clip_lo,
                             double clip_hi,
                             double *out,
                             size_t n_out,
                             int32_t *saw_inf);

fk_status fk_affine_cols_f32(const float *x,
                             size_t rows,
                             size_t cols,
                             int32_t layout,
                             const float *sub,
                             const float *scale,
                             const float *add,
                             size_t n_params,
                             int32_t divide,
                             int32_t clip,
                             float clip_lo,
                             float clip_hi,
                             float *out,
                             size_t n_out,
                             int32_t *saw_inf);

fk_status fk_normalize_rows_f64(const double *x,
                                size_t rows,
                                size_t cols,
                                int32_t layout,
                                int32_t norm,
                                double *out,
                                size_t n_out,
                                size_t *n_nonfinite);

fk_status fk_normalize_rows_f32(const float *x,
                                size_t rows,
                                size_t cols,
                                int32_t layout,
                                int32_t norm,
                                float *out,
                                size_t n_out,
                                size_t *n_nonfinite);

const char *fk_status_name(int32_t status);
