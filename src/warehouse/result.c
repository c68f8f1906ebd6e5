/* Query results through DuckDB's data chunks and vectors (see result.h).
 *
 * Each column's logical type is read once into a tree of struct ctype (its
 * children, names, enum dictionary, decimal scale), so that rendering a cell
 * walks plain C data. Cells are rendered from the vectors directly; the rules
 * follow DuckDB's CAST(x AS VARCHAR), which is what the duckdb CLI prints.
 * tests/unit/test_result.c checks them against DuckDB's own casts. */
#define DUCKDB_API_NO_DEPRECATED
#include "warehouse/result.h"
#include "warehouse/pg_result.h"
#include "core/strbuf.h"
#include "core/xalloc.h"

#include <duckdb.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

struct ctype {
	duckdb_type id;
	duckdb_type internal;     /* DECIMAL and ENUM: the storage type */
	uint8_t width, scale;     /* DECIMAL */
	int is_json;              /* VARCHAR aliased JSON */
	size_t nchild;            /* LIST, ARRAY, MAP: 1 (MAP: its STRUCT(key, value)); STRUCT, UNION: members */
	struct ctype *child;
	char **names;             /* STRUCT and UNION member names */
	size_t array_size;        /* ARRAY */
	char **dict;              /* ENUM */
	size_t ndict;
	char *display;            /* the type's name for table headers */
};

struct chunk {
	duckdb_data_chunk chunk;
	size_t first, rows;   /* the chunk's first row in the result, and its rows */
};

struct wh_result_impl {
	duckdb_result res;
	int streaming, status_only;
	char **names;
	struct ctype *types;
	struct chunk *chunks;
	size_t nchunks, alloc, last;  /* last: the chunk of the previous lookup */
	char *time_zone;
};

#define IMPL(r) ((struct wh_result_impl *)(r)->impl)

/* --- types --------------------------------------------------------------------------- */

static void ctype_release(struct ctype *t)
{
	for (size_t i = 0; i < t->nchild; i++) {
		ctype_release(&t->child[i]);
		if (t->names)
			free(t->names[i]);
	}
	free(t->child);
	free(t->names);
	for (size_t i = 0; i < t->ndict; i++)
		free(t->dict[i]);
	free(t->dict);
	free(t->display);
}

static char *dup_duckdb_str(char *s)
{
	char *copy = xstrdup(s ? s : "");
	if (s)
		duckdb_free(s);
	return copy;
}

static const char *scalar_name(duckdb_type id)
{
	switch (id) {
	case DUCKDB_TYPE_BOOLEAN: return "boolean";
	case DUCKDB_TYPE_TINYINT: return "int8";
	case DUCKDB_TYPE_SMALLINT: return "int16";
	case DUCKDB_TYPE_INTEGER: return "int32";
	case DUCKDB_TYPE_BIGINT: return "int64";
	case DUCKDB_TYPE_UTINYINT: return "uint8";
	case DUCKDB_TYPE_USMALLINT: return "uint16";
	case DUCKDB_TYPE_UINTEGER: return "uint32";
	case DUCKDB_TYPE_UBIGINT: return "uint64";
	case DUCKDB_TYPE_HUGEINT: return "int128";
	case DUCKDB_TYPE_UHUGEINT: return "uint128";
	case DUCKDB_TYPE_FLOAT: return "float";
	case DUCKDB_TYPE_DOUBLE: return "double";
	case DUCKDB_TYPE_TIMESTAMP: return "timestamp";
	case DUCKDB_TYPE_TIMESTAMP_S: return "timestamp_s";
	case DUCKDB_TYPE_TIMESTAMP_MS: return "timestamp_ms";
	case DUCKDB_TYPE_TIMESTAMP_NS: return "timestamp_ns";
	case DUCKDB_TYPE_TIMESTAMP_TZ: return "timestamp with time zone";
	case DUCKDB_TYPE_DATE: return "date";
	case DUCKDB_TYPE_TIME: return "time";
	case DUCKDB_TYPE_TIME_NS: return "time_ns";
	case DUCKDB_TYPE_TIME_TZ: return "time with time zone";
	case DUCKDB_TYPE_INTERVAL: return "interval";
	case DUCKDB_TYPE_VARCHAR: return "varchar";
	case DUCKDB_TYPE_BLOB: return "blob";
	case DUCKDB_TYPE_UUID: return "uuid";
	case DUCKDB_TYPE_BIT: return "bit";
	case DUCKDB_TYPE_BIGNUM: return "bignum";
	case DUCKDB_TYPE_SQLNULL: return "\"null\"";
	default: return NULL;
	}
}

static void ctype_display(struct ctype *t)
{
	struct strbuf sb = STRBUF_INIT;
	const char *name = scalar_name(t->id);
	switch (t->id) {
	case DUCKDB_TYPE_DECIMAL:
		strbuf_addf(&sb, "decimal(%u,%u)", t->width, t->scale);
		break;
	case DUCKDB_TYPE_LIST:
		strbuf_addf(&sb, "%s[]", t->child[0].display);
		break;
	case DUCKDB_TYPE_ARRAY:
		strbuf_addf(&sb, "%s[%zu]", t->child[0].display, t->array_size);
		break;
	case DUCKDB_TYPE_MAP:
		strbuf_addf(&sb, "map(%s, %s)", t->child[0].child[0].display, t->child[0].child[1].display);
		break;
	case DUCKDB_TYPE_STRUCT:
	case DUCKDB_TYPE_UNION:
		strbuf_addstr(&sb, t->id == DUCKDB_TYPE_STRUCT ? "struct(" : "union(");
		for (size_t i = 0; i < t->nchild; i++)
			strbuf_addf(&sb, "%s%s %s", i ? ", " : "", t->names[i], t->child[i].display);
		strbuf_addch(&sb, ')');
		break;
	case DUCKDB_TYPE_ENUM:
		strbuf_addstr(&sb, "enum(");
		for (size_t i = 0; i < t->ndict; i++) {
			strbuf_addstr(&sb, i ? ", " : "");
			strbuf_add_sql_str(&sb, t->dict[i]);
		}
		strbuf_addch(&sb, ')');
		break;
	default:
		strbuf_addstr(&sb, t->is_json ? "json" : name ? name : "?");
	}
	t->display = strbuf_detach(&sb, NULL);
}

