/*
 * master.c - the master process.
 *
 * The master blocks every signal it acts on and waits for them with
 * sigtimedwait() and a tick of MASTER_TICK_MS, so no work ever happens in
 * a signal handler.  It reaps workers, keeps the number of idle workers
 * of the current generation between min_spare_workers and
 * max_spare_workers (Apache prefork style: forking 1, 2, 4 ... 32 a
 * second while short, retiring idle ones while over; and when clients
 * wait in an accept queue, as many workers as they need at once), bounds
 * how long retiring workers may linger, and acts on what the signals
 * asked for.
 *
 * Generations: a reload builds a whole new configuration; only when that
 * succeeded does the master start workers of a new generation and ask the
 * old ones to retire (SIGWINCH: finish the request in flight, answer with
 * "Connection: close", wait briefly for the next request of an idle
 * keep-alive client instead of closing under it).  Listening sockets whose
 * address did not change are handed over, never closed and re-bound.
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "alog.h"
#include "cache_store.h"
#include "checker.h"
#include "config.h"
#include "gate.h"
#include "gate_shed.h"
#include "health.h"
#include "limit.h"
#include "listener.h"
#include "log.h"
#include "master.h"
#include "notify.h"
#include "proc.h"
#include "scoreboard.h"
#include "shm.h"
#include "tls.h"
#include "util.h"
#include "worker.h"

#define MASTER_BACKOFF_MIN	100	/* ms */
#define MASTER_BACKOFF_MAX	10000
#define MASTER_SPAWN_MAX	32	/* spawn_rate's top */
#define MASTER_TICK_MS		100	/* how often the pool is looked at */
#define MASTER_ENV_LISTEN	"PORTER_LISTEN_FDS"
#define MASTER_BACKENDS		1024	/* slots in the backend table */

struct master_worker {
	pid_t		 pid;		/* 0: unused */
	int		 sb;		/* scoreboard slot */
	unsigned	 gen;
	int		 retiring;
	int64_t		 started;
	int64_t		 kill_at;	/* retiring: SIGKILL after this */
};

struct master {
	struct config		*cf;
	struct listener		*ls;
	size_t			 nls;
	struct shm_header	*shm;
	struct proc_creds	 creds;
	struct master_worker	*w;
	size_t			 nw;		/* capacity of w */
	unsigned		 gen;
	int			 backoff;	/* ms, 0 = none */
	int64_t			 spawn_after;	/* back-off: no fork before */
	unsigned		 spawn_rate;
	int			 at_max;	/* logged hitting max_workers */
	int			 no_slot;	/* logged running out of slots */
	int64_t			 last_tick;
	pid_t			 pid;
	char			 pidfile[4200];	/* the path this master owns */
	pid_t			 upgrade;	/* new binary being started */
	pid_t			 checker;	/* active health checks */
	int64_t			 tickets_at;	/* next ticket key rotation */
	int64_t			 checker_at;	/* (re)start it then */
	pid_t			 gate;		/* holds what waits (gate.c) */
	int64_t			 gate_at;	/* (re)start it then */
	char *const		*argv;
	int			 foreground;	/* -d */
	char			 exe[PATH_MAX];
};

static size_t
master_count(struct master *m, int current_only, unsigned *idle)
{
	size_t	 i, n = 0;
	int	 st;

	if (idle != NULL)
		*idle = 0;
	for (i = 0; i < m->nw; i++) {
		if (m->w[i].pid == 0)
			continue;
		if (current_only && (m->w[i].retiring || m->w[i].gen != m->gen))
			continue;
		n++;
		/* a worker still starting will be idle: count it so */
		if (idle != NULL && (st = atomic_load(&scoreboard_slot(
		    (unsigned)m->w[i].sb)->state)) <= SB_IDLE)
			(*idle)++;
	}
	return n;
}

