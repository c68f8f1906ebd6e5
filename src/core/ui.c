#include "ui.h"
#include "strbuf.h"
#include "xalloc.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

struct ui_state ui = { 0, 0, UI_NORMAL, 0, 0 };

void ui_setup(int no_color, int quiet, int verbose)
{
	const char *nc = getenv("NO_COLOR");
	const char *ll = getenv("RUNTIME__LOG_LEVEL");
	ui.stdout_tty = isatty(STDOUT_FILENO);
	ui.stdin_tty = isatty(STDIN_FILENO);
	int allowed = !no_color && !(nc && *nc) && !(getenv("TERM") && !strcmp(getenv("TERM"), "dumb"));
	ui.color = allowed && ui.stdout_tty;
	ui.color_err = allowed && isatty(STDERR_FILENO);
	ui.level = quiet ? UI_QUIET : verbose ? UI_VERBOSE : UI_NORMAL;
	if (ll && !strcasecmp(ll, "DEBUG"))
		ui.level = UI_DEBUG;
}

static const char *paint(int on, const char *code, const char *plain, const char *colored)
{
	(void)code;
	return on ? colored : plain;
}

const char *ui_mark_ok(void) { return paint(ui.color, "", "✓", "\033[32m✓\033[0m"); }
const char *ui_mark_fail(void) { return paint(ui.color, "", "✗", "\033[31m✗\033[0m"); }
const char *ui_mark_warn(void) { return paint(ui.color, "", "⚠", "\033[33m⚠\033[0m"); }

const char *ui_color(const char *name)
{
	static const struct { const char *name, *code; } codes[] = {
		{ "green", "\033[32m" }, { "red", "\033[31m" }, { "yellow", "\033[33m" },
		{ "bold", "\033[1m" }, { "dim", "\033[2m" }, { "cyan", "\033[36m" },
	};
	if (!ui.color)
		return "";
	for (size_t i = 0; i < ARRAY_SIZE(codes); i++)
		if (!strcmp(codes[i].name, name))
			return codes[i].code;
	return "";
}

const char *ui_reset(void) { return ui.color ? "\033[0m" : ""; }

char *ui_clock(char *buf)
{
	time_t now = time(NULL);
	struct tm tm;
	localtime_r(&now, &tm);
	strftime(buf, 9, "%H:%M:%S", &tm);
	return buf;
}

static void vline(FILE *fp, const char *prefix, const char *fmt, va_list ap)
{
	struct strbuf sb = STRBUF_INIT;
	if (prefix)
		strbuf_addstr(&sb, prefix);
	strbuf_vaddf(&sb, fmt, ap);
	strbuf_addch(&sb, '\n');
	fputs(sb.buf, fp);
	fflush(fp);
	strbuf_release(&sb);
}

void ui_step(const char *fmt, ...)
{
	char clock[9], prefix[16];
	va_list ap;
	if (ui.level < UI_NORMAL)
		return;
	snprintf(prefix, sizeof(prefix), "[%s] ", ui_clock(clock));
	va_start(ap, fmt);
	vline(stdout, prefix, fmt, ap);
	va_end(ap);
}

void ui_print(const char *fmt, ...)
{
	va_list ap;
	if (ui.level < UI_NORMAL)
		return;
	va_start(ap, fmt);
	vline(stdout, NULL, fmt, ap);
	va_end(ap);
}

void ui_ok(const char *fmt, ...)
{
	struct strbuf prefix = STRBUF_INIT;
	va_list ap;
	if (ui.level < UI_NORMAL)
		return;
	strbuf_addf(&prefix, "%s ", ui_mark_ok());
	va_start(ap, fmt);
	vline(stdout, prefix.buf, fmt, ap);
	va_end(ap);
	strbuf_release(&prefix);
}

void ui_warn(const char *fmt, ...)
{
	va_list ap;
	fflush(stdout);
	va_start(ap, fmt);
	vline(stderr, ui.color_err ? "\033[33m⚠\033[0m " : "⚠ ", fmt, ap);
	va_end(ap);
}

void ui_fail(const char *fmt, ...)
{
	va_list ap;
	fflush(stdout);
	va_start(ap, fmt);
	vline(stderr, ui.color_err ? "\033[31m✗\033[0m " : "✗ ", fmt, ap);
	va_end(ap);
}

void ui_error(const char *fmt, ...)
{
	va_list ap;
	fflush(stdout);
	va_start(ap, fmt);
	vline(stderr, ui.color_err ? "\033[31merror:\033[0m " : "error: ", fmt, ap);
	va_end(ap);
}

void ui_verbose(const char *fmt, ...)
{
	char clock[9], prefix[16];
	va_list ap;
	if (ui.level < UI_VERBOSE)
		return;
	snprintf(prefix, sizeof(prefix), "[%s] ", ui_clock(clock));
	va_start(ap, fmt);
	vline(stderr, prefix, fmt, ap);
	va_end(ap);
}

void ui_debug(const char *fmt, ...)
{
	char clock[9], prefix[24];
	va_list ap;
	if (ui.level < UI_DEBUG)
		return;
	snprintf(prefix, sizeof(prefix), "[%s] DEBUG ", ui_clock(clock));
	va_start(ap, fmt);
	vline(stderr, prefix, fmt, ap);
	va_end(ap);
}

void ui_rule(void)
{
	if (ui.level < UI_NORMAL)
		return;
	struct strbuf sb = STRBUF_INIT;
	for (int i = 0; i < 46; i++)
		strbuf_addstr(&sb, "─");
	puts(sb.buf);
	strbuf_release(&sb);
}

char *ui_prompt(const char *question, const char *default_value)
{
	struct strbuf line = STRBUF_INIT;
	if (default_value && *default_value)
		printf("%s [%s]: ", question, default_value);
	else
		printf("%s: ", question);
	fflush(stdout);
	if (strbuf_getline(&line, stdin) < 0) {
		strbuf_release(&line);
		return NULL;
	}
	if (!ui.stdin_tty)
		putchar('\n'); /* keep transcripts readable when input is piped */
	strbuf_trim(&line);
	if (!line.len && default_value) {
		strbuf_release(&line);
		return xstrdup(default_value);
	}
	return strbuf_detach(&line, NULL);
}

int ui_confirm(const char *question, int default_yes)
{
	if (!ui.stdin_tty)
		return -1;
	struct strbuf q = STRBUF_INIT;
	strbuf_addf(&q, "%s (%s)", question, default_yes ? "Y/n" : "y/N");
	printf("%s: ", q.buf);
	fflush(stdout);
	strbuf_release(&q);
	struct strbuf line = STRBUF_INIT;
	int r = default_yes;
	if (strbuf_getline(&line, stdin) < 0) {
		r = 0;
	} else {
		strbuf_trim(&line);
		if (line.len)
			r = line.buf[0] == 'y' || line.buf[0] == 'Y';
	}
	strbuf_release(&line);
	return r;
}
