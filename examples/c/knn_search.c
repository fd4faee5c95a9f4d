/*
 * knn_search.c: exact nearest-neighbour search from C with an index handle.
 *
 * Builds a float32 index of 8 points in 2-D, searches it (one-shot and through
 * the handle, several metrics), and shows the errors a caller can get back.
 * The index is an opaque handle: create with fk_knn_index_new_f32, fill with
 * fk_knn_index_add_f32, query with fk_knn_index_search_f32 (thread-safe:
 * concurrent searches are fine; add takes exclusive access), release with
 * fk_knn_index_free_f32 (NULL is accepted). Like every buffer in the C ABI,
 * each output comes with its length (element count): the searches take
 * out_distances, n_out_distances, out_indices, n_out_indices, and both lengths
 * must equal n_queries * k.
 *
 * Build (see README.md next to this file):
 *   cc -std=c99 knn_search.c -I<include dir> <path>/libferrokit.so -Wl,-rpath,<lib dir>
 *
 * Output lines have a stable "key: values" format; exit code 0 means every
 * step behaved as documented.
 */

#include <ferrokit.h>

#include <math.h>
#include <stdint.h>
#include <stdio.h>

#define DIM 2
#define N_POINTS 8
#define N_QUERIES 2
#define K 3
#define N_OUT (N_QUERIES * K) /* elements in each output buffer */

/* Prints "<label>: <STATUS_NAME> <message>" for a failed call. */
static void print_error(const char *label, fk_status st)
{
    char msg[256];
    fk_last_error_message(msg, sizeof msg); /* truncated if longer; always NUL-terminated */
    printf("%s: %s %s\n", label, fk_status_name(st), msg);
}

/* Prints "label: q0: i:d i:d ... | q1: ..." with distances rounded to 4 digits. */
static void print_results(const char *label, const float *dist, const int64_t *idx)
{
    size_t q, j;
    printf("%s:", label);
    for (q = 0; q < N_QUERIES; q++) {
        printf(" q%u", (unsigned)q);
        for (j = 0; j < K; j++) {
            double d = dist[q * K + j];
            if (isnan(d)) {
                printf(" %lld:nan", (long long)idx[q * K + j]);
            } else {
                printf(" %lld:%.4g", (long long)idx[q * K + j], d);
            }
        }
    }
    printf("\n");
}

int main(void)
{
    /* Eight points on a 2-D grid, row-major: point i is (points[2i], points[2i+1]). */
    static const float points[N_POINTS * DIM] = {
        0.0f, 0.0f,  1.0f, 0.0f,  0.0f, 1.0f,  1.0f, 1.0f,
        3.0f, 3.0f,  4.0f, 3.0f,  3.0f, 4.0f,  -1.0f, -1.0f,
    };
    static const float queries[N_QUERIES * DIM] = {0.9f, 0.2f, 3.2f, 3.9f};
    float dist[N_OUT];
    int64_t idx[N_OUT];
    fk_knn_index_f32 *index = NULL;
    size_t len = 0;
    fk_status st;
    int failures = 0;

    if (fk_abi_version() != FK_ABI_VERSION) {
        printf("abi mismatch: library %u, header %u\n", (unsigned)fk_abi_version(), (unsigned)FK_ABI_VERSION);
        return 1;
    }

    /* One-shot search, no handle: the database is only borrowed. */
    st = fk_knn_search_f32(queries, N_QUERIES, points, N_POINTS, DIM, K, FK_METRIC_EUCLIDEAN, dist, N_OUT, idx, N_OUT);
    if (st != FK_OK) {
        print_error("fk_knn_search_f32", st);
        return 1;
    }
    print_results("oneshot euclidean", dist, idx);

    /* An index: new, add in two batches, len, search. */
    st = fk_knn_index_new_f32(DIM, FK_METRIC_SQEUCLIDEAN, &index);
    if (st != FK_OK) {
        print_error("fk_knn_index_new_f32", st);
        return 1;
    }
    if (fk_knn_index_add_f32(index, points, 5, DIM) != FK_OK
        || fk_knn_index_add_f32(index, points + 5 * DIM, N_POINTS - 5, DIM) != FK_OK
        || fk_knn_index_len_f32(index, &len) != FK_OK) {
        print_error("fk_knn_index_add_f32", FK_ERR_INVALID_STATE);
        fk_knn_index_free_f32(index);
        return 1;
    }
    printf("index len: %u\n", (unsigned)len);
    st = fk_knn_index_search_f32(index, queries, N_QUERIES, DIM, K, dist, N_OUT, idx, N_OUT);
    if (st != FK_OK) {
        print_error("fk_knn_index_search_f32", st);
        fk_knn_index_free_f32(index);
        return 1;
    }
    print_results("index sqeuclidean", dist, idx);

    /* Inner product: a similarity, largest first. */
    st = fk_knn_search_f32(queries, N_QUERIES, points, N_POINTS, DIM, K, FK_METRIC_INNER_PRODUCT, dist, N_OUT, idx,
                           N_OUT);
    if (st != FK_OK) {
        print_error("inner_product", st);
        failures++;
    } else {
        print_results("oneshot inner_product", dist, idx);
    }

    /* Errors come back as status codes; outputs are left untouched. */
    st = fk_knn_index_search_f32(index, queries, N_QUERIES, DIM, N_POINTS + 1, dist, N_OUT, idx, N_OUT);
    print_error("k too large", st);
    failures += st != FK_ERR_INVALID_ARGUMENT;
    st = fk_knn_index_search_f32(index, queries, N_QUERIES, 3, K, dist, N_OUT, idx, N_OUT);
    print_error("wrong dim", st);
    failures += st != FK_ERR_LENGTH_MISMATCH;
    st = fk_knn_index_search_f32(index, queries, N_QUERIES, DIM, K, dist, N_OUT - 1, idx, N_OUT);
    print_error("output too short", st);
    failures += st != FK_ERR_LENGTH_MISMATCH;
    st = fk_knn_search_f32(queries, N_QUERIES, points, N_POINTS, DIM, K, 42, dist, N_OUT, idx, N_OUT);
    print_error("unknown metric", st);
    failures += st != FK_ERR_INVALID_ARGUMENT;
    st = fk_knn_search_f32(queries, N_QUERIES, points, 0, DIM, 1, FK_METRIC_EUCLIDEAN, dist, N_QUERIES, idx, N_QUERIES);
    print_error("empty database", st);
    failures += st != FK_ERR_INVALID_ARGUMENT;

    fk_knn_index_free_f32(index);
    fk_knn_index_free_f32(NULL); /* accepted, does nothing */

    if (failures != 0) {
        printf("failures: %d\n", failures);
        return 1;
    }
    printf("ok\n");
    return 0;
}
