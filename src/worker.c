/*
 * worker.c - the worker process.
 *
 * One client connection at a time: accept, serve it to the end (keep-alive
 * included), accept the next.  A single listening socket is accepted on
 * with a blocking accept, which the kernel hands to exactly one waiting
 * worker; with several, the worker polls first and the sockets are
 * non-blocking.  The listening sockets carry a one second receive timeout
 * (set by the master) so that a stop request that lands just before
 * accept is seen within a second.
 */
#include <sys/prctl.h>
#include <sys/socket.h>
#include <errno.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "alog.h"
#include "config.h"
#include "listener.h"
#include "log.h"
#include "proc.h"
#include "relay.h"
#include "sandbox.h"
#include "scoreboard.h"
#include "worker.h"

static volatile sig_atomic_t	 worker_stop;
static volatile sig_atomic_t	 worker_reopen;

/*
 * worker_stop: 1 = retire (a reload: drain keep-alive clients by answering
 * their next request with "Connection: close"), 2 = stop (close idle
 * connections now).
 */
static void
worker_signal(int sig)
{
	if (sig == SIGQUIT)
		worker_stop = 2;
	else if (sig == SIGWINCH && worker_stop == 0)
		worker_stop = 1;
	else if (sig == SIGUSR1)
		worker_reopen = 1;
}

/* Wait for and accept one connection; -1 when there is none (yet). */
static int
worker_accept(const struct listener *ls, struct pollfd *pfd, size_t nls,
    struct sockaddr_storage *peer, const struct listener **from)
{
	socklen_t	 len;
	size_t		 i;
	int		 fd, n;

	*from = &ls[0];
	if (nls == 1) {
		len = sizeof(*peer);
		return accept4(ls[0].fd, (struct sockaddr *)peer, &len,
		    SOCK_CLOEXEC);
	}
	if ((n = poll(pfd, nls, 1000)) <= 0) {
		if (n == 0)
			errno = EAGAIN;	/* nothing came: not an error */
		return -1;
	}
	for (i = 0; i < nls; i++) {
		if (!(pfd[i].revents & POLLIN))
			continue;
		len = sizeof(*peer);
		fd = accept4(ls[i].fd, (struct sockaddr *)peer, &len,
		    SOCK_CLOEXEC);
		if (fd != -1) {
			*from = &ls[i];
			return fd;
		}
	}
	errno = EAGAIN;
	return -1;
}

void
worker_main(const struct config *cf, const struct listener *ls, size_t nls,
    unsigned slot, const struct proc_creds *creds, pid_t master)
{
	/* no SA_RESTART: a blocked accept or read must see the signal */
	static const int	 caught[] = { SIGQUIT, SIGWINCH, SIGUSR1, 0 };
	struct sockaddr_storage	 peer;
	struct pollfd		*pfd;
	const struct listener	*from;
	char			 err[256];
	size_t			 i;
	uint64_t		 served = 0;
	int			 fd;

	log_set_role("worker");
	scoreboard_set_self(slot);
	atomic_store(&scoreboard_slot(slot)->pid, (int32_t)getpid());
	proc_signals(worker_signal, caught);
	/* a master that dies takes its workers with it, gracefully */
	(void)prctl(PR_SET_PDEATHSIG, SIGQUIT);
	if (getppid() != master)
		exit(WORKER_EXIT_OK);
	if (proc_creds_drop(creds, err, sizeof(err)) == -1) {
		log_error("%s", err);
		exit(WORKER_EXIT_FATAL);
	}
	proc_harden();
	if (cf->sched_batch) {
		/*
		 * Workers sleep and wake twice a request: as batch tasks
		 * they do not preempt each other on every wake-up, which
		 * measured well over a quarter more throughput under load.
		 */
		struct sched_param	 sp;

		memset(&sp, 0, sizeof(sp));
		(void)sched_setscheduler(0, SCHED_BATCH, &sp);
	}
	if ((pfd = calloc(nls, sizeof(*pfd))) == NULL)
		fatal("calloc");
	for (i = 0; i < nls; i++) {
		pfd[i].fd = ls[i].fd;
		pfd[i].events = POLLIN;
	}
	relay_init(cf, &worker_stop, slot);
	if (cf->seccomp) {
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
		/* the sanitizers' runtime calls more than a worker does */
		log_warnx("seccomp is off in a sanitizer build");
#else
		if (sandbox_enter(err, sizeof(err)) == -1) {
			log_error("%s", err);
			exit(WORKER_EXIT_FATAL);
		}
#endif
	}
	while (!worker_stop) {
		if (worker_reopen) {
			worker_reopen = 0;
			(void)log_reopen();
			(void)alog_reopen();
		}
		scoreboard_state(SB_IDLE);
		fd = worker_accept(ls, pfd, nls, &peer, &from);
		if (fd == -1) {
			if (errno == EMFILE || errno == ENFILE) {
				log_warn("accept");
				/* let connections close before trying again */
				(void)poll(NULL, 0, 100);
			} else if (errno != EAGAIN && errno != EINTR &&
			    errno != ECONNABORTED && errno != EWOULDBLOCK)
				log_warn("accept");
			continue;
		}
		served += relay_serve(fd, &peer, from);
		if (cf->max_requests_per_worker != 0 &&
		    served >= cf->max_requests_per_worker)
			break;
	}
	scoreboard_state(SB_CLOSING);
	relay_fini();
	free(pfd);
	exit(WORKER_EXIT_OK);
}
