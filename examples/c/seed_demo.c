/*
 * seed_demo.c: a tour of ferrokit's C ABI, meant to be copied.
 *
 * Shows the conventions every ferrokit function follows:
 *   - check the ABI version of the loaded library against the header;
 *   - every fallible call returns an fk_status (FK_OK == 0) and writes its
 *     result only through a trailing out-pointer, only on success;
 *   - after an error, fk_status_name() gives a static name for the status and
 *     fk_last_error_message() the detailed message of the calling thread,
 *     copied snprintf-style into a buffer you own.
 *
 * Build (see README.md next to this file):
 *   cc -std=c99 seed_demo.c -I<include dir> <path>/libferrokit.so -Wl,-rpath,<lib dir>
 *
 * Output lines have a stable "key: values" or "name(args) = value" format so
 * scripts and tests can grep them. Exit code 0 means every step behaved as
 * documented.
 */

#include <ferrokit.h>

#include <math.h>   /* NAN, INFINITY, isnan */
#include <stdint.h> /* INT32_MAX */
#include <stdio.h>
#include <stdlib.h> /* malloc, free, EXIT_FAILURE */

/* Number of elements of a fixed-size array. */
#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

/*
 * Prints "<label>: <STATUS_NAME> <message>" for a failed call.
 *
 * fk_last_error_message works like snprintf: called with (NULL, 0) it only
 * returns the message length (without the terminating NUL); then a buffer of
 * length + 1 bytes receives the whole message, always NUL-terminated.
 * Returns 0 on success, -1 if the buffer could not be allocated.
 */
static int print_error(const char *label, fk_status st)
{
    size_t len = fk_last_error_message(NULL, 0); /* length query */
    char *msg = (char *)malloc(len + 1);
    if (msg == NULL) {
        fprintf(stderr, "out of memory\n");
        return -1;
    }
    fk_last_error_message(msg, len + 1); /* copies len bytes + NUL */
    printf("%s: %s %s\n", label, fk_status_name(st), msg);
    free(msg);
    return 0;
}

/* Prints one value with %g; NaN always as "nan" (printf may add a sign or,
 * on some C libraries, a suffix such as "nan(ind)"). */
static void print_value(double v)
{
    if (isnan(v)) {
        printf(" nan");
    } else {
        printf(" %g", v);
    }
}

/* Prints "<label>: v0 v1 ...". */
static void print_f64(const char *label, const double *v, size_t n)
{
    size_t i;
    printf("%s:", label);
    for (i = 0; i < n; i++) {
        print_value(v[i]);
    }
    printf("\n");
}

static void print_f32(const char *label, const float *v, size_t n)
{
    size_t i;
    printf("%s:", label);
    for (i = 0; i < n; i++) {
        print_value((double)v[i]);
    }
    printf("\n");
}

/* Reports an unexpected status and makes main() fail. */
#define EXPECT(call, expected)                                                 \
    do {                                                                       \
        fk_status st_ = (call);                                                \
        if (st_ != (expected)) {                                               \
            fprintf(stderr, "%s:%d: %s returned %s, expected %s\n", __FILE__,  \
                    __LINE__, #call, fk_status_name(st_),                      \
                    fk_status_name(expected));                                 \
            return EXIT_FAILURE;                                               \
        }                                                                      \
    } while (0)

int main(void)
{
    fk_status st;

    /* 1. The library you run must speak the ABI of the header you compiled. */
    if (fk_abi_version() != FK_ABI_VERSION) {
        fprintf(stderr, "ABI mismatch: header %d, library %lu\n", FK_ABI_VERSION,
                (unsigned long)fk_abi_version());
        return 1;
    }
    printf("abi_version: %lu\n", (unsigned long)fk_abi_version());
    printf("version: %s\n", fk_version());

    /* 2. A plain call: the result arrives through the out-pointer. */
    {
        int32_t sum = 0;
        EXPECT(fk_add_numbers(5, 7, &sum), FK_OK);
        printf("add_numbers(5, 7) = %ld\n", (long)sum);

        /* Overflow is reported, never wrapped; `sum` is left untouched. */
        st = fk_add_numbers(INT32_MAX, 1, &sum);
        if (st != FK_ERR_OVERFLOW || sum != 12) {
            fprintf(stderr, "add_numbers overflow: got %s, sum %ld\n",
                    fk_status_name(st), (long)sum);
            return EXIT_FAILURE;
        }
        if (print_error("add_numbers(INT32_MAX, 1)", st) != 0) {
            return EXIT_FAILURE;
        }
    }

    /* 3. Arrays are (pointer, length) pairs; lengths are element counts. */
    {
        const double x[] = {1.0, 2.0, 3.0};
        const double y[] = {4.0, 5.0, 6.0};
        double dot = 0.0;
        EXPECT(fk_dot_f64(x, COUNT(x), y, COUNT(y), &dot), FK_OK);
        printf("dot_product = %g\n", dot);

        /* Different lengths: FK_ERR_LENGTH_MISMATCH with a message. */
        st = fk_dot_f64(x, COUNT(x), y, 2, &dot);
        if (st != FK_ERR_LENGTH_MISMATCH) {
            fprintf(stderr, "dot length mismatch: got %s\n", fk_status_name(st));
            return EXIT_FAILURE;
        }
        if (print_error("dot_product(3, 2)", st) != 0) {
            return EXIT_FAILURE;
        }
    }

    /* 4. Min-max scaling to [0, 1]; NaNs are skipped and stay NaN. */
    {
        double x[] = {1.0, 3.0, 2.0, NAN};
        double out[COUNT(x)];
        EXPECT(fk_normalize_f64(x, COUNT(x), out, COUNT(out)), FK_OK);
        print_f64("normalize", out, COUNT(out));

        /* In place: pass the same buffer as input and output. */
        EXPECT(fk_normalize_f64(x, COUNT(x), x, COUNT(x)), FK_OK);
        print_f64("normalize_inplace", x, COUNT(x));
    }
    {
        const float x[] = {2.0f, 4.0f, 6.0f, 10.0f};
        float out[COUNT(x)];
        EXPECT(fk_normalize_f32(x, COUNT(x), out, COUNT(out)), FK_OK);
        print_f32("normalize_f32", out, COUNT(out));
    }
    {
        /* Infinity has no place in a min-max range: an error, `out` untouched. */
        const double x[] = {1.0, INFINITY, 2.0};
        double out[COUNT(x)] = {-1.0, -1.0, -1.0};
        st = fk_normalize_f64(x, COUNT(x), out, COUNT(out));
        if (st != FK_ERR_NON_FINITE || out[0] != -1.0) {
            fprintf(stderr, "normalize infinity: got %s\n", fk_status_name(st));
            return EXIT_FAILURE;
        }
        if (print_error("normalize(inf)", st) != 0) {
            return EXIT_FAILURE;
        }
    }

    printf("ok\n");
    return 0;
}
