#include "strbuf.h"
#include "xalloc.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

char strbuf_slopbuf[1];

void strbuf_init(struct strbuf *sb, size_t hint)
{
	sb->alloc = sb->len = 0;
	sb->buf = strbuf_slopbuf;
	if (hint)
		strbuf_grow(sb, hint);
}

void strbuf_release(struct strbuf *sb)
{
	if (sb->alloc)
		free(sb->buf);
	strbuf_init(sb, 0);
}

char *strbuf_detach(struct strbuf *sb, size_t *len)
{
	char *res;
	strbuf_grow(sb, 0);
	res = sb->buf;
	if (len)
		*len = sb->len;
	strbuf_init(sb, 0);
	return res;
}

void strbuf_grow(struct strbuf *sb, size_t extra)
{
	int new_buf = !sb->alloc;
	if (sb->len + extra + 1 <= sb->alloc)
		return;
	if (new_buf)
		sb->buf = NULL;
	size_t want = sb->len + extra + 1;
	size_t n = sb->alloc ? sb->alloc : 16;
	while (n < want)
		n = n + n / 2 + 16;
	sb->buf = xrealloc(sb->buf, n);
	sb->alloc = n;
	if (new_buf)
		sb->buf[0] = '\0';
}

void strbuf_setlen(struct strbuf *sb, size_t len)
{
	if (!sb->alloc) {
		/* only 0 is valid for an unallocated buffer */
		return;
	}
	sb->len = len;
	sb->buf[len] = '\0';
}

void strbuf_add(struct strbuf *sb, const void *data, size_t len)
{
	if (!len)
		return;
	strbuf_grow(sb, len);
	memcpy(sb->buf + sb->len, data, len);
	sb->len += len;
	sb->buf[sb->len] = '\0';
}

void strbuf_addstr(struct strbuf *sb, const char *s)
{
	strbuf_add(sb, s, strlen(s));
}

void strbuf_addch(struct strbuf *sb, int c)
{
	strbuf_grow(sb, 1);
	sb->buf[sb->len++] = (char)c;
	sb->buf[sb->len] = '\0';
}

void strbuf_addchars(struct strbuf *sb, int c, size_t n)
{
	strbuf_grow(sb, n);
	memset(sb->buf + sb->len, c, n);
	sb->len += n;
	sb->buf[sb->len] = '\0';
}

void strbuf_addbuf(struct strbuf *sb, const struct strbuf *other)
{
	strbuf_add(sb, other->buf, other->len);
}

void strbuf_vaddf(struct strbuf *sb, const char *fmt, va_list ap)
{
	va_list cp;
	va_copy(cp, ap);
	int n = vsnprintf(sb->buf + sb->len, sb->alloc ? sb->alloc - sb->len : 0, fmt, cp);
	va_end(cp);
	if (n < 0)
		return;
	if (!sb->alloc || (size_t)n >= sb->alloc - sb->len) {
		strbuf_grow(sb, (size_t)n);
		vsnprintf(sb->buf + sb->len, sb->alloc - sb->len, fmt, ap);
	}
	sb->len += (size_t)n;
}

void strbuf_addf(struct strbuf *sb, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	strbuf_vaddf(sb, fmt, ap);
	va_end(ap);
}

void strbuf_insert(struct strbuf *sb, size_t pos, const void *data, size_t len)
{
	if (pos > sb->len)
		pos = sb->len;
	strbuf_grow(sb, len);
	memmove(sb->buf + pos + len, sb->buf + pos, sb->len - pos);
	memcpy(sb->buf + pos, data, len);
	sb->len += len;
	sb->buf[sb->len] = '\0';
}

void strbuf_remove(struct strbuf *sb, size_t pos, size_t len)
{
	if (pos >= sb->len)
		return;
	if (pos + len > sb->len)
		len = sb->len - pos;
	memmove(sb->buf + pos, sb->buf + pos + len, sb->len - pos - len);
	strbuf_setlen(sb, sb->len - len);
}

