/*
 * gate_spool.c - the gate reads slow request bodies so no worker does.
 *
 * A body comes in at the client's pace into memory (SPOOL_MEM), then
 * into a file opened with O_TMPFILE in spool_dir: it has no name, so it
 * goes with its last descriptor and no crash or SIGKILL can leave one
 * behind.  The body is framed by body_frame.c, as the worker frames it.
 * Whole, it goes with the connection and the head to whichever idle
 * worker reads the socket first (gate_spool.h has the record), and that
 * worker sends it to a backend with a Content-Length.  A body that is
 * cut short, too slow, too big or malformed is answered here and never
 * reaches a backend.
 *
 * The bytes held are bounded in all (spool_max_size) and per client
 * address; a Content-Length body reserves its whole length when taken,
 * a chunked one grows its share as it comes.  A body that does not fit
 * gets 503 with Retry-After.
 *
 * The spool has its own epoll set, which the gate's loop watches like
 * any other descriptor; the gate's own state stays in gate.c.
 */
#include <sys/epoll.h>
#include <sys/socket.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "body_frame.h"
#include "config.h"
#include "gate.h"
#include "gate_spool.h"
#include "handoff.h"
#include "http.h"
#include "log.h"
#include "stats.h"
#include "util.h"

#define SPOOL_READ	(16 * 1024)	/* read from a client at once */
#define SPOOL_LINE	4096		/* as the worker's chunk lines */
/* input kept unframed between reads: a trailer line, at most */
#define SPOOL_KEEP	(SPOOL_LINE + 64)
#define SPOOL_EVENTS	128
#define SPOOL_MIN_RATE_GRACE	5000	/* as relay_too_slow */
#define SPOOL_PASS_MS	5000	/* an upgrade's hand-over gives up then */
#define SPOOL_DISK_LOG_MS	60000	/* a failing disk said this often */
#define SPOOL_PASS_MAGIC	0x73707031u	/* "spp" and its layout */

struct spool_conn {
	struct handoff		 h;	/* as taken; sent back changed */
	int			 fd;	/* the client */
	int			 file;	/* the spool file, or -1 */
	int			 ready;	/* whole: for a worker */
	char			*out;	/* head, then the body (memory) */
	size_t			 ocap;
	size_t			 head_len;
	size_t			 mlen;	/* body bytes in out after the head */
	char			*keep;	/* input not framed yet, or NULL */
	size_t			 klen;
	struct body_frame	 bf;
	uint64_t		 held;	/* counted in the spool's bytes */
	int64_t			 deadline;	/* client_body_timeout */
	int64_t			 start;		/* client_min_rate */
	uint64_t		 got;
	uint32_t		 min_rate;
	int			 body_timeout;
	uint64_t		 ipkey;
	size_t			 idx;
	struct spool_conn	*next;	/* ready, waiting for room */
};

/* What an old gate passes to a new one, between head and body. */
struct spool_pass {
	uint32_t		 magic;		/* SPOOL_PASS_MAGIC */
	uint32_t		 size;		/* sizeof(struct spool_pass) */
	struct body_frame	 bf;
	uint64_t		 mlen, klen;	/* memory body, unframed input */
	int64_t			 deadline, start;
	uint64_t		 got;
};

struct spool_ip {
	uint64_t		 key;	/* 0: never used */
	uint64_t		 bytes;
};

static struct {
	const struct config	*cf;
	struct stats_shm	*st;
	int			 ep, dir, out;
	int			 out_armed;
	struct spool_conn	**conns;
	size_t			 n, cap;
	struct spool_conn	*rq, *rq_tail;
	struct spool_ip		*ips;
	size_t			 nips, ips_used;
	char			 rbuf[SPOOL_READ];
	char			 work[SPOOL_KEEP + SPOOL_READ];
	int64_t			 disk_logged;	/* when, 0 never */
	int			 full_logged;
} sp = { .ep = -1, .dir = -1, .out = -1 };

