/*
 * checker.h - the checker process: one process (not one per worker)
 * probes every server of the pools that ask for active health checks and
 * writes the verdicts into the shared backend table.
 */
#ifndef CHECKER_H
#define CHECKER_H

#include <sys/types.h>

struct config;
struct proc_creds;

/* Does any pool of cf ask for active checks? */
int	checker_wanted(const struct config *cf);
/*
 * Run the checker in a freshly forked child: drop privileges, then probe
 * until SIGTERM or SIGQUIT, or until the master is gone.  Never returns.
 */
void	checker_main(const struct config *cf, const struct proc_creds *creds,
	    pid_t master) __attribute__((noreturn));

#endif /* CHECKER_H */