static void ctype_read(struct ctype *t, duckdb_logical_type lt)
{
	memset(t, 0, sizeof(*t));
	t->id = duckdb_get_type_id(lt);
	switch (t->id) {
	case DUCKDB_TYPE_DECIMAL:
		t->width = duckdb_decimal_width(lt);
		t->scale = duckdb_decimal_scale(lt);
		t->internal = duckdb_decimal_internal_type(lt);
		break;
	case DUCKDB_TYPE_ENUM:
		t->internal = duckdb_enum_internal_type(lt);
		t->ndict = duckdb_enum_dictionary_size(lt);
		t->dict = xcalloc(t->ndict ? t->ndict : 1, sizeof(*t->dict));
		for (size_t i = 0; i < t->ndict; i++)
			t->dict[i] = dup_duckdb_str(duckdb_enum_dictionary_value(lt, i));
		break;
	case DUCKDB_TYPE_VARCHAR: {
		char *alias = duckdb_logical_type_get_alias(lt);
		t->is_json = alias && !strcasecmp(alias, "JSON");
		if (alias)
			duckdb_free(alias);
		break;
	}
	case DUCKDB_TYPE_LIST:
	case DUCKDB_TYPE_ARRAY:
	case DUCKDB_TYPE_MAP: {
		/* a MAP is a LIST of STRUCT(key, value), and so is its vector */
		duckdb_logical_type c = t->id == DUCKDB_TYPE_ARRAY ? duckdb_array_type_child_type(lt)
								     : duckdb_list_type_child_type(lt);
		if (t->id == DUCKDB_TYPE_ARRAY)
			t->array_size = duckdb_array_type_array_size(lt);
		t->nchild = 1;
		t->child = xcalloc(1, sizeof(*t->child));
		ctype_read(&t->child[0], c);
		duckdb_destroy_logical_type(&c);
		break;
	}
	case DUCKDB_TYPE_STRUCT:
	case DUCKDB_TYPE_UNION: {
		int is_union = t->id == DUCKDB_TYPE_UNION;
		t->nchild = is_union ? duckdb_union_type_member_count(lt) : duckdb_struct_type_child_count(lt);
		t->child = xcalloc(t->nchild ? t->nchild : 1, sizeof(*t->child));
		t->names = xcalloc(t->nchild ? t->nchild : 1, sizeof(*t->names));
		for (size_t i = 0; i < t->nchild; i++) {
			duckdb_logical_type c = is_union ? duckdb_union_type_member_type(lt, i)
							 : duckdb_struct_type_child_type(lt, i);
			t->names[i] = dup_duckdb_str(is_union ? duckdb_union_type_member_name(lt, i)
							      : duckdb_struct_type_child_name(lt, i));
			ctype_read(&t->child[i], c);
			duckdb_destroy_logical_type(&c);
		}
		break;
	}
	default:
		break;
	}
	ctype_display(t);
}

static int ctype_has(const struct ctype *t, duckdb_type id)
{
	if (t->id == id)
		return 1;
	for (size_t i = 0; i < t->nchild; i++)
		if (ctype_has(&t->child[i], id))
			return 1;
	return 0;
}

/* The name of a type in t that Dango cannot read (one DuckDB added after the
 * header Dango is built with: 1.5's GEOMETRY and VARIANT), or NULL. */
static const char *unreadable_type(const struct ctype *t, char *buf, size_t len)
{
	switch ((int)t->id) {
	case DUCKDB_TYPE_DECIMAL: case DUCKDB_TYPE_LIST: case DUCKDB_TYPE_ARRAY: case DUCKDB_TYPE_MAP:
	case DUCKDB_TYPE_STRUCT: case DUCKDB_TYPE_UNION: case DUCKDB_TYPE_ENUM:
		break;
	case 40: return "GEOMETRY";
	case 41: return "VARIANT";
	default:
		if (!scalar_name(t->id)) {
			snprintf(buf, len, "number %d", (int)t->id);
			return buf;
		}
	}
	for (size_t i = 0; i < t->nchild; i++) {
		const char *name = unreadable_type(&t->child[i], buf, len);
		if (name)
			return name;
	}
	return NULL;
}

/* --- numbers ------------------------------------------------------------------------- */

static void add_u128(struct strbuf *sb, unsigned __int128 v)
{
	char buf[48];
	size_t n = sizeof(buf);
	buf[--n] = 0;
	do {
		buf[--n] = (char)('0' + (int)(v % 10));
		v /= 10;
	} while (v);
	strbuf_addstr(sb, buf + n);
}

static void add_i128(struct strbuf *sb, __int128 v)
{
	if (v < 0) {
		strbuf_addch(sb, '-');
		add_u128(sb, (unsigned __int128)0 - (unsigned __int128)v);
	} else {
		add_u128(sb, (unsigned __int128)v);
	}
}

static __int128 hugeint_of(const duckdb_hugeint *h)
{
	return (__int128)(((unsigned __int128)(uint64_t)h->upper << 64) | h->lower);
}

/* A decimal's stored integer, scale digits after the point. */
static void add_decimal(struct strbuf *sb, __int128 v, unsigned scale)
{
	struct strbuf digits = STRBUF_INIT;
	if (v < 0)
		strbuf_addch(sb, '-');
	add_u128(&digits, v < 0 ? (unsigned __int128)0 - (unsigned __int128)v : (unsigned __int128)v);
	if (scale) {
		while (digits.len < scale + 1)
			strbuf_insert(&digits, 0, "0", 1);
		strbuf_insert(&digits, digits.len - scale, ".", 1);
	}
	strbuf_addbuf(sb, &digits);
	strbuf_release(&digits);
}

/* Shortest digits that read back as the same value, in the layout DuckDB
 * (and Python's repr) uses: plain for exponents -4..15 with at least one
 * decimal ("1.0"), scientific otherwise ("1e+20", "1.5e-07"). */
void wh_text_add_double(struct strbuf *sb, double d, int is_float)
{
	char buf[64], digits[32];
	int exp10 = 0, prec;
	if (isnan(d)) {
		strbuf_addstr(sb, "nan");
		return;
	}
	if (isinf(d)) {
		strbuf_addstr(sb, d < 0 ? "-inf" : "inf");
		return;
	}
	for (prec = 1; prec <= 17; prec++) {
		snprintf(buf, sizeof(buf), "%.*e", prec - 1, d);
		double back = strtod(buf, NULL);
		if (is_float ? (float)back == (float)d : back == d)
			break;
	}
	/* buf: [-]d[.ddd]e[+-]xx */
	const char *p = buf;
	size_t nd = 0;
	if (*p == '-') {
		strbuf_addch(sb, '-');
		p++;
	}
	for (; *p && *p != 'e'; p++)
		if (*p != '.')
			digits[nd++] = *p;
	digits[nd] = 0;
	exp10 = atoi(p + 1);
	while (nd > 1 && digits[nd - 1] == '0')
		digits[--nd] = 0;
	if (exp10 < -4 || exp10 >= 16) {
		strbuf_addch(sb, digits[0]);
		if (nd > 1)
			strbuf_addf(sb, ".%s", digits + 1);
		strbuf_addf(sb, "e%c%02d", exp10 < 0 ? '-' : '+', exp10 < 0 ? -exp10 : exp10);
	} else if (exp10 < 0) {
		strbuf_addstr(sb, "0.");
		strbuf_addchars(sb, '0', (size_t)(-exp10 - 1));
		strbuf_addstr(sb, digits);
	} else {
		for (int i = 0; i <= exp10; i++)
			strbuf_addch(sb, (size_t)i < nd ? digits[i] : '0');
		strbuf_addch(sb, '.');
		strbuf_addstr(sb, (size_t)exp10 + 1 < nd ? digits + exp10 + 1 : "0");
	}
}

