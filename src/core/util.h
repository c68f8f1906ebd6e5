/* Small helpers that fit nowhere else: suggestions, names, numbers. */
#ifndef DANGO_UTIL_H
#define DANGO_UTIL_H
#include <stddef.h>
#include <stdint.h>

/* Edit distance between a and b (Damerau: an adjacent swap counts 1). */
size_t levenshtein(const char *a, const char *b);
/* The candidate closest to `word`, or NULL if none is close enough to be a
 * plausible typo. `candidates` is NULL-terminated; the result is borrowed. */
const char *did_you_mean(const char *word, const char *const *candidates);

/* A lowercase snake_case identifier: [a-z_][a-z0-9_]*, at most 63 chars. */
int is_snake_case(const char *s);
int starts_with(const char *s, const char *prefix);
int ends_with(const char *s, const char *suffix);

/* 1234567 -> "1,234,567" into buf (at least 32 bytes); returns buf. */
char *fmt_count(char *buf, int64_t n);
/* 1536000 -> "1.5 MB" into buf (at least 32 bytes); returns buf. */
char *fmt_bytes(char *buf, uint64_t n);
/* The word that goes with a count: plural(1, "row", "rows") is "row",
 * plural(0 or 2, ...) is "rows". */
const char *plural(int64_t n, const char *one, const char *many);
/* Parse a whole decimal integer; 0 on success. */
int parse_int64(const char *s, int64_t *out);
/* n random bytes from the kernel (getrandom); -1 if it has none. */
int random_bytes(void *buf, size_t n);
/* The offset of the first byte of s that is not valid UTF-8, or n. */
size_t utf8_bad_at(const unsigned char *s, size_t n);
/* Dango's malloc settings (glibc): freed memory kept for reuse rather than
 * given back to the kernel at once. Called first thing in main; the load
 * benchmarks' reference calls it too, to run DuckDB as Dango does. */
void malloc_keep_freed(void);

#endif
