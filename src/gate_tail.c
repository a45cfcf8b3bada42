/*
 * gate_tail.c - the gate relays response tails.
 *
 * A worker whose client did not take a write within park_after hands
 * over the client, the backend, the bytes not yet written and the
 * framing state (relay_tail.c).  Here each tail moves with a bounded
 * buffer in each direction, at the client's pace: the backend is read
 * only when what was read before has gone to the client, so a slow
 * client slows the backend (by TCP's window) instead of filling memory
 * or disk.  Framing is tail.c's, as in the worker.
 *
 * At the end the backend connection is closed (the workers' idle pools
 * live in the workers) and the client, when it may stay, goes back on
 * the gate's own queue as a keep-alive connection, as a worker would
 * park it.  Each tail watches one descriptor at a time: the client when
 * bytes wait for it, else the backend.
 */
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cache_store.h"
#include "gate.h"
#include "gate_tail.h"
#include "handoff.h"
#include "log.h"
#include "stats.h"
#include "tail.h"
#include "util.h"

#define GATE_TAIL_BUF		(16 * 1024)	/* each way, per tail */
#define GATE_TAIL_EVENTS	64
#define GATE_TAIL_ROUNDS	16	/* per wake-up, then the others */

enum { TAIL_IDLE = 0, TAIL_WANT_CLIENT, TAIL_WANT_BACKEND };

struct gate_tail {
	struct handoff		 h;		/* the worker's, for the park */
	struct tail_state	 ts;
	int			 cfd, bfd;
	int			 armed;		/* TAIL_WANT_*: the fd watched */
	char			*out;		/* for the client */
	size_t			 ocap, ostart, oend;
	char			*raw;		/* from the backend */
	size_t			 rcap, rend;
	char			*next;		/* the client's next request */
	size_t			 nlen;
	int			 ref;		/* TAIL_STORE: referenced */
	int64_t			 since;		/* the wait began */
	size_t			 idx;
};

static struct {
	struct stats_shm	*st;
	int			 ep;
	struct gate_tail	**t;
	size_t			 n, cap;
} gt = { NULL, -1, NULL, 0, 0 };

static void
gate_tail_held(void)
{
	atomic_store(&gt.st->tail_held, (uint32_t)gt.n);
}

/* Forget t, closing what it still has. */
static void
gate_tail_drop(struct gate_tail *t)
{
	if (t->armed != TAIL_IDLE)
		(void)epoll_ctl(gt.ep, EPOLL_CTL_DEL, t->armed ==
		    TAIL_WANT_CLIENT ? t->cfd : t->bfd, NULL);
	if (t->cfd != -1)
		close(t->cfd);
	if (t->bfd != -1)
		close(t->bfd);
	if (t->ref)
		cache_store_release(t->ts.store_idx, t->ts.store_slot);
	gt.t[t->idx] = gt.t[--gt.n];
	gt.t[t->idx]->idx = t->idx;
	free(t->out);
	free(t->raw);
	free(t->next);
	free(t);
	gate_tail_held();
}

static void
gate_tail_fail(struct gate_tail *t, const char *why)
{
	char	 ip[64];

	util_ip_string(&t->h.peer, ip, sizeof(ip));
	log_info("client %s: response tail cut short: %s", ip, why);
	gate_tail_drop(t);
}

/* Watch the one descriptor the tail waits on. */
static int
gate_tail_arm(struct gate_tail *t, int want)
{
	struct epoll_event	 ev;

	if (t->armed == want)
		return 0;
	if (t->armed != TAIL_IDLE)
		(void)epoll_ctl(gt.ep, EPOLL_CTL_DEL, t->armed ==
		    TAIL_WANT_CLIENT ? t->cfd : t->bfd, NULL);
	t->armed = TAIL_IDLE;
	if (want == TAIL_IDLE)
		return 0;
	memset(&ev, 0, sizeof(ev));
	ev.events = want == TAIL_WANT_CLIENT ? EPOLLOUT : EPOLLIN;
	ev.data.ptr = t;
	if (epoll_ctl(gt.ep, EPOLL_CTL_ADD, want == TAIL_WANT_CLIENT ? t->cfd :
	    t->bfd, &ev) == -1)
		return -1;
	t->armed = want;
	t->since = util_now_ms();
	return 0;
}

