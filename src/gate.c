/*
 * gate.c - the gate: what waits holds no worker.
 *
 * A worker whose client has not sent a whole request head within
 * park_after (a new connection trickling its head, or a keep-alive
 * connection idle between requests) hands the connection to the gate
 * with the bytes read so far (handoff.c).  The gate watches thousands of
 * such connections with epoll, reads what comes without parsing more
 * than it takes to find the end of a head, and hands each connection
 * back, head included, to whichever idle worker reads the shared socket
 * first.  It enforces the deadlines the worker wrote into the hand-off
 * (client_header_timeout: 408; keepalive_timeout or no first byte: a
 * plain close), max_header_size (431), max_connections and
 * max_conns_per_ip.  It never talks to a backend.
 *
 * The gate belongs to the master, not to a generation: a reload keeps it
 * (the limits it applies live in the shared segment), and the sockets
 * are the master's too, so records sent while the gate is being
 * restarted wait for the next one.  A connection the gate held when it
 * died is lost; the master counts those from the gauge kept here.
 *
 * The gate never changes a connection's file status flags (they belong
 * to the open file the worker gets back): it reads and writes with
 * MSG_DONTWAIT.
 */
#include <sys/epoll.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cache_store.h"
#include "config.h"
#include "gate.h"
#include "gate_tls.h"
#include "gate_spool.h"
#include "gate_tail.h"
#include "handoff.h"
#include "http.h"
#include "limit.h"
#include "log.h"
#include "proc.h"
#include "stats.h"
#include "util.h"
#include "worker.h"

#define GATE_SCAN_MS	100		/* how often deadlines are looked at */
#define GATE_EVENTS	256
#define GATE_RECV_MAX	HANDOFF_DATA_MAX	/* a record's bytes */
#define GATE_SOCKBUF	(4 * 1024 * 1024)	/* records in flight */
#define GATE_ENV	"PORTER_GATE_FDS"	/* the sockets, to a new binary */
#define GATE_PASS_MS	5000	/* a hand-over gives up after this */

/* sockets: [0] the workers' end, [1] the gate's end */
static int	gate_in[2] = { -1, -1 };	/* workers -> gate */
static int	gate_out[2] = { -1, -1 };	/* gate -> workers */

struct gate_conn {
	struct handoff		 h;		/* as parked; h.len: bytes held */
	int			 fd;
	int			 ready;		/* head whole: for a worker */
	char			*buf;
	size_t			 cap;
	size_t			 idx;		/* in gate.conns */
	uint64_t		 ipkey;
	struct gate_conn	*next;		/* ready queue */
};

struct gate {
	const struct config	*cf;
	struct stats_shm	*st;
	int			 ep;
	int			 out_armed;	/* EPOLLOUT wanted on gate_out */
	struct gate_conn	**conns;
	size_t			 n, cap;
	struct gate_conn	*rq, *rq_tail;	/* ready, no room to send */
	char			*rbuf;
	int			 full_logged;
};

static volatile sig_atomic_t	 gate_stop, gate_reopen;
static char			 gate_tag_in;	/* epoll marks */
static char			 gate_tag_out;
static char			 gate_tag_spool;
static char			 gate_tag_tail;	/* response tails' epoll */

/*
 * gate_stop: 1 = close what waits and exit, 2 = pass it on (upgrade),
 * 3 = close it (a graceful stop); after 2 and 3 the response tails are
 * finished first, unless a 1 comes to hurry.
 */
static void
gate_signal(int sig)
{
	if (sig == SIGUSR1)
		gate_reopen = 1;
	else if (sig == SIGWINCH)
		gate_stop = 2;
	else if (sig == SIGQUIT && gate_stop != 1)
		gate_stop = 3;
	else
		gate_stop = 1;
}

/*
 * A binary upgrade hands the sockets on, as the listening ones: both
 * masters' gates then read one queue and both generations of workers
 * the other, and the old gate passes what it holds to the new one.
 */
