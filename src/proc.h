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
};

/* Look up cf->user/group (master, at start).  -1 with err on failure. */
int	proc_creds_resolve(const struct config *cf, struct proc_creds *pc,
	    char *err, size_t errlen);
/* Drop to pc (worker, after fork); -1 with err, verified afterwards. */
int	proc_creds_drop(const struct proc_creds *pc, char *err, size_t errlen);
/* Detach from the terminal: double fork, setsid, stdio to /dev/null. */
int	proc_daemonize(char *err, size_t errlen);
int	proc_pidfile_write(const char *path, char *err, size_t errlen);
void	proc_pidfile_remove(const char *path);

#endif /* PROC_H */