/*
 * The body is whole and written: the backend goes, and the client waits
 * for its next request on the gate's own queue, or is closed.
 */
static void
gate_tail_done(struct gate_tail *t)
{
	struct handoff	 h = t->h;
	int64_t		 now = util_now_ms();

	(void)gate_tail_arm(t, TAIL_IDLE);
	if (t->bfd != -1)
		close(t->bfd);
	t->bfd = -1;
	if (!(t->ts.flags & TAIL_F_KEEPALIVE)) {
		(void)shutdown(t->cfd, SHUT_WR);
		gate_tail_drop(t);
		return;
	}
	h.kind = t->nlen > 0 ? HANDOFF_HEAD_WAIT : HANDOFF_IDLE_KEEPALIVE;
	h.flags = 0;
	h.len = (uint32_t)t->nlen;
	h.nfds = 1;
	h.head_start = t->nlen > 0 ? now : 0;
	h.idle_deadline = now + t->ts.keepalive_timeout;
	memset(h.arg, 0, sizeof(h.arg));
	if (handoff_send(gate_park_fd(), &h, &t->cfd, t->next,
	    MSG_DONTWAIT) == -1)
		log_warn("gate: parking a connection after its response");
	gate_tail_drop(t);
}

/*
 * Write from the stored object what the client takes now: 0 (left is
 * 0 when it took all, else it waits), -1 when t was dropped.
 */
static int
gate_tail_store(struct gate_tail *t)
{
	struct iovec	 iov[16];
	struct msghdr	 msg;
	uint64_t	 covered;
	ssize_t		 n;
	int		 k;

	while (t->ts.left > 0) {
		k = cache_store_iov(t->ts.store_idx, t->ts.store_off,
		    t->ts.left, iov, 16, &covered);
		if (k == 0) {
			gate_tail_fail(t, "the stored object is shorter");
			return -1;
		}
		memset(&msg, 0, sizeof(msg));
		msg.msg_iov = iov;
		msg.msg_iovlen = (size_t)k;
		n = sendmsg(t->cfd, &msg, MSG_DONTWAIT | MSG_NOSIGNAL);
		if (n > 0) {
			t->ts.store_off += (uint64_t)n;
			t->ts.left -= (uint64_t)n;
			t->since = util_now_ms();
			atomic_fetch_add_explicit(&gt.st->tail_bytes,
			    (uint64_t)n, memory_order_relaxed);
			if ((uint64_t)n < covered)
				break;	/* the socket is full */
			continue;
		}
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1 && (errno == EAGAIN || errno == EWOULDBLOCK))
			break;
		gate_tail_fail(t, "the client left");
		return -1;
	}
	if (t->ts.left > 0 && gate_tail_arm(t, TAIL_WANT_CLIENT) == -1) {
		gate_tail_fail(t, "epoll_ctl");
		return -1;
	}
	return 0;
}