static int
gate_import(void)
{
	const char	*v = getenv(GATE_ENV);
	int		 fd[4], i;

	if (v == NULL)
		return -1;
	if (sscanf(v, "%d,%d,%d,%d", &fd[0], &fd[1], &fd[2], &fd[3]) != 4) {
		unsetenv(GATE_ENV);
		return -1;
	}
	unsetenv(GATE_ENV);
	for (i = 0; i < 4; i++)
		if (fd[i] < 0 || fcntl(fd[i], F_SETFD, FD_CLOEXEC) == -1)
			return -1;
	gate_in[0] = fd[0];
	gate_in[1] = fd[1];
	gate_out[0] = fd[2];
	gate_out[1] = fd[3];
	return 0;
}

int
gate_export(void)
{
	char	 v[64];
	int	 i, fds[4] = { gate_in[0], gate_in[1], gate_out[0],
	    gate_out[1] };

	for (i = 0; i < 4; i++)
		if (fds[i] == -1 || fcntl(fds[i], F_SETFD, 0) == -1)
			return -1;
	snprintf(v, sizeof(v), "%d,%d,%d,%d", fds[0], fds[1], fds[2], fds[3]);
	return setenv(GATE_ENV, v, 1);
}

static int
gate_sockbuf(int fd)
{
	int	 sz = GATE_SOCKBUF;

	/* root may go past net.core.wmem_max; others get what it allows */
	if (setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &sz, sizeof(sz)) == -1)
		(void)setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sz, sizeof(sz));
	return 0;
}

int
gate_open(const struct config *cf, char *err, size_t errlen)
{
	struct rlimit	 rl;
	rlim_t		 want;

	if (gate_import() == -1 && (socketpair(AF_UNIX, SOCK_SEQPACKET |
	    SOCK_CLOEXEC, 0, gate_in) == -1 || socketpair(AF_UNIX,
	    SOCK_SEQPACKET | SOCK_CLOEXEC, 0, gate_out) == -1)) {
		snprintf(err, errlen, "gate: socketpair: %s", strerror(errno));
		return -1;
	}
	(void)gate_sockbuf(gate_in[0]);
	(void)gate_sockbuf(gate_out[1]);
	/*
	 * Every connection held is a descriptor in the gate or a worker,
	 * and one more in flight while it moves.
	 */
	want = (rlim_t)cf->max_connections + 2 * (rlim_t)cf->max_workers +
	    1024;
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < want) {
		if (rl.rlim_max < want) {
			struct rlimit	 up = { want, want };

			if (setrlimit(RLIMIT_NOFILE, &up) == 0)
				rl = up;	/* root may raise the ceiling */
		}
		rl.rlim_cur = rl.rlim_max < want ? rl.rlim_max : want;
		(void)setrlimit(RLIMIT_NOFILE, &rl);
		if (rl.rlim_cur < want)
			log_warnx("open files limited to %llu, fewer than "
			    "max_connections needs (%llu)",
			    (unsigned long long)rl.rlim_cur,
			    (unsigned long long)want);
	}
	gate_limits(cf);
	return 0;
}

void
gate_limits(const struct config *cf)
{
	struct stats_shm	*st = stats_get();
	unsigned		 max;

	if (st == NULL)
		return;
	/* the workers hold the rest of max_connections */
	max = cf->max_connections > cf->max_workers + 16 ?
	    cf->max_connections - cf->max_workers : 16;
	atomic_store(&st->gate_max_conns, max);
	atomic_store(&st->gate_max_per_ip, cf->max_conns_per_ip);
	gate_spool_limits(cf, st);
}

void
gate_worker_init(void)
{
	if (gate_in[1] != -1)
		close(gate_in[1]);
	if (gate_out[1] != -1)
		close(gate_out[1]);
	gate_in[1] = gate_out[1] = -1;
}

int
gate_park_fd(void)
{
	return gate_in[0];
}

