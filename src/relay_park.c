/*
 * relay_park.c - the worker's side of the gate (gate.c).
 *
 * A head that has not arrived within park_after is waited for by the
 * gate, not by a worker: the connection goes to the gate with the bytes
 * read so far, and comes back, head whole, to whichever idle worker
 * reads the shared socket first.  Only plain connections move: a TLS
 * session's state lives in this process's OpenSSL.
 */
#include <sys/socket.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "gate.h"
#include "handoff.h"
#include "listener.h"
#include "log.h"
#include "relay.h"
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
	if (handoff_send(gate_park_fd(), &h, &fd, r->cl.buf + r->cl.start,
	    MSG_DONTWAIT) == -1) {
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

uint32_t
relay_park_index(const struct relay *r)
{
	return park_ls != NULL && r->lsock >= park_ls &&
	    r->lsock < park_ls + park_nls ? (uint32_t)(r->lsock - park_ls) :
	    UINT32_MAX;
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
	int			 fds[HANDOFF_MAXFDS];
	unsigned		 served;
	size_t			 i;

	if (handoff_recv(sock, &h, fds, r->cl.buf, r->cl.cap,
	    MSG_DONTWAIT) == -1) {
		if (errno == EPROTO)
			log_warnx("a malformed hand-off record from the gate");
		return 0;	/* EAGAIN: another worker took it */
	}
	for (i = 1; i < HANDOFF_MAXFDS; i++)
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
	    h.kind != HANDOFF_IDLE_KEEPALIVE) || (!l->admin &&
	    r->cf->listens[l->listen].tls_ctx != NULL)) {
		log_info("a connection from the gate for %s, no longer "
		    "served: closed", h.listen_addr);
		close(fds[0]);
		return 0;
	}
	r->resume = &h;
	served = relay_serve(fds[0], &h.peer, l);
	r->resume = NULL;
	return served > h.nreq ? served - h.nreq : 0;
}
