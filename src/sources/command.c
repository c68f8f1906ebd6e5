/* The command connector (`type: command`): the source's program, its
 * output lines, NDJSON, discovery. The Singer protocol is in singer.c.
 *
 * Lines are read from the program's stdout as they come (poll() over
 * stdout and stderr, so that a chatty stderr never blocks it), parsed with
 * the jv parser and streamed through the normalizer into spool files,
 * each handed to the engine as it fills: memory stays bounded by the
 * longest line and the normalizer's buffers, whatever the program writes.
 * The program's state (the last Singer STATE, or an NDJSON {"_state":
 * ...} line) goes into job->new_state under the resource "_command", so
 * the engine commits it with the rows; the next run gets it back as
 * --state FILE (Singer) or in DANGO_STATE (NDJSON). */
#include "sources/command.h"
#include "sources/command_int.h"
#include "sources/preset.h"
#include "core/env.h"
#include "core/fs.h"
#include "core/proc.h"
#include "core/util.h"
#include "core/xalloc.h"
#include "core/yaml.h"
#include "ingest/sync.h"
#include "project/project.h"
#include "project/sources.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define STATE_KEY "_command"
#define MAX_LINE (256u << 20)
#define DISCOVER_TIMEOUT_S 300.0

struct cmd_conf {
	const struct source *source;
	struct strvec run;          /* argv; a string runs as /bin/sh -c */
	int shell;
	char *cwd;                  /* absolute */
	enum cmd_format format;
	json_t *config;             /* written to --config FILE; NULL: none */
	struct strvec env_add;      /* NAME=value */
	struct strvec secrets;      /* values masked wherever the program's words are shown */
	double timeout_s;           /* < 0: none */
	char *table;                /* NDJSON's table (normalized) */
	const char *table_key;
	enum write_disposition wd;
	struct strvec primary_key;
	struct strvec select;       /* Singer streams to select through a catalog */
	int properties_flag;        /* old taps: --properties instead of --catalog */
	int discover;               /* 0: never run --discover */
	int max_nesting;
};

/* ---- config ------------------------------------------------------------------------- */

static void conf_free(struct cmd_conf *c)
{
	if (!c)
		return;
	strvec_clear(&c->run);
	free(c->cwd);
	json_decref(c->config);
	strvec_clear(&c->env_add);
	strvec_clear(&c->secrets);
	free(c->table);
	strvec_clear(&c->primary_key);
	strvec_clear(&c->select);
	free(c);
}

static void str_list(const struct ynode *n, struct strvec *out)
{
	if (!n || ynode_is_null(n))
		return;
	if (n->kind == Y_SCALAR)
		strvec_push_split(out, n->str);
	for (size_t i = 0; n->kind == Y_SEQ && i < n->n; i++)
		if (n->items[i]->kind == Y_SCALAR)
			strvec_push(out, n->items[i]->str);
}

static const char *secret(struct cmd_conf *c, const struct project *p, const char *key, const char *var,
			  struct strbuf *err)
{
	const char *v = env_lookup(&p->env, var, NULL);
	if (!v) {
		strbuf_addf(err, "source '%s': the environment variable %s is not set (%s); export it, or add it to .env",
			    c->source->name, var, key);
		return NULL;
	}
	if (*v && !strvec_has(&c->secrets, v))
		strvec_push(&c->secrets, v);
	return v;
}

/* config: a key ending in _env names a variable: "api_key_env: CRM_KEY"
 * puts "api_key": <its value> in the file. */
static int resolve_config(struct cmd_conf *c, const struct project *p, json_t *o, struct strbuf *err)
{
	const char *key;
	json_t *v;
	void *tmp;
	size_t i;
	if (json_is_array(o)) {
		json_array_foreach(o, i, v)
			if (resolve_config(c, p, v, err) < 0)
				return -1;
		return 0;
	}
	json_object_foreach_safe(o, tmp, key, v) {
		if (ends_with(key, "_env") && strlen(key) > 4 && json_is_string(v)) {
			const char *val = secret(c, p, key, json_string_value(v), err);
			if (!val)
				return -1;
			char *plain = xstrndup(key, strlen(key) - 4);
			json_object_set_new(o, plain, json_string(val));
			json_object_del(o, key);
			free(plain);
		} else if (resolve_config(c, p, v, err) < 0) {
			return -1;
		}
	}
	return 0;
}

