/*
 * worker.c - the worker process.
 *
 * One client connection at a time: accept, serve it to the end (keep-alive
 * included), accept the next.  A connection whose next head does not
 * come within park_after goes to the gate (relay_park.c), which hands it
 * back, head whole, to any idle worker: a worker waits on the listening
 * sockets (non-blocking, since another worker may take the connection
 * first) and on the gate's socket together, and wakes at least once a
 * second to notice a stop request.
 */
#include <sys/epoll.h>
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
#include "gate.h"
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

/*
 * Wait for a new connection on a listener or a connection the gate hands
 * back, whichever comes first; each worker has its own epoll set, and
 * EPOLLEXCLUSIVE wakes one waiting worker, not all, for each.  A
 * connection back from the gate is served here (its head is whole, the
 * client has waited already); a new one is returned.  -1 with errno
 * EAGAIN when there was none (yet).
 */
static int
worker_accept(int ep, const struct listener *ls, size_t nls,
    struct sockaddr_storage *peer, const struct listener **from,
    uint64_t *served)
{
	struct epoll_event	 evs[8];
	socklen_t		 len;
	size_t			 i;
	int			 fd, n, k;

	(void)nls;
	if ((n = epoll_wait(ep, evs, 8, 1000)) <= 0) {
		if (n == 0)
			errno = EAGAIN;	/* nothing came: not an error */
		return -1;
	}
	for (k = 0; k < n; k++)
		if (evs[k].data.u64 == UINT64_MAX) {
			/* a waiting client first, then new ones */
			*served += relay_resume(gate_ready_fd());
			errno = EAGAIN;
			return -1;
		}
	for (k = 0; k < n; k++) {
		i = (size_t)evs[k].data.u64;
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

/* The worker's epoll set: every listener and the gate's socket. */
static int
worker_epoll(const struct listener *ls, size_t nls)
{
	struct epoll_event	 ev;
	size_t			 i;
	int			 ep;

	if ((ep = epoll_create1(EPOLL_CLOEXEC)) == -1)
		fatal("epoll_create1");
	for (i = 0; i <= nls; i++) {
		memset(&ev, 0, sizeof(ev));
		ev.events = EPOLLIN | EPOLLEXCLUSIVE;
		ev.data.u64 = i < nls ? (uint64_t)i : UINT64_MAX;
		if (i == nls && gate_ready_fd() == -1)
			break;
		if (epoll_ctl(ep, EPOLL_CTL_ADD, i < nls ? ls[i].fd :
		    gate_ready_fd(), &ev) == -1)
			fatal("epoll_ctl");
	}
	return ep;
}

void
worker_child_start(void (*handler)(int), const int *caught, int deathsig,
    pid_t master, const struct proc_creds *creds)
{
	char	 err[256];

	proc_signals(handler, caught);
	(void)prctl(PR_SET_PDEATHSIG, deathsig);
	/* the master died before the signal above was asked for */
	if (getppid() != master)
		exit(WORKER_EXIT_OK);
	if (proc_creds_drop(creds, err, sizeof(err)) == -1) {
		log_error("%s", err);
		exit(WORKER_EXIT_FATAL);
	}
	proc_harden();
}

void
worker_sandbox(const struct config *cf)
{
	char	 err[256];

	if (!cf->seccomp)
		return;
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
	/* the sanitizers' runtime calls more than a worker does */
	(void)err;
	log_warnx("seccomp is off in a sanitizer build");
#else
	if (sandbox_enter(err, sizeof(err)) == -1) {
		log_error("%s", err);
		exit(WORKER_EXIT_FATAL);
	}
#endif
}

void
worker_main(const struct config *cf, const struct listener *ls, size_t nls,
    unsigned slot, const struct proc_creds *creds, pid_t master)
{
	/* no SA_RESTART: a blocked accept or read must see the signal */
	static const int	 caught[] = { SIGQUIT, SIGWINCH, SIGUSR1, 0 };
	struct sockaddr_storage	 peer;
	const struct listener	*from;
	uint64_t		 served = 0;
	int			 fd, ep;

	log_set_role("worker");
	scoreboard_set_self(slot);
	atomic_store(&scoreboard_slot(slot)->pid, (int32_t)getpid());
	/* a master that dies takes its workers with it, gracefully */
	worker_child_start(worker_signal, caught, SIGQUIT, master, creds);
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
	gate_worker_init();
	ep = worker_epoll(ls, nls);
	relay_init(cf, &worker_stop, slot);
	relay_resume_init(ls, nls);
	worker_sandbox(cf);
	while (!worker_stop) {
		if (cf->max_requests_per_worker != 0 &&
		    served >= cf->max_requests_per_worker)
			break;
		if (worker_reopen) {
			worker_reopen = 0;
			(void)log_reopen();
			(void)alog_reopen();
		}
		scoreboard_state(SB_IDLE);
		fd = worker_accept(ep, ls, nls, &peer, &from, &served);
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
	}
	scoreboard_state(SB_CLOSING);
	relay_fini();
	close(ep);
	exit(WORKER_EXIT_OK);
}