/* Move what can move now, both ways, a bounded number of rounds. */
static void
gate_tail_pump(struct gate_tail *t)
{
	size_t		 used;
	uint64_t	 data;
	ssize_t		 n;
	int		 round;

	for (round = 0; round < GATE_TAIL_ROUNDS; round++) {
		while (t->ostart < t->oend) {
			n = send(t->cfd, t->out + t->ostart, t->oend -
			    t->ostart, MSG_DONTWAIT | MSG_NOSIGNAL);
			if (n > 0) {
				t->ostart += (size_t)n;
				t->since = util_now_ms();
				atomic_fetch_add_explicit(&gt.st->tail_bytes,
				    (uint64_t)n, memory_order_relaxed);
				continue;
			}
			if (n == -1 && errno == EINTR)
				continue;
			if (n == -1 && (errno == EAGAIN ||
			    errno == EWOULDBLOCK)) {
				if (gate_tail_arm(t, TAIL_WANT_CLIENT) == -1)
					gate_tail_fail(t, "epoll_ctl");
				return;
			}
			gate_tail_fail(t, "the client left");
			return;
		}
		t->ostart = t->oend = 0;
		if (t->ts.mode == TAIL_STORE && t->ts.left == 0)
			t->ts.flags |= TAIL_F_DONE;
		if (t->ts.flags & TAIL_F_DONE) {
			gate_tail_done(t);
			return;
		}
		if (t->ts.mode == TAIL_STORE) {
			if (gate_tail_store(t) == -1 || t->ts.left > 0)
				return;		/* dropped, or waits */
			continue;
		}
		if (t->rend > 0) {
			n = tail_frame(&t->ts, t->raw, t->rend, &used, t->out,
			    t->ocap, &data);
			if (n == -1) {
				gate_tail_fail(t, "malformed chunked body "
				    "from the backend");
				return;
			}
			memmove(t->raw, t->raw + used, t->rend - used);
			t->rend -= used;
			t->oend = (size_t)n;
			if (n > 0 || used > 0 || (t->ts.flags & TAIL_F_DONE))
				continue;
			if (t->rend == t->rcap) {
				gate_tail_fail(t, "a chunk line too long");
				return;
			}
		}
		n = recv(t->bfd, t->raw + t->rend, t->rcap - t->rend,
		    MSG_DONTWAIT);
		if (n > 0) {
			t->rend += (size_t)n;
			t->since = util_now_ms();
			continue;
		}
		if (n == 0) {
			if ((n = tail_eof(&t->ts, t->out, t->ocap)) == -1) {
				gate_tail_fail(t, "the backend closed in the "
				    "middle of the body");
				return;
			}
			t->oend = (size_t)n;
			continue;
		}
		if (errno == EINTR)
			continue;
		if (errno == EAGAIN || errno == EWOULDBLOCK) {
			if (gate_tail_arm(t, TAIL_WANT_BACKEND) == -1)
				gate_tail_fail(t, "epoll_ctl");
			return;
		}
		gate_tail_fail(t, "reading the backend failed");
		return;
	}
	/*
	 * More could move: let the others have a turn first.  Bytes read
	 * but not framed yet wait for the client's room, not the backend's
	 * data: the backend may have sent its last byte already, and a
	 * writable client wakes this at once.
	 */
	if (gate_tail_arm(t, t->ostart < t->oend || t->rend > 0 ?
	    TAIL_WANT_CLIENT : TAIL_WANT_BACKEND) == -1)
		gate_tail_fail(t, "epoll_ctl");
}

int
gate_tail_init(struct stats_shm *st)
{
	gt.st = st;
	if ((gt.ep = epoll_create1(EPOLL_CLOEXEC)) == -1)
		fatal("epoll_create1");
	return gt.ep;
}

