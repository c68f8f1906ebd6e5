#include "warehouse/spool.h"
#include "core/strbuf.h"
#include "core/util.h"
#include "core/xalloc.h"

#include <duckdb.h>
#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

enum out_kind { OUT_BOOL, OUT_BIGINT, OUT_DOUBLE, OUT_TEXT, OUT_JSON };

struct spool_col {
	char *name;
	int64_t code;          /* the file's column number */
	enum out_kind kind;
};

struct spool_bind {
	char **files;
	size_t nr_files;
	struct spool_col *cols;
	size_t nr_cols;
	int *out_of_code;      /* file column -> output column, -1: not read */
	size_t nr_codes;
};

struct spool_global {
	_Atomic size_t next_file;
};

struct mapping {
	const unsigned char *map;
	size_t size;
};

/* One thread's file: mapped whole, read row by row, the pages behind the
 * reader given back now and then so that the process does not keep them.
 * Text values point into the mapping (see put_text), so a file read to its
 * end stays mapped, its pages given back, until the scan is over. */
struct spool_local {
	int file;              /* index in bind->files, -1: none open */
	const unsigned char *map;
	size_t size, pos, released;
	int64_t row;
	int done;
	struct strbuf scratch;
	struct mapping *read;  /* the files read to their end */
	size_t nr_read, alloc_read;
};

#define RELEASE_STEP (4u << 20)

static void bind_free(void *p)
{
	struct spool_bind *b = p;
	for (size_t i = 0; i < b->nr_files; i++)
		free(b->files[i]);
	free(b->files);
	for (size_t i = 0; i < b->nr_cols; i++)
		free(b->cols[i].name);
	free(b->cols);
	free(b->out_of_code);
	free(b);
}

/* The file is read: its pages go (a value still in use is read back from
 * the page cache), its mapping stays until local_free. */
static void local_close(struct spool_local *l)
{
	if (l->map && l->size) {
		madvise((void *)l->map, l->size, MADV_DONTNEED);
		ALLOC_GROW(l->read, l->nr_read + 1, l->alloc_read);
		l->read[l->nr_read++] = (struct mapping){ l->map, l->size };
	}
	l->map = NULL;
	l->size = l->pos = l->released = 0;
	l->file = -1;
}

static void local_free(void *p)
{
	struct spool_local *l = p;
	local_close(l);
	for (size_t i = 0; i < l->nr_read; i++)
		munmap((void *)l->read[i].map, l->read[i].size);
	free(l->read);
	strbuf_release(&l->scratch);
	free(l);
}

/* A list parameter's items as strings (or int64s when ints is set). */
static int list_param(duckdb_bind_info info, idx_t i, char ***strs, int64_t **ints, size_t *nr)
{
	duckdb_value v = duckdb_bind_get_parameter(info, i);
	if (!v)
		return -1;
	idx_t n = duckdb_get_list_size(v);
	if (strs)
		*strs = xcalloc(n ? n : 1, sizeof(**strs));
	if (ints)
		*ints = xcalloc(n ? n : 1, sizeof(**ints));
	for (idx_t k = 0; k < n; k++) {
		duckdb_value item = duckdb_get_list_child(v, k);
		if (strs) {
			char *s = duckdb_get_varchar(item);
			(*strs)[k] = xstrdup(s ? s : "");
			duckdb_free(s);
		} else {
			(*ints)[k] = duckdb_get_int64(item);
		}
		duckdb_destroy_value(&item);
	}
	duckdb_destroy_value(&v);
	*nr = n;
	return 0;
}

static int kind_named(const char *s, enum out_kind *k)
{
	static const char *const names[] = { "bool", "bigint", "double", "text", "json" };
	for (int i = 0; i < 5; i++)
		if (!strcmp(s, names[i])) {
			*k = (enum out_kind)i;
			return 0;
		}
	return -1;
}

