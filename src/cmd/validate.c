/* dango validate: configuration, credentials and the dbt project. */
#include "cmd/cmd.h"
#include "cmd/common.h"
#include "warehouse/pg_query.h"
#include "warehouse/pg_warehouse.h"
#include "core/fs.h"
#include "core/opts.h"
#include "core/strbuf.h"
#include "core/ui.h"
#include "core/yaml.h"
#include "ingest/connector.h"
#include "sources/check.h"
#include "transform/dbt.h"

#include <stdio.h>
#include <string.h>

static const struct cmd_info info = {
	"validate", "dango validate",
	"Check .dango/project.yml, .dango/sources.yml, .dango/schedules.yml, that each enabled source's credentials\n"
	"are set (never printing them) and its files exist, and the dbt project files.\n"
	"Exits 1 if anything is wrong.", NULL,
};

/* Parse a YAML file of the dbt project; returns its doc or reports. */
static int load_yaml(const char *path, const char *display, struct strbuf *text, struct ydoc *doc,
		     int *problems)
{
	struct strbuf err = STRBUF_INIT;
	if (strbuf_read_file(text, path) < 0) {
		ui_fail("%s: missing", display);
		(*problems)++;
		strbuf_release(&err);
		return -1;
	}
	if (ydoc_parse(doc, display, text->buf, text->len, &err) < 0) {
		ui_fail("%s", err.buf);
		(*problems)++;
		strbuf_release(&err);
		return -1;
	}
	strbuf_release(&err);
	return 0;
}

/* dbt sources that read raw_<x> of a source x no longer in sources.yml
 * (removed, with its generated files left behind), and the models that
 * read them: dango run would fail on them. */
static void check_dangling(const struct project *p, const struct dbt_project *dp, const struct source_list *list,
			   int *problems)
{
	struct strvec gone = STRVEC_INIT; /* "src.table" of dbt sources pointing at nothing */
	struct warehouse wh;
	struct strbuf e = STRBUF_INIT;
	/* raw tables loaded by other means (no source, but there) are fine */
	int have_wh = pg_warehouse_enabled(p) ? pg_query_open(&wh, p, WH_READ_ONLY, p->pg.statement_timeout, &e) == 0
		      : fs_exists(p->warehouse_path) && warehouse_open(&wh, p->warehouse_path, WH_READ_ONLY, &e) == 0;
	strbuf_release(&e);
	for (size_t i = 0; i < dp->nr; i++) {
		const struct dbt_node *n = dp->nodes[i];
		if (n->kind != NODE_SOURCE || !n->schema || strncmp(n->schema, "raw_", 4) || sources_find(list, n->schema + 4))
			continue;
		if (have_wh && warehouse_has_table(&wh, n->schema, n->identifier ? n->identifier : n->name))
			continue;
		struct strbuf key = STRBUF_INIT;
		strbuf_addf(&key, "%s.%s", n->source_name, n->name);
		if (!strvec_has(&gone, key.buf)) {
			strvec_push(&gone, key.buf);
			ui_fail("dbt/%s: source '%s' table '%s' reads %s.%s, but .dango/sources.yml has no source '%s'",
				n->file ? n->file : "?", n->source_name, n->name, n->schema, n->identifier ? n->identifier : n->name,
				n->schema + 4);
			(*problems)++;
		}
		strbuf_release(&key);
	}
	for (size_t i = 0; i < dp->nr && gone.nr; i++) {
		const struct dbt_node *n = dp->nodes[i];
		if (n->kind != NODE_MODEL || !n->enabled)
			continue;
		for (size_t k = 0; k < n->sources.nr; k++) {
			if (!strvec_has(&gone, n->sources.v[k]))
				continue;
			ui_fail("dbt/%s: model '%s' reads source '%s', whose source is gone from .dango/sources.yml "
				"(delete the model, or add the source back)", n->file, n->name, n->sources.v[k]);
			(*problems)++;
			break;
		}
	}
	strvec_clear(&gone);
	if (have_wh)
		warehouse_close(&wh);
}

