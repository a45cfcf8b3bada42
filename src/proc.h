/*
 * proc.h - process plumbing: daemonizing, the pid file, privileges.
 */
#ifndef PROC_H
#define PROC_H

#include <sys/types.h>
#include <stddef.h>

struct config;

struct proc_creds {
	int	 change;	/* 0: keep the current user */
	uid_t	 uid;
	gid_t	 gid;
	char	 user[64];
	char	 chroot[4096];	/* "" = none */
};

/*
 * Look up cf->user/group (master, at start and on reload).  -1 with err
 * ("file:line: message") when either does not exist, and when porter
 * runs as root but the configuration does not name a user: workers run
 * as root only when "user = root" says so.
 */
int	proc_creds_resolve(const struct config *cf, struct proc_creds *pc,
	    char *err, size_t errlen);
/*
 * What start-up would refuse beyond the configuration's own rules, run
 * both by "porter -t" and before start-up: proc_creds_resolve, log files
 * (error_log only when error_log is set: "porter -d" logs to stderr)
 * each openable or creatable, the chroot a directory.
 * -1 with one "file:line: message" line per problem in err.
 */
int	proc_preflight(const struct config *cf, int error_log, char *err,
	    size_t errlen);
/* Drop to pc (worker, after fork); -1 with err, verified afterwards. */
int	proc_creds_drop(const struct proc_creds *pc, char *err, size_t errlen);
/*
 * Signals in a child of the master: handler for the 0-terminated list
 * caught (without SA_RESTART, so blocking calls see them); TERM and INT
 * otherwise end the process; QUIT, WINCH and USR1 otherwise, and PIPE,
 * HUP and USR2 always, are ignored.  The master's blocked mask is lifted.
 */
void	proc_signals(void (*handler)(int), const int *caught);
/*
 * After dropping privileges: no core dumps (they would hold client data
 * and keys) and no way back to privileges through exec.
 */
void	proc_harden(void);
/* Detach from the terminal: double fork, setsid, stdio to /dev/null. */
int	proc_daemonize(char *err, size_t errlen);
int	proc_pidfile_write(const char *path, char *err, size_t errlen);
void	proc_pidfile_remove(const char *path);
/*
 * The pid of the running master named in path, or -1 with err: no file,
 * garbage in it, or a stale file (no such process, or not porter).
 */
pid_t	proc_pidfile_read(const char *path, char *err, size_t errlen);

#endif /* PROC_H */
