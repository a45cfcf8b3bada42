/*
 * balance.c - load balancing algorithms.
 *
 * round_robin: smooth weighted round robin (the order nginx uses: no
 *   bursts to heavy servers), precomputed per worker as a sequence; the
 *   position in it is one atomic counter per pool in the shared segment,
 *   so N workers together walk one sequence and three equal servers get
 *   thirds of the traffic whatever the number of workers.
 * least_conn: fewest requests in flight per unit of weight, counted across
 *   all workers.
 * random_two: two servers at random, the less loaded of the two.
 * hash: a consistent-hash ring built at load (config.c); the key is the
 *   client address, the URI, a header or a cookie.
 * sticky: a cookie names the server (an opaque id, not its address); new
 *   clients are placed by round robin and given the cookie.
 *
 * Backup servers take traffic only when no primary is usable.  A server
 * at max_conns is skipped; when every usable one is full the caller may
 * wait (queue_timeout).  Slow start lowers the share of a server that
 * just came back.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "balance.h"
#include "config.h"
#include "health.h"
#include "http_parse.h"
#include "log.h"
#include "util.h"

#define BALANCE_SEQ_MAX	4096

struct balance_seq {
	uint32_t	*primary, *backup;
	size_t		 nprimary, nbackup;
};

static struct balance_seq	*bal_seq;
static size_t			 bal_nseq;
static uint64_t			 bal_rand_state;
static unsigned			 bal_local;

static uint64_t
balance_rand(void)
{
	/* xorshift64*: plenty for picking servers */
	if (bal_rand_state == 0)
		bal_rand_state = ((uint64_t)getpid() << 32) ^
		    (uint64_t)time(NULL) ^ 0x9e3779b97f4a7c15ULL;
	bal_rand_state ^= bal_rand_state >> 12;
	bal_rand_state ^= bal_rand_state << 25;
	bal_rand_state ^= bal_rand_state >> 27;
	return bal_rand_state * 0x2545f4914f6cdd1dULL;
}

/* Smooth weighted round robin over the servers with backup == b. */
static uint32_t *
balance_sequence(const struct pool_config *pc, int b, size_t *n)
{
	int64_t		 cur[1024];
	unsigned	 w[1024];
	uint64_t	 total = 0, scale = 1;
	uint32_t	*seq;
	size_t		 s, i, k, ns = pc->nservers < 1024 ? pc->nservers : 1024;

	for (s = 0; s < ns; s++) {
		w[s] = pc->servers[s].backup == b ? pc->servers[s].weight : 0;
		total += w[s];
	}
	*n = 0;
	if (total == 0)
		return NULL;
	if (total > BALANCE_SEQ_MAX) {
		/* keep the proportions, cap the length */
		scale = (total + BALANCE_SEQ_MAX - 1) / BALANCE_SEQ_MAX;
		total = 0;
		for (s = 0; s < ns; s++) {
			if (w[s] != 0)
				w[s] = w[s] / scale ? w[s] / scale : 1;
			total += w[s];
		}
	}
	if ((seq = calloc(total, sizeof(*seq))) == NULL)
		fatal("calloc");
	memset(cur, 0, sizeof(cur));
	for (i = 0; i < total; i++) {
		k = SIZE_MAX;
		for (s = 0; s < ns; s++) {
			if (w[s] == 0)
				continue;
			cur[s] += w[s];
			if (k == SIZE_MAX || cur[s] > cur[k])
				k = s;
		}
		cur[k] -= (int64_t)total;
		seq[i] = (uint32_t)k;
	}
	*n = total;
	return seq;
}

void
balance_init(const struct config *cf)
{
	size_t	 p;

	bal_nseq = cf->npools;
	if ((bal_seq = calloc(bal_nseq ? bal_nseq : 1,
	    sizeof(*bal_seq))) == NULL)
		fatal("calloc");
	for (p = 0; p < cf->npools; p++) {
		bal_seq[p].primary = balance_sequence(&cf->pools[p], 0,
		    &bal_seq[p].nprimary);
		bal_seq[p].backup = balance_sequence(&cf->pools[p], 1,
		    &bal_seq[p].nbackup);
	}
	bal_local = (unsigned)balance_rand();
}

void
balance_fini(void)
{
	size_t	 p;

	for (p = 0; p < bal_nseq; p++) {
		free(bal_seq[p].primary);
		free(bal_seq[p].backup);
	}
	free(bal_seq);
	bal_seq = NULL;
	bal_nseq = 0;
}

void
balance_cookie_value(uint64_t id, char *buf, size_t len)
{
	snprintf(buf, len, "%016llx", (unsigned long long)id);
}