int
gate_ready_fd(void)
{
	return gate_out[0];
}

size_t
gate_ready_waiting(void)
{
	struct stats_shm	*st = stats_get();
	struct pollfd		 pfd;
	int64_t			 n;

	if (gate_out[0] == -1 || st == NULL)
		return 0;
	pfd.fd = gate_out[0];
	pfd.events = POLLIN;
	pfd.revents = 0;
	if (poll(&pfd, 1, 0) != 1 || !(pfd.revents & POLLIN))
		return 0;
	/*
	 * The counts tell how many; the socket, that one does wait (the
	 * counts of another binary's workers, during an upgrade, are in
	 * its own segment).
	 */
	n = (int64_t)(atomic_load(&st->gate_handed) -
	    atomic_load(&st->gate_taken));
	if (n < 1)
		n = 1;
	return (size_t)n;
}

void
gate_died(pid_t pid, int status)
{
	struct stats_shm	*st = stats_get();
	uint32_t		 held = 0;

	uint32_t		 tails = 0;
	char			 also[48] = "";

	if (st != NULL) {
		held = atomic_exchange(&st->gate_held, 0);
		/* bodies being spooled: their clients get nothing */
		held += atomic_exchange(&st->spool_uploads, 0);
		atomic_store(&st->spool_bytes, 0);
		atomic_store(&st->spool_ok, 0);
		atomic_fetch_add(&st->gate_lost, held);
		tails = atomic_exchange(&st->tail_held, 0);
		atomic_fetch_add(&st->tail_lost, tails);
	}
	limit_gate_reap();
	/* the stored objects it was writing: their references go */
	cache_store_reap_gate();
	if (tails > 0)
		snprintf(also, sizeof(also), " and %u response tail%s", tails,
		    tails == 1 ? "" : "s");
	log_error("gate %ld exited (status %d) holding %u connection%s%s, "
	    "now lost: restarting it", (long)pid, WIFEXITED(status) ?
	    WEXITSTATUS(status) : -WTERMSIG(status), held, held == 1 ? "" :
	    "s", also);
}

/* --- connections ---------------------------------------------------- */

static void
gate_held(struct gate *g)
{
	if (g->st != NULL)
		atomic_store(&g->st->gate_held, (uint32_t)g->n);
}

static void
gate_count(struct gate *g, _Atomic uint64_t *c)
{
	if (g->st != NULL)
		atomic_fetch_add_explicit(c, 1, memory_order_relaxed);
}

/* Forget c (its fd closed unless already given away) and free it. */
static void
gate_drop(struct gate *g, struct gate_conn *c)
{
	if (c->fd != -1) {
		/* a descriptor in flight keeps the file: leave epoll first */
		(void)epoll_ctl(g->ep, EPOLL_CTL_DEL, c->fd, NULL);
		close(c->fd);
	}
	limit_gate_release(c->ipkey);	/* one count with the workers' */
	g->conns[c->idx] = g->conns[--g->n];
	g->conns[c->idx]->idx = c->idx;
	free(c->buf);
	free(c);
	gate_held(g);
}

static void
gate_client(const struct gate_conn *c, char *ip, size_t len)
{
	util_ip_string(&c->h.peer, ip, len);
}

void
gate_answer(const struct config *cf, int fd, int status, const char *extra)
{
	const struct error_page	*ep = NULL;
	char			 out[2048];
	size_t			 i;
	int			 n, after;

	for (i = 0; i < cf->nerror_pages; i++)
		if (cf->error_pages[i].status == status)
			ep = &cf->error_pages[i];
	n = http_error_response(out, sizeof(out), status, 0,
	    cf->server_tokens, 0, ep ? ep->body : NULL, ep ? ep->len : 0,
	    extra, &after);
	if (n <= 0)
		return;
	if (send(fd, out, (size_t)n, MSG_DONTWAIT | MSG_NOSIGNAL) == n &&
	    after)
		(void)send(fd, ep->body, ep->len, MSG_DONTWAIT | MSG_NOSIGNAL);
	(void)shutdown(fd, SHUT_WR);
	/*
	 * Unread input makes close(2) reset the connection, and a reset
	 * can destroy the response before the client read it: take what
	 * is there (bounded; the gate cannot linger).
	 */
	for (i = 0; i < 16 && recv(fd, out, sizeof(out), MSG_DONTWAIT) > 0;
	    i++)
		;
}

