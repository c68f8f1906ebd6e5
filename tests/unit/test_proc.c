/* Child processes: pipes, environment additions, exit status, timeouts. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/proc.h"
#include "core/strbuf.h"

static void read_all(int fd, struct strbuf *sb)
{
	char buf[256];
	ssize_t n;
	while ((n = read(fd, buf, sizeof buf)) > 0)
		strbuf_add(sb, buf, (size_t)n);
}

static void test_pipe_and_env(void **state)
{
	(void)state;
	const char *argv[] = { "sh", "-c", "echo \"$DANGO_T\"; echo oops >&2; exit 3", NULL };
	const char *env[] = { "DANGO_T=hello", NULL };
	struct proc_opts o = { .argv = argv, .env_add = env, .out = PROC_PIPE, .err = PROC_PIPE,
			       .stdin_null = 1 };
	struct proc p;
	struct strbuf err = STRBUF_INIT, out = STRBUF_INIT, errtext = STRBUF_INIT, why = STRBUF_INIT;
	assert_int_equal(proc_spawn(&p, &o, &err), 0);
	read_all(p.stdout_fd, &out);
	read_all(p.stderr_fd, &errtext);
	assert_int_equal(proc_wait(&p, -1), 1);
	assert_string_equal(out.buf, "hello\n");
	assert_string_equal(errtext.buf, "oops\n");
	assert_int_equal(proc_describe_status(&why, p.status), 1);
	assert_string_equal(why.buf, "exited with status 3");
	proc_release(&p);
	strbuf_release(&err);
	strbuf_release(&out);
	strbuf_release(&errtext);
	strbuf_release(&why);
}

static void test_timeout_kills_group(void **state)
{
	(void)state;
	/* the grandchild (sleep) must die with the group */
	const char *argv[] = { "sh", "-c", "sleep 30 >/dev/null & echo $!; exec >&-; wait", NULL };
	struct proc_opts o = { .argv = argv, .out = PROC_PIPE, .err = PROC_NULL };
	struct proc p;
	struct strbuf err = STRBUF_INIT, pid = STRBUF_INIT, stat = STRBUF_INIT;
	assert_int_equal(proc_spawn(&p, &o, &err), 0);
	read_all(p.stdout_fd, &pid); /* the grandchild's pid; EOF once sh closed stdout */
	assert_int_equal(proc_wait(&p, 0.1), 0);
	proc_terminate(&p, 2);
	assert_true(WIFSIGNALED(p.status));
	/* the grandchild is gone or a zombie waiting for init, never running */
	usleep(100 * 1000);
	strbuf_addf(&stat, "/proc/%ld/stat", strtol(pid.buf, NULL, 10));
	FILE *f = fopen(stat.buf, "r");
	if (f) {
		char line[512] = "";
		assert_non_null(fgets(line, sizeof line, f));
		fclose(f);
		assert_non_null(strstr(line, ") Z "));
	}
	proc_release(&p);
	strbuf_release(&err);
	strbuf_release(&pid);
	strbuf_release(&stat);
}

static void test_missing_program(void **state)
{
	(void)state;
	const char *argv[] = { "/nonexistent/program", NULL };
	struct proc_opts o = { .argv = argv, .out = PROC_NULL, .err = PROC_NULL };
	struct proc p;
	struct strbuf err = STRBUF_INIT;
	assert_int_equal(proc_spawn(&p, &o, &err), 0);
	assert_int_equal(proc_wait(&p, -1), 1);
	assert_int_equal(WEXITSTATUS(p.status), 127);
	strbuf_release(&err);
}

int main(void)
{
	const struct CMUnitTest tests[] = { cmocka_unit_test(test_pipe_and_env),
					    cmocka_unit_test(test_timeout_kills_group),
					    cmocka_unit_test(test_missing_program) };
	return cmocka_run_group_tests(tests, NULL, NULL);
}
