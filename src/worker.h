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

/*
 * The first steps of every process the master forks (a worker, the
 * checker, the gate), once its log role is set: its signal handler for
 * the signals in caught, deathsig when the master dies, exit at once
 * (WORKER_EXIT_OK) when the master is already gone, then the master's
 * privileges dropped (WORKER_EXIT_FATAL when they cannot be) and the
 * process hardened.
 */
void	worker_child_start(void (*handler)(int), const int *caught,
	    int deathsig, pid_t master, const struct proc_creds *creds);
/*
 * Enter the system call allow-list when cf says seccomp = on (a worker,
 * the gate), after privileges are dropped; exits WORKER_EXIT_FATAL when
 * it cannot.  A sanitizer build stays out and says so.
 */
void	worker_sandbox(const struct config *cf);

#endif /* WORKER_H */
