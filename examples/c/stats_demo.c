/*
 * stats_demo.c: column statistics and standardization through ferrokit's C ABI.
 *
 * Computes per-column statistics of a 6 x 3 C-order matrix in two chunks,
 * merges them (Chan et al.) and checks the result against the statistics of
 * the whole matrix, then standardizes the matrix in place with the affine
 * kernel, and finally shows an error: a partial overlap of input and output.
 * Prints "ok" on the last line when every check passed.
 *
 * Build: cc -std=c99 stats_demo.c -I"$INC" "$LIB" -Wl,-rpath,"$(dirname "$LIB")" -o stats_demo
 */
#include <math.h>
#include <stdio.h>
#include <ferrokit.h>

#define ROWS 6
#define COLS 3
#define F FK_COLSTATS_FIELDS

static int fail(const char *what, fk_status st) {
    char msg[256];
    fk_last_error_message(msg, sizeof msg);
    printf("FAILED %s: %s: %s\n", what, fk_status_name(st), msg);
    return 1;
}

int main(void) {
    double x[ROWS * COLS] = {
        1.0, 10.0, 5.0,
        2.0, 20.0, 5.0,
        3.0, NAN,  5.0,
        4.0, 40.0, 5.0,
        5.0, 50.0, 5.0,
        6.0, 60.0, 5.0,
    };
    double whole[F * COLS], a[F * COLS], b[F * COLS], merged[F * COLS];
    fk_status st;

    st = fk_colstats_f64(x, ROWS, COLS, FK_LAYOUT_C, NULL, 0, whole, F * COLS);
    if (st != FK_OK) return fail("colstats", st);
    /* rows 0..1 and rows 2..5 separately, then merged */
    st = fk_colstats_f64(x, 2, COLS, FK_LAYOUT_C, NULL, 0, a, F * COLS);
    if (st != FK_OK) return fail("colstats chunk a", st);
    st = fk_colstats_f64(x + 2 * COLS, 4, COLS, FK_LAYOUT_C, NULL, 0, b, F * COLS);
    if (st != FK_OK) return fail("colstats chunk b", st);
    st = fk_colstats_merge(a, F * COLS, b, F * COLS, COLS, merged, F * COLS);
    if (st != FK_OK) return fail("merge", st);

    /* packed rows: 0 count, 1 nan_count, 2 sum, 3 m2, 4 min, 5 max, 6 sum|x|, 7 sum x^2 */
    double mean[COLS], scale[COLS], zero[COLS] = {0.0, 0.0, 0.0};
    for (int j = 0; j < COLS; j++) {
        double n = merged[0 * COLS + j];
        mean[j] = merged[2 * COLS + j] / n;
        double var = merged[3 * COLS + j] / n;
        scale[j] = var > 0.0 ? sqrt(var) : 1.0;
        double wvar = whole[3 * COLS + j] / whole[0 * COLS + j];
        printf("column %d: count %.0f nan %.0f mean %.4f var %.4f min %.1f max %.1f\n", j, n,
               merged[1 * COLS + j], mean[j], var, merged[4 * COLS + j], merged[5 * COLS + j]);
        if (n != whole[0 * COLS + j] || fabs(var - wvar) > 1e-12 * (1.0 + wvar)) {
            printf("FAILED merged statistics differ from the whole\n");
            return 1;
        }
    }

    /* standardize in place: (x - mean) / scale; NaN stays NaN */
    int saw_inf = -1;
    st = fk_affine_cols_f64(x, ROWS, COLS, FK_LAYOUT_C, mean, scale, zero, COLS, 1, 0, 0.0, 0.0, x,
                            ROWS * COLS, &saw_inf);
    if (st != FK_OK) return fail("affine", st);
    printf("standardized row 0: %.4f %.4f %.4f (saw_inf %d)\n", x[0], x[1], x[2], saw_inf);
    if (fabs(x[0] + 1.4639) > 1e-4 || !isnan(x[2 * COLS + 1]) || x[2] != 0.0 || saw_inf != 0) {
        printf("FAILED standardize\n");
        return 1;
    }

    /* an output that partially overlaps the input is refused, nothing is written */
    st = fk_affine_cols_f64(x, 2, COLS, FK_LAYOUT_C, mean, scale, zero, COLS, 1, 0, 0.0, 0.0, x + 1,
                            2 * COLS, NULL);
    char msg[256];
    fk_last_error_message(msg, sizeof msg);
    printf("overlap: %s: %s\n", fk_status_name(st), msg);
    if (st != FK_ERR_ALIASING) return 1;

    printf("ok\n");
    return 0;
}