static char	spool_tag_out;

/* --- bytes held, per address ---------------------------------------- */

static struct spool_ip *
spool_ip_find(uint64_t key, int make)
{
	struct spool_ip	*old;
	size_t		 i, j, oldn;

	if (key == 0)
		key = 1;
	if (make && (sp.ips_used + 1) * 4 >= sp.nips * 3) {
		old = sp.ips;
		oldn = sp.nips;
		sp.nips = sp.nips == 0 ? 256 : sp.nips * 2;
		if ((sp.ips = calloc(sp.nips, sizeof(*sp.ips))) == NULL)
			fatal("calloc");
		sp.ips_used = 0;
		for (i = 0; i < oldn; i++) {
			if (old[i].bytes == 0)
				continue;	/* holding nothing: dropped */
			for (j = old[i].key & (sp.nips - 1); sp.ips[j].key != 0;
			    j = (j + 1) & (sp.nips - 1))
				;
			sp.ips[j] = old[i];
			sp.ips_used++;
		}
		free(old);
	}
	if (sp.nips == 0)
		return NULL;
	for (i = key & (sp.nips - 1); sp.ips[i].key != 0;
	    i = (i + 1) & (sp.nips - 1))
		if (sp.ips[i].key == key)
			return &sp.ips[i];
	if (!make)
		return NULL;
	sp.ips[i].key = key;
	sp.ips[i].bytes = 0;
	sp.ips_used++;
	return &sp.ips[i];
}

/*
 * Count n more bytes held by c, if the spool and c's address have room.
 * 0, or -1 when they do not (nothing counted).
 */
static int
spool_reserve(struct spool_conn *c, uint64_t n)
{
	struct spool_ip	*ip = spool_ip_find(c->ipkey, 1);
	uint64_t	 max = atomic_load(&sp.st->spool_max);
	uint64_t	 used = atomic_load(&sp.st->spool_bytes);

	if (n > max || used > max - n || ip->bytes + n > max /
	    SPOOL_PER_IP_SHARE)
		return -1;
	ip->bytes += n;
	c->held += n;
	atomic_fetch_add(&sp.st->spool_bytes, n);
	return 0;
}

static void
spool_release(struct spool_conn *c)
{
	struct spool_ip	*ip = spool_ip_find(c->ipkey, 0);

	if (c->held == 0)
		return;
	if (ip != NULL)
		ip->bytes -= c->held < ip->bytes ? c->held : ip->bytes;
	atomic_fetch_sub(&sp.st->spool_bytes, c->held);
	c->held = 0;
}

/* --- connections ----------------------------------------------------- */

static void
spool_drop(struct spool_conn *c)
{
	if (c->fd != -1) {
		(void)epoll_ctl(sp.ep, EPOLL_CTL_DEL, c->fd, NULL);
		close(c->fd);
	}
	if (c->file != -1)
		close(c->file);
	spool_release(c);
	sp.conns[c->idx] = sp.conns[--sp.n];
	sp.conns[c->idx]->idx = c->idx;
	atomic_store(&sp.st->spool_uploads, (uint32_t)sp.n);
	free(c->out);
	free(c->keep);
	free(c);
}

/*
 * porter's error response, as far as the socket takes it now, then the
 * connection closes.  retry: a Retry-After for the 503 of a full spool.
 */
static void
spool_answer(struct spool_conn *c, int status, int retry)
{
	char	 extra[64];

	if (sp.cf == NULL)
		return;
	snprintf(extra, sizeof(extra), "Retry-After: %d\r\n",
	    SPOOL_RETRY_AFTER);
	gate_answer(sp.cf, c->fd, status, retry ? extra : NULL);
}