/* How many older generations still have workers running? */
static unsigned
master_generations(struct master *m)
{
	unsigned	 seen[64], n = 0, k;
	size_t		 i;

	for (i = 0; i < m->nw; i++) {
		if (m->w[i].pid == 0 || m->w[i].gen == m->gen)
			continue;
		for (k = 0; k < n && seen[k] != m->w[i].gen; k++)
			;
		if (k == n && n < sizeof(seen) / sizeof(seen[0]))
			seen[n++] = m->w[i].gen;
	}
	return n;
}

/*
 * The sockets are set up (listener_open_all gives them the accept
 * wake-up of worker.c): say where porter listens.
 */
static void
master_listeners_ready(struct master *m)
{
	size_t		 i;

	for (i = 0; i < m->nls; i++) {
		log_notice("listening on %s%s", m->ls[i].addr.str,
		    m->ls[i].admin ? " (admin)" : "");
	}
}

/* Have all current workers left the STARTING state? */
static int
master_workers_up(struct master *m)
{
	size_t	 i;

	for (i = 0; i < m->nw; i++)
		if (m->w[i].pid != 0 && atomic_load(&scoreboard_slot(
		    (unsigned)m->w[i].sb)->state) == SB_STARTING)
			return 0;
	return 1;
}

static int
master_spawn(struct master *m)
{
	struct master_worker	*w = NULL;
	size_t			 i;
	int			 sb;
	pid_t			 pid;

	for (i = 0; i < m->nw; i++)
		if (m->w[i].pid == 0) {
			w = &m->w[i];
			break;
		}
	if (w == NULL || (sb = scoreboard_claim(m->gen)) == -1) {
		/* retiring workers still hold the slots */
		if (!m->no_slot)
			log_warnx("no free worker slot: %zu workers of older "
			    "generations still draining", master_count(m, 0,
			    NULL) - master_count(m, 1, NULL));
		m->no_slot = 1;
		return -1;
	}
	m->no_slot = 0;
	pid = fork();
	if (pid == -1) {
		log_warn("fork");
		scoreboard_release((unsigned)sb);
		return -1;
	}
	if (pid == 0)
		worker_main(m->cf, m->ls, m->nls, (unsigned)sb, &m->creds,
		    m->pid);
	memset(w, 0, sizeof(*w));
	w->pid = pid;
	w->sb = sb;
	w->gen = m->gen;
	w->started = util_now_ms();
	atomic_store(&scoreboard_slot((unsigned)sb)->pid, (int32_t)pid);
	log_debug("started worker %ld", (long)pid);
	return 0;
}

static void
master_retire(struct master *m, struct master_worker *w, int sig)
{
	if (!w->retiring) {
		w->retiring = 1;
		w->kill_at = util_now_ms() + m->cf->shutdown_timeout;
	}
	(void)kill(w->pid, sig);
}

/* The new binary of an upgrade exited: take the pid file back. */
static void
master_upgrade_failed(struct master *m, int status)
{
	char	 old[4200];

	log_error("new binary exited (status %d): upgrade failed, this "
	    "master goes on", WIFEXITED(status) ? WEXITSTATUS(status) : -1);
	snprintf(old, sizeof(old), "%s.oldbin", m->cf->pid_file);
	if (rename(old, m->cf->pid_file) == -1)
		log_warn("rename %s", old);
	snprintf(m->pidfile, sizeof(m->pidfile), "%s", m->cf->pid_file);
	m->upgrade = 0;
}

/* Start the checker process when the configuration has checks. */
static void
master_checker_start(struct master *m)
{
	pid_t	 pid;

	m->checker_at = 0;
	if (!checker_wanted(m->cf))
		return;
	if ((pid = fork()) == -1) {
		log_warn("fork of the checker");
		m->checker_at = util_now_ms() + 1000;
		return;
	}
	if (pid == 0)
		checker_main(m->cf, &m->creds, m->pid);
	m->checker = pid;
}

static void
master_checker_stop(struct master *m)
{
	if (m->checker != 0)
		(void)kill(m->checker, SIGTERM);
	m->checker = 0;		/* reaped like any child */
	m->checker_at = 0;
}

