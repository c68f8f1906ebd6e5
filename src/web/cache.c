/* Answers kept as text until one of their inputs changes. The page polls
 * several routes every few seconds, and with 100 sources and 1,000 models
 * building an answer (parsing sources.yml, opening the ops-db, walking the
 * snapshot) cost far more than sending it. Each cached answer is keyed by
 * what it was built from: files by device, inode, size and mtime (an edit
 * in place or a rename both change one), the snapshot by when it was
 * taken, the runs by their generation. What changes with the clock alone
 * (a snapshot's age, whether a writer holds the warehouse) is never in the
 * cached text: it is added to each answer. */
#include "web/internal.h"
#include "core/clock.h"
#include "core/xalloc.h"
#include "project/project.h"
#include "project/sources.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

void web_key_file(struct strbuf *key, const char *path)
{
	struct stat sb;
	if (stat(path, &sb) < 0) {
		strbuf_addstr(key, "-;");
		return;
	}
	strbuf_addf(key, "%lx:%lx:%lld:%lld.%09ld;", (unsigned long)sb.st_dev, (unsigned long)sb.st_ino,
		    (long long)sb.st_size, (long long)sb.st_mtim.tv_sec, sb.st_mtim.tv_nsec);
}

/* The ops-db: the file and its WAL (a commit changes the WAL, a checkpoint
 * the file). */
void web_key_opsdb(struct web *w, struct strbuf *key)
{
	struct strbuf path = STRBUF_INIT;
	strbuf_addf(&path, "%s/dango.sqlite", w->p->state_dir);
	web_key_file(key, path.buf);
	strbuf_addstr(&path, "-wal");
	web_key_file(key, path.buf);
	strbuf_release(&path);
}

char *web_cache_get(struct web *w, struct web_text_cache *c, const char *key)
{
	char *out = NULL;
	pthread_mutex_lock(&w->cache_lock);
	if (c->text && c->key && !strcmp(c->key, key) && (!c->until || (long long)clock_now_sec() < c->until))
		out = xstrdup(c->text);
	pthread_mutex_unlock(&w->cache_lock);
	return out;
}

void web_cache_put_until(struct web *w, struct web_text_cache *c, const char *key, const char *text, long long until)
{
	pthread_mutex_lock(&w->cache_lock);
	free(c->key);
	free(c->text);
	c->key = xstrdup(key);
	c->text = xstrdup(text);
	c->until = until;
	pthread_mutex_unlock(&w->cache_lock);
}

void web_cache_put(struct web *w, struct web_text_cache *c, const char *key, const char *text)
{
	web_cache_put_until(w, c, key, text, 0);
}

void web_cache_release(struct web_text_cache *c)
{
	free(c->key);
	free(c->text);
	c->key = c->text = NULL;
}

void web_json_text(struct web_response *rs, const char *obj, json_t *extra)
{
	size_t len = strlen(obj);
	rs->status = 200;
	rs->content_type = "application/json; charset=utf-8";
	strbuf_reset(&rs->body);
	while (len && (obj[len - 1] == '\n' || obj[len - 1] == ' '))
		len--;
	if (!extra || !json_object_size(extra) || len < 2 || obj[len - 1] != '}') {
		strbuf_add(&rs->body, obj, len);
	} else {
		char *tail = json_dumps(extra, JSON_COMPACT);
		strbuf_add(&rs->body, obj, len - 1);
		if (len > 2) /* "{}" takes no comma */
			strbuf_addch(&rs->body, ',');
		strbuf_addstr(&rs->body, tail + 1);
		free(tail);
	}
	strbuf_addch(&rs->body, '\n');
	json_decref(extra);
}

/* ---- sources.yml, parsed once while it is unchanged ------------------------------- */

struct web_sources {
	int refs;
	char *key;
	struct source_list list;
};

static void sources_unref_locked(struct web_sources *s)
{
	if (s && --s->refs == 0) {
		sources_release(&s->list);
		free(s->key);
		free(s);
	}
}

const struct source_list *web_sources_get(struct web *w, struct web_sources **ref, struct strbuf *err)
{
	struct strbuf key = STRBUF_INIT;
	struct web_sources *s = NULL;
	web_key_file(&key, w->p->sources_path);
	pthread_mutex_lock(&w->cache_lock);
	if (w->sources && !strcmp(w->sources->key, key.buf)) {
		s = w->sources;
		s->refs++;
	}
	pthread_mutex_unlock(&w->cache_lock);
	if (!s) {
		s = xcalloc(1, sizeof(*s));
		if (sources_load(&s->list, w->p->sources_path, ".dango/sources.yml", err) < 0) {
			free(s);
			strbuf_release(&key);
			*ref = NULL;
			return NULL;
		}
		s->key = strbuf_detach(&key, NULL);
		s->refs = 2; /* the caller's and the cache's */
		pthread_mutex_lock(&w->cache_lock);
		sources_unref_locked(w->sources);
		w->sources = s;
		pthread_mutex_unlock(&w->cache_lock);
	}
	strbuf_release(&key);
	*ref = s;
	return &s->list;
}

void web_sources_put(struct web *w, struct web_sources *ref)
{
	pthread_mutex_lock(&w->cache_lock);
	sources_unref_locked(ref);
	pthread_mutex_unlock(&w->cache_lock);
}

void web_cache_free_all(struct web *w)
{
	pthread_mutex_lock(&w->cache_lock);
	sources_unref_locked(w->sources);
	w->sources = NULL;
	web_cache_release(&w->sources_text);
	web_cache_release(&w->catalog_text);
	web_cache_release(&w->overview_text);
	web_cache_release(&w->runs_text);
	pthread_mutex_unlock(&w->cache_lock);
}
