/*
 * model_text_predict.c: load a scikit-learn TEXT pipeline saved from Python
 * with ferrokit.export(make_pipeline(TfidfVectorizer(), LogisticRegression())
 * .fit(docs, y), "model.fk") and classify the lines of a UTF-8 text file,
 * one document per line. No Python is needed: the model file holds the
 * vocabulary, the idf weights and the character tables of the Python that
 * exported it, so tokens are exactly that Python's.
 *
 * Usage:  model_text_predict MODEL_FILE DOCS.txt
 *
 * Documents cross the C ABI as one UTF-8 buffer plus n + 1 offsets (Arrow
 * layout): document i is buf[offsets[i] .. offsets[i + 1]].
 *
 * Output: a first line "model: <task> text steps=<n>", then one line per
 * document: "<label>\t<p_0> <p_1> ..." (probabilities, or decision values
 * when the model has no probabilities; %.17g round-trips exactly).
 *
 * Exit codes: 0 ok, 1 a ferrokit error (printed as "error: <STATUS> <message>"
 * on stderr), 2 bad usage or input.
 *
 * Build: cc -std=c99 model_text_predict.c -I<include dir> <path>/libferrokit.so -Wl,-rpath,<lib dir>
 */

#include <ferrokit.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

/* Reads the whole file; returns NULL on failure. */
static char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    char *buf = NULL;
    size_t cap = 0;
    *len = 0;
    if (f == NULL) {
        return NULL;
    }
    for (;;) {
        if (*len == cap) {
            size_t bigger = cap ? 2 * cap : 4096;
            char *p = realloc(buf, bigger);
            if (p == NULL) {
                free(buf);
                fclose(f);
                return NULL;
            }
            buf = p;
            cap = bigger;
        }
        {
            size_t got = fread(buf + *len, 1, cap - *len, f);
            *len += got;
            if (got == 0) {
                break;
            }
        }
    }
    fclose(f);
    return buf;
}

int main(int argc, char **argv)
{
    fk_model *m = NULL;
    fk_model_info info;
    fk_status st;
    char *text;
    size_t len, n_docs = 0, i, j, cols;
    uint64_t *offsets;
    int64_t *cls;
    double *val;
    int rc = 0;

    if (argc != 3) {
        fprintf(stderr, "usage: %s MODEL_FILE DOCS.txt\n", argv[0]);
        return 2;
    }
    text = slurp(argv[2], &len);
    if (text == NULL) {
        fprintf(stderr, "cannot read %s\n", argv[2]);
        return 2;
    }
    /* Lines become documents: the newline bytes are skipped by the offsets. */
    for (i = 0; i < len; i++) {
        n_docs += text[i] == '\n';
    }
    if (len > 0 && text[len - 1] != '\n') {
        n_docs++;
    }
    offsets = malloc((2 * n_docs + 1) * sizeof *offsets);
    if (offsets == NULL) {
        free(text);
        return 2;
    }
    {
        /* Compact the lines (newlines removed) so offsets are n + 1 values. */
        size_t w = 0, d = 0;
        offsets[0] = 0;
        for (i = 0; i < len; i++) {
            if (text[i] == '\n') {
                offsets[++d] = w;
            } else {
                text[w++] = text[i];
            }
        }
        if (d < n_docs) {
            offsets[++d] = w;
        }
    }
    st = fk_model_load(argv[1], &m);
    if (st != FK_OK) {
        free(text);
        free(offsets);
        return fail(st);
    }
    st = fk_model_get_info(m, &info);
    if (st != FK_OK || info.input_kind != FK_MODEL_INPUT_TEXT || info.task != FK_MODEL_CLASSIFIER) {
        fprintf(stderr, "error: expected a text classifier\n");
        fk_model_free(m);
        free(text);
        free(offsets);
        return 2;
    }
    printf("model: classifier text steps=%zu\n", info.n_steps);
    cols = info.n_proba ? info.n_proba : info.n_decision;
    cls = malloc((n_docs + 1) * sizeof *cls);
    val = malloc((n_docs * cols + 1) * sizeof *val);
    if (cls == NULL || val == NULL) {
        rc = 2;
        goto done;
    }
    st = fk_model_predict_class_text(m, (const uint8_t *)text, len, offsets,
                                     n_docs ? n_docs + 1 : 0, cls, n_docs);
    if (st == FK_OK) {
        st = info.n_proba
                 ? fk_model_predict_proba_text_f64(m, (const uint8_t *)text, len, offsets,
                                                   n_docs ? n_docs + 1 : 0, val, n_docs * cols)
                 : fk_model_decision_function_text_f64(m, (const uint8_t *)text, len, offsets,
                                                       n_docs ? n_docs + 1 : 0, val,
                                                       n_docs * cols);
    }
    if (st != FK_OK) {
        rc = fail(st);
        goto done;
    }
    for (i = 0; i < n_docs; i++) {
        char label[256];
        size_t need;
        st = fk_model_class_label(m, (size_t)cls[i], label, sizeof label, &need);
        if (st != FK_OK) {
            rc = fail(st);
            goto done;
        }
        printf("%s\t", label);
        for (j = 0; j < cols; j++) {
            printf(j ? " %.17g" : "%.17g", val[i * cols + j]);
        }
        printf("\n");
    }
done:
    free(cls);
    free(val);
    free(text);
    free(offsets);
    fk_model_free(m);
    return rc;
}