/* Reap every exited child; returns how many workers are still running. */
static size_t
master_reap(struct master *m, int stopping)
{
	struct master_worker	*w;
	pid_t			 pid;
	int			 status;
	size_t			 i;
	int64_t			 now = util_now_ms();

	while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
		if (pid == m->upgrade) {
			master_upgrade_failed(m, status);
			continue;
		}
		if (pid == m->gate) {
			if (!stopping) {
				gate_died(pid, status);
				/* lived a while: at once, else back off */
				m->gate_at = now + 100;
			}
			m->gate = 0;
			continue;
		}
		if (pid == m->checker) {
			if (!stopping) {
				log_error("checker %ld exited (status %d): "
				    "restarting it", (long)pid,
				    WIFEXITED(status) ? WEXITSTATUS(status) :
				    -WTERMSIG(status));
				m->checker_at = now + 1000;
			}
			m->checker = 0;
			continue;
		}
		for (i = 0; i < m->nw; i++)
			if (m->w[i].pid == pid)
				break;
		if (i == m->nw)
			continue;
		w = &m->w[i];
		/* what it held in the cache, it holds no more */
		cache_store_reap((unsigned)w->sb);
		limit_reap((unsigned)w->sb);
		health_reap((unsigned)w->sb);
		scoreboard_release((unsigned)w->sb);
		w->pid = 0;
		if (stopping || w->retiring)
			continue;
		if (WIFSIGNALED(status))
			log_error("worker %ld killed by signal %d",
			    (long)pid, WTERMSIG(status));
		else if (WEXITSTATUS(status) != WORKER_EXIT_OK)
			log_error("worker %ld exited with status %d",
			    (long)pid, WEXITSTATUS(status));
		else
			continue;	/* max_requests_per_worker reached */
		/* dying young, or saying it cannot start: back off */
		if ((WIFEXITED(status) &&
		    WEXITSTATUS(status) == WORKER_EXIT_FATAL) ||
		    now - w->started < 1000) {
			m->backoff = m->backoff == 0 ? MASTER_BACKOFF_MIN :
			    m->backoff * 2;
			if (m->backoff > MASTER_BACKOFF_MAX)
				m->backoff = MASTER_BACKOFF_MAX;
			m->spawn_after = now + m->backoff;
			log_warnx("workers are failing: next start in %d ms",
			    m->backoff);
		} else
			m->backoff = 0;
	}
	return master_count(m, 0, NULL);
}

static void
master_signal_workers(struct master *m, int sig)
{
	size_t	 i;

	for (i = 0; i < m->nw; i++)
		if (m->w[i].pid != 0)
			(void)kill(m->w[i].pid, sig);
}

/* Fork n more workers (total now), as far as max_workers allows. */
static void
master_grow(struct master *m, size_t total, unsigned n, unsigned idle)
{
	const struct config	*cf = m->cf;
	unsigned		 k;

	if (total >= cf->max_workers) {
		if (!m->at_max)
			log_warnx("max_workers (%u) reached: consider raising "
			    "it", cf->max_workers);
		m->at_max = 1;
		return;
	}
	if (n > cf->max_workers - total)
		n = (unsigned)(cf->max_workers - total);
	for (k = 0; k < n; k++)
		if (master_spawn(m) == -1)
			break;
	log_debug("%u idle workers: started %u", idle, k);
}

/*
 * Keep the current generation's idle workers within the spare bounds and
 * bound the life of retiring workers.
 */
