/* A growable, always NUL-terminated string, in git's style.
 *
 *   struct strbuf sb = STRBUF_INIT;
 *   strbuf_addf(&sb, "%d rows", n);
 *   ... sb.buf ...
 *   strbuf_release(&sb);
 *
 * sb.buf is never NULL (an empty strbuf points at a shared "").
 * strbuf_detach() hands the buffer to the caller, who frees it. */
#ifndef DANGO_STRBUF_H
#define DANGO_STRBUF_H
#include <stdarg.h>
#include <stddef.h>

struct strbuf {
	size_t alloc;
	size_t len;
	char *buf;
};

extern char strbuf_slopbuf[];
#define STRBUF_INIT { 0, 0, strbuf_slopbuf }

void strbuf_init(struct strbuf *sb, size_t hint);
void strbuf_release(struct strbuf *sb);
char *strbuf_detach(struct strbuf *sb, size_t *len);
void strbuf_grow(struct strbuf *sb, size_t extra);
void strbuf_setlen(struct strbuf *sb, size_t len);
#define strbuf_reset(sb) strbuf_setlen((sb), 0)

void strbuf_add(struct strbuf *sb, const void *data, size_t len);
void strbuf_addstr(struct strbuf *sb, const char *s);
void strbuf_addch(struct strbuf *sb, int c);
void strbuf_addchars(struct strbuf *sb, int c, size_t n);
void strbuf_addbuf(struct strbuf *sb, const struct strbuf *other);
void strbuf_addf(struct strbuf *sb, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void strbuf_vaddf(struct strbuf *sb, const char *fmt, va_list ap);
void strbuf_insert(struct strbuf *sb, size_t pos, const void *data, size_t len);
void strbuf_remove(struct strbuf *sb, size_t pos, size_t len);

void strbuf_trim(struct strbuf *sb);
void strbuf_rtrim(struct strbuf *sb);

/* Append s as a SQL identifier ("a""b") or a SQL string literal ('it''s'). */
void strbuf_add_sql_ident(struct strbuf *sb, const char *s);
void strbuf_add_sql_str(struct strbuf *sb, const char *s);
/* Append s as a JSON string literal, quotes included; _strn: n bytes of s,
 * NUL bytes among them (as \u0000). */
void strbuf_add_json_str(struct strbuf *sb, const char *s);
void strbuf_add_json_strn(struct strbuf *sb, const char *s, size_t n);

/* Read a whole file (or stdin for "-"); 0 on success, -1 with errno set. */
int strbuf_read_file(struct strbuf *sb, const char *path);
/* The same from an open descriptor, read to its end (not closed). */
int strbuf_read_fd(struct strbuf *sb, int fd);
/* Read one line from fp without its newline; -1 at EOF with nothing read. */
int strbuf_getline(struct strbuf *sb, void *fp);

#endif