/* --- dates and times ----------------------------------------------------------------- */

static int64_t floor_div(int64_t a, int64_t b, int64_t *rem)
{
	int64_t q = a / b, m = a % b;
	if (m < 0) {
		m += b;
		q--;
	}
	*rem = m;
	return q;
}

static void add_date_days(struct strbuf *sb, int32_t days)
{
	if (days == INT32_MAX || days == -INT32_MAX) {
		strbuf_addstr(sb, days < 0 ? "-infinity" : "infinity");
		return;
	}
	duckdb_date_struct d = duckdb_from_date((duckdb_date){ days });
	if (d.year <= 0)
		strbuf_addf(sb, "%04d-%02d-%02d (BC)", 1 - d.year, d.month, d.day);
	else
		strbuf_addf(sb, "%04d-%02d-%02d", d.year, d.month, d.day);
}

/* hh:mm:ss with the fraction (frac_digits: 6 for micros, 9 for nanos) trimmed of zeros */
static void add_clock(struct strbuf *sb, int64_t secs, int64_t frac, int frac_digits)
{
	strbuf_addf(sb, "%02lld:%02lld:%02lld", (long long)(secs / 3600), (long long)(secs / 60 % 60),
		    (long long)(secs % 60));
	if (frac) {
		char f[32];
		snprintf(f, sizeof(f), "%0*lld", frac_digits, (long long)frac);
		size_t n = strlen(f);
		while (n && f[n - 1] == '0')
			f[--n] = 0;
		strbuf_addf(sb, ".%s", f);
	}
}

static void add_offset(struct strbuf *sb, long off)
{
	long a = off < 0 ? -off : off;
	strbuf_addf(sb, "%c%02ld", off < 0 ? '-' : '+', a / 3600);
	if (a % 3600)
		strbuf_addf(sb, ":%02ld", a / 60 % 60);
	if (a % 60)
		strbuf_addf(sb, ":%02ld", a % 60);
}

/* A timestamp in units per second since the epoch. */
static void add_timestamp(struct strbuf *sb, int64_t v, int64_t per_sec, int frac_digits)
{
	int64_t rem, frac;
	if (v == INT64_MAX || v == -INT64_MAX) {
		strbuf_addstr(sb, v < 0 ? "-infinity" : "infinity");
		return;
	}
	int64_t secs = floor_div(v, per_sec, &frac);
	int64_t days = floor_div(secs, 86400, &rem);
	add_date_days(sb, (int32_t)days);
	strbuf_addch(sb, ' ');
	add_clock(sb, rem, frac, frac_digits);
}

static int is_utc(const char *tz)
{
	return !tz || !*tz || !strcasecmp(tz, "UTC") || !strcasecmp(tz, "Etc/UTC") || !strcasecmp(tz, "GMT") ||
	       !strcasecmp(tz, "Etc/GMT") || !strcasecmp(tz, "Z") || !strcasecmp(tz, "Etc/Universal") ||
	       !strcasecmp(tz, "Universal") || !strcasecmp(tz, "Zulu");
}

/* The zone libc uses without being told: TZ, else /etc/localtime's target. */
static char libc_zone_name[256];

static void libc_zone_init(void)
{
	const char *tz = getenv("TZ");
	char link[512];
	ssize_t n;
	if (tz && *tz) {
		snprintf(libc_zone_name, sizeof(libc_zone_name), "%s", tz + (*tz == ':'));
	} else if ((n = readlink("/etc/localtime", link, sizeof(link) - 1)) > 0) {
		link[n] = 0;
		const char *z = strstr(link, "zoneinfo/");
		snprintf(libc_zone_name, sizeof(libc_zone_name), "%s", z ? z + 9 : "UTC");
	} else {
		snprintf(libc_zone_name, sizeof(libc_zone_name), "UTC");
	}
}

static const char *libc_zone(void)
{
	static pthread_once_t once = PTHREAD_ONCE_INIT;
	pthread_once(&once, libc_zone_init);
	return libc_zone_name;
}

static pthread_mutex_t tz_lock = PTHREAD_MUTEX_INITIALIZER;

/* The UTC offset, in seconds, of the zone tz at the instant t. The session's
 * zone is usually the system's (ICU and libc read the same TZ and
 * /etc/localtime), which localtime_r knows; for another zone (SET TimeZone),
 * libc is pointed at it for the call, under a lock, and pointed back. */
static long zone_offset(const char *tz, time_t t)
{
	struct tm tm;
	if (is_utc(tz))
		return 0;
	memset(&tm, 0, sizeof(tm));
	if (!strcmp(tz, libc_zone()))
		return localtime_r(&t, &tm) ? tm.tm_gmtoff : 0;
	pthread_mutex_lock(&tz_lock);
	const char *old = getenv("TZ");
	char *saved = old ? xstrdup(old) : NULL;
	setenv("TZ", tz, 1);
	tzset();
	if (!localtime_r(&t, &tm))
		tm.tm_gmtoff = 0;
	if (saved)
		setenv("TZ", saved, 1);
	else
		unsetenv("TZ");
	tzset();
	free(saved);
	pthread_mutex_unlock(&tz_lock);
	return tm.tm_gmtoff;
}

static void add_timestamptz(struct strbuf *sb, int64_t micros, const char *tz)
{
	int64_t frac;
	if (micros == INT64_MAX || micros == -INT64_MAX) {
		strbuf_addstr(sb, micros < 0 ? "-infinity" : "infinity");
		return;
	}
	int64_t secs = floor_div(micros, 1000000, &frac);
	long off = zone_offset(tz, (time_t)secs);
	add_timestamp(sb, micros + (int64_t)off * 1000000, 1000000, 6);
	/* seconds of an offset (local mean time before 1900) are not shown */
	add_offset(sb, off / 60 * 60);
}

static void add_interval(struct strbuf *sb, duckdb_interval iv)
{
	size_t start = sb->len;
	int32_t years = iv.months / 12, months = iv.months % 12;
	if (years)
		strbuf_addf(sb, "%d year%s", years, years == 1 || years == -1 ? "" : "s");
	if (months)
		strbuf_addf(sb, "%s%d month%s", sb->len > start ? " " : "", months,
			    months == 1 || months == -1 ? "" : "s");
	if (iv.days)
		strbuf_addf(sb, "%s%d day%s", sb->len > start ? " " : "", iv.days,
			    iv.days == 1 || iv.days == -1 ? "" : "s");
	if (iv.micros || sb->len == start) {
		uint64_t a = iv.micros < 0 ? (uint64_t)0 - (uint64_t)iv.micros : (uint64_t)iv.micros;
		strbuf_addstr(sb, sb->len > start ? " " : "");
		if (iv.micros < 0)
			strbuf_addch(sb, '-');
		add_clock(sb, (int64_t)(a / 1000000), (int64_t)(a % 1000000), 6);
	}
}

/* --- other scalars ------------------------------------------------------------------- */

