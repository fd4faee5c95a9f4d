/*
 * model_predict.c: load a scikit-learn pipeline saved from Python with
 * ferrokit.export(pipeline, "model.fk") and print its predictions for the
 * rows of a CSV file.
 *
 * Usage:  model_predict MODEL_FILE DATA.csv
 *
 * CSV: one row per line, numbers separated by commas; a first line that does
 * not start with a number is a header and is skipped. Every row must have
 * the model's number of features.
 *
 * Output: a first line "model: <task> features=<n> steps=<n>", then one line
 * per row (numbers printed with %.17g so they round-trip exactly):
 *   classifier:   "<label>\t<p_0> <p_1> ..."  (probabilities if the model has them)
 *   multilabel:   "<0/1 per label>"
 *   regressor:    "<y_0> <y_1> ..."
 *   transformer:  "<x'_0> <x'_1> ..."
 *   neighbors:    "<index_0> ...\t<distance_0> ..."
 *
 * Exit codes: 0 ok, 1 a ferrokit error (printed as "error: <STATUS> <message>"
 * on stderr, e.g. a truncated or corrupted model file), 2 bad usage or input.
 *
 * Build (see README.md next to this file):
 *   cc -std=c99 model_predict.c -I<include dir> <path>/libferrokit.so -Wl,-rpath,<lib dir>
 */

#include <ferrokit.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

/* Appends x to the growing array *v (capacity *cap); returns 0 on failure. */
static int push(double **v, size_t *n, size_t *cap, double x)
{
    if (*n == *cap) {
        size_t bigger = *cap ? 2 * *cap : 1024;
        double *p = realloc(*v, bigger * sizeof *p);
        if (p == NULL) {
            return 0;
        }
        *v = p;
        *cap = bigger;
    }
    (*v)[(*n)++] = x;
    return 1;
}

/* Reads the CSV into a row-major array *out (NULL when there are no rows);
 * *rows / *cols receive its shape. Returns 0, or 1 (after printing why) for
 * a file that cannot be read or is malformed. */
static int read_csv(const char *path, double **out, size_t *rows, size_t *cols)
{
    FILE *f = fopen(path, "r");
    char line[65536];
    double *v = NULL;
    size_t n = 0, cap = 0, r = 0, c = 0;
    int first = 1;
    if (f == NULL) {
        fprintf(stderr, "error: cannot open %s\n", path);
        return 1;
    }
    while (fgets(line, sizeof line, f) != NULL) {
        char *p = line;
        char *end;
        size_t k = 0;
        while (*p == ' ' || *p == '\t') {
            p++;
        }
        if (*p == '\n' || *p == '\r' || *p == '\0') {
            continue; /* blank line */
        }
        strtod(p, &end);
        if (first && end == p) {
            first = 0; /* a header line */
            continue;
        }
        first = 0;
        for (;;) {
            double x = strtod(p, &end);
            if (end == p || !push(&v, &n, &cap, x)) {
                fprintf(stderr, "error: %s line %zu: not a number\n", path, r + 1);
                free(v);
                fclose(f);
                return 1;
            }
            k++;
            p = end;
            while (*p == ' ' || *p == '\t') {
                p++;
            }
            if (*p != ',') {
                break;
            }
            p++;
        }
        if (r > 0 && k != c) {
            fprintf(stderr, "error: %s: row %zu has %zu values, the first row %zu\n", path, r + 1, k, c);
            free(v);
            fclose(f);
            return 1;
        }
        c = k;
        r++;
    }
    fclose(f);
    *out = v;
    *rows = r;
    *cols = c;
    return 0;
}

/* Prints class label i (any label kind, as text). */
static fk_status print_label(const fk_model *model, size_t i)
{
    char small[64];
    size_t len = 0;
    fk_status st = fk_model_class_label(model, i, small, sizeof small, &len);
    if (st != FK_OK) {
        return st;
    }
    if (len < sizeof small) {
        fputs(small, stdout);
        return FK_OK;
    }
    {
        char *big = malloc(len + 1); /* a long label: ask again with room */
        if (big == NULL) {
            return FK_ERR_ALLOCATION;
        }
        st = fk_model_class_label(model, i, big, len + 1, &len);
        if (st == FK_OK) {
            fputs(big, stdout);
        }
        free(big);
    }
    return st;
}

static void print_row(const double *v, size_t n)
{
    size_t j;
    for (j = 0; j < n; j++) {
        printf(j ? " %.17g" : "%.17g", v[j]);
    }
}

