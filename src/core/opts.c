#include "opts.h"
#include "strbuf.h"
#include "ui.h"
#include "util.h"
#include "xalloc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const struct opt *find_long(const struct opt *opts, const char *name, size_t len)
{
	for (; opts->type != OPT_T_END; opts++)
		if (opts->long_name && strlen(opts->long_name) == len && !strncmp(opts->long_name, name, len))
			return opts;
	return NULL;
}

static const struct opt *find_short(const struct opt *opts, char c)
{
	for (; opts->type != OPT_T_END; opts++)
		if (opts->short_name == c)
			return opts;
	return NULL;
}

static int usage_error(const struct cmd_info *info, const char *fmt, const char *arg, const char *hint)
{
	struct strbuf msg = STRBUF_INIT;
	strbuf_addf(&msg, fmt, arg);
	if (hint)
		strbuf_addf(&msg, " (did you mean '--%s'?)", hint);
	ui_error("%s", msg.buf);
	fprintf(stderr, "usage: %s\nTry 'dango %s --help' for more.\n", info->usage, info->name);
	strbuf_release(&msg);
	return OPTS_ERROR;
}

static int set_value(const struct cmd_info *info, const struct opt *o, const char *v)
{
	switch (o->type) {
	case OPT_T_STRING:
		*(const char **)o->value = v;
		return 0;
	case OPT_T_INT:
	case OPT_T_INT_ALL: {
		int64_t n, least = o->type == OPT_T_INT_ALL ? -1 : 0;
		if (parse_int64(v, &n) < 0 || n < least || n > 1000000000) {
			struct strbuf m = STRBUF_INIT;
			strbuf_addf(&m, "option '--%s' expects a whole number%s, not '%%s'", o->long_name,
				    least < 0 ? " (-1: all)" : "");
			int r = usage_error(info, m.buf, v, NULL);
			strbuf_release(&m);
			return r;
		}
		*(int *)o->value = (int)n;
		return 0;
	}
	case OPT_T_LIST:
		strvec_push_split(o->value, v);
		return 0;
	default:
		return 0;
	}
}

int opts_parse(const struct cmd_info *info, const struct opt *opts, int argc, const char **argv,
	       struct strvec *args)
{
	int only_args = 0;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		if (only_args || a[0] != '-' || !a[1]) {
			strvec_push(args, a);
			continue;
		}
		if (!strcmp(a, "--")) {
			only_args = 1;
			continue;
		}
		if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
			opts_print_help(info, opts);
			return OPTS_HELP;
		}
		if (a[1] == '-') {
			const char *name = a + 2, *eq = strchr(name, '=');
			size_t len = eq ? (size_t)(eq - name) : strlen(name);
			const struct opt *o = find_long(opts, name, len);
			if (!o) {
				char *n = xstrndup(name, len);
				size_t cnt = 0;
				while (opts[cnt].type != OPT_T_END)
					cnt++;
				const char **names = xcalloc(cnt + 1, sizeof(*names));
				for (size_t k = 0, j = 0; k < cnt; k++)
					if (opts[k].long_name)
						names[j++] = opts[k].long_name;
				const char *hint = did_you_mean(n, names);
				int r = usage_error(info, "unknown option '--%s'", n, hint);
				free(names);
				free(n);
				return r;
			}
			if (o->type == OPT_T_BOOL) {
				if (eq)
					return usage_error(info, "option '--%s' takes no value", o->long_name, NULL);
				*(int *)o->value = 1;
				continue;
			}
			const char *v = eq ? eq + 1 : (i + 1 < argc ? argv[++i] : NULL);
			if (!v)
				return usage_error(info, "option '--%s' needs a value", o->long_name, NULL);
			if (set_value(info, o, v) < 0)
				return OPTS_ERROR;
			continue;
		}
		/* short options, possibly bundled: -yq, -n5 */
		for (const char *c = a + 1; *c; c++) {
			const struct opt *o = find_short(opts, *c);
			if (!o) {
				char s[3] = { '-', *c, 0 };
				return usage_error(info, "unknown option '%s'", s, NULL);
			}
			if (o->type == OPT_T_BOOL) {
				*(int *)o->value = 1;
				continue;
			}
			const char *v = c[1] ? c + 1 : (i + 1 < argc ? argv[++i] : NULL);
			if (!v)
				return usage_error(info, "option '--%s' needs a value", o->long_name, NULL);
			if (set_value(info, o, v) < 0)
				return OPTS_ERROR;
			break;
		}
	}
	return OPTS_OK;
}

void opts_print_help(const struct cmd_info *info, const struct opt *opts)
{
	printf("usage: %s\n\n%s\n", info->usage, info->summary);
	if (opts && opts->type != OPT_T_END) {
		printf("\nOptions:\n");
		for (; opts->type != OPT_T_END; opts++) {
			struct strbuf left = STRBUF_INIT;
			if (opts->short_name)
				strbuf_addf(&left, "-%c, ", opts->short_name);
			else
				strbuf_addstr(&left, "    ");
			strbuf_addf(&left, "--%s", opts->long_name);
			if (opts->argh)
				strbuf_addf(&left, " %s", opts->argh);
			printf("  %-28s %s\n", left.buf, opts->help ? opts->help : "");
			strbuf_release(&left);
		}
	}
	printf("  %-28s %s\n", "-h, --help", "show this help");
	if (info->details)
		printf("\n%s\n", info->details);
}
