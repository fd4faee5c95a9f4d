/* cffi declarations of ferrokit, generated with include/ferrokit.h; do not edit. */

#define FK_ABI_VERSION 5

#define FK_MODEL_INPUT_NUMERIC 0

#define FK_MODEL_INPUT_TEXT 1

#define FK_MODEL_REGRESSOR 0

#define FK_MODEL_CLASSIFIER 1

#define FK_MODEL_MULTILABEL 2

#define FK_MODEL_TRANSFORMER 3

#define FK_MODEL_NEIGHBORS 4

#define FK_METRIC_SQEUCLIDEAN 0

#define FK_METRIC_EUCLIDEAN 1

#define FK_METRIC_COSINE 2

#define FK_METRIC_INNER_PRODUCT 3

#define FK_LP_MANHATTAN 0

#define FK_LP_CHEBYSHEV 1

#define FK_LP_MINKOWSKI 2

#define FK_ACT_IDENTITY 0

#define FK_ACT_RELU 1

#define FK_ACT_SIGMOID 2

#define FK_ACT_TANH 3

#define FK_ACT_GELU 4

#define FK_ACT_GELU_TANH 5

#define FK_ACT_SILU 6

#define FK_ACT_SOFTMAX 7

#define FK_DTYPE_F32 1

#define FK_DTYPE_F64 2

#define FK_MLP_REGRESSOR 0

#define FK_MLP_CLASSIFIER 1

#define FK_MLP_MULTILABEL 2

#define FK_LABELS_NONE 0

#define FK_LABELS_INT 1

#define FK_LABELS_FLOAT 2

#define FK_LABELS_TEXT 3

#define FK_LABELS_BOOL 4

#define FK_MAX_THREADS 1024

#define FK_COLSTATS_FIELDS 8

#define FK_LAYOUT_C 0

#define FK_LAYOUT_F 1

#define FK_NORM_L1 0

#define FK_NORM_L2 1

#define FK_NORM_MAX 2

#define FK_TEXT_WORD 0

#define FK_TEXT_CHAR 1

#define FK_TEXT_CHAR_WB 2

#define FK_TEXT_KIND_UTF8 0

#define FK_TEXT_KIND_LATIN1 1

#define FK_TEXT_KIND_UCS2 2

#define FK_TEXT_KIND_UCS4 4

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

typedef struct fk_mlp fk_mlp;

typedef struct fk_model fk_model;

typedef struct fk_count_vectorizer fk_count_vectorizer;

typedef struct fk_csr fk_csr;

typedef struct fk_knn_index_f32 fk_knn_index_f32;

typedef struct fk_knn_index_f64 fk_knn_index_f64;

typedef struct fk_text_analyzer fk_text_analyzer;

typedef struct fk_text_tables fk_text_tables;

typedef struct fk_vocabulary fk_vocabulary;

typedef struct {
  int32_t input_kind;
  int32_t task;
  size_t n_features;
  size_t n_outputs;
  int32_t predict_1d;
  size_t n_proba;
  size_t n_decision;
  size_t n_transform;
  size_t n_neighbors;
  int32_t label_kind;
  size_t n_classes;
  size_t n_feature_names;
  size_t n_steps;
} fk_model_info;

typedef struct {
  int32_t dtype;
  int32_t task;
  size_t n_features;
  size_t n_outputs;
  size_t n_layers;
  int32_t hidden_activation;
  int32_t output_activation;
  int32_t label_kind;
  size_t n_classes;
  size_t n_proba_columns;
} fk_mlp_info;

size_t fk_last_error_message(char *buf, size_t cap);

fk_status fk_model_load(const char *path, fk_model **out);

fk_status fk_model_load_bytes(const uint8_t *data, size_t n, fk_model **out);

fk_status fk_model_save_bytes(const fk_model *model, uint8_t *buf, size_t cap, size_t *len);

void fk_model_free(fk_model *model);

fk_status fk_model_get_info(const fk_model *model, fk_model_info *out);

fk_status fk_model_classes_i64(const fk_model *model, int64_t *out, size_t n);

fk_status fk_model_classes_f64(const fk_model *model, double *out, size_t n);