static void
master_maintain(struct master *m)
{
	const struct config	*cf = m->cf;
	int64_t			 now = util_now_ms();
	unsigned		 idle, n, extra;
	size_t			 total, i, queued;

	for (i = 0; i < m->nw; i++)
		if (m->w[i].pid != 0 && m->w[i].retiring &&
		    now >= m->w[i].kill_at) {
			log_warnx("worker %ld still busy after "
			    "shutdown_timeout: killing it", (long)m->w[i].pid);
			(void)kill(m->w[i].pid, SIGKILL);
			m->w[i].kill_at = now + 1000;
		}
	if (m->checker == 0 && m->checker_at != 0 && now >= m->checker_at)
		master_checker_start(m);
	if (m->gate == 0 && m->gate_at != 0 && now >= m->gate_at &&
	    (m->gate = gate_spawn(m->cf, &m->creds, m->pid)) == -1) {
		m->gate = 0;
		m->gate_at = now + 1000;
	} else if (m->gate_at != 0 && m->gate != 0) {
		log_info("gate %ld started", (long)m->gate);
		m->gate_at = 0;
	}
	if (m->tickets_at == 0)
		m->tickets_at = now + m->cf->tls_ticket_rotation;
	else if (now >= m->tickets_at) {
		/* new tickets under a new key; the last key still opens */
		tls_keys_rotate();
		m->tickets_at = now + m->cf->tls_ticket_rotation;
	}
	/*
	 * Clients waiting in an accept queue get workers at once, checked
	 * every tick (MASTER_TICK_MS); the rest runs once a second.
	 */
	total = master_count(m, 1, &idle);
	/* ready in the gate is as waiting as in a listen queue */
	queued = listener_backlog(m->ls, m->nls) + gate_ready_waiting();
	(void)gate_shed_maintain(queued, idle, total >= cf->max_workers);
	if (queued > 0 && cf->min_spare_workers > 0 && now >= m->spawn_after &&
	    total >= cf->workers && queued + cf->min_spare_workers > idle) {
		n = (unsigned)(queued + cf->min_spare_workers - idle);
		master_grow(m, total, n, idle);
		return;
	}
	if (now - m->last_tick < 1000 && m->last_tick != 0)
		return;
	m->last_tick = now;
	if (now < m->spawn_after)
		return;
	if (m->backoff != 0 && now > m->spawn_after + 10000)
		m->backoff = 0;		/* calm for a while: forget it */
	if (total < cf->workers) {
		/* (re)start the configured minimum at once */
		for (n = (unsigned)total; n < cf->workers; n++)
			if (master_spawn(m) == -1)
				break;
		return;
	}
	if (idle < cf->min_spare_workers || total == 0) {
		/* Apache's 1, 2, 4 ... 32 a second while short of spares */
		master_grow(m, total, m->spawn_rate, idle);
		if (m->spawn_rate < MASTER_SPAWN_MAX)
			m->spawn_rate *= 2;
		return;
	}
	m->spawn_rate = 1;
	m->at_max = 0;
	if (idle > cf->max_spare_workers && total > cf->workers) {
		/*
		 * Retire one idle worker a tick, more when far over, so a
		 * pool that grew under a burst shrinks in seconds.
		 */
		extra = (idle - cf->max_spare_workers) / 8 + 1;
		if (extra > total - cf->workers)
			extra = (unsigned)(total - cf->workers);
		for (i = 0; i < m->nw && extra > 0; i++) {
			if (m->w[i].pid == 0 || m->w[i].retiring ||
			    atomic_load(&scoreboard_slot(
			    (unsigned)m->w[i].sb)->state) != SB_IDLE)
				continue;
			master_retire(m, &m->w[i], SIGQUIT);
			extra--;
		}
	}
}

/*
 * Stop: graceful (QUIT) lets workers finish the request in flight, within
 * shutdown_timeout; fast (TERM) ends them now.
 */