static int
balance_tried(const struct balance_req *br, unsigned s)
{
	unsigned	 i;

	for (i = 0; i < br->ntried; i++)
		if (br->tried[i] == s)
			return 1;
	return 0;
}

/* Usable for this request (ignoring max_conns)? */
static int
balance_candidate(const struct pool_config *pc, unsigned s, int backup,
    const struct balance_req *br, int64_t now)
{
	const struct server_config *sc = &pc->servers[s];

	return sc->backup == backup && !balance_tried(br, s) &&
	    health_usable(sc, now);
}

/* Take s: count it in flight, or note that it is full. */
static int
balance_take(const struct pool_config *pc, unsigned s, int *full)
{
	if (health_acquire(&pc->servers[s]))
		return (int)s;
	*full = 1;
	return -1;
}

static int
balance_rr(const struct pool_config *pc, size_t pool, int backup,
    const struct balance_req *br, int64_t now, int *full)
{
	const struct balance_seq *bs = &bal_seq[pool];
	const uint32_t	*seq = backup ? bs->backup : bs->primary;
	size_t		 n = backup ? bs->nbackup : bs->nprimary, i;
	uint64_t	 pos;
	unsigned	 s, pass, ramp;
	int		 r;

	if (n == 0)
		return -1;
	pos = atomic_fetch_add_explicit(&health_pool((unsigned)pool)->rr, 1,
	    memory_order_relaxed);
	/* pass 0 honours slow start; pass 1 takes anything usable */
	for (pass = 0; pass < 2; pass++)
		for (i = 0; i < n; i++) {
			s = seq[(pos + i) % n];
			if (!balance_candidate(pc, s, backup, br, now))
				continue;
			if (pass == 0 && (ramp = health_ramp(&pc->servers[s],
			    pc->slow_start, now)) < 1000 &&
			    balance_rand() % 1000 >= ramp)
				continue;
			if ((r = balance_take(pc, s, full)) != -1)
				return r;
		}
	return -1;
}

/* Load of s per unit of (ramped) weight, scaled to compare as integers. */
static uint64_t
balance_load(const struct pool_config *pc, unsigned s, int64_t now)
{
	const struct server_config *sc = &pc->servers[s];
	uint64_t	 w = (uint64_t)sc->weight * health_ramp(sc,
	    pc->slow_start, now);
	int32_t		 a = atomic_load_explicit(
	    &health_slot(sc->hslot)->active, memory_order_relaxed);

	if (a < 0)
		a = 0;
	return ((uint64_t)a + 1) * 1000000000ULL / (w ? w : 1);
}

static int
balance_least(const struct pool_config *pc, int backup,
    const struct balance_req *br, int64_t now, int *full)
{
	unsigned	 n = (unsigned)pc->nservers, i, s, best, start, skip[64];
	unsigned	 nskip = 0, k;
	uint64_t	 load, best_load;
	int		 r;

	/* the best that is not full; ties go round from a moving start */
	for (;;) {
		best = UINT32_MAX;
		best_load = 0;
		start = bal_local++;
		for (i = 0; i < n; i++) {
			s = (start + i) % n;
			if (!balance_candidate(pc, s, backup, br, now))
				continue;
			for (k = 0; k < nskip; k++)
				if (skip[k] == s)
					break;
			if (k < nskip)
				continue;
			load = balance_load(pc, s, now);
			if (best == UINT32_MAX || load < best_load) {
				best = s;
				best_load = load;
			}
		}
		if (best == UINT32_MAX)
			return -1;
		if ((r = balance_take(pc, best, full)) != -1)
			return r;
		if (nskip == 64)
			return -1;
		skip[nskip++] = best;
	}
}

static int
balance_two(const struct pool_config *pc, int backup,
    const struct balance_req *br, int64_t now, int *full)
{
	unsigned	 cand[1024], n = 0, s, a, b, i;
	int		 r;

	for (s = 0; s < pc->nservers && n < 1024; s++)
		if (balance_candidate(pc, s, backup, br, now))
			cand[n++] = s;
	if (n == 0)
		return -1;
	i = (unsigned)(balance_rand() % n);
	a = cand[i];
	/* a different second one, when there is one */
	b = n > 1 ? cand[(i + 1 + balance_rand() % (n - 1)) % n] : a;
	if (balance_load(pc, b, now) < balance_load(pc, a, now)) {
		s = a;
		a = b;
		b = s;
	}
	if ((r = balance_take(pc, a, full)) != -1)
		return r;
	if (a != b && (r = balance_take(pc, b, full)) != -1)
		return r;
	/* both full: any other */
	return balance_least(pc, backup, br, now, full);
}