fk_status fk_model_class_label(const fk_model *model, size_t i, char *buf, size_t cap, size_t *len);

fk_status fk_model_feature_name(const fk_model *model,
                                size_t i,
                                char *buf,
                                size_t cap,
                                size_t *len);

fk_status fk_model_step_name(const fk_model *model, size_t i, char *buf, size_t cap, size_t *len);

fk_status fk_model_metadata(const fk_model *model, char *buf, size_t cap, size_t *len);

fk_status fk_model_predict_f64(const fk_model *model,
                               const double *x,
                               size_t n_rows,
                               size_t n_features,
                               double *out,
                               size_t n_out);

fk_status fk_model_predict_f32(const fk_model *model,
                               const float *x,
                               size_t n_rows,
                               size_t n_features,
                               float *out,
                               size_t n_out);

fk_status fk_model_predict_class_f64(const fk_model *model,
                                     const double *x,
                                     size_t n_rows,
                                     size_t n_features,
                                     int64_t *out,
                                     size_t n_out);

fk_status fk_model_predict_class_f32(const fk_model *model,
                                     const float *x,
                                     size_t n_rows,
                                     size_t n_features,
                                     int64_t *out,
                                     size_t n_out);

fk_status fk_model_predict_proba_f64(const fk_model *model,
                                     const double *x,
                                     size_t n_rows,
                                     size_t n_features,
                                     double *out,
                                     size_t n_out);

fk_status fk_model_predict_proba_f32(const fk_model *model,
                                     const float *x,
                                     size_t n_rows,
                                     size_t n_features,
                                     float *out,
                                     size_t n_out);

fk_status fk_model_decision_function_f64(const fk_model *model,
                                         const double *x,
                                         size_t n_rows,
                                         size_t n_features,
                                         double *out,
                                         size_t n_out);

fk_status fk_model_decision_function_f32(const fk_model *model,
                                         const float *x,
                                         size_t n_rows,
                                         size_t n_features,
                                         float *out,
                                         size_t n_out);

fk_status fk_model_transform_f64(const fk_model *model,
                                 const double *x,
                                 size_t n_rows,
                                 size_t n_features,
                                 double *out,
                                 size_t n_out);

fk_status fk_model_transform_f32(const fk_model *model,
                                 const float *x,
                                 size_t n_rows,
                                 size_t n_features,
                                 float *out,
                                 size_t n_out);

fk_status fk_model_kneighbors_f64(const fk_model *model,
                                  const double *x,
                                  size_t n_rows,
                                  size_t n_features,
                                  size_t k,
                                  double *distances,
                                  size_t n_dist,
                                  int64_t *indices,
                                  size_t n_idx);

fk_status fk_model_kneighbors_f32(const fk_model *model,
                                  const float *x,
                                  size_t n_rows,
                                  size_t n_features,
                                  size_t k,
                                  float *distances,
                                  size_t n_dist,
                                  int64_t *indices,
                                  size_t n_idx);

fk_status fk_model_predict_text_f64(const fk_model *model,
                                    const uint8_t *buf,
                                    size_t buf_len,
                                    const uint64_t *offsets,
                                    size_t n_offsets,
                                    double *out,
                                    size_t n_out);

fk_status fk_model_predict_text_f32(const fk_model *model,
                                    const uint8_t *buf,
                                    size_t buf_len,
                                    const uint64_t *offsets,
                                    size_t n_offsets,
                                    float *out,
                                    size_t n_out);

fk_status fk_model_predict_class_text(const fk_model *model,
                                      const uint8_t *buf,
                                      size_t buf_len,
                                      const uint64_t *offsets,
                                      size_t n_offsets,
                                      int64_t *out,
                                      size_t n_out);

fk_status fk_model_predict_proba_text_f64(const fk_model *model,
                                          const uint8_t *buf,
                                          size_t buf_len,
                                          const uint64_t *offsets,
                                          size_t n_offsets,
                                          double *out,
                                          size_t n_out);

fk_status fk_model_predict_proba_text_f32(const fk_model *model,
                                          const uint8_t *buf,
                                          size_t buf_len,
                                          const uint64_t *offsets,
                                          size_t n_offsets,
                                          float *out,
                                          size_t n_out);