static int conf_parse(const struct source *s, const struct project *p, struct cmd_conf **out, struct strbuf *err)
{
	struct cmd_conf *c = xcalloc(1, sizeof(*c));
	const struct ynode *run = ymap_get(s->block, "run");
	struct strbuf sb = STRBUF_INIT;
	*out = c;
	c->source = s;
	c->timeout_s = -1;
	c->discover = 1;
	c->max_nesting = -1;
	if (!run)
		run = ymap_get(s->block, "command"); /* the older name of the key */
	if (run && run->kind == Y_SCALAR && !ynode_is_null(run) && *run->str) {
		c->shell = 1;
		strvec_push(&c->run, run->str);
	} else {
		str_list(run && run->kind == Y_SEQ ? run : NULL, &c->run);
	}
	if (!c->run.nr) {
		strbuf_addf(err, "source '%s': 'run' must name the program (a list [program, args...] or a shell command)",
			    s->name);
		return -1;
	}
	const char *wd = source_get(s, "working_dir");
	if (wd && wd[0] == '/')
		strbuf_addstr(&sb, wd);
	else
		fs_path_join(&sb, p->root, wd ? wd : ".");
	c->cwd = strbuf_detach(&sb, NULL);
	if (!fs_is_dir(c->cwd)) {
		strbuf_addf(err, "source '%s': working_dir '%s' is not a folder", s->name, wd ? wd : ".");
		return -1;
	}
	const char *fmt = source_get(s, "format");
	c->format = !fmt || !strcmp(fmt, "auto") ? FMT_AUTO : !strcmp(fmt, "singer") ? FMT_SINGER : FMT_NDJSON;
	double minutes;
	if (ynode_double(ymap_get(s->block, "timeout_minutes"), &minutes) == 0 && minutes > 0)
		c->timeout_s = minutes * 60;
	const struct ynode *env = ymap_get(s->block, "env");
	for (size_t i = 0; env && env->kind == Y_MAP && i < env->n; i++) {
		const char *k = env->pairs[i].key->str;
		const struct ynode *v = env->pairs[i].value;
		const char *val = v->kind == Y_SCALAR && !ynode_is_null(v) ? v->str : "";
		if (ends_with(k, "_env") && strlen(k) > 4) {
			const char *sv = secret(c, p, k, val, err);
			if (!sv)
				return -1;
			strvec_pushf(&c->env_add, "%.*s=%s", (int)(strlen(k) - 4), k, sv);
		} else {
			strvec_pushf(&c->env_add, "%s=%s", k, val);
		}
	}
	strvec_pushf(&c->env_add, "DANGO_SOURCE=%s", s->name);
	const struct ynode *cfg = ymap_get(s->block, "config");
	if (cfg && !ynode_is_null(cfg)) {
		c->config = yaml_to_json(cfg);
		if (!json_is_object(c->config)) {
			strbuf_addf(err, "source '%s': 'config' must be a mapping (it is written as a JSON object)", s->name);
			return -1;
		}
		if (resolve_config(c, p, c->config, err) < 0)
			return -1;
	}
	const char *table = source_get(s, "table_name");
	sync_normalize_name(&sb, table ? table : s->name);
	c->table = strbuf_detach(&sb, NULL);
	c->table_key = source_get(s, "table_key");
	str_list(ymap_get(s->block, "primary_key"), &c->primary_key);
	const char *wdisp = source_get(s, "write_disposition");
	c->wd = !wdisp ? (c->primary_key.nr ? WD_MERGE : WD_APPEND)
		       : !strcmp(wdisp, "merge") ? WD_MERGE : !strcmp(wdisp, "replace") ? WD_REPLACE : WD_APPEND;
	if (c->wd == WD_MERGE && !c->primary_key.nr && c->format == FMT_NDJSON) {
		strbuf_addf(err, "source '%s': write_disposition 'merge' needs a primary_key", s->name);
		return -1;
	}
	str_list(ymap_get(s->block, "select"), &c->select);
	const char *flag = source_get(s, "catalog_flag");
	c->properties_flag = flag && !strcmp(flag, "properties");
	int b;
	if (ynode_bool(ymap_get(s->block, "discover"), &b) == 0)
		c->discover = b;
	int64_t nest;
	if (ynode_int(ymap_get(s->block, "max_table_nesting"), &nest) == 0 && nest >= 0)
		c->max_nesting = (int)nest;
	if (c->select.nr && c->format == FMT_NDJSON) {
		strbuf_addf(err, "source '%s': 'select' picks Singer streams through a catalog; an NDJSON program "
			    "cannot take one", s->name);
		return -1;
	}
	return 0;
}

/* ---- masking ------------------------------------------------------------------------ */

static void mask(const struct cmd_conf *c, struct strbuf *sb)
{
	for (size_t i = 0; i < c->secrets.nr; i++) {
		const char *sec = c->secrets.v[i];
		size_t n = strlen(sec);
		char *hit;
		size_t from = 0;
		while (n && from < sb->len && (hit = memmem(sb->buf + from, sb->len - from, sec, n))) {
			size_t at = (size_t)(hit - sb->buf);
			strbuf_remove(sb, at, n);
			strbuf_insert(sb, at, "***", 3);
			from = at + 3;
		}
	}
}

/* ---- running the program --------------------------------------------------------------- */

/* Called with each line of stdout (without its newline): 0 to go on, 1 to
 * stop reading (enough was read), -1 on error (err set). */
typedef int (*line_fn)(void *data, const char *line, size_t len, struct strbuf *err);

struct runner {
	const struct cmd_conf *c;
	struct sync_job *job;       /* for progress and cancellation; NULL in discovery */
	struct strvec args;         /* appended to the program's arguments */
	double timeout_s;
	struct strbuf last_err;     /* the last stderr line, for the failure message */
	struct strvec err_lines;    /* discovery keeps stderr to show it */
	int stopped;                /* we stopped it (limit, cancel) */
};

static void stderr_line(struct runner *r, const char *line, size_t len)
{
	struct strbuf sb = STRBUF_INIT;
	while (len && (line[len - 1] == '\r' || line[len - 1] == ' '))
		len--;
	if (!len)
		return;
	strbuf_add(&sb, line, len > 4000 ? 4000 : len);
	mask(r->c, &sb);
	strbuf_reset(&r->last_err);
	strbuf_addbuf(&r->last_err, &sb);
	if (r->job)
		r->job->progress(r->job, "[%s] %s", r->c->source->name, sb.buf);
	else if (r->err_lines.nr < 20)
		strvec_push(&r->err_lines, sb.buf);
	strbuf_release(&sb);
}

static void split_lines(struct strbuf *buf, int final, void (*fn)(struct runner *, const char *, size_t),
			struct runner *r)
{
	size_t start = 0;
	for (;;) {
		char *nl = memchr(buf->buf + start, '\n', buf->len - start);
		if (!nl)
			break;
		fn(r, buf->buf + start, (size_t)(nl - (buf->buf + start)));
		start = (size_t)(nl - buf->buf) + 1;
	}
	if (final && start < buf->len) {
		fn(r, buf->buf + start, buf->len - start);
		start = buf->len;
	}
	strbuf_remove(buf, 0, start);
}

static double mono_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* How the program is named in messages: its path, or the start of its
 * shell command. */
static void program_name(const struct cmd_conf *c, struct strbuf *sb)
{
	const char *s = c->run.v[0];
	size_t n = strcspn(s, "\n");
	if (n > 60)
		n = 57;
	strbuf_add(sb, s, n);
	if (s[n])
		strbuf_addstr(sb, "...");
}

static void describe_program(const struct cmd_conf *c, struct strbuf *sb)
{
	strbuf_addch(sb, '\'');
	program_name(c, sb);
	strbuf_addch(sb, '\'');
}