static void
gate_error(struct gate *g, struct gate_conn *c, int status)
{
	gate_answer(g->cf, c->fd, status, NULL);
}

/* Give c to a worker, or queue it until the socket has room. */
static void
gate_ready(struct gate *g, struct gate_conn *c)
{
	struct epoll_event	 ev;

	if (!c->ready) {
		c->ready = 1;
		(void)epoll_ctl(g->ep, EPOLL_CTL_DEL, c->fd, NULL);
	}
	if (g->rq == NULL || g->rq == c) {
		c->h.flags |= HANDOFF_F_READY;
		c->h.nfds = 1;
		if (handoff_send(gate_out[1], &c->h, &c->fd, c->buf,
		    MSG_DONTWAIT) == 0) {
			gate_count(g, &g->st->gate_handed);
			close(c->fd);
			c->fd = -1;
			if (g->rq == c && (g->rq = c->next) == NULL)
				g->rq_tail = NULL;
			gate_drop(g, c);
			return;
		}
		if (errno != EAGAIN && errno != EWOULDBLOCK) {
			char	 ip[64];

			gate_client(c, ip, sizeof(ip));
			log_warn("gate: handing %s back", ip);
			if (g->rq == c && (g->rq = c->next) == NULL)
				g->rq_tail = NULL;
			gate_drop(g, c);
			return;
		}
		if (g->rq == c)
			return;		/* stays first */
	}
	/* the workers are all busy: wait for room, in order */
	c->next = NULL;
	if (g->rq_tail != NULL)
		g->rq_tail->next = c;
	else
		g->rq = c;
	g->rq_tail = c;
	if (!g->out_armed) {
		memset(&ev, 0, sizeof(ev));
		ev.events = EPOLLOUT;
		ev.data.ptr = &gate_tag_out;
		if (epoll_ctl(g->ep, EPOLL_CTL_ADD, gate_out[1], &ev) == 0)
			g->out_armed = 1;
	}
}

/* Room on the socket to the workers: send what queued, in order. */
static void
gate_flush(struct gate *g)
{
	struct gate_conn	*c;
	size_t			 before;

	while ((c = g->rq) != NULL) {
		before = g->n;
		gate_ready(g, c);
		if (g->n == before)
			return;		/* still no room */
	}
	if (g->out_armed) {
		(void)epoll_ctl(g->ep, EPOLL_CTL_DEL, gate_out[1], NULL);
		g->out_armed = 0;
	}
}

/* TLS: hand it on once its first record is whole (gate_tls.c). */
static void
gate_tls_read(struct gate *g, struct gate_conn *c)
{
	char	 ip[64];
	int	 rc;

	if ((rc = gate_tls_hello(c->fd)) > 0)
		gate_ready(g, c);
	else if (rc < 0) {
		gate_client(c, ip, sizeof(ip));
		log_info("client %s: no TLS handshake", ip);
		gate_drop(g, c);
	}
}

