/* Exercises the C ABI on the thread pool and on every error path, for
 * valgrind memcheck (`make sanitize`) and the leak soak: large inputs,
 * resizing the pool between calls, errors with messages, NULL/empty buffers. */
#include <ferrokit.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#define CHECK(cond)                                                  \
    do {                                                             \
        if (!(cond)) {                                               \
            fprintf(stderr, "check failed at line %d: %s\n", __LINE__, #cond); \
            return 1;                                                \
        }                                                            \
    } while (0)

int main(int argc, char **argv) {
    size_t n = 1000003, i;
    int rounds = argc > 1 ? atoi(argv[1]) : 3, r;
    double *x = malloc(n * sizeof *x), *y = malloc(n * sizeof *y), *out = malloc(n * sizeof *out);
    float *xf = malloc(n * sizeof *xf), *outf = malloc(n * sizeof *outf);
    double d1 = 0, d2 = 0;
    char msg[64];
    int32_t s;
    CHECK(x && y && out && xf && outf);
    for (i = 0; i < n; i++) {
        x[i] = sin((double)i) * 100.0;
        y[i] = cos((double)i);
        xf[i] = (float)x[i];
    }
    for (r = 0; r < rounds; r++) {
        CHECK(fk_set_num_threads((size_t)(r % 3) + 1) == FK_OK);
        CHECK(fk_dot_f64(x, n, y, n, &d1) == FK_OK);
        if (r > 0) CHECK(d1 == d2); /* bit-identical for any thread count */
        d2 = d1;
        CHECK(fk_dot_f32(xf, n, xf, n, &d1) == FK_OK);
        CHECK(fk_normalize_f64(x, n, out, n) == FK_OK);
        CHECK(out[0] >= 0.0 && out[0] <= 1.0);
        CHECK(fk_normalize_f32(xf, n, outf, n) == FK_OK);
        /* error paths allocate messages: they must not leak */
        CHECK(fk_dot_f64(x, n, y, n - 1, &d1) == FK_ERR_LENGTH_MISMATCH);
        CHECK(fk_dot_f64(NULL, 3, y, 3, &d1) == FK_ERR_NULL_POINTER);
        CHECK(fk_normalize_f64(x, n, out, n - 1) == FK_ERR_LENGTH_MISMATCH);
        CHECK(fk_normalize_f64(x, n, x + 1, n) == FK_ERR_ALIASING);
        CHECK(fk_add_numbers(INT32_MAX, 1, &s) == FK_ERR_OVERFLOW);
        CHECK(fk_last_error_message(msg, sizeof msg) > 0);
        CHECK(fk_dot_f64(NULL, 0, NULL, 0, &d1) == FK_OK && d1 == 0.0);
        CHECK(fk_set_num_threads(FK_MAX_THREADS + 1) == FK_ERR_INVALID_ARGUMENT);
    }
    CHECK(fk_set_num_threads(0) == FK_OK);
    free(x);
    free(y);
    free(out);
    free(xf);
    free(outf);
    printf("stress ok\n");
    return 0;
}