fk_status fk_model_decision_function_text_f64(const fk_model *model,
                                              const uint8_t *buf,
                                              size_t buf_len,
                                              const uint64_t *offsets,
                                              size_t n_offsets,
                                              double *out,
                                              size_t n_out);

fk_status fk_model_decision_function_text_f32(const fk_model *model,
                                              const uint8_t *buf,
                                              size_t buf_len,
                                              const uint64_t *offsets,
                                              size_t n_offsets,
                                              float *out,
                                              size_t n_out);

fk_status fk_model_transform_text_f64(const fk_model *model,
                                      const uint8_t *buf,
                                      size_t buf_len,
                                      const uint64_t *offsets,
                                      size_t n_offsets,
                                      double *out,
                                      size_t n_out);

fk_status fk_model_transform_text_f32(const fk_model *model,
                                      const uint8_t *buf,
                                      size_t buf_len,
                                      const uint64_t *offsets,
                                      size_t n_offsets,
                                      float *out,
                                      size_t n_out);

fk_status fk_model_transform_text_csr(const fk_model *model,
                                      const uint8_t *buf,
                                      size_t buf_len,
                                      const uint64_t *offsets,
                                      size_t n_offsets,
                                      fk_csr **out);

fk_status fk_pairwise_distances_f64(const double *x,
                                    size_t nx,
                                    const double *y,
                                    size_t ny,
                                    size_t dim,
                                    int32_t metric,
                                    double *out,
                                    size_t n_out);

fk_status fk_pairwise_distances_f32(const float *x,
                                    size_t nx,
                                    const float *y,
                                    size_t ny,
                                    size_t dim,
                                    int32_t metric,
                                    float *out,
                                    size_t n_out);

fk_status fk_knn_search_f64(const double *queries,
                            size_t n_queries,
                            const double *database,
                            size_t n_database,
                            size_t dim,
                            size_t k,
                            int32_t metric,
                            double *out_distances,
                            size_t n_out_distances,
                            int64_t *out_indices,
                            size_t n_out_indices);

fk_status fk_knn_search_f32(const float *queries,
                            size_t n_queries,
                            const float *database,
                            size_t n_database,
                            size_t dim,
                            size_t k,
                            int32_t metric,
                            float *out_distances,
                            size_t n_out_distances,
                            int64_t *out_indices,
                            size_t n_out_indices);

fk_status fk_knn_index_new_f32(size_t dim, int32_t metric, fk_knn_index_f32 **out);

fk_status fk_knn_index_add_f32(fk_knn_index_f32 *index,
                               const float *data,
                               size_t n_rows,
                               size_t dim);

fk_status fk_knn_index_search_f32(const fk_knn_index_f32 *index,
                                  const float *queries,
                                  size_t n_queries,
                                  size_t dim,
                                  size_t k,
                                  float *out_distances,
                                  size_t n_out_distances,
                                  int64_t *out_indices,
                                  size_t n_out_indices);

fk_status fk_knn_index_len_f32(const fk_knn_index_f32 *index, size_t *out);

fk_status fk_knn_index_rows_f32(const fk_knn_index_f32 *index,
                                size_t start,
                                size_t n_rows,
                                float *out,
                                size_t n_out);

void fk_knn_index_free_f32(fk_knn_index_f32 *index);

fk_status fk_knn_index_new_f64(size_t dim, int32_t metric, fk_knn_index_f64 **out);

fk_status fk_knn_index_add_f64(fk_knn_index_f64 *index,
                               const double *data,
                               size_t n_rows,
                               size_t dim);

fk_status fk_knn_index_search_f64(const fk_knn_index_f64 *index,
                                  const double *queries,
                                  size_t n_queries,
                                  size_t dim,
                                  size_t k,
                                  double *out_distances,
                                  size_t n_out_distances,
                                  int64_t *out_indices,
                                  size_t n_out_indices);

fk_status fk_knn_index_len_f64(const fk_knn_index_f64 *index, size_t *out);