/* Run the program to its end, handing each stdout line to fn. 0 when it
 * exited 0 (or was stopped because fn said enough), else -1 with err. */
static int run_program(struct runner *r, line_fn fn, void *data, struct strbuf *err)
{
	const struct cmd_conf *c = r->c;
	struct strvec argv = STRVEC_INIT;
	struct strbuf out = STRBUF_INIT, errb = STRBUF_INIT, prog = STRBUF_INIT, e = STRBUF_INIT;
	struct proc pr;
	int ret = -1, fn_rc = 0, timed_out = 0;
	if (c->shell) {
		/* the string as the shell reads it; our arguments follow as "$@" */
		strvec_push(&argv, "/bin/sh");
		strvec_push(&argv, "-c");
		strvec_pushf(&argv, "%s%s", c->run.v[0], r->args.nr ? " \"$@\"" : "");
		strvec_push(&argv, "sh");
	} else {
		for (size_t i = 0; i < c->run.nr; i++)
			strvec_push(&argv, c->run.v[i]);
	}
	for (size_t i = 0; i < r->args.nr; i++)
		strvec_push(&argv, r->args.v[i]);
	struct proc_opts o = { .argv = (const char *const *)argv.v, .cwd = c->cwd,
			       .env_add = (const char *const *)c->env_add.v, .out = PROC_PIPE, .err = PROC_PIPE,
			       .stdin_null = 1 };
	describe_program(c, &prog);
	if (proc_spawn(&pr, &o, &e) < 0) {
		strbuf_addf(err, "cannot start %s: %s", prog.buf, e.buf);
		goto out_noproc;
	}
	/* our end of the pipes must not block: both are drained in turn */
	fcntl(pr.stdout_fd, F_SETFL, fcntl(pr.stdout_fd, F_GETFL) | O_NONBLOCK);
	fcntl(pr.stderr_fd, F_SETFL, fcntl(pr.stderr_fd, F_GETFL) | O_NONBLOCK);
	double deadline = r->timeout_s >= 0 ? mono_now() + r->timeout_s : -1;
	int out_open = 1, err_open = 1, exited = 0;
	double exited_at = 0;
	size_t scanned = 0; /* bytes of out already searched for a newline */
	while (out_open || err_open) {
		/* a program that ended while something it started still holds
		 * its pipes: what that leaves behind is not waited for */
		if (!exited && proc_wait(&pr, 0)) {
			exited = 1;
			exited_at = mono_now();
		} else if (exited && mono_now() - exited_at > 2) {
			proc_kill_group(&pr, SIGKILL);
			break;
		}
		struct pollfd fds[2];
		int nf = 0, io = -1, ie = -1;
		if (out_open) {
			fds[nf] = (struct pollfd){ .fd = pr.stdout_fd, .events = POLLIN };
			io = nf++;
		}
		if (err_open) {
			fds[nf] = (struct pollfd){ .fd = pr.stderr_fd, .events = POLLIN };
			ie = nf++;
		}
		int wait_ms = 500;
		if (deadline >= 0) {
			double left = deadline - mono_now();
			if (left <= 0) {
				timed_out = 1;
				break;
			}
			if (left * 1000 < wait_ms)
				wait_ms = (int)(left * 1000) + 1;
		}
		if (r->job && r->job->cancelled) {
			r->stopped = 1;
			break;
		}
		int pn = poll(fds, (nfds_t)nf, wait_ms);
		if (pn < 0 && errno != EINTR) {
			strbuf_addf(err, "reading the output of %s: %s", prog.buf, strerror(errno));
			goto out_kill;
		}
		if (pn <= 0)
			continue;
		if (ie >= 0 && fds[ie].revents) {
			char buf[65536];
			ssize_t n = read(pr.stderr_fd, buf, sizeof(buf));
			if (n > 0) {
				strbuf_add(&errb, buf, (size_t)n);
				split_lines(&errb, 0, stderr_line, r);
				if (errb.len > 65536) /* a line without end: show it in parts */
					split_lines(&errb, 1, stderr_line, r);
			} else if (n == 0 || (errno != EAGAIN && errno != EINTR)) {
				split_lines(&errb, 1, stderr_line, r);
				err_open = 0;
			}
		}
		if (io >= 0 && fds[io].revents) {
			strbuf_grow(&out, 1 << 18);
			ssize_t n = read(pr.stdout_fd, out.buf + out.len, out.alloc - out.len - 1);
			int eof = 0;
			if (n > 0)
				strbuf_setlen(&out, out.len + (size_t)n);
			else if (n == 0 || (errno != EAGAIN && errno != EINTR))
				eof = 1;
			else
				continue;
			size_t start = 0;
			for (;;) {
				char *nl = memchr(out.buf + scanned, '\n', out.len - scanned);
				if (!nl) {
					if (!eof || start == out.len)
						break;
					nl = out.buf + out.len; /* a last line without a newline */
				}
				size_t len = (size_t)(nl - (out.buf + start));
				fn_rc = fn(data, out.buf + start, len, err);
				start = (size_t)(nl - out.buf) + (nl < out.buf + out.len);
				scanned = start;
				if (fn_rc)
					break;
			}
			strbuf_remove(&out, 0, start);
			scanned = out.len;
			if (fn_rc < 0)
				goto out_kill;
			if (fn_rc > 0) {
				r->stopped = 1;
				break;
			}
			if (out.len > MAX_LINE) {
				strbuf_addf(err, "a line of the output of %s is longer than %u MB", prog.buf, MAX_LINE >> 20);
				goto out_kill;
			}
			if (eof)
				out_open = 0;
		}
	}
	if (timed_out || r->stopped) {
		proc_terminate(&pr, 5);
		if (timed_out) {
			strbuf_addf(err, "%s timed out after %g minutes (timeout_minutes); it was stopped", prog.buf,
				    r->timeout_s / 60);
			goto out;
		}
		if (r->job && r->job->cancelled) {
			strbuf_addf(err, "%s was stopped: the load failed", prog.buf);
			goto out;
		}
		ret = 0;
		goto out;
	}
	/* both pipes closed: the program ended, or closed them and goes on */
	double left = deadline >= 0 ? deadline - mono_now() : -1;
	if (!exited && !proc_wait(&pr, deadline >= 0 ? (left > 0 ? left : 0) : -1)) {
		proc_terminate(&pr, 5);
		strbuf_addf(err, "%s timed out after %g minutes (timeout_minutes); it was stopped", prog.buf,
			    r->timeout_s / 60);
		goto out;
	}
	strbuf_reset(&e);
	if (proc_describe_status(&e, pr.status)) {
		strbuf_addf(err, "%s %s", prog.buf, e.buf);
		if (r->last_err.len)
			strbuf_addf(err, ": %s", r->last_err.buf);
		goto out;
	}
	ret = 0;
	goto out;
out_kill:
	proc_terminate(&pr, 5);
out:
	proc_release(&pr);
out_noproc:
	strvec_clear(&argv);
	strbuf_release(&out);
	strbuf_release(&errb);
	strbuf_release(&prog);
	strbuf_release(&e);
	return ret;
}

