/*
 * handoff.h - the message that moves a client connection between a
 * worker and the gate: one SOCK_SEQPACKET record holding a fixed header,
 * then the bytes already read from the client, with the connection (and
 * whatever else the kind needs) passed as SCM_RIGHTS.
 *
 * The header is the same for every kind and both directions; a kind
 * says what the receiver must do next and which of the spare fields and
 * extra descriptors it uses, so a new kind extends the message without
 * changing its framing.
 */
#ifndef HANDOFF_H
#define HANDOFF_H

#include <sys/socket.h>
#include <stddef.h>
#include <stdint.h>

#define HANDOFF_MAGIC	0x706f6801u	/* "poh" and the layout version */
#define HANDOFF_MAXFDS	3		/* client, then per kind */
#define HANDOFF_DATA_MAX	(1024 * 1024)	/* client bytes, at most */

enum handoff_kind {
	HANDOFF_HEAD_WAIT = 0,		/* a request head not whole yet */
	HANDOFF_IDLE_KEEPALIVE,		/* between requests, nothing read */
	HANDOFF_BODY_SPOOL,		/* a body to read to a spool: gate_spool.h */
	HANDOFF_TAIL_RELAY,		/* reserved: a response tail to write */
	HANDOFF_TLS_HELLO		/* TLS, its first record not whole yet:
					   nothing read, nothing sent */
};

/* Sent to workers: the head is whole (or the client sent data). */
#define HANDOFF_F_READY		0x0001

struct handoff {
	uint32_t		 magic;		/* HANDOFF_MAGIC */
	uint16_t		 kind;		/* enum handoff_kind */
	uint16_t		 flags;		/* HANDOFF_F_* */
	uint32_t		 len;		/* client bytes after the header */
	uint32_t		 nfds;		/* descriptors passed, [0] client */
	uint32_t		 listener;	/* index in the sender's listeners */
	uint32_t		 nreq;		/* requests served on it so far */
	/* times are util_now_ms() (CLOCK_MONOTONIC: one clock for all) */
	int64_t			 head_start;	/* first byte of the head, 0 none */
	int64_t			 idle_deadline;	/* close when nothing came by */
	uint32_t		 head_timeout;	/* ms from head_start, then 408 */
	uint32_t		 max_head;	/* a longer head gets 431 */
	uint64_t		 arg[4];	/* per kind; 0 for the first two */
	struct sockaddr_storage	 peer;		/* client (after PROXY) */
	char			 listen_addr[64];	/* to find the listener */
};

/*
 * Send h (h->len and h->nfds say how much of data and fds go with it)
 * on a SOCK_SEQPACKET socket as one record; flags as for sendmsg
 * (MSG_DONTWAIT).  0, or -1 with errno set; the caller keeps its fds
 * either way and closes them when it no longer needs them.
 */
int	handoff_send(int sock, const struct handoff *h, const int *fds,
	    const void *data, int flags);
/*
 * Receive one record: the header into h, up to cap client bytes into
 * data, the descriptors into fds[HANDOFF_MAXFDS] (close-on-exec).
 * 0 on success; -1 with errno set (EAGAIN: nothing there; EPROTO: a
 * record that was not a whole hand-off, whose descriptors were closed).
 */
int	handoff_recv(int sock, struct handoff *h, int *fds, void *data,
	    size_t cap, int flags);
/*
 * Where the head in buf[0..len) ends, looking at bytes from "from" on
 * (what was checked before need not be again): the offset just past the
 * empty line, or 0 when it has not arrived.  Only the end is found;
 * the worker's parser judges the rest.
 */
size_t	handoff_head_end(const char *buf, size_t len, size_t from);

#endif /* HANDOFF_H */