void wh_text_add_blob(struct strbuf *sb, const unsigned char *p, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (p[i] >= 0x20 && p[i] < 0x7f && p[i] != '\\' && p[i] != '\'' && p[i] != '"')
			strbuf_addch(sb, p[i]);
		else
			strbuf_addf(sb, "\\x%02X", p[i]);
	}
}

static void add_uuid(struct strbuf *sb, const duckdb_hugeint *h)
{
	/* stored as a HUGEINT with the top bit flipped, so that it sorts */
	uint64_t hi = (uint64_t)h->upper ^ ((uint64_t)1 << 63), lo = h->lower;
	strbuf_addf(sb, "%08llx-%04llx-%04llx-%04llx-%012llx", (unsigned long long)(hi >> 32),
		    (unsigned long long)(hi >> 16 & 0xffff), (unsigned long long)(hi & 0xffff),
		    (unsigned long long)(lo >> 48), (unsigned long long)(lo & 0xffffffffffffULL));
}

static void add_bits(struct strbuf *sb, const unsigned char *p, size_t n)
{
	/* the first byte counts the padding bits at the start of the second */
	if (!n)
		return;
	unsigned pad = p[0];
	for (size_t i = 1; i < n; i++)
		for (int b = 7; b >= 0; b--) {
			if (i == 1 && (unsigned)(7 - b) < pad)
				continue;
			strbuf_addch(sb, (p[i] >> b) & 1 ? '1' : '0');
		}
}

/* BIGNUM: a 3-byte header (its top bit set for positive numbers, then the
 * byte count), then the magnitude big-endian; negative numbers have every
 * byte inverted. */
static void add_bignum(struct strbuf *sb, const unsigned char *p, size_t n)
{
	if (n < 3) {
		strbuf_addch(sb, '0');
		return;
	}
	int neg = !(p[0] & 0x80);
	size_t len = n - 3;
	unsigned char *mag = xmalloc(len ? len : 1);
	for (size_t i = 0; i < len; i++)
		mag[i] = neg ? (unsigned char)~p[3 + i] : p[3 + i];
	/* repeated division by 10 of the big-endian magnitude */
	struct strbuf rev = STRBUF_INIT;
	size_t start = 0;
	while (start < len && !mag[start])
		start++;
	if (start == len)
		strbuf_addch(&rev, '0');
	while (start < len) {
		unsigned rem = 0;
		for (size_t i = start; i < len; i++) {
			unsigned cur = rem * 256 + mag[i];
			mag[i] = (unsigned char)(cur / 10);
			rem = cur % 10;
		}
		strbuf_addch(&rev, (char)('0' + rem));
		while (start < len && !mag[start])
			start++;
	}
	if (neg && strcmp(rev.buf, "0"))
		strbuf_addch(sb, '-');
	for (size_t i = rev.len; i > 0; i--)
		strbuf_addch(sb, rev.buf[i - 1]);
	strbuf_release(&rev);
	free(mag);
}

/* --- cells --------------------------------------------------------------------------- */

static int valid(duckdb_vector v, idx_t i)
{
	uint64_t *mask = duckdb_vector_get_validity(v);
	return !mask || duckdb_validity_row_is_valid(mask, i);
}

static __int128 int_storage(duckdb_type internal, const void *data, idx_t i)
{
	switch (internal) {
	case DUCKDB_TYPE_SMALLINT: return ((const int16_t *)data)[i];
	case DUCKDB_TYPE_INTEGER: return ((const int32_t *)data)[i];
	case DUCKDB_TYPE_BIGINT: return ((const int64_t *)data)[i];
	case DUCKDB_TYPE_HUGEINT: return hugeint_of(&((const duckdb_hugeint *)data)[i]);
	case DUCKDB_TYPE_UTINYINT: return ((const uint8_t *)data)[i];
	case DUCKDB_TYPE_USMALLINT: return ((const uint16_t *)data)[i];
	case DUCKDB_TYPE_UINTEGER: return ((const uint32_t *)data)[i];
	default: return 0;
	}
}

static const char *enum_label(const struct ctype *t, const void *data, idx_t i)
{
	size_t k = (size_t)int_storage(t->internal, data, i);
	return k < t->ndict ? t->dict[k] : "";
}

static int is_nested(duckdb_type id)
{
	return id == DUCKDB_TYPE_LIST || id == DUCKDB_TYPE_ARRAY || id == DUCKDB_TYPE_STRUCT ||
	       id == DUCKDB_TYPE_MAP || id == DUCKDB_TYPE_UNION;
}

static void add_text(struct strbuf *sb, const struct ctype *t, duckdb_vector v, idx_t i, const char *tz);
/* The child vector and the [off, off + n) range of row i of a LIST or ARRAY. */
static duckdb_vector list_span(const struct ctype *t, duckdb_vector v, const void *d, idx_t i, idx_t *off, idx_t *n)
{
	if (t->id == DUCKDB_TYPE_LIST) {
		const duckdb_list_entry *e = &((const duckdb_list_entry *)d)[i];
		*off = e->offset;
		*n = e->length;
		return duckdb_list_vector_get_child(v);
	}
	*off = i * t->array_size;
	*n = t->array_size;
	return duckdb_array_vector_get_child(v);
}


/* Inside a nested value, DuckDB quotes a scalar's text (not JSON's) when it is empty, has
 * a space at either end, reads "null", or holds one of "'(),:=[]{} (struct
 * keys always), with \ and ' escaped by a backslash. */
void wh_text_add_quoted_maybe(struct strbuf *sb, const char *s, size_t n, int always)
{
	static const char special[] = "\"'(),:=[]{}";
	int quote = always || !n || strchr(" \t\n\v\f\r", s[0]) || (n >= 2 && strchr(" \t\n\v\f\r", s[n - 1])) ||
		    (n == 4 && !strncasecmp(s, "null", 4));
	for (size_t k = 0; !quote && k < n; k++)
		quote = s[k] && strchr(special, s[k]);
	if (!quote) {
		strbuf_add(sb, s, n);
		return;
	}
	strbuf_addch(sb, '\'');
	for (size_t k = 0; k < n; k++) {
		if (s[k] == '\\' || s[k] == '\'')
			strbuf_addch(sb, '\\');
		strbuf_addch(sb, s[k]);
	}
	strbuf_addch(sb, '\'');
}

static void add_child_text(struct strbuf *sb, const struct ctype *t, duckdb_vector v, idx_t i, const char *tz)
{
	if (!valid(v, i)) {
		strbuf_addstr(sb, "NULL");
		return;
	}
	if (is_nested(t->id) || t->is_json) {
		add_text(sb, t, v, i, tz);
		return;
	}
	struct strbuf one = STRBUF_INIT;
	add_text(&one, t, v, i, tz);
	wh_text_add_quoted_maybe(sb, one.buf, one.len, 0);
	strbuf_release(&one);
}