/* A 0600 file in dir holding the JSON of v. */
static int write_json_file(const char *dir, const char *name, json_t *v, struct strbuf *path, struct strbuf *err)
{
	char *text = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
	struct strbuf sb = STRBUF_INIT;
	strbuf_addf(&sb, "%s\n", text);
	fs_path_join(path, dir, name);
	int ret = fs_write_atomic_mode(path->buf, sb.buf, sb.len, 0600);
	strbuf_release(&sb);
	if (ret < 0)
		strbuf_addf(err, "cannot write %s: %s", path->buf, strerror(errno));
	free(text);
	return ret;
}

static int add_config_arg(struct runner *r, const char *dir, struct strbuf *err)
{
	struct strbuf path = STRBUF_INIT;
	int ret = 0;
	if (r->c->config) {
		ret = write_json_file(dir, "config.json", r->c->config, &path, err);
		strvec_push(&r->args, "--config");
		strvec_push(&r->args, path.buf);
	}
	strbuf_release(&path);
	return ret;
}

/* ---- discovery ---------------------------------------------------------------------- */

struct collect {
	struct strbuf text;
};

static int collect_line(void *data, const char *line, size_t len, struct strbuf *err)
{
	struct collect *co = data;
	if (co->text.len + len > (64u << 20)) {
		strbuf_addstr(err, "the catalog is larger than 64 MB");
		return -1;
	}
	strbuf_add(&co->text, line, len);
	strbuf_addch(&co->text, '\n');
	return 0;
}

static char *make_temp_dir(struct strbuf *err)
{
	const char *t = getenv("TMPDIR");
	char *tmpl = xasprintf("%s/dango-cmd-XXXXXX", t && *t ? t : "/tmp");
	if (!mkdtemp(tmpl)) {
		strbuf_addf(err, "cannot create a temporary folder: %s", strerror(errno));
		free(tmpl);
		return NULL;
	}
	return tmpl;
}

/* --discover: the catalog (the caller's), or NULL: 1 found, 0 not
 * supported (err says what happened), -1 error. */
static int discover(const struct cmd_conf *c, const char *dir, json_t **catalog, struct strbuf *err)
{
	struct runner r = { .c = c, .timeout_s = c->timeout_s >= 0 && c->timeout_s < DISCOVER_TIMEOUT_S
							 ? c->timeout_s : DISCOVER_TIMEOUT_S };
	struct collect co = { STRBUF_INIT };
	struct strbuf e = STRBUF_INIT;
	int ret = -1;
	*catalog = NULL;
	strbuf_init(&r.last_err, 0);
	if (add_config_arg(&r, dir, err) < 0)
		goto out;
	strvec_push(&r.args, "--discover");
	if (run_program(&r, collect_line, &co, &e) < 0) {
		strbuf_addf(err, "--discover failed: %s", e.buf);
		ret = 0;
		goto out;
	}
	json_error_t je;
	json_t *cat = json_loadb(co.text.buf, co.text.len, 0, &je);
	if (!json_is_array(json_object_get(cat, "streams"))) {
		strbuf_addstr(err, "--discover printed no catalog (a JSON object with \"streams\")");
		json_decref(cat);
		ret = 0;
		goto out;
	}
	*catalog = cat;
	ret = 1;
out:
	strvec_clear(&r.args);
	strvec_clear(&r.err_lines);
	strbuf_release(&r.last_err);
	strbuf_release(&co.text);
	strbuf_release(&e);
	return ret;
}

static const char *stream_name(json_t *s)
{
	const char *n = json_string_value(json_object_get(s, "stream"));
	return n ? n : json_string_value(json_object_get(s, "tap_stream_id"));
}

static void catalog_names(json_t *cat, struct strvec *out)
{
	size_t i;
	json_t *s;
	json_array_foreach(json_object_get(cat, "streams"), i, s)
		if (stream_name(s))
			strvec_push(out, stream_name(s));
}

static int selects(const struct strvec *want, json_t *s)
{
	const char *a = json_string_value(json_object_get(s, "stream")),
		   *b = json_string_value(json_object_get(s, "tap_stream_id"));
	return (a && strvec_has(want, a)) || (b && strvec_has(want, b));
}

