/* Notifications of schedule results: a JSON POST to the URL held by the
 * environment variable that project.yml's notifications.webhook_url_env
 * names. A Slack incoming webhook (hooks.slack.com, or webhook_format:
 * slack) gets Slack's shape, {"text": ...}; any other URL gets the event
 * as an object with a "text" too. Delivery is best effort: a failure is
 * reported to the caller, who logs it; it never fails a job. */
#ifndef DANGO_SCHEDULE_NOTIFY_H
#define DANGO_SCHEDULE_NOTIFY_H
#include <jansson.h>
struct strbuf;
struct env;

struct notify_config {
	char *url_env;            /* NULL: notifications are off */
	char *format;             /* auto | slack | json */
	double stale_after_hours; /* default 24 */
};

/* Read the notifications block of root/.dango/project.yml (already
 * validated by project_load). */
void notify_config_load(struct notify_config *c, const char *project_root);
void notify_config_release(struct notify_config *c);

/* POST event ("failure", "success", "stale") with the fields of info (a
 * JSON object holding at least "text"). 0 when the server answered 2xx;
 * -1 with a message otherwise (never naming the URL's secret parts). */
int notify_send(const struct notify_config *c, const struct env *env, const char *event, json_t *info,
		struct strbuf *err);

#endif