static const char *str_data(duckdb_vector v, idx_t i, size_t *len)
{
	duckdb_string_t *s = (duckdb_string_t *)duckdb_vector_get_data(v) + i;
	*len = duckdb_string_t_length(*s);
	return duckdb_string_t_data(s);
}

static idx_t union_tag(duckdb_vector v, idx_t i)
{
	duckdb_vector tags = duckdb_struct_vector_get_child(v, 0);
	return ((const uint8_t *)duckdb_vector_get_data(tags))[i];
}

static void add_text(struct strbuf *sb, const struct ctype *t, duckdb_vector v, idx_t i, const char *tz)
{
	const void *d = duckdb_vector_get_data(v);
	size_t len;
	const char *s;
	switch (t->id) {
	case DUCKDB_TYPE_BOOLEAN: strbuf_addstr(sb, ((const bool *)d)[i] ? "true" : "false"); break;
	case DUCKDB_TYPE_TINYINT: strbuf_addf(sb, "%d", ((const int8_t *)d)[i]); break;
	case DUCKDB_TYPE_SMALLINT: strbuf_addf(sb, "%d", ((const int16_t *)d)[i]); break;
	case DUCKDB_TYPE_INTEGER: strbuf_addf(sb, "%d", ((const int32_t *)d)[i]); break;
	case DUCKDB_TYPE_BIGINT: strbuf_addf(sb, "%lld", (long long)((const int64_t *)d)[i]); break;
	case DUCKDB_TYPE_UTINYINT: strbuf_addf(sb, "%u", ((const uint8_t *)d)[i]); break;
	case DUCKDB_TYPE_USMALLINT: strbuf_addf(sb, "%u", ((const uint16_t *)d)[i]); break;
	case DUCKDB_TYPE_UINTEGER: strbuf_addf(sb, "%u", ((const uint32_t *)d)[i]); break;
	case DUCKDB_TYPE_UBIGINT: strbuf_addf(sb, "%llu", (unsigned long long)((const uint64_t *)d)[i]); break;
	case DUCKDB_TYPE_HUGEINT: add_i128(sb, hugeint_of(&((const duckdb_hugeint *)d)[i])); break;
	case DUCKDB_TYPE_UHUGEINT: {
		const duckdb_uhugeint *u = &((const duckdb_uhugeint *)d)[i];
		add_u128(sb, ((unsigned __int128)u->upper << 64) | u->lower);
		break;
	}
	case DUCKDB_TYPE_FLOAT: wh_text_add_double(sb, ((const float *)d)[i], 1); break;
	case DUCKDB_TYPE_DOUBLE: wh_text_add_double(sb, ((const double *)d)[i], 0); break;
	case DUCKDB_TYPE_DECIMAL: add_decimal(sb, int_storage(t->internal, d, i), t->scale); break;
	case DUCKDB_TYPE_VARCHAR:
		s = str_data(v, i, &len);
		strbuf_add(sb, s, len);
		break;
	case DUCKDB_TYPE_BLOB:
		s = str_data(v, i, &len);
		wh_text_add_blob(sb, (const unsigned char *)s, len);
		break;
	case DUCKDB_TYPE_BIT:
		s = str_data(v, i, &len);
		add_bits(sb, (const unsigned char *)s, len);
		break;
	case DUCKDB_TYPE_BIGNUM:
		s = str_data(v, i, &len);
		add_bignum(sb, (const unsigned char *)s, len);
		break;
	case DUCKDB_TYPE_ENUM: strbuf_addstr(sb, enum_label(t, d, i)); break;
	case DUCKDB_TYPE_UUID: add_uuid(sb, &((const duckdb_hugeint *)d)[i]); break;
	case DUCKDB_TYPE_DATE: add_date_days(sb, ((const duckdb_date *)d)[i].days); break;
	case DUCKDB_TYPE_TIME: {
		int64_t us = ((const duckdb_time *)d)[i].micros;
		add_clock(sb, us / 1000000, us % 1000000, 6);
		break;
	}
	case DUCKDB_TYPE_TIME_NS: {
		int64_t ns = ((const duckdb_time_ns *)d)[i].nanos;
		add_clock(sb, ns / 1000000000, ns % 1000000000, 9);
		break;
	}
	case DUCKDB_TYPE_TIME_TZ: {
		duckdb_time_tz_struct tt = duckdb_from_time_tz(((const duckdb_time_tz *)d)[i]);
		add_clock(sb, (int64_t)tt.time.hour * 3600 + tt.time.min * 60 + tt.time.sec, tt.time.micros, 6);
		add_offset(sb, tt.offset);
		break;
	}
	case DUCKDB_TYPE_TIMESTAMP: add_timestamp(sb, ((const int64_t *)d)[i], 1000000, 6); break;
	case DUCKDB_TYPE_TIMESTAMP_S: add_timestamp(sb, ((const int64_t *)d)[i], 1, 0); break;
	case DUCKDB_TYPE_TIMESTAMP_MS: add_timestamp(sb, ((const int64_t *)d)[i], 1000, 3); break;
	case DUCKDB_TYPE_TIMESTAMP_NS: add_timestamp(sb, ((const int64_t *)d)[i], 1000000000, 9); break;
	case DUCKDB_TYPE_TIMESTAMP_TZ: add_timestamptz(sb, ((const int64_t *)d)[i], tz); break;
	case DUCKDB_TYPE_INTERVAL: add_interval(sb, ((const duckdb_interval *)d)[i]); break;
	case DUCKDB_TYPE_LIST:
	case DUCKDB_TYPE_ARRAY: {
		idx_t off, n;
		duckdb_vector c = list_span(t, v, d, i, &off, &n);
		strbuf_addch(sb, '[');
		for (idx_t k = 0; k < n; k++) {
			strbuf_addstr(sb, k ? ", " : "");
			add_child_text(sb, &t->child[0], c, off + k, tz);
		}
		strbuf_addch(sb, ']');
		break;
	}
	case DUCKDB_TYPE_MAP: {
		const duckdb_list_entry *e = &((const duckdb_list_entry *)d)[i];
		duckdb_vector kv = duckdb_list_vector_get_child(v);
		duckdb_vector keys = duckdb_struct_vector_get_child(kv, 0), vals = duckdb_struct_vector_get_child(kv, 1);
		strbuf_addch(sb, '{');
		for (idx_t k = 0; k < e->length; k++) {
			strbuf_addstr(sb, k ? ", " : "");
			add_child_text(sb, &t->child[0].child[0], keys, e->offset + k, tz);
			strbuf_addch(sb, '=');
			add_child_text(sb, &t->child[0].child[1], vals, e->offset + k, tz);
		}
		strbuf_addch(sb, '}');
		break;
	}
	case DUCKDB_TYPE_STRUCT:
		strbuf_addch(sb, '{');
		for (size_t k = 0; k < t->nchild; k++) {
			strbuf_addstr(sb, k ? ", " : "");
			wh_text_add_quoted_maybe(sb, t->names[k], strlen(t->names[k]), 1);
			strbuf_addstr(sb, ": ");
			add_child_text(sb, &t->child[k], duckdb_struct_vector_get_child(v, k), i, tz);
		}
		strbuf_addch(sb, '}');
		break;
	case DUCKDB_TYPE_UNION: {
		/* the vector is a STRUCT(tag, member...): the value is its tagged member's */
		idx_t tag = union_tag(v, i);
		if (tag < t->nchild) {
			duckdb_vector m = duckdb_struct_vector_get_child(v, tag + 1);
			if (valid(m, i))
				add_text(sb, &t->child[tag], m, i, tz);
			else
				strbuf_addstr(sb, "NULL");
		}
		break;
	}
	case DUCKDB_TYPE_SQLNULL: strbuf_addstr(sb, "NULL"); break;
	default: strbuf_addf(sb, "(unsupported type %d)", (int)t->id); break;
	}
}