/* Every name of want is a stream of the catalog; else err names it. */
static int check_selection(const struct cmd_conf *c, json_t *cat, const struct strvec *want, struct strbuf *err)
{
	struct strvec names = STRVEC_INIT;
	size_t i;
	json_t *s;
	int ret = 0;
	catalog_names(cat, &names);
	for (size_t k = 0; k < want->nr && !ret; k++) {
		int found = 0;
		json_array_foreach(json_object_get(cat, "streams"), i, s) {
			struct strvec one = STRVEC_INIT;
			strvec_push(&one, want->v[k]);
			found |= selects(&one, s);
			strvec_clear(&one);
		}
		if (found)
			continue;
		const char **list = xcalloc(names.nr + 1, sizeof(*list));
		struct strbuf all = STRBUF_INIT;
		for (size_t j = 0; j < names.nr; j++) {
			list[j] = names.v[j];
			strbuf_addf(&all, "%s%s", j ? ", " : "", names.v[j]);
		}
		const char *hint = did_you_mean(want->v[k], list);
		strbuf_addf(err, "source '%s': select '%s': the program's catalog has no such stream%s%s%s (streams: %s)",
			    c->source->name, want->v[k], hint ? " (did you mean '" : "", hint ? hint : "", hint ? "'?)" : "",
			    all.len ? all.buf : "none");
		strbuf_release(&all);
		free(list);
		ret = -1;
	}
	strvec_clear(&names);
	return ret;
}

/* The catalog with only the wanted streams, each marked selected (in its
 * metadata, and in its schema for taps that read --properties). */
static json_t *selected_catalog(json_t *cat, const struct strvec *want)
{
	json_t *out = json_deep_copy(cat), *keep = json_array(), *s;
	size_t i;
	json_array_foreach(json_object_get(out, "streams"), i, s) {
		if (!selects(want, s))
			continue;
		json_t *md = json_object_get(s, "metadata"), *m, *top = NULL;
		size_t k;
		if (!json_is_array(md)) {
			md = json_array();
			json_object_set_new(s, "metadata", md);
		}
		json_array_foreach(md, k, m)
			if (json_is_array(json_object_get(m, "breadcrumb")) && !json_array_size(json_object_get(m, "breadcrumb")))
				top = m;
		if (!top) {
			top = json_pack("{s:[], s:{}}", "breadcrumb", "metadata");
			json_array_append_new(md, top);
		}
		if (!json_is_object(json_object_get(top, "metadata")))
			json_object_set_new(top, "metadata", json_object());
		json_object_set_new(json_object_get(top, "metadata"), "selected", json_true());
		if (json_is_object(json_object_get(s, "schema")))
			json_object_set_new(json_object_get(s, "schema"), "selected", json_true());
		json_array_append(keep, s);
	}
	json_object_set_new(out, "streams", keep);
	return out;
}

int command_discover(const struct source *s, const struct project *p, struct strvec *streams, struct strbuf *err)
{
	struct cmd_conf *c = NULL;
	json_t *cat = NULL;
	char *dir = NULL;
	int ret = -1;
	if (conf_parse(s, p, &c, err) < 0)
		goto out;
	if (c->format == FMT_NDJSON || !c->discover) {
		strbuf_addstr(err, c->format == FMT_NDJSON ? "an NDJSON program has no discovery" : "discover: false");
		ret = 0;
		goto out;
	}
	if (!(dir = make_temp_dir(err)))
		goto out;
	ret = discover(c, dir, &cat, err);
	if (ret == 1)
		catalog_names(cat, streams);
out:
	if (dir) {
		fs_remove_tree(dir);
		free(dir);
	}
	json_decref(cat);
	conf_free(c);
	return ret;
}

/* ---- streams and records ------------------------------------------------------------ */

struct cmd_stream *cmd_stream_get(struct cmd_extract *x, const char *name, int create)
{
	for (size_t i = 0; i < x->nr_streams; i++)
		if (!strcmp(x->streams[i].name, name))
			return &x->streams[i];
	if (!create)
		return NULL;
	struct strbuf t = STRBUF_INIT;
	sync_normalize_name(&t, name);
	ALLOC_GROW(x->streams, x->nr_streams + 1, x->alloc_streams);
	struct cmd_stream *st = &x->streams[x->nr_streams];
	memset(st, 0, sizeof(*st));
	st->name = xstrdup(name);
	st->table = strbuf_detach(&t, NULL);
	st->t = normalizer_table(&x->norm, st->table, -1);
	st->selected = sync_job_selected(x->job, st->table) || sync_job_selected(x->job, st->name);
	st->wd = WD_APPEND;
	if (x->conf->select.nr && x->format == FMT_SINGER)
		st->selected &= strvec_has(&x->conf->select, name);
	size_t had = x->alloc_table_stream;
	ALLOC_GROW(x->table_stream, (size_t)st->t + 1, x->alloc_table_stream);
	for (size_t i = had; i < x->alloc_table_stream; i++)
		x->table_stream[i] = -1;
	x->table_stream[st->t] = (int)x->nr_streams;
	x->nr_streams++;
	return st;
}

void cmd_stream_describe(struct cmd_extract *x, struct cmd_stream *st)
{
	if (!st->selected)
		return;
	struct sync_resource *res = sync_job_resource(x->job, st->table);
	struct strbuf n = STRBUF_INIT;
	res->disposition = st->wd;
	strvec_clear(&res->primary_key);
	for (size_t i = 0; i < st->key.nr; i++) {
		strbuf_reset(&n);
		sync_column_name(&n, st->key.v[i]);
		strvec_push(&res->primary_key, n.buf);
	}
	strbuf_release(&n);
	if (st->wd == WD_REPLACE)
		strvec_pushf(&x->job->notes, "replace: every sync reloads %s", st->table);
}

int cmd_add_record(struct cmd_extract *x, struct cmd_stream *st, const struct jv *rec, const struct norm_extra *extra,
		   size_t nr_extra, struct strbuf *err)
{
	char *seed = NULL;
	if (st->wd == WD_MERGE && st->key.nr) {
		/* a record merged again keeps its _dlt_id, and so do its child rows */
		struct strbuf sb = STRBUF_INIT;
		int ok = 1;
		strbuf_addstr(&sb, st->table);
		for (size_t k = 0; k < st->key.nr && ok; k++) {
			strbuf_addch(&sb, '\x1f');
			ok = jv_text(jv_get(rec, st->key.v[k]), &sb) == 0;
		}
		seed = ok ? strbuf_detach(&sb, NULL) : NULL;
		strbuf_release(&sb);
	}
	int rc = normalizer_add(&x->norm, st->t, rec, extra, nr_extra, seed, x->max_nesting, err);
	free(seed);
	if (rc < 0)
		return -1;
	st->rows++;
	x->records++;
	return 0;
}

