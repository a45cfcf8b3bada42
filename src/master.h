/*
 * master.h - the master process: owns the configuration, the listening
 * sockets, the shared segment, the pid file and the signals; forks and
 * watches the workers; never serves a request.
 */
#ifndef MASTER_H
#define MASTER_H

struct config;

/*
 * Run the master until stopped; returns the process exit code.  Takes
 * ownership of cf (a reload replaces it).  argv is how porter was started,
 * kept for a binary upgrade.
 */
int	master_run(struct config *cf, int foreground, char *const argv[]);

#endif /* MASTER_H */