static int json_plain_number(const struct ctype *t)
{
	switch (t->id) {
	case DUCKDB_TYPE_TINYINT: case DUCKDB_TYPE_SMALLINT: case DUCKDB_TYPE_INTEGER: case DUCKDB_TYPE_BIGINT:
	case DUCKDB_TYPE_UTINYINT: case DUCKDB_TYPE_USMALLINT: case DUCKDB_TYPE_UINTEGER: case DUCKDB_TYPE_UBIGINT:
	case DUCKDB_TYPE_HUGEINT: case DUCKDB_TYPE_UHUGEINT: case DUCKDB_TYPE_DECIMAL: case DUCKDB_TYPE_BIGNUM:
	case DUCKDB_TYPE_BOOLEAN:
		return 1;
	default:
		return 0;
	}
}

void wh_text_add_json_str_n(struct strbuf *sb, const char *s, size_t n)
{
	/* strbuf_add_json_str stops at a NUL: a VARCHAR may hold one */
	if (!memchr(s, 0, n)) {
		char *z = xmalloc(n + 1);
		memcpy(z, s, n);
		z[n] = 0;
		strbuf_add_json_str(sb, z);
		free(z);
		return;
	}
	strbuf_addch(sb, '"');
	for (size_t k = 0; k < n; k++) {
		char one[2] = { s[k], 0 };
		if (!s[k]) {
			strbuf_addstr(sb, "\\u0000");
			continue;
		}
		struct strbuf q = STRBUF_INIT;
		strbuf_add_json_str(&q, one);
		strbuf_add(sb, q.buf + 1, q.len - 2);
		strbuf_release(&q);
	}
	strbuf_addch(sb, '"');
}

static void add_json(struct strbuf *sb, const struct ctype *t, duckdb_vector v, idx_t i, const char *tz)
{
	if (!valid(v, i)) {
		strbuf_addstr(sb, "null");
		return;
	}
	const void *d = duckdb_vector_get_data(v);
	size_t len;
	const char *s;
	struct strbuf text = STRBUF_INIT;
	switch (t->id) {
	case DUCKDB_TYPE_FLOAT:
	case DUCKDB_TYPE_DOUBLE: {
		double x = t->id == DUCKDB_TYPE_FLOAT ? ((const float *)d)[i] : ((const double *)d)[i];
		wh_text_add_double(&text, x, t->id == DUCKDB_TYPE_FLOAT);
		if (isfinite(x))
			strbuf_addbuf(sb, &text);
		else
			strbuf_add_json_str(sb, text.buf); /* JSON has no NaN or Infinity */
		break;
	}
	case DUCKDB_TYPE_VARCHAR:
		s = str_data(v, i, &len);
		if (t->is_json)
			strbuf_add(sb, s, len);
		else
			wh_text_add_json_str_n(sb, s, len);
		break;
	case DUCKDB_TYPE_LIST:
	case DUCKDB_TYPE_ARRAY: {
		idx_t off, n;
		duckdb_vector c = list_span(t, v, d, i, &off, &n);
		strbuf_addch(sb, '[');
		for (idx_t k = 0; k < n; k++) {
			strbuf_addstr(sb, k ? ", " : "");
			add_json(sb, &t->child[0], c, off + k, tz);
		}
		strbuf_addch(sb, ']');
		break;
	}
	case DUCKDB_TYPE_MAP: {
		/* an object keyed by the keys' text */
		const duckdb_list_entry *e = &((const duckdb_list_entry *)d)[i];
		duckdb_vector kv = duckdb_list_vector_get_child(v);
		duckdb_vector keys = duckdb_struct_vector_get_child(kv, 0), vals = duckdb_struct_vector_get_child(kv, 1);
		strbuf_addch(sb, '{');
		for (idx_t k = 0; k < e->length; k++) {
			strbuf_reset(&text);
			if (valid(keys, e->offset + k))
				add_text(&text, &t->child[0].child[0], keys, e->offset + k, tz);
			else
				strbuf_addstr(&text, "NULL");
			strbuf_addstr(sb, k ? ", " : "");
			wh_text_add_json_str_n(sb, text.buf, text.len);
			strbuf_addstr(sb, ": ");
			add_json(sb, &t->child[0].child[1], vals, e->offset + k, tz);
		}
		strbuf_addch(sb, '}');
		break;
	}
	case DUCKDB_TYPE_STRUCT:
		strbuf_addch(sb, '{');
		for (size_t k = 0; k < t->nchild; k++) {
			strbuf_addstr(sb, k ? ", " : "");
			strbuf_add_json_str(sb, t->names[k]);
			strbuf_addstr(sb, ": ");
			add_json(sb, &t->child[k], duckdb_struct_vector_get_child(v, k), i, tz);
		}
		strbuf_addch(sb, '}');
		break;
	case DUCKDB_TYPE_UNION: {
		idx_t tag = union_tag(v, i);
		if (tag < t->nchild)
			add_json(sb, &t->child[tag], duckdb_struct_vector_get_child(v, tag + 1), i, tz);
		else
			strbuf_addstr(sb, "null");
		break;
	}
	default:
		add_text(&text, t, v, i, tz);
		if (json_plain_number(t))
			strbuf_addbuf(sb, &text);
		else
			wh_text_add_json_str_n(sb, text.buf, text.len);
	}
	strbuf_release(&text);
}

/* --- the result ---------------------------------------------------------------------- */

static void add_chunk(struct wh_result_impl *im, duckdb_data_chunk ch, size_t first)
{
	if (im->nchunks == im->alloc) {
		im->alloc = im->alloc ? 2 * im->alloc : 8;
		im->chunks = xrealloc(im->chunks, im->alloc * sizeof(*im->chunks));
	}
	im->chunks[im->nchunks].chunk = ch;
	im->chunks[im->nchunks].first = first;
	im->chunks[im->nchunks].rows = (size_t)duckdb_data_chunk_get_size(ch);
	im->nchunks++;
}

static void drop_chunks(struct wh_result_impl *im)
{
	for (size_t i = 0; i < im->nchunks; i++)
		duckdb_destroy_data_chunk(&im->chunks[i].chunk);
	im->nchunks = im->last = 0;
}

