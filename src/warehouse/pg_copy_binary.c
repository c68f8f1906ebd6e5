/* PostgreSQL's binary COPY format from DuckDB's vectors: see pg_copy_binary.h.
 *
 * A row is an int16 field count, then each field as an int32 length (-1 for
 * NULL) and its bytes, all integers in network order. The encoder works a
 * chunk at a time: each column's kind, data and validity are looked up once
 * per chunk, then rows are written field by field into one buffer. */
#define DUCKDB_API_NO_DEPRECATED
#include "warehouse/pg_copy_binary.h"
#include "warehouse/result.h"
#include "core/strbuf.h"
#include "core/xalloc.h"

#include <duckdb.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

enum kind {
	K_BOOL,
	K_INT2,      /* from TINYINT, SMALLINT, UTINYINT */
	K_INT4,      /* from INTEGER, USMALLINT */
	K_INT8,      /* from BIGINT, UINTEGER */
	K_NUMERIC,   /* from DECIMAL, HUGEINT, UHUGEINT, UBIGINT */
	K_FLOAT4,
	K_FLOAT8,
	K_BYTES,     /* text from VARCHAR, bytea from BLOB */
	K_JSONB,
	K_DATE,
	K_TIME,
	K_TIMESTAMP, /* and timestamptz; unit: microseconds a DuckDB unit */
	K_UUID,
	K_INTERVAL,
};

struct pgbin_col {
	enum kind kind;
	duckdb_type id;       /* the DuckDB type, or a DECIMAL's storage type */
	uint8_t scale;        /* numeric */
	int64_t unit;         /* timestamps: 1 (µs), 1000 (ms), 1000000 (s) */
	/* per chunk */
	const void *data;
	uint64_t *valid;
};

/* microseconds and days from 1970-01-01 (DuckDB) to 2000-01-01 (PostgreSQL) */
#define PG_EPOCH_US INT64_C(946684800000000)
#define PG_EPOCH_DAYS 10957

static int kind_of(struct pgbin_col *c, duckdb_logical_type lt)
{
	duckdb_type id = duckdb_get_type_id(lt);
	c->id = id;
	c->unit = 1;
	switch (id) {
	case DUCKDB_TYPE_BOOLEAN: c->kind = K_BOOL; return 0;
	case DUCKDB_TYPE_TINYINT:
	case DUCKDB_TYPE_SMALLINT:
	case DUCKDB_TYPE_UTINYINT: c->kind = K_INT2; return 0;
	case DUCKDB_TYPE_INTEGER:
	case DUCKDB_TYPE_USMALLINT: c->kind = K_INT4; return 0;
	case DUCKDB_TYPE_BIGINT:
	case DUCKDB_TYPE_UINTEGER: c->kind = K_INT8; return 0;
	case DUCKDB_TYPE_UBIGINT:
	case DUCKDB_TYPE_HUGEINT:
	case DUCKDB_TYPE_UHUGEINT: c->kind = K_NUMERIC; return 0;
	case DUCKDB_TYPE_DECIMAL:
		c->kind = K_NUMERIC;
		c->id = duckdb_decimal_internal_type(lt);
		c->scale = duckdb_decimal_scale(lt);
		return 0;
	case DUCKDB_TYPE_FLOAT: c->kind = K_FLOAT4; return 0;
	case DUCKDB_TYPE_DOUBLE: c->kind = K_FLOAT8; return 0;
	case DUCKDB_TYPE_BLOB: c->kind = K_BYTES; return 0;
	case DUCKDB_TYPE_VARCHAR: {
		char *alias = duckdb_logical_type_get_alias(lt);
		c->kind = alias && !strcasecmp(alias, "JSON") ? K_JSONB : K_BYTES;
		int other = alias && c->kind == K_BYTES; /* an alias of ours we would not know */
		duckdb_free(alias);
		return other ? -1 : 0;
	}
	case DUCKDB_TYPE_DATE: c->kind = K_DATE; return 0;
	case DUCKDB_TYPE_TIME: c->kind = K_TIME; return 0;
	case DUCKDB_TYPE_TIMESTAMP:
	case DUCKDB_TYPE_TIMESTAMP_TZ: c->kind = K_TIMESTAMP; return 0;
	case DUCKDB_TYPE_TIMESTAMP_MS: c->kind = K_TIMESTAMP; c->unit = 1000; return 0;
	case DUCKDB_TYPE_TIMESTAMP_S: c->kind = K_TIMESTAMP; c->unit = 1000000; return 0;
	case DUCKDB_TYPE_UUID: c->kind = K_UUID; return 0;
	case DUCKDB_TYPE_INTERVAL: c->kind = K_INTERVAL; return 0;
	default: return -1;
	}
}