void strbuf_rtrim(struct strbuf *sb)
{
	while (sb->len && isspace((unsigned char)sb->buf[sb->len - 1]))
		sb->len--;
	if (sb->alloc)
		sb->buf[sb->len] = '\0';
}

void strbuf_trim(struct strbuf *sb)
{
	size_t i = 0;
	strbuf_rtrim(sb);
	while (i < sb->len && isspace((unsigned char)sb->buf[i]))
		i++;
	strbuf_remove(sb, 0, i);
}

static void add_quoted(struct strbuf *sb, const char *s, char q)
{
	strbuf_addch(sb, q);
	for (; *s; s++) {
		if (*s == q)
			strbuf_addch(sb, q);
		strbuf_addch(sb, *s);
	}
	strbuf_addch(sb, q);
}

void strbuf_add_sql_ident(struct strbuf *sb, const char *s)
{
	add_quoted(sb, s, '"');
}

void strbuf_add_sql_str(struct strbuf *sb, const char *s)
{
	add_quoted(sb, s, '\'');
}

void strbuf_add_json_str(struct strbuf *sb, const char *s)
{
	strbuf_add_json_strn(sb, s, strlen(s));
}

void strbuf_add_json_strn(struct strbuf *sb, const char *s, size_t n)
{
	strbuf_grow(sb, n + 2);
	strbuf_addch(sb, '"');
	for (const unsigned char *p = (const unsigned char *)s, *e = p + n; p < e; p++) {
		switch (*p) {
		case '"': strbuf_addstr(sb, "\\\""); break;
		case '\\': strbuf_addstr(sb, "\\\\"); break;
		case '\n': strbuf_addstr(sb, "\\n"); break;
		case '\r': strbuf_addstr(sb, "\\r"); break;
		case '\t': strbuf_addstr(sb, "\\t"); break;
		default:
			if (*p < 0x20)
				strbuf_addf(sb, "\\u%04x", *p);
			else
				strbuf_addch(sb, *p);
		}
	}
	strbuf_addch(sb, '"');
}

/* Read with the file's size in hand: open, fstat, one read, close (a
 * project of 10,000 models reads 10,000 files; stdio would add a buffer
 * allocation and two more reads each). A read that comes back short of
 * the size asked for ends a regular file, so no read is spent to see EOF;
 * anything else (a pipe, a /proc file that says size 0) is read to EOF. */
int strbuf_read_file(struct strbuf *sb, const char *path)
{
	if (!strcmp(path, "-"))
		return strbuf_read_fd(sb, 0);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	int r = strbuf_read_fd(sb, fd);
	int saved = errno;
	close(fd);
	errno = saved;
	return r;
}

int strbuf_read_fd(struct strbuf *sb, int fd)
{
	struct stat st;
	size_t hint = 8192;
	int regular = fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_size > 0;
	if (regular)
		hint = (size_t)st.st_size + 1;
	size_t start = sb->len;
	for (;;) {
		strbuf_grow(sb, hint);
		size_t room = sb->alloc - sb->len - 1;
		ssize_t n = read(fd, sb->buf + sb->len, room);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			int saved = errno;
			strbuf_setlen(sb, start);
			errno = saved;
			return -1;
		}
		if (n == 0)
			break;
		sb->len += (size_t)n;
		sb->buf[sb->len] = '\0';
		/* short of what was asked, past the size fstat gave: the end */
		if (regular && (size_t)n < room && sb->len - start >= (size_t)st.st_size)
			break;
		hint = 8192;
	}
	strbuf_grow(sb, 0);
	return 0;
}

int strbuf_getline(struct strbuf *sb, void *vfp)
{
	FILE *fp = vfp;
	int c;
	strbuf_reset(sb);
	while ((c = fgetc(fp)) != EOF && c != '\n')
		strbuf_addch(sb, c);
	if (c == EOF && !sb->len)
		return -1;
	if (sb->len && sb->buf[sb->len - 1] == '\r')
		strbuf_setlen(sb, sb->len - 1);
	strbuf_grow(sb, 0);
	return 0;
}
