/* DuckDB's types and PostgreSQL's, both ways: see pg_types.h. */
#include "ingest/pg_types.h"
#include "core/strbuf.h"
#include "core/util.h"
#include "core/xalloc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static int ieq(const char *a, const char *b)
{
	return !strcasecmp(a, b);
}

static int istarts(const char *s, const char *prefix)
{
	return !strncasecmp(s, prefix, strlen(prefix));
}

/* A DuckDB type that holds other types (and goes to jsonb), but a plain list. */
int pg_types_nested(const char *t)
{
	return istarts(t, "STRUCT") || istarts(t, "MAP") || istarts(t, "UNION");
}

/* "INTEGER[]" -> 1 with the element type's length in *elem_len */
int pg_types_list(const char *t, size_t *elem_len)
{
	size_t n = strlen(t);
	if (n < 3 || t[n - 1] != ']')
		return 0;
	const char *open = strrchr(t, '[');
	if (!open || open == t)
		return 0;
	*elem_len = (size_t)(open - t);
	return 1;
}

void pg_load_pg_type(struct strbuf *sb, const char *t)
{
	static const char *const map[][2] = {
		{ "BOOLEAN", "boolean" },	      { "TINYINT", "smallint" },
		{ "SMALLINT", "smallint" },	      { "INTEGER", "integer" },
		{ "BIGINT", "bigint" },		      { "HUGEINT", "numeric(39,0)" },
		{ "UTINYINT", "smallint" },	      { "USMALLINT", "integer" },
		{ "UINTEGER", "bigint" },	      { "UBIGINT", "numeric(20,0)" },
		{ "UHUGEINT", "numeric(39,0)" },      { "FLOAT", "real" },
		{ "DOUBLE", "double precision" },     { "VARCHAR", "text" },
		{ "DATE", "date" },		      { "TIME", "time" },
		{ "TIME WITH TIME ZONE", "timetz" },  { "TIMESTAMP", "timestamp" },
		{ "TIMESTAMP_S", "timestamp" },	      { "TIMESTAMP_MS", "timestamp" },
		{ "TIMESTAMP_NS", "timestamp" },      { "TIMESTAMP WITH TIME ZONE", "timestamptz" },
		{ "UUID", "uuid" },		      { "JSON", "jsonb" },
		{ "BLOB", "bytea" },		      { "INTERVAL", "interval" },
		{ "BIT", "bit varying" },
	};
	size_t elem;
	for (size_t i = 0; i < ARRAY_SIZE(map); i++)
		if (ieq(t, map[i][0])) {
			strbuf_addstr(sb, map[i][1]);
			return;
		}
	if (istarts(t, "DECIMAL")) {
		strbuf_addf(sb, "numeric%s", t + 7);
		return;
	}
	if (!pg_types_nested(t) && pg_types_list(t, &elem)) {
		char *inner = xstrndup(t, elem);
		size_t e2;
		if (pg_types_nested(inner) || pg_types_list(inner, &e2)) {
			strbuf_addstr(sb, "jsonb");
		} else {
			pg_load_pg_type(sb, inner);
			strbuf_addstr(sb, "[]");
		}
		free(inner);
		return;
	}
	if (pg_types_nested(t)) {
		strbuf_addstr(sb, "jsonb");
		return;
	}
	strbuf_addstr(sb, "text"); /* ENUM and the like: their text */
}

void pg_load_duck_type(struct strbuf *sb, const char *t)
{
	static const char *const map[][2] = {
		{ "smallint", "SMALLINT" },
		{ "integer", "INTEGER" },
		{ "bigint", "BIGINT" },
		{ "real", "FLOAT" },
		{ "double precision", "DOUBLE" },
		{ "text", "VARCHAR" },
		{ "boolean", "BOOLEAN" },
		{ "date", "DATE" },
		{ "time without time zone", "TIME" },
		{ "time with time zone", "TIME WITH TIME ZONE" },
		{ "timestamp without time zone", "TIMESTAMP" },
		{ "timestamp with time zone", "TIMESTAMP WITH TIME ZONE" },
		{ "uuid", "UUID" },
		{ "jsonb", "JSON" },
		{ "json", "JSON" },
		{ "bytea", "BLOB" },
		{ "interval", "INTERVAL" },
		{ "bit varying", "BIT" },
		{ "numeric", "DOUBLE" },
	};
	size_t n = strlen(t);
	if (n > 2 && !strcmp(t + n - 2, "[]")) {
		char *inner = xstrndup(t, n - 2);
		pg_load_duck_type(sb, inner);
		strbuf_addstr(sb, "[]");
		free(inner);
		return;
	}
	for (size_t i = 0; i < ARRAY_SIZE(map); i++)
		if (!strcmp(t, map[i][0])) {
			strbuf_addstr(sb, map[i][1]);
			return;
		}
	int p, s;
	if (sscanf(t, "numeric(%d,%d)", &p, &s) == 2) {
		if (p <= 38)
			strbuf_addf(sb, "DECIMAL(%d,%d)", p, s);
		else if (p == 39 && s == 0) /* what HUGEINT (or UHUGEINT) goes to */
			strbuf_addstr(sb, "HUGEINT");
		else
			strbuf_addstr(sb, "DOUBLE");
		return;
	}
	if (starts_with(t, "timestamp(") && strstr(t, "without"))
		strbuf_addstr(sb, "TIMESTAMP");
	else if (starts_with(t, "timestamp(") && strstr(t, "with time zone"))
		strbuf_addstr(sb, "TIMESTAMP WITH TIME ZONE");
	else
		strbuf_addstr(sb, "VARCHAR"); /* character varying, char, and the rest */
}

