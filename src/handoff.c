/*
 * handoff.c - one client connection in one SOCK_SEQPACKET record.
 *
 * A sequenced-packet socket keeps records whole: the header, the bytes
 * and the descriptors of one hand-off arrive together or not at all, and
 * when several workers share the receiving end exactly one of them gets
 * each record.
 */
#include <sys/socket.h>
#include <sys/uio.h>
#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#include "handoff.h"

int
handoff_send(int sock, const struct handoff *h, const int *fds,
    const void *data, int flags)
{
	union {
		struct cmsghdr	 hdr;
		char		 buf[CMSG_SPACE(sizeof(int) * HANDOFF_MAXFDS)];
	}		 cm;
	struct msghdr	 msg;
	struct iovec	 iov[2];
	struct cmsghdr	*c;
	ssize_t		 n;

	if (h->nfds == 0 || h->nfds > HANDOFF_MAXFDS) {
		errno = EINVAL;
		return -1;
	}
	memset(&msg, 0, sizeof(msg));
	memset(&cm, 0, sizeof(cm));
	iov[0].iov_base = (void *)(uintptr_t)h;
	iov[0].iov_len = sizeof(*h);
	iov[1].iov_base = (void *)(uintptr_t)data;
	iov[1].iov_len = h->len;
	msg.msg_iov = iov;
	msg.msg_iovlen = h->len > 0 ? 2 : 1;
	msg.msg_control = cm.buf;
	msg.msg_controllen = CMSG_SPACE(sizeof(int) * h->nfds);
	c = CMSG_FIRSTHDR(&msg);
	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_RIGHTS;
	c->cmsg_len = CMSG_LEN(sizeof(int) * h->nfds);
	memcpy(CMSG_DATA(c), fds, sizeof(int) * h->nfds);
	do {
		n = sendmsg(sock, &msg, flags | MSG_NOSIGNAL);
	} while (n == -1 && errno == EINTR);
	if (n == -1)
		return -1;
	/* a sequenced packet goes whole or not at all */
	return 0;
}

int
handoff_recv(int sock, struct handoff *h, int *fds, void *data, size_t cap,
    int flags)
{
	union {
		struct cmsghdr	 hdr;
		char		 buf[CMSG_SPACE(sizeof(int) * HANDOFF_MAXFDS)];
	}		 cm;
	struct msghdr	 msg;
	struct iovec	 iov[2];
	struct cmsghdr	*c;
	ssize_t		 n;
	size_t		 i, nfds = 0;

	for (i = 0; i < HANDOFF_MAXFDS; i++)
		fds[i] = -1;
	memset(&msg, 0, sizeof(msg));
	iov[0].iov_base = h;
	iov[0].iov_len = sizeof(*h);
	iov[1].iov_base = data;
	iov[1].iov_len = cap;
	msg.msg_iov = iov;
	msg.msg_iovlen = 2;
	msg.msg_control = cm.buf;
	msg.msg_controllen = sizeof(cm.buf);
	do {
		n = recvmsg(sock, &msg, flags | MSG_CMSG_CLOEXEC);
	} while (n == -1 && errno == EINTR);
	if (n == -1)
		return -1;
	for (c = CMSG_FIRSTHDR(&msg); c != NULL; c = CMSG_NXTHDR(&msg, c)) {
		if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
			continue;
		nfds = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		if (nfds > HANDOFF_MAXFDS)
			nfds = HANDOFF_MAXFDS;	/* MSG_CTRUNC closed the rest */
		memcpy(fds, CMSG_DATA(c), nfds * sizeof(int));
	}
	if ((size_t)n < sizeof(*h) || h->magic != HANDOFF_MAGIC ||
	    (msg.msg_flags & (MSG_TRUNC | MSG_CTRUNC)) || h->nfds == 0 ||
	    h->nfds != nfds || (size_t)n - sizeof(*h) != h->len) {
		for (i = 0; i < nfds; i++)
			close(fds[i]);
		for (i = 0; i < HANDOFF_MAXFDS; i++)
			fds[i] = -1;
		errno = EPROTO;
		return -1;
	}
	h->listen_addr[sizeof(h->listen_addr) - 1] = '\0';
	return 0;
}

size_t
handoff_head_end(const char *buf, size_t len, size_t from)
{
	size_t	 i;

	/* the bytes before from are looked back at, never judged again */
	for (i = from; i < len; i++) {
		if (buf[i] != '\n')
			continue;
		/* a bare LF is an error the worker answers (400) */
		if (i == 0 || buf[i - 1] != '\r')
			return i + 1;
		if (i >= 3 && buf[i - 2] == '\n' && buf[i - 3] == '\r')
			return i + 1;
	}
	return 0;
}