fk_status fk_knn_index_rows_f64(const fk_knn_index_f64 *index,
                                size_t start,
                                size_t n_rows,
                                double *out,
                                size_t n_out);

void fk_knn_index_free_f64(fk_knn_index_f64 *index);

fk_status fk_lp_pairwise_distances_f64(const double *x,
                                       size_t nx,
                                       const double *y,
                                       size_t ny,
                                       size_t dim,
                                       int32_t metric,
                                       double p,
                                       double *out,
                                       size_t n_out);

fk_status fk_lp_pairwise_distances_f32(const float *x,
                                       size_t nx,
                                       const float *y,
                                       size_t ny,
                                       size_t dim,
                                       int32_t metric,
                                       double p,
                                       double *out,
                                       size_t n_out);

fk_status fk_lp_knn_search_f64(const double *queries,
                               size_t n_queries,
                               const double *database,
                               size_t n_database,
                               size_t dim,
                               size_t k,
                               int32_t metric,
                               double p,
                               double *out_distances,
                               size_t n_out_distances,
                               int64_t *out_indices,
                               size_t n_out_indices);

fk_status fk_lp_knn_search_f32(const float *queries,
                               size_t n_queries,
                               const float *database,
                               size_t n_database,
                               size_t dim,
                               size_t k,
                               int32_t metric,
                               double p,
                               double *out_distances,
                               size_t n_out_distances,
                               int64_t *out_indices,
                               size_t n_out_indices);

fk_status fk_activation_f64(int32_t activation,
                            const double *x,
                            size_t n,
                            double *out,
                            size_t n_out);

fk_status fk_activation_f32(int32_t activation, const float *x, size_t n, float *out, size_t n_out);

fk_status fk_softmax_f64(const double *x, size_t rows, size_t cols, double *out, size_t n_out);

fk_status fk_softmax_f32(const float *x, size_t rows, size_t cols, float *out, size_t n_out);

fk_status fk_log_softmax_f64(const double *x, size_t rows, size_t cols, double *out, size_t n_out);

fk_status fk_log_softmax_f32(const float *x, size_t rows, size_t cols, float *out, size_t n_out);

fk_status fk_layer_norm_f64(const double *x,
                            size_t rows,
                            size_t cols,
                            const double *weight,
                            size_t n_weight,
                            const double *bias,
                            size_t n_bias,
                            double eps,
                            double *out,
                            size_t n_out);

fk_status fk_layer_norm_f32(const float *x,
                            size_t rows,
                            size_t cols,
                            const float *weight,
                            size_t n_weight,
                            const float *bias,
                            size_t n_bias,
                            double eps,
                            float *out,
                            size_t n_out);

fk_status fk_rms_norm_f64(const double *x,
                          size_t rows,
                          size_t cols,
                          const double *weight,
                          size_t n_weight,
                          double eps,
                          double *out,
                          size_t n_out);

fk_status fk_rms_norm_f32(const float *x,
                          size_t rows,
                          size_t cols,
                          const float *weight,
                          size_t n_weight,
                          double eps,
                          float *out,
                          size_t n_out);

fk_status fk_topk_f64(const double *x,
                      size_t rows,
                      size_t cols,
                      size_t k,
                      int32_t largest,
                      int32_t sorted,
                      double *values,
                      size_t n_values,
                      int64_t *indices,
                      size_t n_indices);

fk_status fk_topk_f32(const float *x,
                      size_t rows,
                      size_t cols,
                      size_t k,
                      int32_t largest,
                      int32_t sorted,
                      float *values,
                      size_t n_values,
                      int64_t *indices,
                      size_t n_indices);

fk_status fk_linear_f64(const double *x,
                        size_t m,
                        size_t k,
                        const double *weight,
                        size_t n,
                        size_t weight_cols,
                        const double *bias,
                        size_t n_bias,
                        int32_t activation,
                        double *out,
                        size_t n_out);

fk_status fk_linear_f32(const float *x,
                        size_t m,
                        size_t k,
                        const float *weight,
                        size_t n,
                        size_t weight_cols,
                        const float *bias,
                        size_t n_bias,
                        int32_t activation,
                        float *out,
                        size_t n_out);