/* format_type's text of the PostgreSQL type pg_load_pg_type gives for a
 * DuckDB type ("TIMESTAMP[]" -> "timestamp without time zone[]"). */
void pg_types_format(struct strbuf *sb, const char *duck)
{
	static const char *const map[][2] = { { "time", "time without time zone" },
					      { "timetz", "time with time zone" },
					      { "timestamp", "timestamp without time zone" },
					      { "timestamptz", "timestamp with time zone" } };
	struct strbuf t = STRBUF_INIT;
	pg_load_pg_type(&t, duck);
	size_t base = t.len;
	while (base > 2 && !strncmp(t.buf + base - 2, "[]", 2))
		base -= 2;
	const char *name = NULL;
	for (size_t i = 0; i < ARRAY_SIZE(map) && !name; i++)
		if (strlen(map[i][0]) == base && !strncmp(t.buf, map[i][0], base))
			name = map[i][1];
	if (name) {
		strbuf_addstr(sb, name);
		strbuf_addstr(sb, t.buf + base);
	} else {
		strbuf_addbuf(sb, &t);
	}
	strbuf_release(&t);
}

/* The comment a column of DuckDB type t gets, or NULL when none is needed. */
char *pg_types_note(const char *t)
{
	struct strbuf pg = STRBUF_INIT, back = STRBUF_INIT;
	pg_types_format(&pg, t);
	pg_load_duck_type(&back, pg.buf);
	char *note = strcmp(back.buf, t) ? xasprintf(PG_TYPES_NOTE "%s", t) : NULL;
	strbuf_release(&pg);
	strbuf_release(&back);
	return note;
}

/* ---- a type as DuckDB prints it, and nothing else ----
 * A note is read from the server and pasted into the stage's CREATE TABLE:
 * whoever may comment on the table must not get DuckDB to run an
 * expression (DEFAULT, CHECK, a generated column, another statement). So a
 * note is used only if it is a type in DuckDB's printed grammar: NAME, NAME
 * WITH TIME ZONE, DECIMAL(p,s), ENUM('a', 'b'), STRUCT/UNION(field TYPE,
 * ...), MAP(TYPE, TYPE), each with [] or [n] suffixes. */
static int plain_type(const char **p, int depth);

static void skip_comma(const char **p)
{
	*p += **p == ',';
	*p += **p == ' ';
}

/* 'a''b' or "a""b" */
static int quoted(const char **p, char q)
{
	if (**p != q)
		return 0;
	for (const char *s = *p + 1; *s; s++) {
		if (*s != q)
			continue;
		if (s[1] != q) {
			*p = s + 1;
			return 1;
		}
		s++;
	}
	return 0;
}

/* NAME (lower: a field's name, lowercase too) */
static int word(const char **p, int lower)
{
	const char *s = *p;
	while ((*s >= 'A' && *s <= 'Z') || *s == '_' || (s > *p && *s >= '0' && *s <= '9') ||
	       (lower && *s >= 'a' && *s <= 'z'))
		s++;
	int ok = s > *p;
	*p = s;
	return ok;
}

static int digits(const char **p)
{
	const char *s = *p;
	while (*s >= '0' && *s <= '9')
		s++;
	int ok = s > *p;
	*p = s;
	return ok;
}

static int plain_base(const char **p, int depth)
{
	const char *name = *p;
	if (!word(p, 0))
		return 0;
	size_t n = (size_t)(*p - name);
	if (n == 7 && !strncmp(name, "DECIMAL", n) && **p == '(') {
		++*p;
		if (!digits(p) || *(*p)++ != ',' || !digits(p))
			return 0;
		return *(*p)++ == ')';
	}
	if (**p != '(') {
		if (starts_with(*p, " WITH TIME ZONE"))
			*p += strlen(" WITH TIME ZONE");
		return 1;
	}
	++*p;
	int fields = (n == 6 && !strncmp(name, "STRUCT", n)) || (n == 5 && !strncmp(name, "UNION", n));
	int is_enum = n == 4 && !strncmp(name, "ENUM", n), is_map = n == 3 && !strncmp(name, "MAP", n);
	if (!fields && !is_enum && !is_map)
		return 0;
	for (int i = 0; **p != ')'; i++) {
		if (i)
			skip_comma(p);
		if (is_enum && !quoted(p, '\''))
			return 0;
		if (fields && !quoted(p, '"') && !word(p, 1))
			return 0;
		if (fields && *(*p)++ != ' ')
			return 0;
		if (!is_enum && !plain_type(p, depth + 1))
			return 0;
		if (**p != ',' && **p != ')')
			return 0;
	}
	++*p;
	return 1;
}

static int plain_type(const char **p, int depth)
{
	if (depth > 32 || !plain_base(p, depth))
		return 0;
	while (**p == '[') {
		++*p;
		digits(p);
		if (*(*p)++ != ']')
			return 0;
	}
	return 1;
}

static int is_plain_type(const char *t)
{
	return plain_type(&t, 0) && !*t;
}

/* The DuckDB type of a server column: its note if the note is a type and
 * still fits the column's type (a user's ALTER ... TYPE makes it stale),
 * else the type PostgreSQL's maps to. */
void pg_types_column(struct strbuf *sb, const char *pg_type, const char *comment)
{
	if (comment && starts_with(comment, PG_TYPES_NOTE) && is_plain_type(comment + strlen(PG_TYPES_NOTE))) {
		const char *noted = comment + strlen(PG_TYPES_NOTE);
		struct strbuf want = STRBUF_INIT;
		pg_types_format(&want, noted);
		int fits = !strcmp(want.buf, pg_type);
		strbuf_release(&want);
		if (fits) {
			strbuf_addstr(sb, noted);
			return;
		}
	}
	pg_load_duck_type(sb, pg_type);
}