/* Parse every model, macro and schema file as dango run would, and build the
 * graph: Jinja errors, missing refs and cycles are found here. */
static void check_models(const struct project *p, const struct source_list *list, int *problems)
{
	struct dbt_project dp;
	struct strbuf err = STRBUF_INIT;
	struct dbt_load_opts lo = { 0 };
	lo.project_dir = p->dbt_dir;
	lo.profiles_dir = p->dango_dir;
	lo.profiles_base = p->root;
	if (dbt_project_load(&dp, &lo, &err) < 0 || dbt_graph_build(&dp, &err) < 0) {
		ui_fail("dbt project: %s", err.buf);
		(*problems)++;
	} else {
		size_t models = 0, tests = 0, bad = 0;
		for (size_t i = 0; i < dp.nr; i++) {
			models += dp.nodes[i]->kind == NODE_MODEL;
			tests += dp.nodes[i]->kind == NODE_TEST;
			/* a node that would fail when it runs (a parse error, an
			 * unsupported feature): dango run fails it alone */
			if (dp.nodes[i]->load_error) {
				ui_fail("dbt project: %s", dp.nodes[i]->load_error);
				bad++;
			}
		}
		*problems += (int)bad;
		if (!bad)
			ui_ok("dbt project: %zu model%s and %zu test%s parse", models, models == 1 ? "" : "s", tests,
		      tests == 1 ? "" : "s");
		if (list)
			check_dangling(p, &dp, list, problems);
	}
	dbt_project_release(&dp);
	strbuf_release(&err);
}

static void check_dbt(const struct project *p, const struct source_list *list, int *problems)
{
	struct strbuf path = STRBUF_INIT, text = STRBUF_INIT, ptext = STRBUF_INIT;
	struct ydoc doc = { 0 }, prof = { 0 };
	fs_path_join(&path, p->dbt_dir, "dbt_project.yml");
	if (load_yaml(path.buf, "dbt/dbt_project.yml", &text, &doc, problems) < 0)
		goto out;
	const struct ynode *name = ymap_get(doc.root, "name"), *profile = ymap_get(doc.root, "profile");
	int bad = 0;
	if (!name || name->kind != Y_SCALAR || ynode_is_null(name)) {
		ui_fail("dbt/dbt_project.yml: missing required key 'name'");
		bad++;
	}
	if (!profile || profile->kind != Y_SCALAR || ynode_is_null(profile)) {
		ui_fail("dbt/dbt_project.yml: missing key 'profile'");
		bad++;
	}
	const struct ynode *mp = ymap_get(doc.root, "model-paths");
	for (size_t i = 0; mp && mp->kind == Y_SEQ && i < mp->n; i++) {
		struct strbuf d = STRBUF_INIT;
		fs_path_join(&d, p->dbt_dir, mp->items[i]->str);
		if (!fs_is_dir(d.buf)) {
			ui_fail("dbt/dbt_project.yml:%d:%d: model path '%s' does not exist", mp->items[i]->line,
				mp->items[i]->col, mp->items[i]->str);
			bad++;
		}
		strbuf_release(&d);
	}
	if (!bad)
		ui_ok("dbt/dbt_project.yml (project '%s')", name->str);
	*problems += bad;
	if (!profile || profile->kind != Y_SCALAR)
		goto out;
	strbuf_reset(&path);
	fs_path_join(&path, p->dango_dir, "profiles.yml");
	if (load_yaml(path.buf, ".dango/profiles.yml", &ptext, &prof, problems) < 0)
		goto out;
	const struct ynode *pr = ymap_get(prof.root, profile->str);
	if (!pr) {
		ui_fail(".dango/profiles.yml: no profile '%s' (named in dbt/dbt_project.yml)", profile->str);
		(*problems)++;
		goto out;
	}
	const struct ynode *target = ymap_get(pr, "target");
	const char *tname = target && target->kind == Y_SCALAR ? target->str : "dev";
	const struct ynode *out = ymap_get(ymap_get(pr, "outputs"), tname);
	const struct ynode *type = ymap_get(out, "type");
	if (!out) {
		ui_fail(".dango/profiles.yml: profile '%s' has no output '%s'", profile->str, tname);
		(*problems)++;
	} else if (!type || type->kind != Y_SCALAR || strcmp(type->str, pg_warehouse_enabled(p) ? "postgres" : "duckdb")) {
		/* the profile follows project.yml's warehouse: 'dango generate' or 'dango run' rewrite it */
		ui_fail(".dango/profiles.yml:%d:%d: output '%s' must be of type '%s' (project.yml's warehouse)", out->line,
			out->col, tname, pg_warehouse_enabled(p) ? "postgres" : "duckdb");
		(*problems)++;
	} else {
		ui_ok(".dango/profiles.yml (profile '%s', target '%s')", profile->str, tname);
		check_models(p, list, problems);
	}
out:
	ydoc_release(&doc);
	ydoc_release(&prof);
	strbuf_release(&path);
	strbuf_release(&text);
	strbuf_release(&ptext);
}