static void
master_stop(struct master *m, const sigset_t *set, int graceful)
{
	struct timespec	 ts = { 0, 100 * 1000 * 1000 };
	int64_t		 deadline, resend;
	siginfo_t	 si;
	int		 sig, got;

	/*
	 * After an upgrade the new master serves the same sockets: drain
	 * keep-alive clients as on a reload instead of closing under them.
	 */
	sig = !graceful ? SIGTERM : m->upgrade != 0 ? SIGWINCH : SIGQUIT;
	log_notice("%s stop", graceful ? "graceful" : "fast");
	notify_stopping(m->pidfile, m->upgrade);
	/* no new connections reach this generation through the master */
	listener_close_all(m->ls, m->nls);
	m->ls = NULL;
	m->nls = 0;
	master_signal_workers(m, sig);
	deadline = util_now_ms() + (graceful ? m->cf->shutdown_timeout : 3000);
	resend = util_now_ms() + 1000;
	master_checker_stop(m);
	/*
	 * After an upgrade the new gate takes what this one holds; the
	 * response tails it relays are finished on a graceful stop.
	 */
	if (m->gate != 0)
		(void)kill(m->gate, !graceful ? SIGTERM : m->upgrade != 0 ?
		    SIGWINCH : SIGQUIT);
	m->gate_at = 0;
	while (master_reap(m, 1) > 0 || m->gate != 0) {
		if (util_now_ms() >= deadline) {
			log_warnx("workers still running after the shutdown "
			    "timeout: killing them");
			master_signal_workers(m, SIGKILL);
			if (m->gate != 0)
				(void)kill(m->gate, SIGKILL);
			while (master_reap(m, 1) > 0)
				(void)sigtimedwait(set, &si, &ts);
			break;
		}
		if (graceful && util_now_ms() >= resend) {
			/* a worker may have missed it between checks */
			master_signal_workers(m, sig);
			resend = util_now_ms() + 1000;
		}
		got = sigtimedwait(set, &si, &ts);
		if (graceful && (got == SIGTERM || got == SIGINT)) {
			/* asked to hurry: a fast stop from here */
			log_notice("fast stop");
			graceful = 0;
			sig = SIGTERM;
			master_signal_workers(m, SIGTERM);
			if (m->gate != 0)
				(void)kill(m->gate, SIGTERM);
			deadline = util_now_ms() + 3000;
		}
	}
}

static int
master_open_alog(const struct config *cf, char *err, size_t errlen)
{
	return alog_open(cf->access_log, cf->access_log_format, err, errlen);
}

/*
 * Workers reopen the log files themselves on USR1, after they dropped
 * privileges: a log file porter created is given to their user so that
 * they may.  Nothing else is: not a file that was there already (its
 * owner decides who writes to it), not standard output or a terminal.
 */
static void
master_chown_logs(struct master *m)
{
	if (!m->creds.change || m->creds.uid == 0)
		return;
	if (alog_created_fd() != -1 && fchown(alog_created_fd(),
	    m->creds.uid, m->creds.gid) == -1)
		log_warn("chown of the access log");
	if (log_created_fd() != -1 && fchown(log_created_fd(), m->creds.uid,
	    m->creds.gid) == -1)
		log_warn("chown of the error log");
}

static void
master_reopen(struct master *m)
{
	log_notice("reopening log files");
	if (log_reopen() == -1 || alog_reopen() == -1)
		log_warnx("could not reopen every log file");
	master_chown_logs(m);
	master_signal_workers(m, SIGUSR1);
	if (m->checker != 0)
		(void)kill(m->checker, SIGUSR1);
	if (m->gate != 0)
		(void)kill(m->gate, SIGUSR1);
}

/* Log each line of a multi-line error text. */
static void
master_log_lines(const char *what, char *text)
{
	char	*line, *save = NULL;

	for (line = strtok_r(text, "\n", &save); line != NULL;
	    line = strtok_r(NULL, "\n", &save))
		log_error("%s%s", what, line);
}

/* Put back what a failed reload changed on its way. */
static void
master_reload_undo(struct master *m, int foreground, const char *why)
{
	char	 err[512];

	log_set_facility(m->cf->syslog_facility != NULL ?
	    log_facility_parse(m->cf->syslog_facility) : LOG_DAEMON);
	if (foreground != MASTER_STDERR)
		(void)log_open(m->cf->error_log, m->cf->log_level, err,
		    sizeof(err));
	(void)master_open_alog(m->cf, err, sizeof(err));
	log_error("reload failed, old configuration kept: %s", why);
	notify_reload_failed(m->pidfile, why);
}

/*
 * HUP: build the new configuration whole; on any error keep the old one
 * and change nothing.
 */