static void
spool_fail(struct spool_conn *c, int status, int retry, const char *why)
{
	char	 ip[64];

	util_ip_string(&c->h.peer, ip, sizeof(ip));
	log_info("client %s: %s (%d)", ip, why, status);
	if (retry)
		atomic_fetch_add(&sp.st->spool_refused, 1);
	spool_answer(c, status, retry);
	spool_drop(c);
}

/* Give c to a worker, or queue it until the socket has room. */
static void
spool_hand(struct spool_conn *c)
{
	struct epoll_event	 ev;
	int			 fds[2];

	if (!c->ready) {
		c->ready = 1;
		(void)epoll_ctl(sp.ep, EPOLL_CTL_DEL, c->fd, NULL);
	}
	if (sp.rq == NULL || sp.rq == c) {
		fds[0] = c->fd;
		fds[1] = c->file;
		c->h.nfds = c->file != -1 ? 2 : 1;
		/* counted before the client can see the answer */
		atomic_fetch_add(&sp.st->spool_spooled, 1);
		if (handoff_send(sp.out, &c->h, fds, c->out, MSG_DONTWAIT) ==
		    0) {
			if (sp.rq == c && (sp.rq = c->next) == NULL)
				sp.rq_tail = NULL;
			spool_drop(c);
			return;
		}
		atomic_fetch_sub(&sp.st->spool_spooled, 1);
		if (errno != EAGAIN && errno != EWOULDBLOCK) {
			log_warn("gate: handing a spooled body on");
			if (sp.rq == c && (sp.rq = c->next) == NULL)
				sp.rq_tail = NULL;
			spool_drop(c);
			return;
		}
		if (sp.rq == c)
			return;
	}
	c->next = NULL;
	if (sp.rq_tail != NULL)
		sp.rq_tail->next = c;
	else
		sp.rq = c;
	sp.rq_tail = c;
	if (!sp.out_armed) {
		memset(&ev, 0, sizeof(ev));
		ev.events = EPOLLOUT;
		ev.data.ptr = &spool_tag_out;
		if (epoll_ctl(sp.ep, EPOLL_CTL_ADD, sp.out, &ev) == 0)
			sp.out_armed = 1;
	}
}

static void
spool_flush(void)
{
	struct spool_conn	*c;
	size_t			 before;

	while ((c = sp.rq) != NULL) {
		before = sp.n;
		spool_hand(c);
		if (sp.n == before)
			return;
	}
	if (sp.out_armed) {
		(void)epoll_ctl(sp.ep, EPOLL_CTL_DEL, sp.out, NULL);
		sp.out_armed = 0;
	}
}

/* Append to c->out (the head and the memory part), growing it. */
static void
spool_mem(struct spool_conn *c, const char *p, size_t n)
{
	size_t	 need = c->head_len + c->mlen + n;

	if (need > c->ocap) {
		c->ocap = need > 2 * c->ocap ? need : 2 * c->ocap;
		if ((c->out = realloc(c->out, c->ocap)) == NULL)
			fatal("realloc");
	}
	memcpy(c->out + c->head_len + c->mlen, p, n);
	c->mlen += n;
}

