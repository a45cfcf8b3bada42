/*
 * checker.c - active health checks.
 *
 * Every health_interval each server of a checked pool gets a probe: a TCP
 * connect (health_check = tcp) or an HTTP request (health_check = GET
 * /path) whose status must fall in health_status and whose response must
 * contain health_body if set, all within health_timeout.  health_rise
 * passes in a row bring a down server up (it then ramps with slow start);
 * health_fall failures in a row take an up server down.  Probes run one
 * after another with short timeouts: checks are cheap and few, and one
 * process keeps them from multiplying with the workers.
 */
#include <sys/socket.h>
#include <sys/time.h>
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "checker.h"
#include "config.h"
#include "health.h"
#include "log.h"
#include "proc.h"
#include "tls.h"
#include "upstream.h"
#include "util.h"
#include "worker.h"

struct checker_srv {
	const struct pool_config	*pc;
	const struct server_config	*sc;
	int64_t				 due;
	unsigned			 passes, fails;
};

static volatile sig_atomic_t	 checker_stop, checker_reopen;

static void
checker_signal(int sig)
{
	if (sig == SIGUSR1)
		checker_reopen = 1;
	else
		checker_stop = 1;
}

int
checker_wanted(const struct config *cf)
{
	size_t	 i;

	for (i = 0; i < cf->npools; i++)
		if (cf->pools[i].check_kind != CHECK_OFF)
			return 1;
	return 0;
}

static void
checker_timeo(int fd, int opt, int64_t ms)
{
	struct timeval	 tv;

	if (ms < 1)
		ms = 1;
	tv.tv_sec = ms / 1000;
	tv.tv_usec = (ms % 1000) * 1000;
	(void)setsockopt(fd, SOL_SOCKET, opt, &tv, sizeof(tv));
}

/* A TLS pool's servers are probed over TLS, verified as requests are. */
static void *
checker_tls(const struct pool_config *pc, const struct server_config *sc,
    int fd)
{
	static void	*sessions[1024];
	char		 name[128];

	config_tls_name(pc, sc, name, sizeof(name));
	/* resumed sessions keep checks cheap */
	return tls_connect(fd, pc->tls_ctx, name, &sessions[sc->hslot % 1024]);
}

/* One probe; returns 1 when it passed, else 0 with why filled. */
static int
checker_probe(const struct pool_config *pc, const struct server_config *sc,
    char *why, size_t whylen)
{
	char		 req[512], buf[16384];
	const char	*host, *body;
	int64_t		 deadline = util_now_ms() + pc->check_timeout;
	size_t		 len = 0;
	ssize_t		 n;
	int		 fd, rl, status, ok = 0;
	void		*ssl = NULL;

	if ((fd = upstream_connect(&sc->addr, pc->check_timeout)) == -1) {
		snprintf(why, whylen, "connect: %s", strerror(errno));
		return 0;
	}
	if (pc->check_kind == CHECK_TCP) {
		close(fd);
		snprintf(why, whylen, "connected");
		return 1;
	}
	host = strncmp(sc->name, "unix:", 5) == 0 ? "localhost" : sc->name;
	checker_timeo(fd, SO_RCVTIMEO, deadline - util_now_ms());
	checker_timeo(fd, SO_SNDTIMEO, deadline - util_now_ms());
	if (pc->tls_ctx != NULL && (ssl = checker_tls(pc, sc, fd)) == NULL) {
		snprintf(why, whylen, "TLS handshake failed");
		goto out;
	}
	rl = snprintf(req, sizeof(req), "%s %s HTTP/1.1\r\nHost: %s\r\n"
	    "User-Agent: porter-health-check\r\nConnection: close\r\n\r\n",
	    pc->check_method, pc->check_path, host);
	checker_timeo(fd, SO_SNDTIMEO, deadline - util_now_ms());
	if ((ssl != NULL ? tls_write(ssl, req, (size_t)rl) :
	    send(fd, req, (size_t)rl, MSG_NOSIGNAL)) != rl) {
		snprintf(why, whylen, "send: %s", strerror(errno));
		goto out;
	}
	/* read to the end (Connection: close), the deadline, or 16 KiB */
	while (len < sizeof(buf) - 1) {
		if (util_now_ms() >= deadline)
			break;
		checker_timeo(fd, SO_RCVTIMEO, deadline - util_now_ms());
		n = ssl != NULL ? tls_read(ssl, buf + len, sizeof(buf) - 1 -
		    len) : recv(fd, buf + len, sizeof(buf) - 1 - len, 0);
		if (n == -1 && errno == EINTR && !checker_stop)
			continue;
		if (n <= 0)
			break;
		len += (size_t)n;
	}
	buf[len] = '\0';
	if (len < 12 || sscanf(buf, "HTTP/1.%*1[01] %3d", &status) != 1) {
		snprintf(why, whylen, len == 0 ? "no response in %d ms" :
		    "not an HTTP response", pc->check_timeout);
		goto out;
	}
	if (status < (int)pc->check_status_min ||
	    status > (int)pc->check_status_max) {
		snprintf(why, whylen, "status %d", status);
		goto out;
	}
	body = strstr(buf, "\r\n\r\n");
	if (pc->check_body != NULL && (body == NULL ||
	    strstr(body + 4, pc->check_body) == NULL)) {
		snprintf(why, whylen, "status %d but \"%s\" not in the body",
		    status, pc->check_body);
		goto out;
	}
	snprintf(why, whylen, "status %d", status);
	ok = 1;
out:
	tls_free(ssl, 1);
	close(fd);
	return ok;
}