static duckdb_type out_type(enum out_kind k)
{
	switch (k) {
	case OUT_BOOL: return DUCKDB_TYPE_BOOLEAN;
	case OUT_BIGINT: return DUCKDB_TYPE_BIGINT;
	case OUT_DOUBLE: return DUCKDB_TYPE_DOUBLE;
	default: return DUCKDB_TYPE_VARCHAR;
	}
}

static void spool_bind(duckdb_bind_info info)
{
	struct spool_bind *b = xcalloc(1, sizeof(*b));
	char **names = NULL, **kinds = NULL;
	int64_t *codes = NULL;
	size_t nr_names = 0, nr_codes = 0, nr_kinds = 0;
	const char *bad = NULL;
	if (list_param(info, 0, &b->files, NULL, &b->nr_files) < 0 || list_param(info, 1, &names, NULL, &nr_names) < 0 ||
	    list_param(info, 2, NULL, &codes, &nr_codes) < 0 || list_param(info, 3, &kinds, NULL, &nr_kinds) < 0)
		bad = "__dango_spool(files, names, columns, kinds): a parameter is NULL";
	else if (nr_names != nr_codes || nr_names != nr_kinds || !nr_names)
		bad = "__dango_spool(files, names, columns, kinds): the lists differ in length or are empty";
	if (!bad) {
		b->cols = xcalloc(nr_names, sizeof(*b->cols));
		b->nr_cols = nr_names;
		int64_t max = 0;
		for (size_t i = 0; i < nr_names && !bad; i++) {
			b->cols[i].name = names[i];
			names[i] = NULL;
			b->cols[i].code = codes[i];
			if (codes[i] < 0 || codes[i] > (1 << 24))
				bad = "__dango_spool: a column number is out of range";
			else if (kind_named(kinds[i], &b->cols[i].kind) < 0)
				bad = "__dango_spool: a kind is not bool, bigint, double, text or json";
			if (codes[i] > max)
				max = codes[i];
		}
		if (!bad) {
			b->nr_codes = (size_t)max + 1;
			b->out_of_code = xmalloc(b->nr_codes * sizeof(int));
			memset(b->out_of_code, 0xff, b->nr_codes * sizeof(int));
			for (size_t i = 0; i < b->nr_cols; i++)
				b->out_of_code[b->cols[i].code] = (int)i;
			for (size_t i = 0; i < b->nr_cols; i++) {
				duckdb_logical_type t = duckdb_create_logical_type(out_type(b->cols[i].kind));
				duckdb_bind_add_result_column(info, b->cols[i].name, t);
				duckdb_destroy_logical_type(&t);
			}
		}
	}
	for (size_t i = 0; names && i < nr_names; i++)
		free(names[i]);
	for (size_t i = 0; kinds && i < nr_kinds; i++)
		free(kinds[i]);
	free(names);
	free(kinds);
	free(codes);
	if (bad) {
		duckdb_bind_set_error(info, bad);
		bind_free(b);
		return;
	}
	duckdb_bind_set_bind_data(info, b, bind_free);
}

static void spool_init(duckdb_init_info info)
{
	struct spool_bind *b = duckdb_init_get_bind_data(info);
	struct spool_global *g = xcalloc(1, sizeof(*g));
	atomic_init(&g->next_file, 0);
	duckdb_init_set_init_data(info, g, free);
	/* a file a thread (DuckDB keeps to one when the rows' order matters) */
	duckdb_init_set_max_threads(info, b->nr_files);
}

static void spool_local_init(duckdb_init_info info)
{
	struct spool_local *l = xcalloc(1, sizeof(*l));
	l->file = -1;
	strbuf_init(&l->scratch, 0);
	duckdb_init_set_init_data(info, l, local_free);
}

/* ---- reading ----------------------------------------------------------------- */

struct reader {
	duckdb_function_info info;
	const struct spool_bind *b;
	struct spool_local *l;
	const char *file;
};

