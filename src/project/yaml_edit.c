#include "project/yaml_edit.h"

#include <string.h>

size_t yedit_line_start(const struct strbuf *text, size_t off)
{
	while (off > 0 && text->buf[off - 1] != '\n')
		off--;
	return off;
}

size_t yedit_line_end(const struct strbuf *text, size_t off)
{
	if (off > 0 && off <= text->len && text->buf[off - 1] == '\n')
		return off;
	while (off < text->len && text->buf[off] != '\n')
		off++;
	return off < text->len ? off + 1 : off;
}

/* entry's lines, the first after "- ", all at indent */
static void add_item(struct strbuf *out, const char *entry, int indent)
{
	int first = 1;
	for (const char *p = entry; *p;) {
		const char *nl = strchr(p, '\n');
		size_t n = nl ? (size_t)(nl - p) : strlen(p);
		strbuf_addchars(out, ' ', (size_t)(indent < 0 ? 0 : indent));
		strbuf_addstr(out, first ? "- " : "  ");
		strbuf_add(out, p, n);
		strbuf_addch(out, '\n');
		first = 0;
		p += n + (nl ? 1 : 0);
	}
}

static void end_line(struct strbuf *out)
{
	if (out->len && out->buf[out->len - 1] != '\n')
		strbuf_addch(out, '\n');
}

int yedit_list_append(const struct strbuf *text, const struct ynode *root, const char *key, const char *entry,
		      const char *new_file, const char *display, struct strbuf *out, struct strbuf *err)
{
	const struct ynode *items = ymap_get(root, key);
	strbuf_reset(out);
	if (items && items->kind == Y_SEQ && !items->flow && items->n) {
		/* after the last item's own text: comments that follow it stay
		 * after the list */
		const struct ynode *last = items->items[items->n - 1];
		size_t at = yedit_line_end(text, ynode_last_content(last)->end_off);
		strbuf_add(out, text->buf, at);
		end_line(out);
		add_item(out, entry, last->col - 3);
		strbuf_add(out, text->buf + at, text->len - at);
		return 0;
	}
	if (items && !ynode_is_null(items) && !(items->kind == Y_SEQ && !items->n)) {
		strbuf_addf(err, "%s: cannot add to a '%s' list written in flow style ([...]); edit it by hand",
			    display, key);
		return -1;
	}
	struct ypair *kp = ymap_pair(root, key);
	if (kp) {
		/* "key: []" or "key:" with nothing: rewrite that line */
		size_t start = yedit_line_start(text, kp->key->start_off);
		size_t end = yedit_line_end(text, kp->value && !ynode_is_null(kp->value) ? kp->value->end_off
											: kp->key->end_off);
		strbuf_add(out, text->buf, start);
		strbuf_addf(out, "%s:\n", key);
		add_item(out, entry, 2);
		strbuf_add(out, text->buf + end, text->len - end);
		return 0;
	}
	strbuf_addbuf(out, text);
	if (!out->len)
		strbuf_addstr(out, new_file);
	end_line(out);
	strbuf_addf(out, "%s:\n", key);
	add_item(out, entry, 2);
	return 0;
}

int yedit_list_remove(const struct strbuf *text, const struct ynode *root, const char *key,
		      const struct ynode *item, const char *display, struct strbuf *out, struct strbuf *err)
{
	const struct ynode *items = ymap_get(root, key);
	strbuf_reset(out);
	if (!items || items->kind != Y_SEQ || items->flow) {
		strbuf_addf(err, "%s: the '%s' list is written in flow style ([...]); edit it by hand", display, key);
		return -1;
	}
	/* from the line of the item's "- " to the end of its last line, keeping
	 * the comments after it */
	size_t start = yedit_line_start(text, item->start_off);
	size_t end = yedit_line_end(text, ynode_last_content(item)->end_off);
	strbuf_add(out, text->buf, start);
	strbuf_add(out, text->buf + end, text->len - end);
	if (items->n == 1) {
		/* keep "key:" a list, not null; the key comes before the item */
		size_t at = ymap_pair(root, key)->key->end_off + 1; /* past the colon */
		if (at <= out->len)
			strbuf_insert(out, at, " []", 3);
	}
	return 0;
}