void
gate_tail_take(const struct handoff *h, int *fds, const char *data)
{
	struct gate_tail	*t;
	struct tail_state	 ts;
	size_t			 need;

	if (h->len < sizeof(ts)) {
		log_warnx("gate: a malformed response tail record");
		goto bad;
	}
	memcpy(&ts, data, sizeof(ts));
	need = sizeof(ts) + (size_t)ts.out_len + ts.raw_len + ts.client_len;
	if (need != h->len || ts.mode < TAIL_LENGTH || ts.mode > TAIL_STORE ||
	    h->nfds != (ts.mode == TAIL_STORE ? 1u : 2u) ||
	    (ts.mode == TAIL_STORE && ts.raw_len != 0)) {
		log_warnx("gate: a malformed response tail record");
		goto bad;
	}
	/* a reference the master took back when an earlier gate died */
	if (ts.mode == TAIL_STORE && !cache_store_holds(ts.store_idx,
	    ts.store_slot)) {
		log_info("gate: a stored response's reference is gone: "
		    "closed");
		goto bad;
	}
	if (gt.n == gt.cap) {
		gt.cap = gt.cap == 0 ? 256 : gt.cap * 2;
		if ((gt.t = realloc(gt.t, gt.cap * sizeof(*gt.t))) == NULL)
			fatal("realloc");
	}
	if ((t = calloc(1, sizeof(*t))) == NULL)
		fatal("calloc");
	t->h = *h;
	t->ts = ts;
	t->cfd = fds[0];
	t->bfd = fds[1];
	t->ref = ts.mode == TAIL_STORE;
	/*
	 * What the worker read may exceed a buffer: it fits, then stays.
	 * A stored object needs none: it is written from the segment.
	 */
	t->ocap = ts.out_len > GATE_TAIL_BUF ? ts.out_len : GATE_TAIL_BUF;
	t->rcap = ts.raw_len > GATE_TAIL_BUF ? ts.raw_len : GATE_TAIL_BUF;
	if (ts.mode == TAIL_STORE) {
		t->ocap = ts.out_len;
		t->rcap = 0;
	}
	if ((t->ocap > 0 && (t->out = malloc(t->ocap)) == NULL) ||
	    (t->rcap > 0 && (t->raw = malloc(t->rcap)) == NULL) ||
	    (ts.client_len > 0 && (t->next = malloc(ts.client_len)) == NULL))
		fatal("malloc");
	data += sizeof(ts);
	if (ts.out_len > 0)
		memcpy(t->out, data, ts.out_len);
	t->oend = ts.out_len;
	data += ts.out_len;
	if (ts.raw_len > 0)
		memcpy(t->raw, data, ts.raw_len);
	t->rend = ts.raw_len;
	data += ts.raw_len;
	if (ts.client_len > 0)
		memcpy(t->next, data, ts.client_len);
	t->nlen = ts.client_len;
	t->since = util_now_ms();
	t->idx = gt.n;
	gt.t[gt.n++] = t;
	atomic_fetch_add_explicit(&gt.st->tail_relayed, 1,
	    memory_order_relaxed);
	gate_tail_held();
	gate_tail_pump(t);
	return;
bad:
	close(fds[0]);
	if (fds[1] != -1)
		close(fds[1]);
}

void
gate_tail_run(void)
{
	struct epoll_event	 evs[GATE_TAIL_EVENTS];
	int			 i, n;

	n = epoll_wait(gt.ep, evs, GATE_TAIL_EVENTS, 0);
	for (i = 0; i < n; i++)
		gate_tail_pump(evs[i].data.ptr);
}

void
gate_tail_expire(int64_t now)
{
	struct gate_tail	*t;
	size_t			 i;
	uint32_t		 limit;

	for (i = 0; i < gt.n; ) {
		t = gt.t[i];
		limit = t->armed == TAIL_WANT_CLIENT ? t->ts.send_timeout :
		    t->ts.read_timeout;
		if (limit == 0 || now - t->since < (int64_t)limit) {
			i++;
			continue;
		}
		/* moves the last one to i */
		gate_tail_fail(t, t->armed == TAIL_WANT_CLIENT ?
		    "send_timeout" : "the backend timed out");
	}
}

void
gate_tail_drain(pid_t master, volatile sig_atomic_t *stop)
{
	struct epoll_event	 evs[GATE_TAIL_EVENTS];
	int			 i, n;

	if (gt.n > 0)
		log_notice("gate: finishing %zu response tail%s", gt.n,
		    gt.n == 1 ? "" : "s");
	while (gt.n > 0 && *stop != 1 && getppid() == master) {
		n = epoll_wait(gt.ep, evs, GATE_TAIL_EVENTS, 100);
		for (i = 0; i < n; i++)
			gate_tail_pump(evs[i].data.ptr);
		gate_tail_expire(util_now_ms());
	}
}

void
gate_tail_fini(void)
{
	size_t	 n = gt.n;

	while (gt.n > 0)
		gate_tail_drop(gt.t[0]);
	if (n > 0)
		log_warnx("gate: %zu response tail%s cut short on exit", n,
		    n == 1 ? "" : "s");
}