/* A spool file is complete: a batch for the engine (see rest_api.c). */
static void spool_file_done(void *data, int ti, size_t k)
{
	struct cmd_extract *x = data;
	struct sync_job *job = x->job;
	const struct norm_table *t = &x->norm.tables[ti];
	int root = ti;
	while (x->norm.tables[root].parent >= 0)
		root = x->norm.tables[root].parent;
	const struct cmd_stream *st = (size_t)root < x->alloc_table_stream && x->table_stream[root] >= 0
					      ? &x->streams[x->table_stream[root]] : NULL;
	if (!st || !st->selected) {
		unlink(t->files.v[k]);
		return;
	}
	struct sync_resource *res = sync_job_resource(job, t->name);
	if (t->parent >= 0 && !res->primary_key.nr) {
		res->disposition = st->wd;
		if (st->wd == WD_MERGE)
			strvec_push(&res->primary_key, "_dlt_id");
	}
	struct sync_batch *b = sync_job_add_batch(job, t->name);
	struct strbuf rel = STRBUF_INIT;
	normalizer_relation(&x->norm, t, t->files.v[k], &rel);
	b->relation = strbuf_detach(&rel, NULL);
	b->spool_path = xstrdup(t->files.v[k]);
	b->own_ids = 1;
	b->label = xasprintf("%s (part %zu)", t->name, k + 1);
	sync_job_emit(job);
}

/* ---- NDJSON ------------------------------------------------------------------------- */

static int is_key(const struct jv *v, const char *key)
{
	size_t n = strlen(key);
	return !v->kesc && v->klen == n && !memcmp(v->key, key, n);
}

static int ndjson_line(struct cmd_extract *x, const struct jv *obj, struct strbuf *err)
{
	const struct cmd_conf *c = x->conf;
	if (obj->type != JV_OBJ) {
		strbuf_addstr(err, "not a JSON object (each line of NDJSON output is one record)");
		return -1;
	}
	if (obj->n && is_key(&obj->kids[0], "_state")) {
		if (obj->n > 1) {
			strbuf_addstr(err, "a {\"_state\": ...} line holds nothing else");
			return -1;
		}
		const char *raw;
		size_t n;
		json_error_t je;
		jv_raw(&obj->kids[0], &raw, &n);
		json_t *st = json_loadb(raw, n, JSON_DECODE_ANY, &je);
		if (!st) {
			strbuf_addf(err, "_state: %s", je.text);
			return -1;
		}
		json_decref(x->state);
		x->state = st;
		return 0;
	}
	const char *table = c->table;
	struct strbuf name = STRBUF_INIT;
	struct jv copy = *obj;
	struct jv kids[64], *heap = NULL;
	if (c->table_key) {
		/* the routing field picks the table and is not a column */
		for (size_t i = 0; i < obj->n; i++) {
			const struct jv *k = &obj->kids[i];
			if (!is_key(k, c->table_key))
				continue;
			if (k->type != JV_STR || !k->len) {
				strbuf_addf(err, "'%s' (table_key) must be a table name", c->table_key);
				return -1;
			}
			jv_unescape(&name, k->s, k->len);
			table = name.buf;
			struct jv *dst = obj->n - 1 <= ARRAY_SIZE(kids) ? kids : (heap = xmalloc(obj->n * sizeof(*heap)));
			memcpy(dst, obj->kids, i * sizeof(*dst));
			memcpy(dst + i, obj->kids + i + 1, (obj->n - i - 1) * sizeof(*dst));
			copy.kids = dst;
			copy.n = obj->n - 1;
			break;
		}
	}
	struct cmd_stream *st = cmd_stream_get(x, table, 0);
	if (!st) {
		st = cmd_stream_get(x, table, 1);
		st->wd = c->wd;
		for (size_t i = 0; i < c->primary_key.nr; i++)
			strvec_push(&st->key, c->primary_key.v[i]);
		cmd_stream_describe(x, st);
	}
	int ret = st->selected ? cmd_add_record(x, st, &copy, NULL, 0, err) : 0;
	free(heap);
	strbuf_release(&name);
	return ret;
}

/* ---- extract ------------------------------------------------------------------------ */

static int output_line(void *data, const char *line, size_t len, struct strbuf *err)
{
	struct cmd_extract *x = data;
	struct strbuf e = STRBUF_INIT;
	int ret = -1;
	x->line++;
	while (len && (line[len - 1] == '\r' || line[len - 1] == ' ' || line[len - 1] == '\t'))
		len--;
	if (!len)
		return 0;
	/* said here, by line, rather than by the spool reader at the load */
	size_t bad = utf8_bad_at((const unsigned char *)line, len);
	if (bad < len) {
		strbuf_addf(&e, "not valid UTF-8 (byte %zu)", bad);
		goto out;
	}
	if (jv_parse(&x->doc, line, len, &e) < 0)
		goto out;
	if (x->format == FMT_AUTO)
		x->format = singer_looks_like(x->doc.root) ? FMT_SINGER : FMT_NDJSON;
	if (x->format == FMT_SINGER)
		ret = singer_message(x, x->doc.root, line, len, &e);
	else
		ret = ndjson_line(x, x->doc.root, &e);
	if (ret == 0 && x->job->opts->limit > 0 && x->records >= x->job->opts->limit) {
		x->limit_reached = 1;
		ret = 1;
	}
out:
	if (ret < 0) {
		struct strbuf m = STRBUF_INIT;
		strbuf_addbuf(&m, &e);
		if (starts_with(e.buf, "invalid JSON")) {
			strbuf_addstr(&m, "; the line reads: ");
			strbuf_add(&m, line, len > 80 ? 77 : len);
			if (len > 80)
				strbuf_addstr(&m, "...");
		}
		mask(x->conf, &m);
		strbuf_addf(err, "source '%s': line %lld of the program's output: %s", x->conf->source->name,
			    (long long)x->line, m.buf);
		strbuf_release(&m);
	}
	strbuf_release(&e);
	return ret;
}

