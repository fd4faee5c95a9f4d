/*
 * text_vectorize.c: scikit-learn-identical text vectorizers through ferrokit's C ABI.
 *
 * Documents cross as one UTF-8 buffer plus n + 1 offsets (Arrow layout).
 * Variable-size results come back as opaque result handles (fk_csr,
 * fk_vocabulary): ask their sizes, copy into buffers of exactly those sizes,
 * free them (NULL-safe).
 *
 * 1. hashes three documents like HashingVectorizer(n_features=16, norm=None);
 * 2. fits a count vectorizer (CountVectorizer(ngram_range=(1, 2))) in two
 *    batches, prints the vocabulary and the counts, transforms a new document;
 * 3. shows an error: a transform before any fit (FK_ERR_INVALID_STATE).
 * Prints "ok" on the last line when every check passed.
 *
 * Build: cc -std=c99 text_vectorize.c -I"$INC" "$LIB" -Wl,-rpath,"$(dirname "$LIB")" -o text_vectorize
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <ferrokit.h>

static int fail(const char *what, fk_status st) {
    char msg[256];
    fk_last_error_message(msg, sizeof msg);
    printf("FAILED %s: %s: %s\n", what, fk_status_name(st), msg);
    return 1;
}

/* Packs n C strings into buf (cap bytes) and offsets[n + 1]; returns the bytes used. */
static size_t pack(const char **docs, size_t n, uint8_t *buf, size_t cap, uint64_t *offsets) {
    size_t pos = 0;
    offsets[0] = 0;
    for (size_t i = 0; i < n; i++) {
        size_t len = strlen(docs[i]);
        if (pos + len > cap) exit(2);
        memcpy(buf + pos, docs[i], len);
        pos += len;
        offsets[i + 1] = pos;
    }
    return pos;
}

/* Prints a CSR result row by row ("row r: col:value ...") and frees it. */
static int print_csr(const char *name, fk_csr *m) {
    size_t rows, cols, nnz;
    fk_status st = fk_csr_shape(m, &rows, &cols, &nnz);
    if (st != FK_OK) return fail("fk_csr_shape", st);
    int64_t *indptr = malloc((rows + 1) * sizeof *indptr);
    int32_t *indices = malloc((nnz ? nnz : 1) * sizeof *indices);
    double *data = malloc((nnz ? nnz : 1) * sizeof *data);
    if (!indptr || !indices || !data) return 1;
    if ((st = fk_csr_indptr_i64(m, indptr, rows + 1)) != FK_OK ||
        (st = fk_csr_indices_i32(m, indices, nnz)) != FK_OK ||
        (st = fk_csr_data_f64(m, data, nnz)) != FK_OK)
        return fail("fk_csr accessors", st);
    printf("%s: %zu x %zu, %zu stored\n", name, rows, cols, nnz);
    for (size_t r = 0; r < rows; r++) {
        printf("  row %zu:", r);
        for (int64_t k = indptr[r]; k < indptr[r + 1]; k++) printf(" %d:%g", indices[k], data[k]);
        printf("\n");
    }
    free(indptr);
    free(indices);
    free(data);
    fk_csr_free(m);
    return 0;
}

int main(void) {
    const char *docs[] = {"The cat sat on the mat.", "Le chat \xC3\xA9tait l\xC3\xA0.", "ΟΔΟΣ the cat"};
    const char *more[] = {"a dog and the cat"};
    uint8_t buf[256];
    uint64_t off[4];
    fk_status st;
    fk_text_tables *tables = NULL;
    fk_text_analyzer *an = NULL;
    fk_csr *m = NULL;

    /* Tables from Rust's Unicode data (Python users get Python's own tables). */
    if ((st = fk_text_tables_default(&tables)) != FK_OK) return fail("tables", st);
    if ((st = fk_text_analyzer_new(tables, FK_TEXT_WORD, 1, 2, 1, NULL, 0, NULL, 0, &an)) != FK_OK)
        return fail("analyzer", st);
    fk_text_tables_free(tables); /* the analyzer keeps what it needs */

    /* 1. Hashing (unigrams and bigrams, 16 columns, alternate signs). */
    size_t used = pack(docs, 3, buf, sizeof buf, off);
    if ((st = fk_text_hash(an, buf, used, off, 4, 16, 1, &m)) != FK_OK) return fail("hash", st);
    if (print_csr("hashed", m)) return 1;

    /* 2. Count vectorizer: a fit in two batches, then its vocabulary. */
    fk_count_vectorizer *cv = NULL;
    if ((st = fk_count_vectorizer_new(an, &cv)) != FK_OK) return fail("count new", st);
    fk_text_analyzer_free(an);

    /* 3. The error first: transform before any fit. */
    used = pack(more, 1, buf, sizeof buf, off);
    st = fk_count_vectorizer_transform(cv, buf, used, off, 2, &m);
    {
        char msg[256];
        fk_last_error_message(msg, sizeof msg);
        printf("transform before fit: %s: %s\n", fk_status_name(st), msg);
        if (st != FK_ERR_INVALID_STATE) return 1;
    }

    used = pack(docs, 2, buf, sizeof buf, off);
    if ((st = fk_count_vectorizer_fit_add(cv, buf, used, off, 3)) != FK_OK) return fail("fit 1", st);
    used = pack(docs + 2, 1, buf, sizeof buf, off);
    if ((st = fk_count_vectorizer_fit_add(cv, buf, used, off, 2)) != FK_OK) return fail("fit 2", st);
    /* min_df = 1 document, max_df = all: keep every term. */
    if ((st = fk_count_vectorizer_fit_finish(cv, 1e300, 1.0, 1, &m)) != FK_OK) return fail("finish", st);
    if (print_csr("counts", m)) return 1;

    fk_vocabulary *voc = NULL;
    if ((st = fk_count_vectorizer_vocabulary(cv, &voc)) != FK_OK) return fail("vocabulary", st);
    size_t n_terms, n_bytes;
    fk_vocabulary_size(voc, &n_terms, &n_bytes);
    uint8_t *terms = malloc(n_bytes + 1);
    uint64_t *toff = malloc((n_terms + 1) * sizeof *toff);
    int64_t *ids = malloc(n_terms * sizeof *ids);
    if (!terms || !toff || !ids) return 1;
    if ((st = fk_vocabulary_terms(voc, terms, n_bytes, toff, n_terms + 1)) != FK_OK ||
        (st = fk_vocabulary_ids_i64(voc, ids, n_terms)) != FK_OK)
        return fail("vocabulary accessors", st);
    printf("vocabulary (%zu terms, first occurrence order):", n_terms);
    for (size_t i = 0; i < n_terms; i++)
        printf(" '%.*s':%lld", (int)(toff[i + 1] - toff[i]), (const char *)terms + toff[i], (long long)ids[i]);
    printf("\n");
    free(terms);
    free(toff);
    free(ids);
    fk_vocabulary_free(voc);
    fk_vocabulary_free(NULL); /* NULL is accepted by every free */

    used = pack(more, 1, buf, sizeof buf, off);
    if ((st = fk_count_vectorizer_transform(cv, buf, used, off, 2, &m)) != FK_OK) return fail("transform", st);
    if (print_csr("transformed", m)) return 1;
    fk_count_vectorizer_free(cv);
    printf("ok\n");
    return 0;
}