static const char *task_name(int task)
{
    switch (task) {
    case FK_MODEL_REGRESSOR: return "regressor";
    case FK_MODEL_CLASSIFIER: return "classifier";
    case FK_MODEL_MULTILABEL: return "multilabel";
    case FK_MODEL_TRANSFORMER: return "transformer";
    case FK_MODEL_NEIGHBORS: return "neighbors";
    default: return "unknown";
    }
}

/* Predicts every row and prints the results; returns a status. */
static fk_status run(const fk_model *m, const fk_model_info *info, const double *x, size_t rows)
{
    size_t nf = info->n_features, i, j;
    size_t width = info->n_outputs;
    double *vals = NULL;
    int64_t *idx = NULL;
    fk_status st = FK_OK;
    size_t nv = 0, ni = 0;

    switch (info->task) {
    case FK_MODEL_CLASSIFIER:
        ni = rows;
        nv = rows * info->n_proba;
        break;
    case FK_MODEL_MULTILABEL: ni = rows * width; break;
    case FK_MODEL_NEIGHBORS:
        ni = rows * info->n_neighbors;
        nv = ni;
        break;
    default: nv = rows * width; break;
    }
    vals = malloc((nv ? nv : 1) * sizeof *vals);
    idx = malloc((ni ? ni : 1) * sizeof *idx);
    if (vals == NULL || idx == NULL) {
        st = FK_ERR_ALLOCATION;
        goto done;
    }
    switch (info->task) {
    case FK_MODEL_CLASSIFIER:
        st = fk_model_predict_class_f64(m, x, rows, nf, idx, ni);
        if (st == FK_OK && nv > 0) {
            st = fk_model_predict_proba_f64(m, x, rows, nf, vals, nv);
        }
        break;
    case FK_MODEL_MULTILABEL: st = fk_model_predict_class_f64(m, x, rows, nf, idx, ni); break;
    case FK_MODEL_REGRESSOR: st = fk_model_predict_f64(m, x, rows, nf, vals, nv); break;
    case FK_MODEL_TRANSFORMER: st = fk_model_transform_f64(m, x, rows, nf, vals, nv); break;
    case FK_MODEL_NEIGHBORS:
        st = fk_model_kneighbors_f64(m, x, rows, nf, info->n_neighbors, vals, nv, idx, ni);
        break;
    default: st = FK_ERR_INVALID_STATE; break;
    }
    if (st != FK_OK) {
        goto done;
    }
    for (i = 0; i < rows; i++) {
        switch (info->task) {
        case FK_MODEL_CLASSIFIER:
            st = print_label(m, (size_t)idx[i]);
            if (st != FK_OK) {
                goto done;
            }
            putchar('\t');
            print_row(vals + i * info->n_proba, info->n_proba);
            break;
        case FK_MODEL_MULTILABEL:
            for (j = 0; j < width; j++) {
                printf(j ? " %d" : "%d", (int)idx[i * width + j]);
            }
            break;
        case FK_MODEL_NEIGHBORS:
            for (j = 0; j < info->n_neighbors; j++) {
                printf(j ? " %lld" : "%lld", (long long)idx[i * info->n_neighbors + j]);
            }
            putchar('\t');
            print_row(vals + i * info->n_neighbors, info->n_neighbors);
            break;
        default: print_row(vals + i * width, width); break;
        }
        putchar('\n');
    }
done:
    free(vals);
    free(idx);
    return st;
}

int main(int argc, char **argv)
{
    fk_model *model = NULL;
    fk_model_info info;
    size_t rows = 0, cols = 0;
    double *x = NULL;
    fk_status st;

    if (argc != 3) {
        fprintf(stderr, "usage: %s MODEL_FILE DATA.csv\n", argv[0]);
        return 2;
    }
    st = fk_model_load(argv[1], &model);
    if (st != FK_OK) {
        return fail(st);
    }
    st = fk_model_get_info(model, &info);
    if (st != FK_OK) {
        fk_model_free(model);
        return fail(st);
    }
    if (read_csv(argv[2], &x, &rows, &cols) != 0) {
        fk_model_free(model);
        return 2;
    }
    if (rows > 0 && cols != info.n_features) {
        fprintf(stderr, "error: the CSV has %zu columns, the model expects %zu features\n", cols,
                info.n_features);
        free(x);
        fk_model_free(model);
        return 2;
    }
    printf("model: %s features=%zu steps=%zu\n", task_name(info.task), info.n_features, info.n_steps);
    st = rows > 0 ? run(model, &info, x, rows) : FK_OK;
    free(x);
    fk_model_free(model);
    return st == FK_OK ? 0 : fail(st);
}