static void
master_reload(struct master *m, int foreground)
{
	static char		 err[16384];
	struct config		*ncf;
	struct proc_creds	 creds;
	struct listener		*nls;
	size_t			 n, i, busy, total;

	log_notice("reloading %s", m->cf->file);
	notify_reloading();
	if ((ncf = config_load(m->cf->file, err, sizeof(err))) == NULL) {
		notify_reload_failed(m->pidfile, err);
		master_log_lines("reload failed, old configuration kept: ",
		    err);
		return;
	}
	if (ncf->syslog_facility != NULL)
		log_set_facility(log_facility_parse(ncf->syslog_facility));
	if (proc_creds_resolve(ncf, &creds, err, sizeof(err)) == -1 ||
	    (foreground != MASTER_STDERR && log_open(ncf->error_log,
	    ncf->log_level, err, sizeof(err)) == -1) ||
	    master_open_alog(ncf, err, sizeof(err)) == -1) {
		master_reload_undo(m, foreground, err);
		config_free(ncf);
		return;
	}
	/*
	 * Reloads faster than workers drain: every slot may be held by
	 * workers of older generations, still finishing (shutdown_timeout
	 * bounds it).  A generation that could not start its workers would
	 * serve nobody: keep this one instead.
	 */
	total = master_count(m, 0, NULL);
	if (m->nw - total < ncf->workers) {
		snprintf(err, sizeof(err), "no free worker slot: %zu workers "
		    "of %u generations still draining (within "
		    "shutdown_timeout); reload again once they are gone",
		    total - master_count(m, 1, NULL), master_generations(m));
		master_reload_undo(m, foreground, err);
		config_free(ncf);
		return;
	}
	if ((ncf->cache.line ? ncf->cache.size : 0) !=
	    (m->cf->cache.line ? m->cf->cache.size : 0))
		log_warnx("the cache keeps its size and contents across a "
		    "reload: restart porter to change [cache] size");
	if (ncf->max_workers * 2 + 16 > scoreboard_nslots())
		log_warnx("max_workers grew past what this master can run; "
		    "restart porter to use more than %u",
		    (scoreboard_nslots() - 16) / 2);
	if (health_bind_prepare(ncf) == -1) {
		snprintf(err, sizeof(err), "more than %d backend servers",
		    MASTER_BACKENDS);
		master_reload_undo(m, foreground, err);
		config_free(ncf);
		return;
	}
	if ((nls = listener_open_all(ncf, m->ls, m->nls, &n, err,
	    sizeof(err))) == NULL) {
		master_reload_undo(m, foreground, err);
		config_free(ncf);
		return;
	}
	/* nothing fails from here: the new configuration is in use */
	health_bind_commit(ncf);
	if (strcmp(ncf->pid_file, m->cf->pid_file) != 0 &&
	    strcmp(m->pidfile, m->cf->pid_file) == 0) {
		/* the pid file moved: write the new one, drop the old */
		if (proc_pidfile_write(ncf->pid_file, err, sizeof(err)) == -1)
			log_warnx("%s", err);
		else {
			proc_pidfile_remove(m->pidfile);
			snprintf(m->pidfile, sizeof(m->pidfile), "%s",
			    ncf->pid_file);
		}
	}
	log_set_level(ncf->log_level);
	m->creds = creds;
	master_chown_logs(m);
	/* sockets not taken over are gone from the configuration */
	listener_close_all(m->ls, m->nls);
	m->ls = nls;
	m->nls = n;
	master_listeners_ready(m);
	busy = master_count(m, 1, NULL);
	for (i = 0; i < m->nw; i++)
		if (m->w[i].pid != 0 && !m->w[i].retiring)
			master_retire(m, &m->w[i], SIGWINCH);
	master_checker_stop(m);
	/* the gate stays, with what it holds; its limits are the new ones */
	gate_limits(ncf);
	config_free(m->cf);
	m->cf = ncf;
	master_checker_start(m);
	m->gen++;
	atomic_store(&m->shm->stats.generation, m->gen);
	atomic_fetch_add(&m->shm->stats.reloads, 1);
	m->backoff = 0;
	m->spawn_after = 0;
	/* as many as the old generation had, so a loaded pool stays */
	if (busy < ncf->workers)
		busy = ncf->workers;
	if (busy > ncf->max_workers)
		busy = ncf->max_workers;
	for (i = 0; i < busy; i++)
		if (master_spawn(m) == -1)
			break;
	log_notice("configuration reloaded: generation %u, %zu workers",
	    m->gen, i);
	notify_reloaded(m->pidfile, m->gen, (unsigned)i);
}