static void fail(struct reader *r, size_t at, const char *why)
{
	struct strbuf msg = STRBUF_INIT;
	strbuf_addf(&msg, "spool file %s is damaged at row %lld (byte %zu): %s", r->file, (long long)r->l->row + 1, at,
		    why);
	duckdb_function_set_error(r->info, msg.buf);
	strbuf_release(&msg);
}

/* A value that cannot be its column's type (a declared integer past 64 bits) */
static void fail_value(struct reader *r, const char *col, const unsigned char *s, size_t n, const char *why)
{
	struct strbuf msg = STRBUF_INIT;
	strbuf_addf(&msg, "spool file %s, row %lld, column '%s': %.*s%s %s", r->file, (long long)r->l->row + 1, col,
		    (int)(n > 60 ? 60 : n), (const char *)s, n > 60 ? "..." : "", why);
	duckdb_function_set_error(r->info, msg.buf);
	strbuf_release(&msg);
}

static uint32_t get_u32(const unsigned char *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t get_u64(const unsigned char *p)
{
	return (uint64_t)get_u32(p) | (uint64_t)get_u32(p + 4) << 32;
}

/* A varint at *p below end; -1 when it runs past end or past 64 bits. */
static int get_varint(const unsigned char **p, const unsigned char *end, uint64_t *out)
{
	uint64_t v = 0;
	for (int shift = 0; shift < 64; shift += 7) {
		if (*p >= end)
			return -1;
		unsigned char c = *(*p)++;
		v |= (uint64_t)(c & 0x7f) << shift;
		if (!(c & 0x80)) {
			*out = v;
			return 0;
		}
	}
	return -1;
}

static int open_file(struct reader *r, int k)
{
	struct spool_local *l = r->l;
	r->file = r->b->files[k];
	l->file = k;
	l->row = 0;
	int fd = open(r->file, O_RDONLY | O_CLOEXEC);
	struct stat st;
	if (fd < 0 || fstat(fd, &st) < 0) {
		struct strbuf msg = STRBUF_INIT;
		strbuf_addf(&msg, "cannot read spool file %s: %s", r->file, strerror(errno));
		duckdb_function_set_error(r->info, msg.buf);
		strbuf_release(&msg);
		if (fd >= 0)
			close(fd);
		return -1;
	}
	l->size = (size_t)st.st_size;
	l->map = l->size ? mmap(NULL, l->size, PROT_READ, MAP_PRIVATE, fd, 0) : NULL;
	close(fd);
	if (l->map == MAP_FAILED) {
		l->map = NULL;
		l->size = 0;
		fail(r, 0, strerror(errno));
		return -1;
	}
	if (l->size)
		madvise((void *)l->map, l->size, MADV_SEQUENTIAL);
	if (l->size < SPOOL_MAGIC_LEN || memcmp(l->map, SPOOL_MAGIC, SPOOL_MAGIC_LEN)) {
		fail(r, 0, "not a spool file of this Dango");
		return -1;
	}
	l->pos = SPOOL_MAGIC_LEN;
	l->released = 0;
	return 0;
}

/* An integer's text: 0, 1 when it does not fit an int64 (but does a uint64
 * when *u is set), -1 when it is no integer or fits neither. */
static int parse_int(const unsigned char *s, size_t n, int64_t *out, uint64_t *u)
{
	int neg = n && s[0] == '-';
	size_t i = (size_t)neg;
	if (i == n || n - i > 20)
		return -1;
	uint64_t v = 0;
	for (; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		unsigned d = s[i] - '0';
		if (v > (UINT64_MAX - d) / 10)
			return -1;
		v = v * 10 + d;
	}
	if (neg) {
		if (v > (uint64_t)INT64_MAX + 1)
			return -1;
		*out = v == (uint64_t)INT64_MAX + 1 ? INT64_MIN : -(int64_t)v;
		return 0;
	}
	if (v > (uint64_t)INT64_MAX) {
		*u = v;
		return 1;
	}
	*out = (int64_t)v;
	return 0;
}

/* A plain decimal (digits, a point, digits; 15 significant digits at
 * most, 22 after the point at most) exactly: both its digits and the power
 * of ten are exact doubles, and one division rounds once, as strtod does
 * (Clinger's fast path). 0, or -1 to leave it to strtod. */
static int fast_decimal(const unsigned char *s, size_t n, double *out)
{
	static const double tens[] = { 1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,  1e8,  1e9,  1e10, 1e11,
				       1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22 };
	int neg = n && s[0] == '-';
	size_t i = (size_t)neg, digits = 0, frac = 0;
	int point = 0;
	uint64_t m = 0;
	if (i == n)
		return -1;
	for (; i < n; i++) {
		unsigned char c = s[i];
		if (c == '.' && !point) {
			point = 1;
			continue;
		}
		if (c < '0' || c > '9')
			return -1;
		if (m || c != '0')
			digits++;
		if (digits > 15)
			return -1;
		m = m * 10 + (c - '0');
		frac += (size_t)point;
	}
	if (frac > 22 || s[n - 1] == '.')
		return -1;
	double d = (double)m / tens[frac];
	*out = neg ? -d : d;
	return 0;
}

/* A JSON number as DuckDB's JSON reader makes it a DOUBLE: integers that
 * fit 64 bits converted from their integer (so -0 is 0), the rest as
 * strtod rounds them (both round to nearest). */
static int parse_double(const unsigned char *s, size_t n, int is_int, double *out)
{
	if (!is_int && fast_decimal(s, n, out) == 0)
		return 0;
	if (is_int) {
		int64_t i;
		uint64_t u;
		int r = parse_int(s, n, &i, &u);
		if (r == 0) {
			*out = (double)i;
			return 0;
		}
		if (r == 1) {
			*out = (double)u;
			return 0;
		}
	}
	char small[64], *buf = n < sizeof(small) ? small : xmalloc(n + 1);
	memcpy(buf, s, n);
	buf[n] = '\0';
	char *end;
	*out = strtod(buf, &end);
	int ok = n && end == buf + n;
	if (buf != small)
		free(buf);
	return ok ? 0 : -1;
}

/* A value as JSON text, into scratch (strings quoted and escaped). */
static const char *json_text(struct strbuf *sb, int kind, const unsigned char *s, size_t n, size_t *len)
{
	strbuf_reset(sb);
	switch (kind) {
	case SPOOL_TRUE: strbuf_addstr(sb, "true"); break;
	case SPOOL_FALSE: strbuf_addstr(sb, "false"); break;
	case SPOOL_STR: strbuf_add_json_strn(sb, (const char *)s, n); break;
	default: strbuf_add(sb, s, n); break;
	}
	*len = sb->len;
	return sb->buf;
}

struct out_col {
	duckdb_vector vec;
	void *data;
	uint64_t *validity;
};

/* A text value without a copy: DuckDB's string_t holds up to 12 bytes
 * itself and points at longer ones, here into the file's mapping, which
 * outlives every chunk of the scan (local_close). Copying each value into
 * the vector's heap was ~8% of a REST sync's profile. */
static void put_text(const struct out_col *o, idx_t row, const unsigned char *s, size_t n)
{
	duckdb_string_t *v = (duckdb_string_t *)o->data + row;
	if (n <= sizeof(v->value.inlined.inlined)) {
		memset(v, 0, sizeof(*v));
		v->value.inlined.length = (uint32_t)n;
		memcpy(v->value.inlined.inlined, s, n);
	} else {
		v->value.pointer.length = (uint32_t)n;
		memcpy(v->value.pointer.prefix, s, sizeof(v->value.pointer.prefix));
		v->value.pointer.ptr = (char *)s;
	}
}

/* One field into output row `row`; -1 with the error set. */
static int put_field(struct reader *r, const struct out_col *o, const struct spool_col *col, idx_t row, int kind,
		     const unsigned char *s, size_t n, size_t at)
{
	switch (col->kind) {
	case OUT_BOOL:
		if (kind != SPOOL_TRUE && kind != SPOOL_FALSE)
			break;
		((bool *)o->data)[row] = kind == SPOOL_TRUE;
		return 0;
	case OUT_BIGINT: {
		int64_t v;
		uint64_t u;
		if (kind == SPOOL_I64) {
			memcpy(&v, s, 8);
		} else if (kind != SPOOL_INT || parse_int(s, n, &v, &u) != 0) {
			if (kind == SPOOL_INT) {
				fail_value(r, col->name, s, n, "is out of range for BIGINT");
				return -1;
			}
			break;
		}
		((int64_t *)o->data)[row] = v;
		return 0;
	}
	case OUT_DOUBLE: {
		double d;
		if (kind == SPOOL_I64) {
			int64_t v;
			memcpy(&v, s, 8);
			d = (double)v;
		} else if ((kind != SPOOL_INT && kind != SPOOL_NUM) || parse_double(s, n, kind == SPOOL_INT, &d) < 0) {
			break;
		}
		((double *)o->data)[row] = d;
		return 0;
	}
	case OUT_TEXT:
		if (kind != SPOOL_STR)
			break;
		if (utf8_bad_at(s, n) < n) {
			fail(r, at, "a string that is not valid UTF-8");
			return -1;
		}
		put_text(o, row, s, n);
		return 0;
	case OUT_JSON: {
		if (kind == SPOOL_I64) {
			int64_t v;
			char num[24];
			memcpy(&v, s, 8);
			int len = snprintf(num, sizeof(num), "%lld", (long long)v);
			duckdb_vector_assign_string_element_len(o->vec, row, num, (idx_t)len);
			return 0;
		}
		if (utf8_bad_at(s, n) < n) {
			fail(r, at, "a string that is not valid UTF-8");
			return -1;
		}
		size_t len;
		const char *t = json_text(&r->l->scratch, kind, s, n, &len);
		/* valid UTF-8 (checked above), so DuckDB's own check passes */
		duckdb_vector_assign_string_element_len(o->vec, row, t, len);
		return 0;
	}
	}
	fail(r, at, "a value of another kind than its column's");
	return -1;
}

/* The fields of one row (p to end) into output row `row`. */
static int read_row(struct reader *r, struct out_col *outs, idx_t row, const unsigned char *p, const unsigned char *end)
{
	const struct spool_bind *b = r->b;
	while (p < end) {
		size_t at = (size_t)(p - r->l->map);
		uint64_t tag, n = 0;
		if (get_varint(&p, end, &tag) < 0) {
			fail(r, at, "a field runs past its row");
			return -1;
		}
		int kind = (int)(tag & 7);
		uint64_t code = tag >> 3;
		if (kind == SPOOL_I64) {
			n = 8;
		} else if (kind == SPOOL_STR || kind == SPOOL_INT || kind == SPOOL_NUM || kind == SPOOL_JSON) {
			if (get_varint(&p, end, &n) < 0) {
				fail(r, at, "a field runs past its row");
				return -1;
			}
		} else if (kind != SPOOL_TRUE && kind != SPOOL_FALSE) {
			fail(r, at, "an unknown kind of value");
			return -1;
		}
		if (n > (uint64_t)(end - p)) {
			fail(r, at, "a value runs past its row");
			return -1;
		}
		int c = code < b->nr_codes ? b->out_of_code[code] : -1;
		if (c >= 0) {
			if (put_field(r, &outs[c], &b->cols[c], row, kind, p, (size_t)n, at) < 0)
				return -1;
			outs[c].validity[row / 64] |= UINT64_C(1) << (row % 64);
		}
		p += n;
	}
	return 0;
}

/* Past the end marker: the file must end there with the rows it counted. */
static int check_end(struct reader *r)
{
	struct spool_local *l = r->l;
	if (l->size - l->pos < 12) {
		fail(r, l->pos, "the file is truncated");
		return -1;
	}
	if (get_u64(l->map + l->pos + 4) != (uint64_t)l->row || l->pos + 12 != l->size) {
		fail(r, l->pos, "the row count at its end does not match");
		return -1;
	}
	return 0;
}

static void spool_function(duckdb_function_info info, duckdb_data_chunk output)
{
	struct reader r = { info, duckdb_function_get_bind_data(info), duckdb_function_get_local_init_data(info), NULL };
	struct spool_global *g = duckdb_function_get_init_data(info);
	struct spool_local *l = r.l;
	const struct spool_bind *b = r.b;
	idx_t cap = duckdb_vector_size(), rows = 0;
	struct out_col outs_small[64], *outs = b->nr_cols <= 64 ? outs_small : xmalloc(b->nr_cols * sizeof(*outs));
	for (size_t c = 0; c < b->nr_cols; c++) {
		outs[c].vec = duckdb_data_chunk_get_vector(output, c);
		duckdb_vector_ensure_validity_writable(outs[c].vec);
		outs[c].data = duckdb_vector_get_data(outs[c].vec);
		outs[c].validity = duckdb_vector_get_validity(outs[c].vec);
		/* every value NULL until its field is read */
		memset(outs[c].validity, 0, (cap + 63) / 64 * sizeof(uint64_t));
	}
	if (l->file >= 0)
		r.file = b->files[l->file];
	while (rows < cap && !l->done) {
		if (l->file < 0) {
			size_t k = atomic_fetch_add(&g->next_file, 1);
			if (k >= b->nr_files) {
				l->done = 1;
				break;
			}
			if (open_file(&r, (int)k) < 0)
				goto out;
		}
		if (l->size - l->pos < 4) {
			fail(&r, l->pos, "the file is truncated");
			goto out;
		}
		uint32_t len = get_u32(l->map + l->pos);
		if (len == SPOOL_END) {
			if (check_end(&r) < 0)
				goto out;
			local_close(l);
			continue;
		}
		if (len > l->size - l->pos - 4) {
			fail(&r, l->pos, "the file is truncated");
			goto out;
		}
		const unsigned char *p = l->map + l->pos + 4;
		if (read_row(&r, outs, rows, p, p + len) < 0)
			goto out;
		l->pos += 4 + (size_t)len;
		l->row++;
		rows++;
		if (l->pos - l->released >= RELEASE_STEP) {
			size_t upto = l->pos & ~(size_t)(sysconf(_SC_PAGESIZE) - 1);
			if (upto > l->released) {
				madvise((void *)(l->map + l->released), upto - l->released, MADV_DONTNEED);
				l->released = upto;
			}
		}
	}
out:
	duckdb_data_chunk_set_size(output, rows);
	if (outs != outs_small)
		free(outs);
}

int spool_register(void *con)
{
	duckdb_table_function f = duckdb_create_table_function();
	duckdb_table_function_set_name(f, "__dango_spool");
	duckdb_logical_type varchar = duckdb_create_logical_type(DUCKDB_TYPE_VARCHAR);
	duckdb_logical_type bigint = duckdb_create_logical_type(DUCKDB_TYPE_BIGINT);
	duckdb_logical_type strs = duckdb_create_list_type(varchar);
	duckdb_logical_type ints = duckdb_create_list_type(bigint);
	duckdb_table_function_add_parameter(f, strs);
	duckdb_table_function_add_parameter(f, strs);
	duckdb_table_function_add_parameter(f, ints);
	duckdb_table_function_add_parameter(f, strs);
	duckdb_destroy_logical_type(&varchar);
	duckdb_destroy_logical_type(&bigint);
	duckdb_destroy_logical_type(&strs);
	duckdb_destroy_logical_type(&ints);
	duckdb_table_function_set_bind(f, spool_bind);
	duckdb_table_function_set_init(f, spool_init);
	duckdb_table_function_set_local_init(f, spool_local_init);
	duckdb_table_function_set_function(f, spool_function);
	duckdb_state st = duckdb_register_table_function(*(duckdb_connection *)con, f);
	duckdb_destroy_table_function(&f);
	return st == DuckDBSuccess ? 0 : -1;
}
