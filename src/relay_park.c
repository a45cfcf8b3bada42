/*
 * relay_park.c - the worker's side of the gate (gate.c).
 *
 * A head that has not arrived within park_after is waited for by the
 * gate, not by a worker: the connection goes to the gate with the bytes
 * read so far, and comes back, head whole, to whichever idle worker
 * reads the shared socket first.  A TLS connection moves only before
 * its handshake, with nothing read (gate_tls.c): a session's state
 * lives in this process's OpenSSL.
 */
#include <sys/socket.h>
#include <poll.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "gate.h"
#include "gate_tls.h"
#include "handoff.h"
#include "limit.h"
#include "listener.h"
#include "log.h"
#include "relay.h"
#include "stats.h"
#include "util.h"

#include "relay_int.h"

static const struct listener	*park_ls;
static size_t			 park_nls;
static int64_t			 park_warned;

int64_t
relay_park_at(struct relay *r, int64_t now)
{
	if (r->cf->park_after == 0 || gate_park_fd() == -1 ||
	    r->cl.ssl != NULL || r->cl.sink || r->lsock == NULL)
		return 0;
	return now + r->cf->park_after;
}

uint32_t
relay_park_index(const struct relay *r)
{
	return park_ls != NULL && r->lsock >= park_ls &&
	    r->lsock < park_ls + park_nls ? (uint32_t)(r->lsock - park_ls) :
	    UINT32_MAX;
}

int
relay_park(struct relay *r, int64_t head_t0, int64_t wait_start)
{
	const struct config	*cf = r->cf;
	struct handoff		 h;
	size_t			 len = conn_pending(&r->cl);
	int			 fd = r->cl.fd;

	memset(&h, 0, sizeof(h));
	h.magic = HANDOFF_MAGIC;
	h.kind = len > 0 || r->nreq == 0 ? HANDOFF_HEAD_WAIT :
	    HANDOFF_IDLE_KEEPALIVE;
	if (!r->lsock->admin && cf->listens[r->lsock->listen].tls_ctx != NULL)
		h.kind = HANDOFF_TLS_HELLO;	/* before the handshake */
	h.len = (uint32_t)len;
	h.nfds = 1;
	h.listener = relay_park_index(r);
	h.nreq = r->nreq;
	h.head_start = len > 0 ? head_t0 : 0;
	/* as here: a first byte within client_header_timeout, or idle */
	h.idle_deadline = wait_start + (r->nreq == 0 ?
	    cf->client_header_timeout : cf->keepalive_timeout);
	h.head_timeout = (uint32_t)cf->client_header_timeout;
	h.max_head = (uint32_t)cf->max_header_size;
	h.peer = r->peer_store;
	snprintf(h.listen_addr, sizeof(h.listen_addr), "%s",
	    r->lsock->addr.str);
	/*
	 * The address's count moves with the connection: let go here
	 * before the gate counts it (limit.c), taken back if it stays.
	 */
	limit_conn_release(r->slot);
	if (handoff_send(gate_park_fd(), &h, &fd, r->cl.buf + r->cl.start,
	    MSG_DONTWAIT) == -1) {
		if (cf->max_conns_per_ip != 0 && !r->lsock->admin &&
		    h.kind != HANDOFF_TLS_HELLO)	/* counted after it */
			(void)limit_conn_acquire(util_hash64(r->client_ip,
			    strlen(r->client_ip), 0x636f6e6e), UINT32_MAX,
			    r->slot);
		/* the gate is full or restarting: this worker waits on */
		if (util_now_ms() - park_warned > 10000) {
			log_warn("cannot hand a connection to the gate");
			park_warned = util_now_ms();
		}
		return -1;
	}
	/* the gate has its own descriptor: this one just goes */
	close(fd);
	r->cl.fd = -1;
	r->cl.start = r->cl.end = 0;
	return 0;
}

int
relay_park_pressed(void)
{
	struct pollfd	 pfd;

	pfd.fd = gate_ready_fd();
	pfd.events = POLLIN;
	pfd.revents = 0;
	if (pfd.fd != -1 && poll(&pfd, 1, 0) == 1 && (pfd.revents & POLLIN))
		return 1;
	return listener_backlog(park_ls, park_nls) > 0;
}

int
relay_park_hello(struct relay *r)
{
	int64_t	 start = util_now_ms();

	if (relay_park_at(r, start) == 0)
		return 0;
	/*
	 * Whole in the first segment (nearly always): the handshake goes
	 * on here at once.  Not a handshake: SSL_accept says why.  Not
	 * whole while others wait for a worker: to the gate at once.
	 */
	if (gate_tls_wait(r->cl.fd, relay_park_pressed() ? 0 :
	    (int)r->cf->park_after) != 0)
		return 0;
	return relay_park(r, 0, start) == 0 ? 1 : 0;
}

void
relay_park_resumed(struct relay *r)
{
	const struct handoff	*h = r->resume;

	r->cl.end = h->len;
	r->nreq = h->nreq;
	r->head_t0 = h->head_start;
	/* the socket's timeouts are whatever the last holder set */
	r->cl.rcvtimeo = r->cl.sndtimeo = -1;
}

void
relay_resume_init(const struct listener *ls, size_t nls)
{
	park_ls = ls;
	park_nls = nls;
}

unsigned
relay_resume(int sock)
{
	struct relay		*r = &relay;
	const struct listener	*l = NULL;
	struct handoff		 h;
	struct stats_shm	*st;
	int			 fds[HANDOFF_MAXFDS];
	unsigned		 served;
	size_t			 i;

	if (handoff_recv(sock, &h, fds, r->cl.buf, r->cl.cap,
	    MSG_DONTWAIT) == -1) {
		if (errno == EPROTO)
			log_warnx("a malformed hand-off record from the gate");
		return 0;	/* EAGAIN: another worker took it */
	}
	if ((st = stats_get()) != NULL)
		atomic_fetch_add_explicit(&st->gate_taken, 1,
		    memory_order_relaxed);
	for (i = h.kind == HANDOFF_BODY_SPOOL ? 2 : 1; i < HANDOFF_MAXFDS;
	    i++)
		if (fds[i] != -1)
			close(fds[i]);
	/*
	 * The index is the sender's; a reload may have changed the list,
	 * so the address decides.
	 */
	if (h.listener < park_nls &&
	    strcmp(park_ls[h.listener].addr.str, h.listen_addr) == 0)
		l = &park_ls[h.listener];
	for (i = 0; l == NULL && i < park_nls; i++)
		if (strcmp(park_ls[i].addr.str, h.listen_addr) == 0)
			l = &park_ls[i];
	if (l == NULL || (h.kind != HANDOFF_HEAD_WAIT &&
	    h.kind != HANDOFF_IDLE_KEEPALIVE && h.kind != HANDOFF_TLS_HELLO &&
	    !(h.kind == HANDOFF_BODY_SPOOL && (h.flags & HANDOFF_F_READY))) ||
	    (h.kind == HANDOFF_TLS_HELLO) != (!l->admin &&
	    r->cf->listens[l->listen].tls_ctx != NULL)) {
		log_info("a connection from the gate for %s, no longer "
		    "served: closed", h.listen_addr);
		close(fds[0]);
		if (h.kind == HANDOFF_BODY_SPOOL && fds[1] != -1)
			close(fds[1]);
		return 0;
	}
	if (h.kind == HANDOFF_BODY_SPOOL)
		relay_spool_resumed(r, &h, fds[1]);
	r->resume = &h;
	served = relay_serve(fds[0], &h.peer, l);
	r->resume = NULL;
	return served > h.nreq ? served - h.nreq : 0;
}
