/* fork + execvpe. Everything the child needs (its environment, file paths)
 * is prepared before fork, because after fork in a threaded program (DuckDB
 * has threads) only async-signal-safe calls are allowed until exec. */
#include "core/proc.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "core/strbuf.h"
#include "core/strvec.h"

extern char **environ;

static int env_name_matches(const char *entry, const char *add)
{
	const char *eq = strchr(add, '=');
	size_t n = eq ? (size_t)(eq - add) : strlen(add);
	return !strncmp(entry, add, n) && entry[n] == '=';
}

/* Our environment with the additions replacing entries of the same name. */
static void build_env(struct strvec *env, const char *const *add)
{
	for (char **e = environ; *e; e++) {
		int replaced = 0;
		for (const char *const *a = add; a && *a && !replaced; a++)
			replaced = env_name_matches(*e, *a);
		if (!replaced)
			strvec_push(env, *e);
	}
	for (const char *const *a = add; a && *a; a++)
		strvec_push(env, *a);
}

static int open_target(enum proc_out how, const char *path, int pipefd[2], struct strbuf *err)
{
	pipefd[0] = pipefd[1] = -1;
	switch (how) {
	case PROC_PIPE:
		if (pipe2(pipefd, O_CLOEXEC) < 0) {
			strbuf_addf(err, "cannot create a pipe: %s", strerror(errno));
			return -1;
		}
		return 0;
	case PROC_FILE:
		pipefd[1] = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
		if (pipefd[1] < 0) {
			strbuf_addf(err, "cannot open '%s': %s", path, strerror(errno));
			return -1;
		}
		return 0;
	case PROC_NULL:
		pipefd[1] = open("/dev/null", O_WRONLY | O_CLOEXEC);
		return pipefd[1] < 0 ? -1 : 0;
	default:
		return 0;
	}
}

static void close_pair(int fds[2])
{
	for (int i = 0; i < 2; i++)
		if (fds[i] >= 0)
			close(fds[i]);
}

/* In the child: async-signal-safe calls only. */
static void child_exec(const struct proc_opts *o, char **envp, int out[2], int errp[2], int in_fd)
{
	setpgid(0, 0);
	signal(SIGPIPE, SIG_DFL);
	signal(SIGINT, SIG_DFL);
	signal(SIGTERM, SIG_DFL);
	if (in_fd >= 0)
		dup2(in_fd, 0);
	if (out[1] >= 0)
		dup2(out[1], 1);
	if (errp[1] >= 0)
		dup2(errp[1], 2);
	if (o->cwd && chdir(o->cwd) < 0)
		_exit(127);
	execvpe(o->argv[0], (char *const *)o->argv, envp);
	_exit(127);
}

int proc_spawn(struct proc *p, const struct proc_opts *o, struct strbuf *err)
{
	struct strvec env = STRVEC_INIT;
	int out[2] = { -1, -1 }, errp[2] = { -1, -1 }, in_fd = -1, rc = -1;

	p->pid = -1;
	p->stdout_fd = p->stderr_fd = -1;
	p->status = 0;
	build_env(&env, o->env_add);
	if (open_target(o->out, o->out_path, out, err) < 0 ||
	    open_target(o->err, o->err_path, errp, err) < 0)
		goto out;
	if (o->stdin_null && (in_fd = open("/dev/null", O_RDONLY | O_CLOEXEC)) < 0)
		goto out;
	p->pid = fork();
	if (p->pid < 0) {
		strbuf_addf(err, "cannot start '%s': %s", o->argv[0], strerror(errno));
		goto out;
	}
	if (p->pid == 0) {
		static char *no_env[] = { NULL };
		child_exec(o, env.v ? env.v : no_env, out, errp, in_fd);
	}
	setpgid(p->pid, p->pid); /* also here: no race with an early kill */
	p->stdout_fd = out[0];
	p->stderr_fd = errp[0];
	out[0] = errp[0] = -1;
	rc = 0;
out:
	if (in_fd >= 0)
		close(in_fd);
	close_pair(out);
	close_pair(errp);
	strvec_clear(&env);
	return rc;
}

static double monotonic_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

int proc_wait(struct proc *p, double timeout_s)
{
	double deadline = monotonic_now() + timeout_s;
	struct timespec pause = { 0, 20 * 1000 * 1000 };

	for (;;) {
		pid_t r = waitpid(p->pid, &p->status, timeout_s < 0 ? 0 : WNOHANG);
		if (r == p->pid)
			return 1;
		if (r < 0 && errno != EINTR)
			return 1; /* already reaped elsewhere: nothing to wait for */
		if (timeout_s >= 0 && monotonic_now() >= deadline)
			return 0;
		if (timeout_s >= 0)
			nanosleep(&pause, NULL);
	}
}

void proc_kill_group(const struct proc *p, int sig)
{
	if (p->pid > 0)
		kill(-p->pid, sig);
}

void proc_terminate(struct proc *p, double grace_s)
{
	proc_kill_group(p, SIGTERM);
	if (!proc_wait(p, grace_s)) {
		proc_kill_group(p, SIGKILL);
		proc_wait(p, -1);
	}
}

void proc_release(struct proc *p)
{
	if (p->stdout_fd >= 0)
		close(p->stdout_fd);
	if (p->stderr_fd >= 0)
		close(p->stderr_fd);
	p->stdout_fd = p->stderr_fd = -1;
}

int proc_describe_status(struct strbuf *sb, int status)
{
	if (WIFEXITED(status)) {
		if (WEXITSTATUS(status) == 0)
			return 0;
		strbuf_addf(sb, "exited with status %d", WEXITSTATUS(status));
		if (WEXITSTATUS(status) == 127)
			strbuf_addstr(sb, " (command not found or not executable)");
		return 1;
	}
	if (WIFSIGNALED(status)) {
		strbuf_addf(sb, "killed by signal %d (%s)", WTERMSIG(status), strsignal(WTERMSIG(status)));
		return 1;
	}
	strbuf_addstr(sb, "ended abnormally");
	return 1;
}

int proc_read_stat(long pid, char *state, long long *start)
{
	char path[64], buf[1024];
	snprintf(path, sizeof(path), "/proc/%ld/stat", pid);
	FILE *fp = fopen(path, "r");
	if (!fp)
		return -1;
	size_t n = fread(buf, 1, sizeof(buf) - 1, fp);
	fclose(fp);
	buf[n] = '\0';
	/* the command name (field 2) may hold spaces: count from its ')' */
	char *p = strrchr(buf, ')');
	if (!p || p[1] != ' ' || !p[2])
		return -1;
	*state = p[2];
	for (int field = 2; *p && field < 22; p++)
		if (*p == ' ')
			field++;
	*start = strtoll(p, NULL, 10);
	return 0;
}