/*
 * USR2: start the binary found at the path porter was started with,
 * handing it the listening sockets.  This master goes on until the
 * operator sends it QUIT (or the new one fails).
 */
static void
master_upgrade(struct master *m)
{
	char	 env[8192], old[4200], why[4400];
	size_t	 i;
	pid_t	 pid;

	if (m->upgrade != 0) {
		log_warnx("upgrade already in progress (pid %ld)",
		    (long)m->upgrade);
		return;
	}
	/*
	 * The master this one replaced must be gone first: the cache store
	 * has room for the workers of two masters, not three.
	 */
	snprintf(old, sizeof(old), "%s.oldbin", m->cf->pid_file);
	if ((pid = proc_pidfile_read(old, why, sizeof(why))) > 0 &&
	    pid != getpid()) {
		log_error("upgrade: the binary of an earlier upgrade still "
		    "runs (pid %ld): stop it first", (long)pid);
		return;
	}
	if (listener_export(m->ls, m->nls, env, sizeof(env)) == -1) {
		log_error("upgrade: too many listening sockets to hand over");
		return;
	}
	if (rename(m->cf->pid_file, old) == -1) {
		log_warn("upgrade: rename %s", m->cf->pid_file);
		return;
	}
	snprintf(m->pidfile, sizeof(m->pidfile), "%s", old);
	log_notice("upgrade: starting %s", m->exe);
	pid = fork();
	if (pid == -1) {
		log_warn("upgrade: fork");
		master_upgrade_failed(m, 0);
		return;
	}
	if (pid == 0) {
		static char	 c[] = "-c", d[] = "-d";
		char		*args[5];
		sigset_t	 none;

		for (i = 0; i < m->nls; i++)
			(void)fcntl(m->ls[i].fd, F_SETFD, 0);
		setenv(MASTER_ENV_LISTEN, env, 1);
		(void)shm_cache_handover();
		(void)gate_export();
		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		/*
		 * Not the arguments as given: a relative -c meant the
		 * directory porter was started from, and a daemon has gone
		 * to "/" since.  cf->file is absolute (main.c).
		 */
		i = 0;
		args[i++] = m->argv[0];
		args[i++] = c;
		args[i++] = m->cf->file;
		if (m->foreground)
			args[i++] = d;
		args[i] = NULL;
		execv(m->exe, args);
		log_warn("upgrade: exec %s", m->exe);
		_exit(WORKER_EXIT_FATAL);
	}
	m->upgrade = pid;
}

static int
master_setup(struct master *m, int foreground)
{
	char		 err[512];
	struct listener	*inherited;
	size_t		 ninh;
	const char	*env;

	if (proc_creds_resolve(m->cf, &m->creds, err, sizeof(err)) == -1) {
		log_error("%s", err);
		return -1;
	}
	/* an upgrade hands us its listening sockets */
	env = getenv(MASTER_ENV_LISTEN);
	inherited = listener_import(env, &ninh);
	if (env != NULL)
		unsetenv(MASTER_ENV_LISTEN);
	m->ls = listener_open_all(m->cf, inherited, ninh, &m->nls, err,
	    sizeof(err));
	listener_close_all(inherited, ninh);
	if (m->ls == NULL) {
		log_error("%s", err);
		return -1;
	}
	master_listeners_ready(m);
	if (master_open_alog(m->cf, err, sizeof(err)) == -1) {
		log_error("%s", err);
		return -1;
	}
	master_chown_logs(m);
	/* room for a whole retiring generation beside the current one */
	m->nw = (size_t)m->cf->max_workers * 2 + 16;
	if ((m->shm = shm_create((unsigned)m->nw, MASTER_BACKENDS,
	    m->cf->cache.line ? m->cf->cache.size : 0, err,
	    sizeof(err))) == NULL) {
		log_error("%s", err);
		return -1;
	}
	if (health_bind_prepare(m->cf) == -1) {
		log_error("more than %d backend servers", MASTER_BACKENDS);
		return -1;
	}
	health_bind_commit(m->cf);
	if (gate_open(m->cf, err, sizeof(err)) == -1) {
		log_error("%s", err);
		return -1;
	}
	if ((m->w = calloc(m->nw, sizeof(*m->w))) == NULL) {
		log_error("out of memory");
		return -1;
	}
	/* a new binary of an upgrade is detached already */
	if (foreground == MASTER_DAEMON && env == NULL &&
	    proc_daemonize(err, sizeof(err)) == -1) {
		log_error("%s", err);
		return -1;
	}
	m->pid = getpid();
	/* the daemon is not the process that made or took the store */
	cache_store_own();
	m->spawn_rate = 1;
	snprintf(m->pidfile, sizeof(m->pidfile), "%s", m->cf->pid_file);
	return 0;
}