static int command_open(struct sync_job *job, struct strbuf *err)
{
	struct cmd_conf *c = NULL;
	int ret = conf_parse(job->source, job->project, &c, err);
	job->conn = c;
	return ret;
}

static void command_close(struct sync_job *job)
{
	conf_free(job->conn);
	job->conn = NULL;
}

/* The previous run's state, for this run: {"format": ..., "state": ...}. */
static json_t *prev_state(struct sync_job *job, enum cmd_format *fmt)
{
	json_t *st = job->opts->full_refresh ? NULL : json_object_get(job->prev_state, STATE_KEY);
	const char *f = json_string_value(json_object_get(st, "format"));
	*fmt = f && !strcmp(f, "singer") ? FMT_SINGER : f ? FMT_NDJSON : FMT_AUTO;
	return json_object_get(st, "state");
}

/* Discovery before a Singer run that selects streams: the catalog file. */
static int catalog_args(struct runner *r, struct cmd_extract *x, struct strbuf *err)
{
	const struct cmd_conf *c = r->c;
	struct sync_job *job = x->job;
	struct strvec want = STRVEC_INIT;
	struct strbuf e = STRBUF_INIT, path = STRBUF_INIT;
	json_t *cat = NULL, *sel = NULL;
	int ret = -1;
	for (size_t i = 0; i < c->select.nr; i++)
		strvec_push(&want, c->select.v[i]);
	/* --select narrows the catalog too, when there is one to narrow */
	for (size_t i = 0; c->select.nr && i < job->opts->select.nr; i++)
		if (!strvec_has(&c->select, job->opts->select.v[i]))
			strvec_push(&want, job->opts->select.v[i]);
	if (!want.nr) {
		ret = 0;
		goto out;
	}
	job->progress(job, "Discovering the program's streams (--discover)");
	int found = discover(c, job->spool_dir, &cat, &e);
	if (found <= 0) {
		strbuf_addf(err, "source '%s': 'select' needs the program's catalog, but %s", c->source->name, e.buf);
		goto out;
	}
	if (check_selection(c, cat, &c->select, err) < 0)
		goto out;
	sel = selected_catalog(cat, &want);
	if (write_json_file(job->spool_dir, "catalog.json", sel, &path, err) < 0)
		goto out;
	strvec_push(&r->args, c->properties_flag ? "--properties" : "--catalog");
	strvec_push(&r->args, path.buf);
	ret = 0;
out:
	json_decref(cat);
	json_decref(sel);
	strvec_clear(&want);
	strbuf_release(&e);
	strbuf_release(&path);
	return ret;
}

static int command_extract(struct sync_job *job, struct strbuf *err)
{
	struct cmd_conf *c = job->conn;
	struct cmd_extract x = { .job = job, .conf = c, .format = c->format, .max_nesting = c->max_nesting };
	struct runner r = { .c = c, .job = job, .timeout_s = c->timeout_s };
	struct strbuf path = STRBUF_INIT;
	x.doc = (struct jv_doc)JV_DOC_INIT;
	strbuf_init(&r.last_err, 0);
	int ret = -1;
	job->limit_handled = 1;
	if (sync_job_spool_dir(job, err) < 0)
		goto out;
	normalizer_init(&x.norm, job->spool_dir);
	x.norm_ready = 1;
	x.norm.on_file = spool_file_done;
	x.norm.on_file_data = &x;
	if (add_config_arg(&r, job->spool_dir, err) < 0)
		goto out;
	enum cmd_format pf;
	json_t *prev = prev_state(job, &pf);
	if (x.format == FMT_AUTO)
		x.format = pf; /* the last run said which */
	if (x.format != FMT_NDJSON && catalog_args(&r, &x, err) < 0)
		goto out;
	if (prev && x.format == FMT_SINGER) {
		if (write_json_file(job->spool_dir, "state.json", prev, &path, err) < 0)
			goto out;
		strvec_push(&r.args, "--state");
		strvec_push(&r.args, path.buf);
	}
	size_t env_nr = c->env_add.nr;
	if (prev && x.format == FMT_NDJSON) {
		char *text = json_dumps(prev, JSON_COMPACT | JSON_ENCODE_ANY);
		strvec_pushf(&c->env_add, "DANGO_STATE=%s", text);
		free(text);
	}
	if (job->opts->full_refresh)
		json_object_del(job->new_state, STATE_KEY);
	struct strbuf shown = STRBUF_INIT;
	program_name(c, &shown);
	job->progress(job, "Running %s", shown.buf);
	strbuf_release(&shown);
	int rc = run_program(&r, output_line, &x, err);
	while (c->env_add.nr > env_nr) {
		free(c->env_add.v[--c->env_add.nr]);
		c->env_add.v[c->env_add.nr] = NULL;
	}
	if (rc < 0)
		goto out_fixmsg;
	if (normalizer_finish(&x.norm, err) < 0)
		goto out;
	if (x.format == FMT_SINGER)
		singer_finish(&x);
	for (size_t i = 0; i < x.norm.nr_tables; i++)
		for (size_t k = 0; k < x.norm.tables[i].renamed.nr; k++)
			strvec_push(&job->warnings, x.norm.tables[i].renamed.v[k]);
	/* --select of a stream the program never wrote: nothing was loaded for it */
	for (size_t i = 0; i < job->opts->select.nr; i++) {
		int seen = 0;
		for (size_t k = 0; k < x.nr_streams && !seen; k++)
			seen = !strcmp(x.streams[k].table, job->opts->select.v[i]) ||
			       !strcmp(x.streams[k].name, job->opts->select.v[i]);
		if (!seen && !x.limit_reached) {
			struct strbuf all = STRBUF_INIT;
			for (size_t k = 0; k < x.nr_streams; k++)
				strbuf_addf(&all, "%s%s", k ? ", " : "", x.streams[k].table);
			strbuf_addf(err, "source '%s': --select '%s': the program wrote no such stream (it wrote: %s)",
				    c->source->name, job->opts->select.v[i], all.len ? all.buf : "nothing");
			strbuf_release(&all);
			goto out;
		}
	}
	if (x.limit_reached)
		strvec_pushf(&job->notes, "--limit: the program was stopped after %lld records", (long long)x.records);
	if (!x.records && !x.nr_streams)
		strvec_pushf(&job->warnings, "the program of source '%s' wrote no records", c->source->name);
	if (x.state) {
		json_object_set_new(job->new_state, STATE_KEY,
				    json_pack("{s:s, s:O}", "format", x.format == FMT_SINGER ? "singer" : "ndjson", "state",
					      x.state));
	}
	ret = 0;
	goto out;
out_fixmsg:
	/* run_program's messages name the program; say the source too */
	{
		struct strbuf m = STRBUF_INIT;
		if (starts_with(err->buf, "source '"))
			strbuf_addbuf(&m, err);
		else
			strbuf_addf(&m, "source '%s': %s", c->source->name, err->buf);
		strbuf_reset(err);
		strbuf_addbuf(err, &m);
		strbuf_release(&m);
	}
out:
	if (x.norm_ready)
		normalizer_release(&x.norm);
	jv_doc_release(&x.doc);
	json_decref(x.state);
	for (size_t i = 0; i < x.nr_streams; i++) {
		free(x.streams[i].name);
		free(x.streams[i].table);
		strvec_clear(&x.streams[i].key);
	}
	free(x.streams);
	free(x.table_stream);
	strvec_clear(&r.args);
	strvec_clear(&r.err_lines);
	strbuf_release(&r.last_err);
	strbuf_release(&path);
	return ret;
}