fk_status fk_mlp_load(const char *path, fk_mlp **out);

fk_status fk_mlp_load_bytes(const uint8_t *data, size_t n, fk_mlp **out);

fk_status fk_mlp_save(const fk_mlp *model, const char *path);

fk_status fk_mlp_save_bytes(const fk_mlp *model, uint8_t *buf, size_t cap, size_t *len);

void fk_mlp_free(fk_mlp *model);

fk_status fk_mlp_get_info(const fk_mlp *model, fk_mlp_info *out);

fk_status fk_mlp_classes_i64(const fk_mlp *model, int64_t *out, size_t n);

fk_status fk_mlp_classes_f64(const fk_mlp *model, double *out, size_t n);

fk_status fk_mlp_class_label(const fk_mlp *model, size_t i, char *buf, size_t cap, size_t *len);

fk_status fk_mlp_n_feature_names(const fk_mlp *model, size_t *out);

fk_status fk_mlp_feature_name(const fk_mlp *model, size_t i, char *buf, size_t cap, size_t *len);

fk_status fk_mlp_predict_f64(const fk_mlp *model,
                             const double *x,
                             size_t n_samples,
                             size_t n_features,
                             double *out,
                             size_t n_out);

fk_status fk_mlp_predict_f32(const fk_mlp *model,
                             const float *x,
                             size_t n_samples,
                             size_t n_features,
                             float *out,
                             size_t n_out);

fk_status fk_mlp_predict_proba_f64(const fk_mlp *model,
                                   const double *x,
                                   size_t n_samples,
                                   size_t n_features,
                                   double *out,
                                   size_t n_out);

fk_status fk_mlp_predict_proba_f32(const fk_mlp *model,
                                   const float *x,
                                   size_t n_samples,
                                   size_t n_features,
                                   float *out,
                                   size_t n_out);

fk_status fk_mlp_predict_class_f64(const fk_mlp *model,
                                   const double *x,
                                   size_t n_samples,
                                   size_t n_features,
                                   int64_t *out,
                                   size_t n_out);

fk_status fk_mlp_predict_class_f32(const fk_mlp *model,
                                   const float *x,
                                   size_t n_samples,
                                   size_t n_features,
                                   int64_t *out,
                                   size_t n_out);

uint32_t fk_abi_version(void);

const char *fk_version(void);

const char *fk_simd_level(void);

size_t fk_get_num_threads(void);

size_t fk_requested_num_threads(void);

fk_status fk_set_num_threads(size_t n);

size_t fk_num_threads_warning(char *buf, size_t cap);

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

fk_status fk_text_tables_new(const uint32_t *word_ranges,
                             size_t n_word_ranges,
                             const uint32_t *space_ranges,
                             size_t n_space_ranges,
                             const uint32_t *case_ignorable_ranges,
                             size_t n_case_ignorable_ranges,
                             const uint32_t *cased_ranges,
                             size_t n_cased_ranges,
                             const uint32_t *lower_cps,
                             size_t n_lower_cps,
                             const uint8_t *lower_buf,
                             size_t lower_buf_len,
                             const uint64_t *lower_offsets,
                             size_t n_lower_offsets,
                             fk_text_tables **out);

fk_status fk_text_tables_default(fk_text_tables **out);

void fk_text_tables_free(fk_text_tables *tables);

fk_status fk_text_analyzer_new(const fk_text_tables *tables,
                               int32_t kind,
                               size_t min_n,
                               size_t max_n,
                               int32_t lowercase,
                               const uint8_t *stop_buf,
                               size_t stop_buf_len,
                               const uint64_t *stop_offsets,
                               size_t n_stop_offsets,
                               fk_text_analyzer **out);

void fk_text_analyzer_free(fk_text_analyzer *analyzer);

fk_status fk_text_hash(const fk_text_analyzer *analyzer,
                       const uint8_t *buf,
                       size_t buf_len,
                       const uint64_t *offsets,
                       size_t n_offsets,
                       size_t n_features,
                       int32_t alternate_sign,
                       fk_csr **out);