int wh_result_take(struct wh_result *r, void *res, int streaming, const char *time_zone, struct strbuf *err)
{
	struct wh_result_impl *im = xcalloc(1, sizeof(*im));
	im->res = *(duckdb_result *)res;
	im->streaming = streaming;
	/* CREATE TABLE AS reports its rows as a query result of one "Count",
	 * CHECKPOINT its success as an empty "Success" */
	duckdb_result_type rt = duckdb_result_return_type(im->res);
	duckdb_statement_type st = duckdb_result_statement_type(im->res);
	const char *only = duckdb_column_count(&im->res) == 1 ? duckdb_column_name(&im->res, 0) : NULL;
	im->status_only = rt == DUCKDB_RESULT_TYPE_CHANGED_ROWS || rt == DUCKDB_RESULT_TYPE_NOTHING ||
			  (st == DUCKDB_STATEMENT_TYPE_CREATE && only && !strcmp(only, "Count")) ||
			  (st != DUCKDB_STATEMENT_TYPE_SELECT && only && !strcmp(only, "Success"));
	im->time_zone = time_zone ? xstrdup(time_zone) : NULL;
	r->impl = im;
	r->pg = NULL;
	r->rows = 0;
	r->cols = (size_t)duckdb_column_count(&im->res);
	im->names = xcalloc(r->cols ? r->cols : 1, sizeof(*im->names));
	im->types = xcalloc(r->cols ? r->cols : 1, sizeof(*im->types));
	for (size_t c = 0; c < r->cols; c++) {
		duckdb_logical_type lt = duckdb_column_logical_type(&im->res, c);
		const char *name = duckdb_column_name(&im->res, c);
		im->names[c] = xstrdup(name ? name : "");
		ctype_read(&im->types[c], lt);
		duckdb_destroy_logical_type(&lt);
	}
	for (size_t c = 0; c < r->cols; c++) {
		char buf[32];
		const char *bad = unreadable_type(&im->types[c], buf, sizeof(buf));
		if (bad) {
			strbuf_addf(err, "column \"%s\" is of the DuckDB type %s, which Dango cannot read yet; "
					 "cast it to text in the query (\"%s\"::VARCHAR)", im->names[c], bad, im->names[c]);
			wh_result_free(r);
			return -1;
		}
	}
	if (streaming)
		return 0;
	duckdb_data_chunk ch;
	while ((ch = duckdb_fetch_chunk(im->res))) {
		if (!duckdb_data_chunk_get_size(ch)) {
			duckdb_destroy_data_chunk(&ch);
			continue;
		}
		add_chunk(im, ch, r->rows);
		r->rows += im->chunks[im->nchunks - 1].rows;
	}
	const char *e = duckdb_result_error(&im->res);
	if (e && *e) {
		strbuf_addstr(err, e);
		wh_result_free(r);
		return -1;
	}
	return 0;
}

int wh_result_needs_time_zone(struct wh_result *r)
{
	if (r->pg)
		return 0;
	struct wh_result_impl *im = IMPL(r);
	for (size_t c = 0; im && c < r->cols; c++)
		if (ctype_has(&im->types[c], DUCKDB_TYPE_TIMESTAMP_TZ))
			return 1;
	return 0;
}

void wh_result_set_time_zone(struct wh_result *r, const char *time_zone)
{
	struct wh_result_impl *im = IMPL(r);
	free(im->time_zone);
	im->time_zone = time_zone ? xstrdup(time_zone) : NULL;
}

int wh_result_next(struct wh_result *r, struct strbuf *err)
{
	if (r->pg)
		return wh_pg_next(r, err);
	struct wh_result_impl *im = IMPL(r);
	if (!im || !im->streaming)
		return 0;
	drop_chunks(im);
	r->rows = 0;
	for (;;) {
		duckdb_data_chunk ch = duckdb_fetch_chunk(im->res);
		if (!ch) {
			const char *e = duckdb_result_error(&im->res);
			if (e && *e) {
				strbuf_addstr(err, e);
				return -1;
			}
			return 0;
		}
		if (duckdb_data_chunk_get_size(ch)) {
			add_chunk(im, ch, 0);
			r->rows = im->chunks[0].rows;
			return 1;
		}
		duckdb_destroy_data_chunk(&ch);
	}
}

void wh_result_free(struct wh_result *r)
{
	if (r->pg) {
		wh_pg_result_free(r);
		return;
	}
	struct wh_result_impl *im = IMPL(r);
	if (!im)
		return;
	drop_chunks(im);
	free(im->chunks);
	for (size_t c = 0; c < r->cols; c++) {
		free(im->names[c]);
		ctype_release(&im->types[c]);
	}
	free(im->names);
	free(im->types);
	free(im->time_zone);
	duckdb_destroy_result(&im->res);
	free(im);
	r->impl = NULL;
	r->rows = r->cols = 0;
}

/* The vector and index of a cell; NULL if out of range. */
static duckdb_vector cell(struct wh_result *r, size_t row, size_t col, idx_t *idx)
{
	struct wh_result_impl *im = IMPL(r);
	if (!im || col >= r->cols || row >= r->rows || !im->nchunks)
		return NULL;
	size_t k = im->last < im->nchunks ? im->last : 0;
	if (row < im->chunks[k].first || row >= im->chunks[k].first + im->chunks[k].rows) {
		size_t lo = 0, hi = im->nchunks;
		while (hi - lo > 1) {
			size_t mid = (lo + hi) / 2;
			if (im->chunks[mid].first <= row)
				lo = mid;
			else
				hi = mid;
		}
		k = lo;
	}
	im->last = k;
	*idx = row - im->chunks[k].first;
	return duckdb_data_chunk_get_vector(im->chunks[k].chunk, col);
}

const char *wh_result_name(struct wh_result *r, size_t col)
{
	if (r->pg)
		return wh_pg_name(r, col);
	return col < r->cols ? IMPL(r)->names[col] : "";
}

enum wh_type wh_result_type(struct wh_result *r, size_t col)
{
	if (r->pg)
		return wh_pg_type(r, col);
	if (col >= r->cols)
		return WH_T_NULL;
	switch (IMPL(r)->types[col].id) {
	case DUCKDB_TYPE_BOOLEAN:
		return WH_T_BOOL;
	case DUCKDB_TYPE_TINYINT: case DUCKDB_TYPE_SMALLINT: case DUCKDB_TYPE_INTEGER:
	case DUCKDB_TYPE_BIGINT: case DUCKDB_TYPE_UTINYINT: case DUCKDB_TYPE_USMALLINT:
	case DUCKDB_TYPE_UINTEGER: case DUCKDB_TYPE_UBIGINT: case DUCKDB_TYPE_HUGEINT:
	case DUCKDB_TYPE_UHUGEINT:
		return WH_T_INT;
	case DUCKDB_TYPE_FLOAT: case DUCKDB_TYPE_DOUBLE: case DUCKDB_TYPE_DECIMAL:
		return WH_T_FLOAT;
	case DUCKDB_TYPE_VARCHAR:
		return WH_T_TEXT;
	case DUCKDB_TYPE_SQLNULL:
		return WH_T_NULL;
	default:
		return WH_T_OTHER;
	}
}

