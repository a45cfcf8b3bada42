/*
 * worker.h - a worker process: the blocking accept-relay loop.
 */
#ifndef WORKER_H
#define WORKER_H

#include <sys/types.h>
#include <stddef.h>

struct config;
struct listener;
struct proc_creds;

/* Exit codes that tell the master what happened. */
#define WORKER_EXIT_OK		0	/* retired or stopped as asked */
#define WORKER_EXIT_FATAL	2	/* cannot start: back off */

/*
 * Run a worker in the freshly forked child: install signal handlers,
 * drop privileges, then accept and serve connections until told to
 * stop.  Never returns.
 */
void	worker_main(const struct config *cf, const struct listener *ls,
	    size_t nls, unsigned slot, const struct proc_creds *creds,
	    pid_t master)
	    __attribute__((noreturn));

#endif /* WORKER_H */