int pgbin_init(struct pgbin *e, struct wh_result *r, struct strbuf *why)
{
	duckdb_result *res = wh_result_duck_result(r);
	memset(e, 0, sizeof(*e));
	if (!res) {
		strbuf_addstr(why, "not a DuckDB result");
		return -1;
	}
	e->ncols = r->cols;
	e->cols = xcalloc(r->cols ? r->cols : 1, sizeof(*e->cols));
	for (size_t i = 0; i < r->cols; i++) {
		duckdb_logical_type lt = duckdb_column_logical_type(res, i);
		int bad = kind_of(&e->cols[i], lt);
		duckdb_destroy_logical_type(&lt);
		if (bad) {
			strbuf_addf(why, "column \"%s\" has no binary encoding", wh_result_name(r, i));
			pgbin_release(e);
			return -1;
		}
	}
	return 0;
}

void pgbin_release(struct pgbin *e)
{
	free(e->cols);
	memset(e, 0, sizeof(*e));
}

void pgbin_add_header(struct strbuf *sb)
{
	/* signature, flags (no OIDs), header extension length */
	strbuf_add(sb, "PGCOPY\n\377\r\n\0\0\0\0\0\0\0\0\0", 19);
}

void pgbin_add_trailer(struct strbuf *sb)
{
	strbuf_add(sb, "\377\377", 2);
}

/* ---- writing fields ------------------------------------------------------------ */

static inline unsigned char *put16(unsigned char *p, uint16_t v)
{
	p[0] = (unsigned char)(v >> 8);
	p[1] = (unsigned char)v;
	return p + 2;
}

static inline unsigned char *put32(unsigned char *p, uint32_t v)
{
	v = __builtin_bswap32(v);
	memcpy(p, &v, 4);
	return p + 4;
}

static inline unsigned char *put64(unsigned char *p, uint64_t v)
{
	v = __builtin_bswap64(v);
	memcpy(p, &v, 8);
	return p + 8;
}

/* numeric_send's form: ndigits, weight, sign, dscale, then base-10000
 * digits, most significant first. mag is the value's magnitude times
 * 10^scale. At most 39 + 38 decimal digits: 22 base-10000 digits. */
static unsigned char *put_numeric(unsigned char *p, unsigned __int128 mag, int neg, unsigned scale)
{
	char dec[96];
	size_t n = 0;
	do {
		dec[n++] = (char)('0' + (int)(mag % 10));
		mag /= 10;
	} while (mag);
	while (n < scale + 1)
		dec[n++] = '0';
	/* dec holds the digits least significant first; digit i has the
	 * decimal exponent i - scale. A base-10000 digit k covers exponents
	 * 4k .. 4k+3. */
	int lo_exp = -(int)scale, hi_exp = (int)n - 1 - (int)scale;
	int lo_k = lo_exp >= 0 ? lo_exp / 4 : -((-lo_exp + 3) / 4), hi_k = hi_exp >= 0 ? hi_exp / 4 : -((-hi_exp + 3) / 4);
	uint16_t digits[32];
	int nd = 0;
	for (int k = hi_k; k >= lo_k; k--) {
		int d = 0;
		for (int x = 4 * k + 3; x >= 4 * k; x--) {
			int i = x + (int)scale;
			d = d * 10 + (i >= 0 && i < (int)n ? dec[i] - '0' : 0);
		}
		digits[nd++] = (uint16_t)d;
	}
	int first = 0, weight = hi_k;
	while (first < nd && !digits[first]) {
		first++;
		weight--;
	}
	while (nd > first && !digits[nd - 1])
		nd--;
	int count = nd - first;
	if (!count)
		weight = neg = 0;
	p = put32(p, (uint32_t)(8 + 2 * count));
	p = put16(p, (uint16_t)count);
	p = put16(p, (uint16_t)(int16_t)weight);
	p = put16(p, neg ? 0x4000 : 0);
	p = put16(p, (uint16_t)scale);
	for (int i = first; i < nd; i++)
		p = put16(p, digits[i]);
	return p;
}