int
master_run(struct config *cf, int foreground, char *const argv[])
{
	struct master	 m;
	struct timespec	 tick = { 0, MASTER_TICK_MS * 1000 * 1000 };
	struct timespec	 short_tick = { 0, 20 * 1000 * 1000 };
	sigset_t	 set;
	siginfo_t	 si;
	char		 err[512];
	size_t		 i;
	int		 sig, pidfile = 0, rc = 0;
	ssize_t		 n;
	int64_t		 started;

	memset(&m, 0, sizeof(m));
	m.cf = cf;
	m.argv = argv;
	m.foreground = foreground;
	/*
	 * The binary as started, whatever PATH or cwd led to it: an upgrade
	 * runs whatever is at that path then.
	 */
	n = readlink("/proc/self/exe", m.exe, sizeof(m.exe) - 1);
	if (n > 0)
		m.exe[n] = '\0';
	else if (realpath(argv[0], m.exe) == NULL)
		snprintf(m.exe, sizeof(m.exe), "%s", argv[0]);
	log_set_role("master");
	sigemptyset(&set);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGQUIT);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGUSR1);
	sigaddset(&set, SIGUSR2);
	sigaddset(&set, SIGCHLD);
	sigaddset(&set, SIGWINCH);
	sigprocmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);
	if (master_setup(&m, foreground) == -1) {
		rc = 1;
		goto done;
	}
	for (i = 0; i < m.cf->workers; i++)
		(void)master_spawn(&m);
	master_checker_start(&m);
	m.gate_at = util_now_ms();	/* started by the first tick */
	log_notice("porter started: %zu listening socket%s, %u workers",
	    m.nls, m.nls == 1 ? "" : "s", m.cf->workers);
	started = util_now_ms();
	for (;;) {
		/* the pid file says "running": write it once workers are */
		if (!pidfile && (master_workers_up(&m) ||
		    util_now_ms() - started > 10000)) {
			if (proc_pidfile_write(m.cf->pid_file, err,
			    sizeof(err)) == -1) {
				log_error("%s", err);
				master_stop(&m, &set, 0);
				rc = 1;
				goto done;
			}
			pidfile = 1;
			notify_ready(m.pidfile, m.gen, m.cf->workers);
		}
		sig = sigtimedwait(&set, &si, pidfile ? &tick : &short_tick);
		switch (sig) {
		case SIGTERM:
		case SIGINT:
			master_stop(&m, &set, 0);
			goto stopped;
		case SIGQUIT:
			master_stop(&m, &set, 1);
			goto stopped;
		case SIGUSR1:
			master_reopen(&m);
			break;
		case SIGHUP:
			master_reload(&m, foreground);
			break;
		case SIGUSR2:
			master_upgrade(&m);
			break;
		default:
			break;
		}
		(void)master_reap(&m, 0);
		master_maintain(&m);
	}
stopped:
	/* after an upgrade this is the .oldbin file */
	proc_pidfile_remove(m.pidfile);
	log_notice("porter stopped");
done:
	if (m.ls != NULL)
		listener_close_all(m.ls, m.nls);
	free(m.w);
	config_free(m.cf);
	return rc;
}