/* Value of cookie name in the request's Cookie fields. */
static const char *
balance_cookie(const struct balance_req *br, const char *name, size_t *len)
{
	const struct http_field	*f;
	const char		*p, *end, *eq, *semi;
	size_t			 nl = strlen(name);
	unsigned		 i;

	for (i = 0; i < br->nfields; i++) {
		f = &br->fields[i];
		if (f->name_len != 6 || strncasecmp(f->name, "cookie", 6) != 0)
			continue;
		p = f->value;
		end = f->value + f->value_len;
		while (p < end) {
			while (p < end && (*p == ' ' || *p == ';'))
				p++;
			semi = memchr(p, ';', (size_t)(end - p));
			if (semi == NULL)
				semi = end;
			eq = memchr(p, '=', (size_t)(semi - p));
			if (eq != NULL && (size_t)(eq - p) == nl &&
			    memcmp(p, name, nl) == 0) {
				*len = (size_t)(semi - eq - 1);
				return eq + 1;
			}
			p = semi;
		}
	}
	return NULL;
}

static int
balance_hash(const struct pool_config *pc, const struct balance_req *br,
    int64_t now, int *full)
{
	const struct http_field	*f;
	const char		*key = NULL;
	size_t			 klen = 0, lo, hi, mid, i;
	uint32_t		 h;
	unsigned		 s;
	int			 r;

	switch (pc->hash_key) {
	case HASH_CLIENT_IP:
		key = br->client_ip;
		klen = strlen(key);
		break;
	case HASH_URI:
		key = br->uri;
		klen = br->uri_len;
		break;
	case HASH_HEADER:
		if ((f = http_field_find(br->fields, br->nfields,
		    pc->hash_name)) != NULL) {
			key = f->value;
			klen = f->value_len;
		}
		break;
	case HASH_COOKIE:
		key = balance_cookie(br, pc->hash_name, &klen);
		break;
	}
	if (key == NULL || pc->nring == 0)
		return -2;	/* no key: spread by round robin */
	h = (uint32_t)(util_hash64(key, klen, 0) >> 32);
	lo = 0;
	hi = pc->nring;
	while (lo < hi) {
		mid = (lo + hi) / 2;
		if (pc->ring[mid].hash < h)
			lo = mid + 1;
		else
			hi = mid;
	}
	/* clockwise to the first server that can take it */
	for (i = 0; i < pc->nring; i++) {
		s = pc->ring[(lo + i) % pc->nring].server;
		if (!balance_candidate(pc, s, 0, br, now))
			continue;
		if ((r = balance_take(pc, s, full)) != -1)
			return r;
	}
	return -1;
}

static int
balance_sticky(const struct pool_config *pc, const struct balance_req *br,
    int64_t now, int *full)
{
	const char	*v;
	char		 want[32];
	size_t		 len;
	unsigned	 s;

	if ((v = balance_cookie(br, pc->sticky_cookie, &len)) == NULL ||
	    len != 16)
		return -2;
	for (s = 0; s < pc->nservers; s++) {
		balance_cookie_value(pc->servers[s].id, want, sizeof(want));
		if (memcmp(want, v, 16) != 0)
			continue;
		/* its server, while it can take the request */
		if (!balance_candidate(pc, s, pc->servers[s].backup, br, now))
			return -2;
		return balance_take(pc, s, full) == -1 ? -2 : (int)s;
	}
	return -2;
}

int
balance_pick(const struct config *cf, size_t pool, struct balance_req *br,
    int *set_cookie)
{
	const struct pool_config *pc = &cf->pools[pool];
	int64_t		 now = util_now_ms();
	int		 r = -1, full = 0, backup;

	*set_cookie = 0;
	if (pc->balance == BALANCE_STICKY) {
		if ((r = balance_sticky(pc, br, now, &full)) >= 0)
			return r;
		*set_cookie = 1;
	}
	backup = 0;
	if (pc->balance == BALANCE_HASH &&
	    (r = balance_hash(pc, br, now, &full)) != -2) {
		if (r >= 0)
			return r;
		if (full)
			return BALANCE_FULL;
		backup = 1;	/* no primary: the backups, round robin */
	}
	/* primaries; the backups only when no primary could be used */
	for (; backup < 2; backup++) {
		switch (pc->balance) {
		case BALANCE_LEAST_CONN:
			r = balance_least(pc, backup, br, now, &full);
			break;
		case BALANCE_RANDOM_TWO:
			r = balance_two(pc, backup, br, now, &full);
			break;
		default:
			r = balance_rr(pc, pool, backup, br, now, &full);
			break;
		}
		if (r >= 0 || full)
			break;
	}
	if (r >= 0)
		return r;
	return full ? BALANCE_FULL : BALANCE_NONE;
}
