#include "table.h"
#include "strbuf.h"
#include "xalloc.h"

#include <stdlib.h>
#include <string.h>

size_t utf8_width(const char *s)
{
	size_t w = 0;
	for (; *s; s++)
		if (((unsigned char)*s & 0xC0) != 0x80)
			w++;
	return w;
}

void text_table_init(struct text_table *t, size_t cols)
{
	memset(t, 0, sizeof(*t));
	t->cols = cols;
	t->headers = xcalloc(cols, sizeof(char *));
	t->types = xcalloc(cols, sizeof(char *));
	t->right = xcalloc(cols, sizeof(int));
}

void text_table_header(struct text_table *t, size_t col, const char *name, const char *type, int right)
{
	t->headers[col] = xstrdup(name);
	t->types[col] = type ? xstrdup(type) : NULL;
	t->right[col] = right;
}

void text_table_add_row(struct text_table *t, const char *const *cells)
{
	ALLOC_GROW(t->cells, (t->rows + 1) * t->cols, t->alloc);
	for (size_t c = 0; c < t->cols; c++)
		t->cells[t->rows * t->cols + c] = cells[c] ? xstrdup(cells[c]) : NULL;
	t->rows++;
}

void text_table_release(struct text_table *t)
{
	for (size_t i = 0; i < t->rows * t->cols; i++)
		free(t->cells[i]);
	for (size_t c = 0; c < t->cols; c++) {
		free(t->headers[c]);
		free(t->types[c]);
	}
	free(t->cells);
	free(t->headers);
	free(t->types);
	free(t->right);
	memset(t, 0, sizeof(*t));
}

/* Cells are shown on one line: newlines and tabs become visible escapes. */
static void flat(struct strbuf *sb, const char *s)
{
	strbuf_reset(sb);
	if (!s) {
		strbuf_addstr(sb, "NULL");
		return;
	}
	for (; *s; s++) {
		if (*s == '\n')
			strbuf_addstr(sb, "\\n");
		else if (*s == '\t')
			strbuf_addstr(sb, "\\t");
		else if (*s == '\r')
			strbuf_addstr(sb, "\\r");
		else
			strbuf_addch(sb, *s);
	}
}

static void rule(FILE *fp, const size_t *w, size_t cols, const char *l, const char *m, const char *r)
{
	fputs(l, fp);
	for (size_t c = 0; c < cols; c++) {
		for (size_t i = 0; i < w[c] + 2; i++)
			fputs("─", fp);
		fputs(c + 1 < cols ? m : r, fp);
	}
	fputc('\n', fp);
}

static void cell(FILE *fp, const char *s, size_t width, int align /* -1 left, 0 center, 1 right */)
{
	size_t len = utf8_width(s), pad = width > len ? width - len : 0;
	size_t before = align > 0 ? pad : align == 0 ? pad / 2 : 0;
	fprintf(fp, " %*s%s%*s │", (int)before, "", s, (int)(pad - before), "");
}

void text_table_print(const struct text_table *t, FILE *fp, size_t max_rows)
{
	struct strbuf sb = STRBUF_INIT;
	size_t *w = xcalloc(t->cols ? t->cols : 1, sizeof(*w));
	int cut = max_rows && t->rows > max_rows;
	size_t head = cut ? max_rows / 2 : t->rows, tail_from = cut ? t->rows - (max_rows - head) : t->rows;

	for (size_t c = 0; c < t->cols; c++) {
		w[c] = utf8_width(t->headers[c]);
		if (t->types[c] && utf8_width(t->types[c]) > w[c])
			w[c] = utf8_width(t->types[c]);
		for (size_t r = 0; r < t->rows; r++) {
			if (r >= head && r < tail_from)
				continue;
			flat(&sb, t->cells[r * t->cols + c]);
			size_t cw = utf8_width(sb.buf);
			if (cw > w[c])
				w[c] = cw;
		}
		if (cut && w[c] < 1)
			w[c] = 1;
	}
	rule(fp, w, t->cols, "┌", "┬", "┐");
	fputs("│", fp);
	for (size_t c = 0; c < t->cols; c++)
		cell(fp, t->headers[c], w[c], 0);
	fputc('\n', fp);
	if (t->cols && t->types[0]) {
		fputs("│", fp);
		for (size_t c = 0; c < t->cols; c++)
			cell(fp, t->types[c] ? t->types[c] : "", w[c], 0);
		fputc('\n', fp);
	}
	rule(fp, w, t->cols, "├", "┼", "┤");
	for (size_t r = 0; r < t->rows; r++) {
		if (r == head && cut) {
			for (int k = 0; k < 3; k++) {
				fputs("│", fp);
				for (size_t c = 0; c < t->cols; c++)
					cell(fp, "·", w[c], 0);
				fputc('\n', fp);
			}
			r = tail_from - 1;
			continue;
		}
		fputs("│", fp);
		for (size_t c = 0; c < t->cols; c++) {
			const char *v = t->cells[r * t->cols + c];
			flat(&sb, v);
			cell(fp, sb.buf, w[c], v && t->right[c] ? 1 : -1);
		}
		fputc('\n', fp);
	}
	if (!t->rows) {
		/* an empty result still shows its columns, and says so */
	}
	rule(fp, w, t->cols, "└", "┴", "┘");
	if (cut)
		fprintf(fp, "%zu rows (%zu shown)\n", t->rows, max_rows);
	free(w);
	strbuf_release(&sb);
}