const char *wh_result_type_name(struct wh_result *r, size_t col)
{
	if (r->pg)
		return wh_pg_type_name(r, col);
	return col < r->cols ? IMPL(r)->types[col].display : "?";
}

int wh_result_is_numeric(struct wh_result *r, size_t col)
{
	if (r->pg)
		return wh_pg_is_numeric(r, col);
	enum wh_type t = wh_result_type(r, col);
	return t == WH_T_INT || t == WH_T_FLOAT || (col < r->cols && IMPL(r)->types[col].id == DUCKDB_TYPE_BIGNUM);
}

int wh_result_is_status(struct wh_result *r)
{
	if (r->pg)
		return wh_pg_is_status(r);
	return IMPL(r) && IMPL(r)->status_only;
}

int wh_result_is_null(struct wh_result *r, size_t row, size_t col)
{
	if (r->pg)
		return wh_pg_is_null(r, row, col);
	idx_t i;
	duckdb_vector v = cell(r, row, col, &i);
	return !v || !valid(v, i);
}

void wh_result_add_text(struct wh_result *r, size_t row, size_t col, struct strbuf *sb)
{
	if (r->pg) {
		wh_pg_add_text(r, row, col, sb);
		return;
	}
	idx_t i;
	duckdb_vector v = cell(r, row, col, &i);
	if (!v || !valid(v, i))
		strbuf_addstr(sb, "NULL");
	else
		add_text(sb, &IMPL(r)->types[col], v, i, IMPL(r)->time_zone);
}

void wh_result_add_json(struct wh_result *r, size_t row, size_t col, struct strbuf *sb)
{
	if (r->pg) {
		wh_pg_add_json(r, row, col, sb);
		return;
	}
	idx_t i;
	duckdb_vector v = cell(r, row, col, &i);
	if (!v)
		strbuf_addstr(sb, "null");
	else
		add_json(sb, &IMPL(r)->types[col], v, i, IMPL(r)->time_zone);
}

char *wh_result_str(struct wh_result *r, size_t row, size_t col)
{
	if (r->pg) {
		if (wh_pg_is_null(r, row, col))
			return NULL;
		struct strbuf sb = STRBUF_INIT;
		wh_pg_add_text(r, row, col, &sb);
		return strbuf_detach(&sb, NULL);
	}
	idx_t i;
	duckdb_vector v = cell(r, row, col, &i);
	if (!v || !valid(v, i))
		return NULL;
	struct strbuf sb = STRBUF_INIT;
	add_text(&sb, &IMPL(r)->types[col], v, i, IMPL(r)->time_zone);
	return strbuf_detach(&sb, NULL);
}

/* The cell as a 128-bit integer (decimals truncated); < 0 if it is not one. */
static int cell_int(struct wh_result *r, size_t row, size_t col, __int128 *out, int *too_big)
{
	idx_t i;
	duckdb_vector v = cell(r, row, col, &i);
	*too_big = 0;
	if (!v || !valid(v, i))
		return -1;
	const struct ctype *t = &IMPL(r)->types[col];
	const void *d = duckdb_vector_get_data(v);
	switch (t->id) {
	case DUCKDB_TYPE_BOOLEAN: *out = ((const bool *)d)[i]; return 0;
	case DUCKDB_TYPE_TINYINT: *out = ((const int8_t *)d)[i]; return 0;
	case DUCKDB_TYPE_UBIGINT: *out = ((const uint64_t *)d)[i]; return 0;
	case DUCKDB_TYPE_SMALLINT: case DUCKDB_TYPE_INTEGER: case DUCKDB_TYPE_BIGINT: case DUCKDB_TYPE_HUGEINT:
	case DUCKDB_TYPE_UTINYINT: case DUCKDB_TYPE_USMALLINT: case DUCKDB_TYPE_UINTEGER:
		*out = int_storage(t->id, d, i);
		return 0;
	case DUCKDB_TYPE_UHUGEINT: {
		const duckdb_uhugeint *u = &((const duckdb_uhugeint *)d)[i];
		if (u->upper >> 63) {
			*too_big = 1;
			*out = ((__int128)1 << 126); /* saturates below */
		} else {
			*out = (__int128)(((unsigned __int128)u->upper << 64) | u->lower);
		}
		return 0;
	}
	case DUCKDB_TYPE_DECIMAL: {
		__int128 x = int_storage(t->internal, d, i);
		for (unsigned k = 0; k < t->scale; k++)
			x /= 10;
		*out = x;
		return 0;
	}
	default:
		return -1;
	}
}

int wh_result_get_int(struct wh_result *r, size_t row, size_t col, int64_t *out)
{
	if (r->pg)
		return wh_pg_get_int(r, row, col, out, 0);
	__int128 x;
	int too_big;
	*out = 0;
	if (cell_int(r, row, col, &x, &too_big) < 0 || too_big || x > INT64_MAX || x < INT64_MIN)
		return -1;
	*out = (int64_t)x;
	return 0;
}

int64_t wh_result_int(struct wh_result *r, size_t row, size_t col)
{
	if (r->pg) {
		int64_t x;
		wh_pg_get_int(r, row, col, &x, 1);
		return x;
	}
	__int128 x;
	int too_big;
	if (cell_int(r, row, col, &x, &too_big) < 0)
		return 0;
	return x > INT64_MAX ? INT64_MAX : x < INT64_MIN ? INT64_MIN : (int64_t)x;
}

double wh_result_double(struct wh_result *r, size_t row, size_t col)
{
	if (r->pg)
		return wh_pg_double(r, row, col);
	idx_t i;
	duckdb_vector v = cell(r, row, col, &i);
	if (!v || !valid(v, i))
		return NAN;
	const struct ctype *t = &IMPL(r)->types[col];
	const void *d = duckdb_vector_get_data(v);
	if (t->id == DUCKDB_TYPE_FLOAT)
		return ((const float *)d)[i];
	if (t->id == DUCKDB_TYPE_DOUBLE)
		return ((const double *)d)[i];
	if (t->id == DUCKDB_TYPE_DECIMAL) {
		struct strbuf sb = STRBUF_INIT;
		add_decimal(&sb, int_storage(t->internal, d, i), t->scale);
		double x = strtod(sb.buf, NULL);
		strbuf_release(&sb);
		return x;
	}
	__int128 x;
	int too_big;
	if (cell_int(r, row, col, &x, &too_big) < 0)
		return NAN;
	return (double)x;
}

/* For pg_copy_binary.c, which reads the vectors itself. */
void *wh_result_duck_result(struct wh_result *r)
{
	return r->pg || !r->impl ? NULL : &IMPL(r)->res;
}

void *wh_result_duck_chunk(struct wh_result *r)
{
	struct wh_result_impl *im = r->pg ? NULL : IMPL(r);
	return im && im->streaming && im->nchunks ? im->chunks[0].chunk : NULL;
}