fk_status fk_text_hash_features(const uint8_t *buf,
                                size_t buf_len,
                                const uint64_t *offsets,
                                size_t n_offsets,
                                const uint64_t *doc_ptr,
                                size_t n_doc_ptr,
                                size_t n_features,
                                int32_t alternate_sign,
                                fk_csr **out);

fk_status fk_text_utf8_pack(const void *const *strs,
                            const size_t *lens,
                            const uint8_t *kinds,
                            size_t n,
                            uint8_t *buf,
                            size_t buf_len,
                            uint64_t *offsets,
                            size_t n_offsets,
                            size_t *used);

fk_status fk_csr_shape(const fk_csr *csr, size_t *n_rows, size_t *n_cols, size_t *nnz);

fk_status fk_csr_indptr_i64(const fk_csr *csr, int64_t *out, size_t n);

fk_status fk_csr_indptr_i32(const fk_csr *csr, int32_t *out, size_t n);

fk_status fk_csr_indices_i32(const fk_csr *csr, int32_t *out, size_t n);

fk_status fk_csr_indices_i64(const fk_csr *csr, int64_t *out, size_t n);

fk_status fk_csr_data_f64(const fk_csr *csr, double *out, size_t n);

fk_status fk_csr_data_f32(const fk_csr *csr, float *out, size_t n);

fk_status fk_csr_data_i64(const fk_csr *csr, int64_t *out, size_t n);

fk_status fk_csr_data_i32(const fk_csr *csr, int32_t *out, size_t n);

void fk_csr_free(fk_csr *csr);

fk_status fk_count_vectorizer_new(const fk_text_analyzer *analyzer, fk_count_vectorizer **out);

fk_status fk_count_vectorizer_fit_add(const fk_count_vectorizer *cv,
                                      const uint8_t *buf,
                                      size_t buf_len,
                                      const uint64_t *offsets,
                                      size_t n_offsets);

fk_status fk_count_vectorizer_fit_add_features(const fk_count_vectorizer *cv,
                                               const uint8_t *buf,
                                               size_t buf_len,
                                               const uint64_t *offsets,
                                               size_t n_offsets,
                                               const uint64_t *doc_ptr,
                                               size_t n_doc_ptr);

fk_status fk_count_vectorizer_fit_size(const fk_count_vectorizer *cv,
                                       size_t *n_docs,
                                       size_t *n_terms);

fk_status fk_count_vectorizer_fit_finish(const fk_count_vectorizer *cv,
                                         double high,
                                         double low,
                                         int32_t sort_features,
                                         fk_csr **out);

fk_status fk_count_vectorizer_set_vocabulary(const fk_count_vectorizer *cv,
                                             const uint8_t *buf,
                                             size_t buf_len,
                                             const uint64_t *offsets,
                                             size_t n_offsets,
                                             const int64_t *ids,
                                             size_t n_ids,
                                             size_t n_cols);

fk_status fk_count_vectorizer_transform(const fk_count_vectorizer *cv,
                                        const uint8_t *buf,
                                        size_t buf_len,
                                        const uint64_t *offsets,
                                        size_t n_offsets,
                                        fk_csr **out);

fk_status fk_count_vectorizer_transform_features(const fk_count_vectorizer *cv,
                                                 const uint8_t *buf,
                                                 size_t buf_len,
                                                 const uint64_t *offsets,
                                                 size_t n_offsets,
                                                 const uint64_t *doc_ptr,
                                                 size_t n_doc_ptr,
                                                 fk_csr **out);

fk_status fk_count_vectorizer_vocabulary(const fk_count_vectorizer *cv, fk_vocabulary **out);

fk_status fk_vocabulary_size(const fk_vocabulary *vocab, size_t *n_terms, size_t *n_bytes);

fk_status fk_vocabulary_terms(const fk_vocabulary *vocab,
                              uint8_t *buf,
                              size_t buf_len,
                              uint64_t *offsets,
                              size_t n_offsets);

fk_status fk_vocabulary_ids_i64(const fk_vocabulary *vocab, int64_t *out, size_t n);

void fk_vocabulary_free(fk_vocabulary *vocab);

void fk_count_vectorizer_free(fk_count_vectorizer *cv);
