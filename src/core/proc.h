/* Child processes: command sources, scheduled jobs and web-triggered syncs
 * all run programs the same way. A child gets its own process group, so a
 * timeout or a second Ctrl-C kills everything it started; its environment is
 * ours plus the given additions; stdout and stderr go to a pipe, a file, or
 * stay ours. */
#ifndef DANGO_PROC_H
#define DANGO_PROC_H
#include <sys/types.h>
struct strbuf;

enum proc_out {
	PROC_INHERIT = 0, /* the parent's stream */
	PROC_PIPE,        /* a pipe: read from proc.stdout_fd / proc.stderr_fd */
	PROC_FILE,        /* appended to the given path (created 0600) */
	PROC_NULL,        /* /dev/null */
};

struct proc_opts {
	const char *const *argv;     /* argv[0] is looked up in PATH; NULL-terminated */
	const char *cwd;             /* NULL: ours */
	const char *const *env_add;  /* "NAME=value" entries added or replaced; NULL-terminated or NULL */
	enum proc_out out, err;
	const char *out_path, *err_path; /* for PROC_FILE */
	int stdin_null;              /* stdin from /dev/null instead of ours */
};

struct proc {
	pid_t pid;       /* also the process group id */
	int stdout_fd;   /* -1 unless PROC_PIPE */
	int stderr_fd;
	int status;      /* waitpid status, valid once proc_wait said it ended */
};

/* Start the program. 0, or -1 with a message (a program that cannot be
 * executed is reported by the child as exit status 127, as a shell does). */
int proc_spawn(struct proc *p, const struct proc_opts *o, struct strbuf *err);
/* Wait for the child up to timeout_s seconds (< 0: for ever). 1 when it
 * ended (status in p->status), 0 on timeout. */
int proc_wait(struct proc *p, double timeout_s);
/* Send sig to the child's whole process group. */
void proc_kill_group(const struct proc *p, int sig);
/* Stop the group: SIGTERM, then SIGKILL after grace_s seconds; waits. */
void proc_terminate(struct proc *p, double grace_s);
/* Close any pipe ends still open. */
void proc_release(struct proc *p);
/* "exited with status 3", "killed by signal 9 (Killed)"; 0 when it exited
 * with status 0 (nothing is appended then). */
int proc_describe_status(struct strbuf *sb, int status);
/* What /proc/<pid>/stat says of any process: its state letter (field 3,
 * 'Z' for a zombie) and when it started (clock ticks after boot, field 22,
 * which tells a reused pid apart). -1 where /proc cannot tell. */
int proc_read_stat(long pid, char *state, long long *start);

#endif