/* Bytes came (or the client left): read them and judge the head. */
static void
gate_read(struct gate *g, struct gate_conn *c)
{
	char		 ip[64];
	size_t		 want, ncap, end;
	ssize_t		 n;

	if (c->h.kind == HANDOFF_TLS_HELLO) {
		gate_tls_read(g, c);
		return;
	}
	/* one byte past max_head tells a head that is too long */
	want = (size_t)c->h.max_head + 1;
	if (c->h.len >= want)
		return;
	if (c->cap < want && c->cap - c->h.len < 1024) {
		ncap = c->cap == 0 ? 1024 : c->cap * 2;
		if (ncap > want)
			ncap = want;
		if ((c->buf = realloc(c->buf, ncap)) == NULL)
			fatal("realloc");
		c->cap = ncap;
	}
	n = recv(c->fd, c->buf + c->h.len, c->cap - c->h.len, MSG_DONTWAIT);
	if (n == -1 && (errno == EAGAIN || errno == EWOULDBLOCK ||
	    errno == EINTR))
		return;
	if (n <= 0) {
		/* gone: as a worker would, say so only mid-head */
		if (c->h.len > 0) {
			gate_client(c, ip, sizeof(ip));
			log_info("client %s: closed in the middle of a request "
			    "head", ip);
		}
		gate_drop(g, c);
		return;
	}
	if (c->h.head_start == 0)
		c->h.head_start = util_now_ms();
	end = handoff_head_end(c->buf, c->h.len + (size_t)n, c->h.len);
	c->h.len += (uint32_t)n;
	if (end != 0) {
		gate_ready(g, c);
		return;
	}
	if (c->h.len > c->h.max_head) {
		gate_client(c, ip, sizeof(ip));
		log_info("client %s: bad request (431)", ip);
		/* counted before the client can see the answer */
		gate_count(g, &g->st->gate_expired);
		gate_error(g, c, 431);
		gate_drop(g, c);
	}
}

/* A record from a worker: take the connection in, if there is room. */
static void
gate_take(struct gate *g)
{
	struct gate_conn	*c;
	struct epoll_event	 ev;
	struct handoff		 h;
	char			 addr[64];
	int			 fds[HANDOFF_MAXFDS];
	uint32_t		 max, per_ip;
	uint64_t		 key;
	size_t			 i;

	while (!gate_stop) {
		if (handoff_recv(gate_in[1], &h, fds, g->rbuf, GATE_RECV_MAX,
		    MSG_DONTWAIT) == -1) {
			if (errno == EPROTO)
				log_warnx("gate: a malformed hand-off record");
			else if (errno != EAGAIN && errno != EWOULDBLOCK)
				log_warn("gate: recvmsg");
			return;
		}
		if (h.kind == HANDOFF_BODY_SPOOL) {
			for (i = 2; i < h.nfds; i++)
				close(fds[i]);
			gate_count(g, &g->st->gate_parked);
			gate_spool_take(&h, fds, g->rbuf);
			continue;
		}
		if (h.kind == HANDOFF_TAIL_RELAY) {
			gate_tail_take(&h, fds, g->rbuf);
			continue;
		}
		for (i = 1; i < h.nfds; i++)
			close(fds[i]);		/* kinds this gate does not do */
		gate_count(g, &g->st->gate_parked);
		util_ip_string(&h.peer, addr, sizeof(addr));
		key = util_hash64(addr, strlen(addr), 0x636f6e6e);
		max = atomic_load(&g->st->gate_max_conns);
		per_ip = atomic_load(&g->st->gate_max_per_ip);
		if (g->n >= max || (h.kind != HANDOFF_HEAD_WAIT &&
		    h.kind != HANDOFF_IDLE_KEEPALIVE &&
		    h.kind != HANDOFF_TLS_HELLO) ||
		    !limit_gate_acquire(key, per_ip)) {
			if (g->n >= max && !g->full_logged) {
				log_warnx("gate: max_connections reached: "
				    "closing connections that wait");
				g->full_logged = 1;
			} else if (g->n < max)
				log_info("client %s: over max_conns_per_ip",
				    addr);
			gate_count(g, &g->st->gate_refused);
			close(fds[0]);
			continue;
		}
		if (g->n < max / 2)
			g->full_logged = 0;
		if (g->n == g->cap) {
			g->cap = g->cap == 0 ? 1024 : g->cap * 2;
			if ((g->conns = realloc(g->conns, g->cap *
			    sizeof(*g->conns))) == NULL)
				fatal("realloc");
		}
		if ((c = calloc(1, sizeof(*c))) == NULL)
			fatal("calloc");
		c->h = h;
		c->h.flags &= HANDOFF_F_READY;
		c->fd = fds[0];
		c->ipkey = key;
		if (h.len > 0) {
			c->cap = h.len + 1024;
			if ((c->buf = malloc(c->cap)) == NULL)
				fatal("malloc");
			memcpy(c->buf, g->rbuf, h.len);
		}
		c->idx = g->n;
		g->conns[g->n++] = c;
		gate_held(g);
		if (h.flags & HANDOFF_F_READY) {
			/* passed on whole by the gate of an upgrade */
			c->ready = 1;
			gate_ready(g, c);
			continue;
		}
		memset(&ev, 0, sizeof(ev));
		ev.events = EPOLLIN | EPOLLRDHUP;
		/* TLS bytes are peeked at, not read: wake for new ones */
		if (h.kind == HANDOFF_TLS_HELLO)
			ev.events |= EPOLLET;
		ev.data.ptr = c;
		if (epoll_ctl(g->ep, EPOLL_CTL_ADD, c->fd, &ev) == -1) {
			log_warn("gate: epoll_ctl");
			gate_drop(g, c);
		} else if (h.len > 0 && handoff_head_end(c->buf, h.len, 0))
			gate_ready(g, c);	/* pipelined after a tail */
	}
}

