/*
 * master.h - the master process: owns the configuration, the listening
 * sockets, the shared segment, the pid file and the signals; forks and
 * watches the workers; never serves a request.
 */
#ifndef MASTER_H
#define MASTER_H

struct config;

/* How the master runs (master_run's foreground). */
#define MASTER_DAEMON		0	/* detach; logs as configured */
#define MASTER_STDERR		1	/* -d: stay, log to stderr */
#define MASTER_FOREGROUND	2	/* -f: stay, logs as configured */

/*
 * Run the master until stopped; returns the process exit code.  Takes
 * ownership of cf (a reload replaces it).  foreground: MASTER_*.  argv is
 * how porter was started, kept for a binary upgrade.
 */
int	master_run(struct config *cf, int foreground, char *const argv[]);

#endif /* MASTER_H */