static int
spool_write(struct spool_conn *c, const char *p, size_t n)
{
	ssize_t	 w;

	while (n > 0) {
		if ((w = write(c->file, p, n)) == -1) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/*
 * The spool file could not be written (a full disk, mostly): c gets
 * 503.  Said once, not for each upload it fails, as long as it lasts
 * (and again a minute later if it still does).
 */
static void
spool_disk_fail(struct spool_conn *c)
{
	int64_t	 now = util_now_ms();

	if (sp.disk_logged == 0 || now - sp.disk_logged >= SPOOL_DISK_LOG_MS) {
		log_warn("gate: writing a request body to spool_dir %s",
		    sp.cf->spool_dir);
		sp.disk_logged = now;
	}
	spool_fail(c, 503, 0, "request body: cannot spool it");
}

/*
 * Body bytes: to memory while they fit, else to the file (opened with
 * what memory held).  0, or -1 after c was answered and dropped.
 */
static int
spool_put(struct spool_conn *c, const char *p, size_t n)
{
	if (c->bf.chunked && spool_reserve(c, n) == -1) {
		spool_fail(c, 503, 1, "request body: the spool is full");
		return -1;
	}
	if (c->file == -1 && c->mlen + n <= SPOOL_MEM) {
		spool_mem(c, p, n);
		return 0;
	}
	if (c->file == -1) {
		c->file = openat(sp.dir, ".", O_TMPFILE | O_RDWR | O_CLOEXEC,
		    0600);
		if (c->file == -1 || spool_write(c, c->out + c->head_len,
		    c->mlen) == -1)
			goto fail;
		c->mlen = 0;
	}
	if (spool_write(c, p, n) == 0)
		return 0;
fail:
	spool_disk_fail(c);
	return -1;
}

/* The body is whole, tail[0..tlen) came after it: to a worker. */
static void
spool_whole(struct spool_conn *c, const char *tail, size_t tlen)
{
	c->h.flags |= HANDOFF_F_READY;
	c->h.arg[1] = c->bf.total;
	c->h.arg[2] = c->h.arg[3] = 0;
	if (c->file == -1 && c->head_len + c->mlen + tlen > SPOOL_INLINE_MAX) {
		/* a big head: the body goes in a file after all */
		c->file = openat(sp.dir, ".", O_TMPFILE | O_RDWR | O_CLOEXEC,
		    0600);
		if (c->file == -1 || spool_write(c, c->out + c->head_len,
		    c->mlen) == -1) {
			spool_disk_fail(c);
			return;
		}
		c->mlen = 0;
	}
	c->h.arg[0] = (uint64_t)c->head_len << 32 |
	    (c->file == -1 ? SPOOL_F_INLINE : 0);
	/* what came after the body follows the head (and inline body) */
	spool_mem(c, tail, tlen);
	c->mlen -= tlen;
	c->h.len = (uint32_t)(c->head_len + c->mlen + tlen);
	spool_hand(c);
}

/*
 * Frame in[0..len), which starts with what was kept from before.  0 to
 * go on (what could not be framed yet is kept), -1 when c was answered
 * and dropped or is whole and on its way.
 */
static int
spool_frame(struct spool_conn *c, const char *in, size_t len)
{
	const char	*out;
	size_t		 pos = 0, used, olen;

	for (;;) {
		switch (body_frame_feed(&c->bf, in + pos, len - pos, &used,
		    &out, &olen)) {
		case BODY_FRAME_DATA:
			pos += used;
			if (spool_put(c, out, olen) == -1)
				return -1;
			continue;
		case BODY_FRAME_TRAILER:
			/* Content-Length goes to the backend: trailers go */
			pos += used;
			continue;
		case BODY_FRAME_DONE:
			pos += used;
			spool_whole(c, in + pos, len - pos);
			return -1;
		case BODY_FRAME_ERROR:
			spool_fail(c, 400, 0, "malformed chunked body");
			return -1;
		case BODY_FRAME_TOO_BIG:
			spool_fail(c, 413, 0, "request body too large");
			return -1;
		case BODY_FRAME_AGAIN:
			pos += used;
			break;
		}
		break;
	}
	if ((c->klen = len - pos) == 0)
		return 0;
	if (c->klen > SPOOL_KEEP) {
		/* a trailer line longer than the decoder takes */
		spool_fail(c, 400, 0, "malformed chunked body");
		return -1;
	}
	if (c->keep == NULL && (c->keep = malloc(SPOOL_KEEP)) == NULL)
		fatal("malloc");
	memmove(c->keep, in + pos, c->klen);
	return 0;
}

/* Feed in[0..n).  0, or -1 when c is gone or whole. */
static int
spool_input(struct spool_conn *c, const char *in, size_t n)
{
	size_t	 k;

	while (n > 0) {
		k = n < SPOOL_READ ? n : SPOOL_READ;
		if (c->klen == 0) {
			if (spool_frame(c, in, k) == -1)
				return -1;
		} else {
			/* what was kept, then the new bytes, in one piece */
			memcpy(sp.work, c->keep, c->klen);
			memcpy(sp.work + c->klen, in, k);
			if (spool_frame(c, sp.work, c->klen + k) == -1)
				return -1;
		}
		in += k;
		n -= k;
	}
	return 0;
}

void
gate_spool_take(const struct handoff *hin, const int *fds,
    const char *data)
{
	struct spool_conn	*c;
	struct spool_pass	 ps;
	struct epoll_event	 ev;
	char			 addr[64];
	size_t			 head_len = (size_t)(hin->arg[0] >> 32);
	size_t			 body_at = head_len;
	uint32_t		 max;
	int			 fd = fds[0], passed;

	passed = (hin->arg[0] & SPOOL_F_PASSED) != 0;
	memset(&ps, 0, sizeof(ps));
	if (passed && hin->len >= head_len + sizeof(ps)) {
		memcpy(&ps, data + head_len, sizeof(ps));
		body_at = head_len + sizeof(ps);
	}
	if (head_len == 0 || head_len > hin->len || sp.st == NULL ||
	    (hin->flags & HANDOFF_F_READY) || (!passed && fds[1] != -1) ||
	    (passed && (ps.magic != SPOOL_PASS_MAGIC || ps.size !=
	    sizeof(ps) || body_at + ps.mlen + ps.klen != hin->len ||
	    ps.mlen > SPOOL_MEM || ps.klen > SPOOL_KEEP))) {
		log_warnx("gate: a body to spool it cannot take: closed");
		close(fd);
		if (fds[1] != -1)
			close(fds[1]);
		return;
	}
	max = atomic_load(&sp.st->gate_max_conns);
	if (sp.n == sp.cap) {
		sp.cap = sp.cap == 0 ? 256 : sp.cap * 2;
		if ((sp.conns = realloc(sp.conns, sp.cap *
		    sizeof(*sp.conns))) == NULL)
			fatal("realloc");
	}
	if ((c = calloc(1, sizeof(*c))) == NULL ||
	    (c->out = malloc(head_len)) == NULL)
		fatal("malloc");
	c->ocap = head_len;
	c->h = *hin;
	c->fd = fd;
	c->file = -1;
	c->head_len = head_len;
	memcpy(c->out, data, head_len);
	c->body_timeout = (int)(uint32_t)hin->arg[3];
	c->min_rate = (uint32_t)(hin->arg[3] >> 32);
	c->start = util_now_ms();
	c->deadline = c->start + c->body_timeout;
	util_ip_string(&hin->peer, addr, sizeof(addr));
	c->ipkey = util_hash64(addr, strlen(addr), 0x73706f6f);
	body_frame_init(&c->bf, (hin->arg[0] & SPOOL_F_CHUNKED) != 0,
	    hin->arg[1], hin->arg[2], SPOOL_LINE);
	if (passed) {
		/* where the old gate was: framing, file, memory, clock */
		c->bf = ps.bf;
		c->file = fds[1];
		c->deadline = ps.deadline;
		c->start = ps.start;
		c->got = ps.got;
		spool_mem(c, data + body_at, (size_t)ps.mlen);
		c->h.arg[0] &= ~(uint64_t)SPOOL_F_PASSED;
	}
	c->idx = sp.n;
	sp.conns[sp.n++] = c;
	atomic_store(&sp.st->spool_uploads, (uint32_t)sp.n);
	if (sp.dir == -1) {
		/* sent while the gate found it had no spool_dir */
		spool_fail(c, 503, 1, "request body: no spool_dir");
		return;
	}
	if (sp.n > max) {
		if (!sp.full_logged)
			log_warnx("gate: max_connections reached: refusing "
			    "bodies to spool");
		sp.full_logged = 1;
		spool_fail(c, 503, 1, "request body: too many connections");
		return;
	}
	if (sp.n < max / 2)
		sp.full_logged = 0;
	/* a Content-Length body has its room from the start */
	if (spool_reserve(c, c->bf.chunked ? c->bf.total : hin->arg[1]) ==
	    -1) {
		spool_fail(c, 503, 1, "request body: the spool is full");
		return;
	}
	if (spool_input(c, data + body_at + ps.mlen, hin->len - body_at -
	    ps.mlen) == -1)
		return;
	memset(&ev, 0, sizeof(ev));
	ev.events = EPOLLIN | EPOLLRDHUP;
	ev.data.ptr = c;
	if (epoll_ctl(sp.ep, EPOLL_CTL_ADD, c->fd, &ev) == -1) {
		log_warn("gate: epoll_ctl");
		spool_drop(c);
	}
}

/* Bytes came (or the client left). */
static void
spool_read(struct spool_conn *c)
{
	char		 ip[64];
	int64_t		 now, took;
	ssize_t		 n;

	n = recv(c->fd, sp.rbuf, sizeof(sp.rbuf), MSG_DONTWAIT);
	if (n == -1 && (errno == EAGAIN || errno == EWOULDBLOCK ||
	    errno == EINTR))
		return;
	if (n <= 0) {
		/* nothing of it reaches a backend */
		util_ip_string(&c->h.peer, ip, sizeof(ip));
		log_info("client %s: %s while sending the request body", ip,
		    n == 0 ? "closed" : "failed");
		spool_drop(c);
		return;
	}
	now = util_now_ms();
	c->deadline = now + c->body_timeout;
	c->got += (uint64_t)n;
	took = now - c->start;
	if (c->min_rate != 0 && took >= SPOOL_MIN_RATE_GRACE &&
	    c->got * 1000 / (uint64_t)took < c->min_rate) {
		spool_fail(c, 408, 0, "request body slower than "
		    "client_min_rate");
		return;
	}
	(void)spool_input(c, sp.rbuf, (size_t)n);
}

void
gate_spool_limits(const struct config *cf, struct stats_shm *st)
{
	int	 fd;

	atomic_store(&st->spool_max, cf->spool_max_size);
	/* workers hand bodies on from the start; the gate checks more */
	fd = open(cf->spool_dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
	atomic_store(&st->spool_ok, fd != -1);
	if (fd != -1)
		close(fd);
}

int
gate_spool_init(const struct config *cf, struct stats_shm *st, int out)
{
	int	 fd;

	sp.cf = cf;
	sp.st = st;
	sp.out = out;
	atomic_store(&st->spool_uploads, 0);
	atomic_store(&st->spool_bytes, 0);
	sp.dir = open(cf->spool_dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
	/* a file it cannot make is found now, not at the first upload */
	if (sp.dir == -1 || (fd = openat(sp.dir, ".", O_TMPFILE | O_RDWR |
	    O_CLOEXEC, 0600)) == -1) {
		log_warn("gate: spool_dir %s: request bodies are not spooled",
		    cf->spool_dir);
		atomic_store(&st->spool_ok, 0);
		if (sp.dir != -1)
			close(sp.dir);
		sp.dir = -1;
		return -1;
	}
	close(fd);
	if ((sp.ep = epoll_create1(EPOLL_CLOEXEC)) == -1) {
		log_warn("gate: epoll_create1");
		close(sp.dir);
		sp.dir = -1;
		return -1;
	}
	atomic_store(&st->spool_ok, 1);
	return sp.ep;
}

void
gate_spool_events(void)
{
	struct epoll_event	 evs[SPOOL_EVENTS];
	int			 n, i;

	if (sp.ep == -1)
		return;
	n = epoll_wait(sp.ep, evs, SPOOL_EVENTS, 0);
	for (i = 0; i < n; i++) {
		if (evs[i].data.ptr == &spool_tag_out)
			spool_flush();
		else
			spool_read(evs[i].data.ptr);
	}
}

int
gate_spool_expire(int64_t now)
{
	struct spool_conn	*c;
	int64_t			 next = now + 1000;
	size_t			 i;

	for (i = 0; i < sp.n; ) {
		c = sp.conns[i];
		if (c->ready || c->deadline > now) {
			if (!c->ready && c->deadline < next)
				next = c->deadline;
			i++;
			continue;
		}
		spool_fail(c, 408, 0, "timed out sending the request body");
	}
	return (int)(next - now);
}

/* Pass c on to the new gate.  0, or -1 (c untouched). */
static int
spool_pass_one(struct spool_conn *c, int sock, int64_t until)
{
	struct spool_pass	 ps;
	struct handoff		 h = c->h;
	struct pollfd		 pfd;
	char			*buf;
	size_t			 len;
	int			 fds[2], rc;

	memset(&ps, 0, sizeof(ps));
	ps.magic = SPOOL_PASS_MAGIC;
	ps.size = sizeof(ps);
	ps.bf = c->bf;
	ps.mlen = c->file == -1 ? c->mlen : 0;
	ps.klen = c->klen;
	ps.deadline = c->deadline;
	ps.start = c->start;
	ps.got = c->got;
	len = c->head_len + sizeof(ps) + ps.mlen + ps.klen;
	if (len > HANDOFF_DATA_MAX || (buf = malloc(len)) == NULL)
		return -1;
	memcpy(buf, c->out, c->head_len);
	memcpy(buf + c->head_len, &ps, sizeof(ps));
	memcpy(buf + c->head_len + sizeof(ps), c->out + c->head_len,
	    (size_t)ps.mlen);
	if (ps.klen > 0)
		memcpy(buf + len - ps.klen, c->keep, (size_t)ps.klen);
	h.arg[0] |= SPOOL_F_PASSED;
	h.flags &= ~HANDOFF_F_READY;
	h.len = (uint32_t)len;
	fds[0] = c->fd;
	fds[1] = c->file;
	h.nfds = c->file != -1 ? 2 : 1;
	while ((rc = handoff_send(sock, &h, fds, buf, MSG_DONTWAIT)) == -1 &&
	    (errno == EAGAIN || errno == EWOULDBLOCK) &&
	    util_now_ms() < until) {
		pfd.fd = sock;
		pfd.events = POLLOUT;
		(void)poll(&pfd, 1, 100);
	}
	free(buf);
	return rc;
}

void
gate_spool_pass(int sock)
{
	struct spool_conn	*c;
	int64_t			 until = util_now_ms() + SPOOL_PASS_MS;
	size_t			 i, passed = 0, n = 0;

	if (sp.st == NULL)
		return;
	for (i = 0; i < sp.n; ) {
		c = sp.conns[i];
		if (c->ready) {
			i++;
			continue;
		}
		n++;
		(void)epoll_ctl(sp.ep, EPOLL_CTL_DEL, c->fd, NULL);
		if (spool_pass_one(c, sock, until) == -1) {
			spool_fail(c, 503, 1, "request body: not passed to "
			    "the new gate");
			continue;
		}
		passed++;
		spool_drop(c);		/* the new gate has its own */
	}
	if (n > 0)
		log_notice("gate: passed %zu of %zu bodies being spooled on",
		    passed, n);
}

void
gate_spool_fini(void)
{
	struct spool_conn	*c;

	if (sp.st != NULL)
		atomic_store(&sp.st->spool_ok, 0);
	spool_flush();
	while (sp.n > 0) {
		c = sp.conns[sp.n - 1];
		if (c->ready) {
			spool_drop(c);
			continue;
		}
		spool_fail(c, 503, 1, "request body: the gate is stopping");
	}
}