/*
 * An upgrade's old gate leaving: put every connection it holds back on
 * the queue the new gate reads (it stopped reading it), ready ones
 * marked so, and wait (bounded) where the queue is full.
 */
static void
gate_pass(struct gate *g)
{
	struct gate_conn	*c;
	struct pollfd		 pfd;
	int64_t			 until = util_now_ms() + GATE_PASS_MS;
	size_t			 passed = 0, n = g->n;

	while (g->n > 0) {
		c = g->conns[g->n - 1];
		if (c->fd != -1 && !c->ready)
			(void)epoll_ctl(g->ep, EPOLL_CTL_DEL, c->fd, NULL);
		c->h.nfds = 1;
		while (handoff_send(gate_in[0], &c->h, &c->fd, c->buf,
		    MSG_DONTWAIT) == -1 && (errno == EAGAIN ||
		    errno == EWOULDBLOCK) && util_now_ms() < until) {
			pfd.fd = gate_in[0];
			pfd.events = POLLOUT;
			(void)poll(&pfd, 1, 100);
		}
		if (util_now_ms() < until)
			passed++;
		close(c->fd);
		c->fd = -1;
		gate_drop(g, c);
	}
	log_notice("gate: passed %zu of %zu connections on", passed, n);
}

/* Close what waited too long; returns ms until the next deadline. */
static int
gate_expire(struct gate *g, int64_t now)
{
	struct gate_conn	*c;
	char			 ip[64];
	int64_t			 dl, next = now + 1000;
	size_t			 i;

	for (i = 0; i < g->n; ) {
		c = g->conns[i];
		if (c->ready) {
			i++;
			continue;
		}
		dl = c->h.len > 0 ? c->h.head_start + c->h.head_timeout :
		    c->h.idle_deadline;
		if (dl > now) {
			if (dl < next)
				next = dl;
			i++;
			continue;
		}
		/* counted before the client can see the answer */
		gate_count(g, &g->st->gate_expired);
		if (c->h.len > 0) {
			gate_client(c, ip, sizeof(ip));
			log_info("client %s: timed out sending the request "
			    "head", ip);
			gate_error(g, c, 408);
		}
		gate_drop(g, c);	/* moves the last one to i */
	}
	return (int)(next - now);
}

static void	gate_run(const struct config *, const struct proc_creds *,
		    pid_t) __attribute__((noreturn));

