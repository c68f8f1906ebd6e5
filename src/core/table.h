/* Text tables in the style of the duckdb shell's "box" mode:
 *   ┌──────┬─────────┐
 *   │  id  │  name   │
 *   │ int64│ varchar │   (optional type row)
 *   ├──────┼─────────┤
 *   │    1 │ Ann     │
 *   └──────┴─────────┘ */
#ifndef DANGO_TABLE_H
#define DANGO_TABLE_H
#include <stddef.h>
#include <stdio.h>

struct text_table {
	size_t cols;
	char **headers, **types;   /* types may be NULL */
	int *right;                /* right-align column (numbers) */
	char **cells;              /* rows * cols, NULL = SQL NULL */
	size_t rows, alloc;
};

void text_table_init(struct text_table *t, size_t cols);
void text_table_header(struct text_table *t, size_t col, const char *name, const char *type, int right);
/* Append a row of cols strings (copied; NULL allowed). */
void text_table_add_row(struct text_table *t, const char *const *cells);
/* Print; with more than max_rows rows, the first and last halves and a gap. */
void text_table_print(const struct text_table *t, FILE *fp, size_t max_rows);
void text_table_release(struct text_table *t);

/* Display width of UTF-8 text (code points; good enough for tables). */
size_t utf8_width(const char *s);

#endif
