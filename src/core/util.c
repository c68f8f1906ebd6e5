#include "util.h"
#include "xalloc.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

size_t levenshtein(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	size_t *d = xcalloc((la + 1) * (lb + 1), sizeof(*d));
#define D(i, j) d[(i) * (lb + 1) + (j)]
	for (size_t i = 0; i <= la; i++)
		D(i, 0) = i;
	for (size_t j = 0; j <= lb; j++)
		D(0, j) = j;
	for (size_t i = 1; i <= la; i++) {
		for (size_t j = 1; j <= lb; j++) {
			size_t cost = tolower((unsigned char)a[i - 1]) != tolower((unsigned char)b[j - 1]);
			size_t v = D(i - 1, j) + 1;
			if (D(i, j - 1) + 1 < v)
				v = D(i, j - 1) + 1;
			if (D(i - 1, j - 1) + cost < v)
				v = D(i - 1, j - 1) + cost;
			if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] &&
			    D(i - 2, j - 2) + 1 < v)
				v = D(i - 2, j - 2) + 1;
			D(i, j) = v;
		}
	}
	size_t r = D(la, lb);
#undef D
	free(d);
	return r;
}

const char *did_you_mean(const char *word, const char *const *candidates)
{
	const char *best = NULL;
	size_t best_d = (size_t)-1;
	size_t len = strlen(word);
	size_t limit = len < 4 ? 1 : len < 9 ? 2 : 3;
	for (; candidates && *candidates; candidates++) {
		size_t d = levenshtein(word, *candidates);
		/* a prefix of a longer name is a good guess too ("endp" -> "endpoints") */
		if (len >= 3 && !strncmp(*candidates, word, len))
			d = d < 1 ? d : 1;
		if (d < best_d) {
			best_d = d;
			best = *candidates;
		}
	}
	return best_d <= limit ? best : NULL;
}

int is_snake_case(const char *s)
{
	size_t n = 0;
	if (!s || !(islower((unsigned char)*s) || *s == '_'))
		return 0;
	for (; *s; s++, n++)
		if (!(islower((unsigned char)*s) || isdigit((unsigned char)*s) || *s == '_'))
			return 0;
	return n <= 63;
}

int starts_with(const char *s, const char *prefix)
{
	return !strncmp(s, prefix, strlen(prefix));
}

int ends_with(const char *s, const char *suffix)
{
	size_t ls = strlen(s), lx = strlen(suffix);
	return ls >= lx && !strcmp(s + ls - lx, suffix);
}

char *fmt_count(char *buf, int64_t n)
{
	char tmp[32];
	int len = snprintf(tmp, sizeof(tmp), "%" PRId64, n < 0 ? -n : n);
	char *o = buf;
	if (n < 0)
		*o++ = '-';
	for (int i = 0; i < len; i++) {
		*o++ = tmp[i];
		if ((len - i - 1) % 3 == 0 && i != len - 1)
			*o++ = ',';
	}
	*o = '\0';
	return buf;
}

char *fmt_bytes(char *buf, uint64_t n)
{
	static const char *const units[] = { "B", "KB", "MB", "GB", "TB" };
	double v = (double)n;
	size_t u = 0;
	while (v >= 1000 && u < ARRAY_SIZE(units) - 1) {
		v /= 1000;
		u++;
	}
	if (u == 0)
		snprintf(buf, 32, "%" PRIu64 " B", n);
	else
		snprintf(buf, 32, "%.1f %s", v, units[u]);
	return buf;
}

int parse_int64(const char *s, int64_t *out)
{
	char *end;
	errno = 0;
	if (!s || !*s)
		return -1;
	long long v = strtoll(s, &end, 10);
	if (errno || *end)
		return -1;
	*out = v;
	return 0;
}

const char *plural(int64_t n, const char *one, const char *many)
{
	return n == 1 ? one : many;
}

int random_bytes(void *buf, size_t n)
{
	unsigned char *p = buf;
	size_t got = 0;
	while (got < n) {
		ssize_t r = getrandom(p + got, n - got, 0);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		got += (size_t)r;
	}
	return 0;
}

/* No overlong forms, surrogates or code points past U+10FFFF. */
size_t utf8_bad_at(const unsigned char *s, size_t n)
{
	size_t i = 0;
	while (i < n) {
		/* ASCII, most of any API's answer, 32 bytes at a time, then 8 */
		if (i + 32 <= n) {
			uint64_t w[4];
			memcpy(w, s + i, 32);
			if (!((w[0] | w[1] | w[2] | w[3]) & 0x8080808080808080ULL)) {
				i += 32;
				continue;
			}
		}
		if (i + 8 <= n) {
			uint64_t w;
			memcpy(&w, s + i, 8);
			if (!(w & 0x8080808080808080ULL)) {
				i += 8;
				continue;
			}
		} else {
			/* the last few bytes of a short string, most often ASCII */
			unsigned char any = 0;
			for (size_t j = i; j < n; j++)
				any |= s[j];
			if (!(any & 0x80))
				return n;
		}
		unsigned c = s[i];
		size_t k = c < 0x80 ? 0 : (c & 0xe0) == 0xc0 ? 1 : (c & 0xf0) == 0xe0 ? 2 : (c & 0xf8) == 0xf0 ? 3 : 9;
		if (k == 9 || (k == 1 && c < 0xc2) || (k && i + k >= n))
			return i;
		unsigned cp = k == 0 ? c : k == 1 ? c & 0x1f : k == 2 ? c & 0x0f : c & 0x07;
		for (size_t j = 1; j <= k; j++) {
			if ((s[i + j] & 0xc0) != 0x80)
				return i;
			cp = cp << 6 | (s[i + j] & 0x3f);
		}
		if ((k == 2 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) || (k == 3 && (cp < 0x10000 || cp > 0x10ffff)))
			return i;
		i += k + 1;
	}
	return n;
}

/* glibc gives freed memory at the top of its heap back to the kernel at
 * twice its dynamic mmap threshold, and DuckDB allocates and frees blocks
 * of that size (FSST's tables) for every column of every row group it
 * compresses: their pages were faulted in again each time, a third to a
 * half of a REST sync's system time. Freed memory is kept up to 64 MB an
 * arena, and blocks below 32 MB (the dynamic threshold's own ceiling) come
 * from the heap: 4 MB made the 1,000-file sync 30% slower, its blocks of
 * 4-32 MB mapped and faulted in afresh each time. GLIBC_TUNABLES that set
 * malloc's values win. */
void malloc_keep_freed(void)
{
#ifdef __GLIBC__
	const char *t = getenv("GLIBC_TUNABLES");
	if (t && strstr(t, "glibc.malloc."))
		return;
	mallopt(M_MMAP_THRESHOLD, 32 << 20);
	mallopt(M_TRIM_THRESHOLD, 64 << 20);
#endif
}