static unsigned char *put_signed_numeric(unsigned char *p, __int128 v, unsigned scale)
{
	unsigned __int128 mag = v < 0 ? -(unsigned __int128)v : (unsigned __int128)v;
	return put_numeric(p, mag, v < 0, scale);
}

static __int128 hugeint_of(const duckdb_hugeint *h)
{
	return (__int128)(((unsigned __int128)(uint64_t)h->upper << 64) | h->lower);
}

static unsigned char *put_decimal(unsigned char *p, const struct pgbin_col *c, idx_t i)
{
	switch (c->id) {
	case DUCKDB_TYPE_SMALLINT: return put_signed_numeric(p, ((const int16_t *)c->data)[i], c->scale);
	case DUCKDB_TYPE_INTEGER: return put_signed_numeric(p, ((const int32_t *)c->data)[i], c->scale);
	case DUCKDB_TYPE_BIGINT: return put_signed_numeric(p, ((const int64_t *)c->data)[i], c->scale);
	case DUCKDB_TYPE_UBIGINT: return put_numeric(p, ((const uint64_t *)c->data)[i], 0, 0);
	case DUCKDB_TYPE_UHUGEINT: {
		const duckdb_uhugeint *u = &((const duckdb_uhugeint *)c->data)[i];
		return put_numeric(p, ((unsigned __int128)u->upper << 64) | u->lower, 0, 0);
	}
	default: /* HUGEINT, and DECIMAL stored in one */
		return put_signed_numeric(p, hugeint_of(&((const duckdb_hugeint *)c->data)[i]), c->scale);
	}
}

/* DuckDB's infinities (±INT64_MAX) to PostgreSQL's (INT64_MAX, INT64_MIN);
 * a value PostgreSQL cannot hold to one it refuses (INT64_MIN + 1), as it
 * refuses the text. */
static int64_t pg_timestamp(int64_t v, int64_t unit)
{
	if (v == INT64_MAX || v == -INT64_MAX)
		return v == INT64_MAX ? INT64_MAX : INT64_MIN;
	int64_t us;
	if (__builtin_mul_overflow(v, unit, &us) || us < INT64_MIN + PG_EPOCH_US + 2)
		return INT64_MIN + 1;
	return us - PG_EPOCH_US;
}

static int32_t pg_date(int32_t days)
{
	if (days == INT32_MAX || days == -INT32_MAX)
		return days == INT32_MAX ? INT32_MAX : INT32_MIN;
	int64_t d = (int64_t)days - PG_EPOCH_DAYS;
	return d < INT32_MIN + 2 ? INT32_MIN + 1 : (int32_t)d;
}

static unsigned char *put_uuid(unsigned char *p, const duckdb_hugeint *h)
{
	/* stored as a HUGEINT with the top bit flipped, so that it sorts */
	p = put32(p, 16);
	p = put64(p, (uint64_t)h->upper ^ ((uint64_t)1 << 63));
	return put64(p, h->lower);
}

/* A field's most bytes but for strings (numeric: 4 + 8 + 2 * 22). */
#define FIELD_MAX 64