static void
gate_run(const struct config *cf, const struct proc_creds *creds,
    pid_t master)
{
	static const int	 caught[] = { SIGTERM, SIGQUIT, SIGINT, SIGUSR1,
	    SIGWINCH, 0 };
	struct epoll_event	 evs[GATE_EVENTS], ev;
	struct gate		 g;
	int64_t			 now, scan = 0;
	int			 n, i, wait = GATE_SCAN_MS;

	log_set_role("gate");
	/* ps and the tests tell it from the workers */
	(void)prctl(PR_SET_NAME, "porter-gate");
	worker_child_start(gate_signal, caught, SIGTERM, master, creds);
	memset(&g, 0, sizeof(g));
	g.cf = cf;
	if ((g.st = stats_get()) == NULL)
		fatalx("gate: no shared segment");
	if ((g.rbuf = malloc(GATE_RECV_MAX)) == NULL)
		fatal("malloc");
	if ((g.ep = epoll_create1(EPOLL_CLOEXEC)) == -1)
		fatal("epoll_create1");
	memset(&ev, 0, sizeof(ev));
	ev.events = EPOLLIN;
	ev.data.ptr = &gate_tag_in;
	if (epoll_ctl(g.ep, EPOLL_CTL_ADD, gate_in[1], &ev) == -1)
		fatal("epoll_ctl");
	ev.data.ptr = &gate_tag_spool;
	if ((i = gate_spool_init(cf, g.st, gate_out[1])) != -1 &&
	    epoll_ctl(g.ep, EPOLL_CTL_ADD, i, &ev) == -1)
		fatal("epoll_ctl");
	ev.data.ptr = &gate_tag_tail;
	if (epoll_ctl(g.ep, EPOLL_CTL_ADD, gate_tail_init(g.st), &ev) == -1)
		fatal("epoll_ctl");
	worker_sandbox(cf);
	while (!gate_stop) {
		if (gate_reopen) {
			gate_reopen = 0;
			(void)log_reopen();
		}
		n = epoll_wait(g.ep, evs, GATE_EVENTS, wait);
		if (n == -1 && errno != EINTR)
			fatal("epoll_wait");
		for (i = 0; i < n; i++) {
			if (evs[i].data.ptr == &gate_tag_in)
				gate_take(&g);
			else if (evs[i].data.ptr == &gate_tag_out)
				gate_flush(&g);
			else if (evs[i].data.ptr == &gate_tag_spool)
				gate_spool_events();
			else if (evs[i].data.ptr == &gate_tag_tail)
				gate_tail_run();
			else
				gate_read(&g, evs[i].data.ptr);
		}
		now = util_now_ms();
		if (now >= scan) {
			wait = gate_expire(&g, now);
			if ((n = gate_spool_expire(now)) < wait)
				wait = n;
			gate_tail_expire(now);
			if (wait < GATE_SCAN_MS)
				wait = GATE_SCAN_MS;
			scan = now + wait;
			if (getppid() != master)
				break;
		} else
			wait = (int)(scan - now);
	}
	if (gate_stop == 2)
		gate_spool_pass(gate_in[0]);
	gate_spool_fini();
	if (gate_stop == 2)
		gate_pass(&g);
	/* responses under way are finished, as workers finish theirs */
	if (gate_stop != 1)
		gate_tail_drain(master, &gate_stop);
	gate_tail_fini();
	/* a plain stop: what waits is closed, as idle workers would */
	while (g.n > 0)
		gate_drop(&g, g.conns[0]);
	exit(WORKER_EXIT_OK);
}

pid_t
gate_spawn(const struct config *cf, const struct proc_creds *creds,
    pid_t master)
{
	pid_t	 pid;

	if ((pid = fork()) == -1) {
		log_warn("fork of the gate");
		return -1;
	}
	if (pid == 0) {
		/* the workers' ends stay open: a hand-over writes to one */
		gate_run(cf, creds, master);
	}
	return pid;
}