void
checker_main(const struct config *cf, const struct proc_creds *creds,
    pid_t master)
{
	static const int	 caught[] = { SIGTERM, SIGQUIT, SIGINT, SIGUSR1,
	    0 };
	struct checker_srv	*srv = NULL;
	size_t			 n = 0, i, p, s;
	int64_t			 now, next;
	char			 why[256];
	int			 ok, up;

	log_set_role("checker");
	worker_child_start(checker_signal, caught, SIGTERM, master, creds);
	for (p = 0; p < cf->npools; p++) {
		if (cf->pools[p].check_kind == CHECK_OFF)
			continue;
		for (s = 0; s < cf->pools[p].nservers; s++) {
			if ((srv = realloc(srv, (n + 1) * sizeof(*srv))) ==
			    NULL)
				fatal("realloc");
			srv[n].pc = &cf->pools[p];
			srv[n].sc = &cf->pools[p].servers[s];
			/* spread the first probes over the interval */
			srv[n].due = util_now_ms() + (int64_t)(n * 37 %
			    (size_t)(cf->pools[p].check_interval / 4 + 1));
			srv[n].passes = srv[n].fails = 0;
			n++;
		}
	}
	while (!checker_stop) {
		if (checker_reopen) {
			checker_reopen = 0;
			(void)log_reopen();
		}
		now = util_now_ms();
		next = now + 1000;
		for (i = 0; i < n && !checker_stop; i++) {
			struct checker_srv *c = &srv[i];

			if (c->due <= now) {
				ok = checker_probe(c->pc, c->sc, why,
				    sizeof(why));
				up = atomic_load(&health_slot(
				    c->sc->hslot)->state) == HEALTH_UP;
				if (ok) {
					c->passes++;
					c->fails = 0;
					if (!up && c->passes >= c->pc->check_rise)
						up = 1;
				} else {
					c->fails++;
					c->passes = 0;
					if (up && c->fails >= c->pc->check_fall)
						up = 0;
				}
				health_check_result(c->pc, c->sc, ok, up, why);
				now = util_now_ms();
				c->due = now + c->pc->check_interval;
			}
			if (c->due < next)
				next = c->due;
		}
		if (getppid() != master)
			break;
		if (next > now)
			(void)poll(NULL, 0, (int)(next - now));
	}
	free(srv);
	exit(WORKER_EXIT_OK);
}