static unsigned char *put_field(struct strbuf *sb, unsigned char *p, const struct pgbin_col *c, idx_t i)
{
	const void *d = c->data;
	switch (c->kind) {
	case K_BOOL:
		p = put32(p, 1);
		*p++ = ((const bool *)d)[i] ? 1 : 0;
		return p;
	case K_INT2: {
		int16_t v = c->id == DUCKDB_TYPE_TINYINT    ? ((const int8_t *)d)[i]
			    : c->id == DUCKDB_TYPE_UTINYINT ? ((const uint8_t *)d)[i]
							    : ((const int16_t *)d)[i];
		return put16(put32(p, 2), (uint16_t)v);
	}
	case K_INT4: {
		int32_t v = c->id == DUCKDB_TYPE_USMALLINT ? ((const uint16_t *)d)[i] : ((const int32_t *)d)[i];
		return put32(put32(p, 4), (uint32_t)v);
	}
	case K_INT8: {
		int64_t v = c->id == DUCKDB_TYPE_UINTEGER ? ((const uint32_t *)d)[i] : ((const int64_t *)d)[i];
		return put64(put32(p, 8), (uint64_t)v);
	}
	case K_NUMERIC: return put_decimal(p, c, i);
	case K_FLOAT4: {
		uint32_t bits;
		memcpy(&bits, &((const float *)d)[i], 4);
		return put32(put32(p, 4), bits);
	}
	case K_FLOAT8: {
		uint64_t bits;
		memcpy(&bits, &((const double *)d)[i], 8);
		return put64(put32(p, 8), bits);
	}
	case K_BYTES:
	case K_JSONB: {
		duckdb_string_t *s = (duckdb_string_t *)d + i;
		uint32_t n = duckdb_string_t_length(*s);
		const char *b = duckdb_string_t_data(s);
		int jb = c->kind == K_JSONB;
		size_t at = (size_t)(p - (unsigned char *)sb->buf);
		strbuf_grow(sb, at - sb->len + n + 5 + FIELD_MAX);
		p = (unsigned char *)sb->buf + at;
		p = put32(p, n + (uint32_t)jb);
		if (jb)
			*p++ = 1; /* jsonb's version */
		memcpy(p, b, n);
		return p + n;
	}
	case K_DATE: return put32(put32(p, 4), (uint32_t)pg_date(((const duckdb_date *)d)[i].days));
	case K_TIME: return put64(put32(p, 8), (uint64_t)((const duckdb_time *)d)[i].micros);
	case K_TIMESTAMP: return put64(put32(p, 8), (uint64_t)pg_timestamp(((const int64_t *)d)[i], c->unit));
	case K_UUID: return put_uuid(p, &((const duckdb_hugeint *)d)[i]);
	case K_INTERVAL: {
		const duckdb_interval *v = &((const duckdb_interval *)d)[i];
		p = put32(p, 16);
		p = put64(p, (uint64_t)v->micros);
		p = put32(p, (uint32_t)v->days);
		return put32(p, (uint32_t)v->months);
	}
	}
	return p;
}

void pgbin_add_chunk(struct pgbin *e, struct wh_result *r, struct strbuf *sb)
{
	duckdb_data_chunk ch = wh_result_duck_chunk(r);
	if (!ch)
		return;
	idx_t rows = duckdb_data_chunk_get_size(ch);
	for (size_t c = 0; c < e->ncols; c++) {
		duckdb_vector v = duckdb_data_chunk_get_vector(ch, c);
		e->cols[c].data = duckdb_vector_get_data(v);
		e->cols[c].valid = duckdb_vector_get_validity(v);
	}
	for (idx_t i = 0; i < rows; i++) {
		strbuf_grow(sb, 2 + e->ncols * FIELD_MAX);
		unsigned char *p = (unsigned char *)sb->buf + sb->len;
		p = put16(p, (uint16_t)e->ncols);
		for (size_t c = 0; c < e->ncols; c++) {
			const struct pgbin_col *col = &e->cols[c];
			if (col->valid && !duckdb_validity_row_is_valid(col->valid, i)) {
				p = put32(p, UINT32_MAX);
				continue;
			}
			p = put_field(sb, p, col, i);
			/* strings may have moved the buffer: keep FIELD_MAX free for the next field */
			size_t at = (size_t)(p - (unsigned char *)sb->buf);
			if (sb->alloc - at < (e->ncols - c) * FIELD_MAX + 8) {
				sb->len = at;
				strbuf_grow(sb, (e->ncols - c) * FIELD_MAX + 8);
				p = (unsigned char *)sb->buf + at;
			}
		}
		strbuf_setlen(sb, (size_t)(p - (unsigned char *)sb->buf));
	}
}