static int command_describe(struct sync_job *job, struct strbuf *out, struct strbuf *err)
{
	struct cmd_conf *c = job->conn;
	enum cmd_format pf;
	json_t *prev = prev_state(job, &pf);
	(void)err;
	struct strbuf shown = STRBUF_INIT;
	program_name(c, &shown);
	strbuf_addf(out, "would run %s%s (%s)%s\n", shown.buf, c->shell ? " (through /bin/sh)" : "",
		    c->format == FMT_SINGER ? "Singer" : c->format == FMT_NDJSON ? "NDJSON" : "Singer or NDJSON",
		    prev ? ", resuming from its last state" : "");
	strbuf_release(&shown);
	strbuf_addstr(out, "=0\n");
	return 0;
}

/* The resources --select may name, when the config says them. */
static int command_resources(struct sync_job *job, struct strvec *out, struct strbuf *err)
{
	const struct cmd_conf *c = job->conn;
	struct strbuf n = STRBUF_INIT;
	if (c->format == FMT_NDJSON && !c->table_key) {
		strvec_push(out, c->table);
		return 0;
	}
	if (!c->select.nr) {
		strbuf_addstr(err, "the program's streams are known once it runs");
		return -1;
	}
	for (size_t i = 0; i < c->select.nr; i++) {
		strbuf_reset(&n);
		sync_normalize_name(&n, c->select.v[i]);
		strvec_push(out, n.buf);
		if (strcmp(n.buf, c->select.v[i]))
			strvec_push(out, c->select.v[i]);
	}
	strbuf_release(&n);
	return 0;
}

const struct connector_ops command_connector = {
	.type = "command",
	.caps = 0,
	.open = command_open,
	.extract = command_extract,
	.describe = command_describe,
	.close = command_close,
	.resources = command_resources,
};

/* ---- dango source test ------------------------------------------------------------------ */

int command_check(const struct source *s, const struct project *p, struct strbuf *report)
{
	struct cmd_conf *c = NULL;
	struct strbuf err = STRBUF_INIT;
	json_t *cat = NULL;
	char *dir = NULL;
	int ret = -1;
	if (conf_parse(s, p, &c, &err) < 0) {
		strbuf_addf(report, "✗ %s\n", err.buf);
		goto out;
	}
	if (c->format == FMT_NDJSON || !c->discover) {
		strbuf_addf(report, "? discovery not run (%s); the program's output is checked when it syncs\n",
			    c->format == FMT_NDJSON ? "format: ndjson" : "discover: false");
		ret = 0;
		goto out;
	}
	if (!(dir = make_temp_dir(&err))) {
		strbuf_addf(report, "✗ %s\n", err.buf);
		goto out;
	}
	int found = discover(c, dir, &cat, &err);
	if (found < 0) {
		strbuf_addf(report, "✗ %s\n", err.buf);
		goto out;
	}
	if (!found) {
		mask(c, &err);
		if (c->select.nr) {
			strbuf_addf(report, "✗ 'select' needs the program's catalog, but %s\n", err.buf);
			goto out;
		}
		strbuf_addf(report, "? the program does not support discovery (%s); its output is checked when it syncs\n",
			    err.buf);
		ret = 0;
		goto out;
	}
	struct strvec names = STRVEC_INIT;
	struct strbuf all = STRBUF_INIT;
	catalog_names(cat, &names);
	for (size_t i = 0; i < names.nr; i++)
		strbuf_addf(&all, "%s%s", i ? ", " : "", names.v[i]);
	strbuf_addf(report, "✓ --discover lists %zu stream%s: %s\n", names.nr, names.nr == 1 ? "" : "s",
		    all.len ? all.buf : "(none)");
	strvec_clear(&names);
	strbuf_release(&all);
	if (c->select.nr) {
		strbuf_reset(&err);
		if (check_selection(c, cat, &c->select, &err) < 0) {
			strbuf_addf(report, "✗ %s\n", err.buf);
			goto out;
		}
		strbuf_addf(report, "✓ selected: ");
		for (size_t i = 0; i < c->select.nr; i++)
			strbuf_addf(report, "%s%s", i ? ", " : "", c->select.v[i]);
		strbuf_addch(report, '\n');
	}
	ret = 0;
out:
	if (dir) {
		fs_remove_tree(dir);
		free(dir);
	}
	json_decref(cat);
	conf_free(c);
	strbuf_release(&err);
	return ret;
}