int cmd_validate(int argc, const char **argv)
{
	struct strvec args = STRVEC_INIT;
	struct project p;
	struct source_list list;
	struct strbuf err = STRBUF_INIT;
	int problems = 0, ret;
	const struct opt opts[] = { OPT_END() };
	ret = opts_parse(&info, opts, argc, argv, &args);
	strvec_clear(&args);
	if (ret)
		return ret == OPTS_HELP ? EXIT_OK : EXIT_USAGE;
	if ((ret = cmd_open_project(&p)))
		return ret;
	ui_print("Validating project '%s'...", p.name);
	ui_ok(".dango/project.yml");
	int have_list = 0;
	if (sources_load(&list, p.sources_path, ".dango/sources.yml", &err) < 0) {
		/* one line per problem, each counted */
		for (char *line = err.buf, *nl; line && *line; line = nl ? nl + 1 : NULL) {
			nl = strchr(line, '\n');
			if (nl)
				*nl = '\0';
			ui_fail("%s", line);
			problems++;
		}
	} else {
		have_list = 1;
		ui_ok(".dango/sources.yml (%zu source%s)", list.nr, list.nr == 1 ? "" : "s");
		for (size_t i = 0; i < list.nr; i++) {
			const struct source *s = &list.items[i];
			struct strbuf report = STRBUF_INIT;
			if (!s->enabled)
				continue;
			if (source_check(s, &p, 0, &report) < 0) {
				for (char *line = report.buf, *nl; line && *line; line = nl ? nl + 1 : NULL) {
					nl = strchr(line, '\n');
					if (nl)
						*nl = '\0';
					if (!strncmp(line, "✗ ", strlen("✗ "))) {
						ui_fail("source '%s': %s", s->name, line + strlen("✗ "));
						problems++;
					}
				}
			} else if (!connector_for(s->type_name)) {
				ui_fail("source '%s': 'dango sync' cannot sync sources of type '%s' yet", s->name, s->type_name);
				problems++;
			} else {
				ui_ok("source '%s': ready", s->name);
			}
			strbuf_release(&report);
		}
	}
	cmd_validate_schedules(&p, have_list ? &list : NULL, &problems);
	check_dbt(&p, have_list ? &list : NULL, &problems);
	/* breaking schema drift: a warning, not a problem (src/cmd/governance.c) */
	cmd_drift_validate(&p);
	sources_release(&list);
	if (problems)
		ui_print("\n%d problem%s found.", problems, problems == 1 ? "" : "s");
	else
		ui_print("\nAll checks passed.");
	project_release(&p);
	strbuf_release(&err);
	return problems ? EXIT_FAIL : EXIT_OK;
}
