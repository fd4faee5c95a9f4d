/*
 * mlp_predict.c: load a neural network trained in Python (scikit-learn's
 * MLPClassifier / MLPRegressor, saved with ferrokit.nn.MLP.save) and print its
 * predictions for samples read from standard input.
 *
 * Usage:  mlp_predict MODEL_FILE < samples.txt
 *
 * Input: whitespace-separated numbers, n_features per sample (line breaks do
 * not matter). Output, one line per sample (numbers printed with %.17g so they
 * round-trip exactly):
 *   classifier:  "<label>\t<p_0> <p_1> ..."        (label text, probabilities)
 *   multilabel:  "<0/1 per label>\t<p_0> <p_1> ..."
 *   regressor:   "<y_0> <y_1> ..."
 * The first line is a header: "model: <task> <dtype> features=<n> outputs=<n>".
 *
 * Exit codes: 0 ok, 1 a ferrokit error (printed as "error: <STATUS> <message>"
 * on stderr, e.g. a truncated or corrupted model file), 2 bad usage or input.
 *
 * Build (see README.md next to this file):
 *   cc -std=c99 mlp_predict.c -I<include dir> <path>/libferrokit.so -Wl,-rpath,<lib dir>
 */

#include <ferrokit.h>

#include <stdio.h>
#include <stdlib.h>

/* Prints "error: <STATUS_NAME> <message>" for a failed call; returns 1. */
static int fail(fk_status st)
{
    size_t len = fk_last_error_message(NULL, 0);
    char *msg = malloc(len + 1);
    if (msg != NULL) {
        fk_last_error_message(msg, len + 1);
    }
    fprintf(stderr, "error: %s %s\n", fk_status_name(st), msg != NULL ? msg : "");
    free(msg);
    return 1;
}

/* Reads all numbers from stdin into a growing array of doubles. */
static double *read_numbers(size_t *count)
{
    size_t cap = 1024, n = 0;
    double *v = malloc(cap * sizeof *v);
    double x;
    while (v != NULL && scanf("%lf", &x) == 1) {
        if (n == cap) {
            double *bigger = realloc(v, 2 * cap * sizeof *v);
            if (bigger == NULL) {
                free(v);
                return NULL;
            }
            v = bigger;
            cap *= 2;
        }
        v[n++] = x;
    }
    *count = n;
    return v;
}

/* Prints class label i of the model (any label kind, as text). */
static fk_status print_label(const fk_mlp *model, size_t i)
{
    char small[64];
    size_t len = 0;
    fk_status st = fk_mlp_class_label(model, i, small, sizeof small, &len);
    if (st != FK_OK) {
        return st;
    }
    if (len < sizeof small) {
        fputs(small, stdout);
        return FK_OK;
    }
    char *big = malloc(len + 1); /* a long text label: ask again with room */
    if (big == NULL) {
        return FK_ERR_ALLOCATION;
    }
    st = fk_mlp_class_label(model, i, big, len + 1, &len);
    if (st == FK_OK) {
        fputs(big, stdout);
    }
    free(big);
    return st;
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: %s MODEL_FILE < samples.txt\n", argv[0]);
        return 2;
    }
    if (fk_abi_version() != FK_ABI_VERSION) {
        fprintf(stderr, "error: library ABI %u, header ABI %d\n", fk_abi_version(), FK_ABI_VERSION);
        return 1;
    }

    fk_mlp *model = NULL;
    fk_status st = fk_mlp_load(argv[1], &model);
    if (st != FK_OK) {
        return fail(st);
    }
    fk_mlp_info info;
    st = fk_mlp_get_info(model, &info);
    if (st != FK_OK) {
        fk_mlp_free(model);
        return fail(st);
    }
    const char *task = info.task == FK_MLP_REGRESSOR    ? "regressor"
                       : info.task == FK_MLP_MULTILABEL ? "multilabel"
                                                        : "classifier";
    printf("model: %s %s features=%zu outputs=%zu\n", task,
           info.dtype == FK_DTYPE_F32 ? "float32" : "float64", info.n_features, info.n_outputs);

    size_t count = 0;
    double *x = read_numbers(&count);
    if (x == NULL || count % info.n_features != 0) {
        fprintf(stderr, "error: expected a multiple of %zu numbers on stdin, got %zu\n",
                info.n_features, count);
        free(x);
        fk_mlp_free(model);
        return 2;
    }
    size_t n = count / info.n_features;
    size_t width = info.task == FK_MLP_REGRESSOR ? info.n_outputs : info.n_proba_columns;
    size_t n_cls = info.task == FK_MLP_MULTILABEL ? n * info.n_outputs : n;

    /* Results in double whatever the model's dtype (float32 models are run in
     * float32 and widened for printing). */
    double *y = malloc((n * width + 1) * sizeof *y);
    int64_t *cls = malloc((n_cls + 1) * sizeof *cls);
    float *xf = NULL, *yf = NULL;
    if (y == NULL || cls == NULL) {
        st = FK_ERR_ALLOCATION;
        goto done;
    }
    if (info.dtype == FK_DTYPE_F32) {
        xf = malloc((count + 1) * sizeof *xf);
        yf = malloc((n * width + 1) * sizeof *yf);
        if (xf == NULL || yf == NULL) {
            st = FK_ERR_ALLOCATION;
            goto done;
        }
        for (size_t i = 0; i < count; i++) {
            xf[i] = (float)x[i];
        }
        st = info.task == FK_MLP_REGRESSOR
                 ? fk_mlp_predict_f32(model, xf, n, info.n_features, yf, n * width)
                 : fk_mlp_predict_proba_f32(model, xf, n, info.n_features, yf, n * width);
        if (st == FK_OK && info.task != FK_MLP_REGRESSOR) {
            st = fk_mlp_predict_class_f32(model, xf, n, info.n_features, cls, n_cls);
        }
        for (size_t i = 0; st == FK_OK && i < n * width; i++) {
            y[i] = (double)yf[i];
        }
    } else {
        st = info.task == FK_MLP_REGRESSOR
                 ? fk_mlp_predict_f64(model, x, n, info.n_features, y, n * width)
                 : fk_mlp_predict_proba_f64(model, x, n, info.n_features, y, n * width);
        if (st == FK_OK && info.task != FK_MLP_REGRESSOR) {
            st = fk_mlp_predict_class_f64(model, x, n, info.n_features, cls, n_cls);
        }
    }
    if (st != FK_OK) {
        goto done;
    }

    for (size_t i = 0; i < n && st == FK_OK; i++) {
        if (info.task == FK_MLP_CLASSIFIER) {
            st = print_label(model, (size_t)cls[i]);
            putchar('\t');
        } else if (info.task == FK_MLP_MULTILABEL) {
            for (size_t j = 0; j < info.n_outputs; j++) {
                printf("%s%d", j ? " " : "", (int)cls[i * info.n_outputs + j]);
            }
            putchar('\t');
        }
        for (size_t j = 0; j < width; j++) {
            printf("%s%.17g", j ? " " : "", y[i * width + j]);
        }
        putchar('\n');
    }

done:
    free(x);
    free(xf);
    free(yf);
    free(y);
    free(cls);
    if (st != FK_OK) {
        int rc = fail(st);
        fk_mlp_free(model);
        return rc;
    }
    fk_mlp_free(model);
    fk_mlp_free(NULL); /* accepted: does nothing */
    return 0;
}
