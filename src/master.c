/*
 * master.c - the master process.
 *
 * The master blocks every signal it acts on and waits for them with
 * sigtimedwait() and a one second tick, so no work ever happens in a
 * signal handler.  Each tick it reaps workers, respawns the ones that
 * died (with back-off, so a worker that cannot start does not become a
 * fork storm), and acts on what the signals asked for.
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "alog.h"
#include "config.h"
#include "listener.h"
#include "log.h"
#include "master.h"
#include "proc.h"
#include "scoreboard.h"
#include "shm.h"
#include "util.h"
#include "worker.h"

#define MASTER_BACKOFF_MIN	100	/* ms */
#define MASTER_BACKOFF_MAX	10000

struct master_worker {
	pid_t		 pid;		/* 0: slot to fill */
	int		 sb;		/* scoreboard slot */
	int64_t		 started;
	int64_t		 respawn_at;
};

struct master {
	struct config		*cf;
	struct listener		*ls;
	size_t			 nls;
	struct shm_header	*shm;
	struct proc_creds	 creds;
	struct master_worker	*w;
	size_t			 nw;
	int			 backoff;	/* ms, 0 = none */
	pid_t			 pid;
};

static void
master_spawn(struct master *m, struct master_worker *w)
{
	int	 sb;
	pid_t	 pid;

	if ((sb = scoreboard_claim()) == -1) {
		log_error("scoreboard full: cannot start a worker");
		w->respawn_at = util_now_ms() + 1000;
		return;
	}
	pid = fork();
	if (pid == -1) {
		log_warn("fork");
		scoreboard_release((unsigned)sb);
		w->respawn_at = util_now_ms() + 1000;
		return;
	}
	if (pid == 0)
		worker_main(m->cf, m->ls, m->nls, (unsigned)sb, &m->creds,
		    m->pid);
	w->pid = pid;
	w->sb = sb;
	w->started = util_now_ms();
	w->respawn_at = 0;
	atomic_store(&scoreboard_slot((unsigned)sb)->pid, (int32_t)pid);
	log_debug("started worker %ld", (long)pid);
}

/* Reap every exited worker; returns how many are still running. */
static size_t
master_reap(struct master *m, int stopping)
{
	struct master_worker	*w;
	pid_t			 pid;
	int			 status;
	size_t			 i, alive = 0;
	int64_t			 now = util_now_ms();

	while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
		for (i = 0; i < m->nw; i++)
			if (m->w[i].pid == pid)
				break;
		if (i == m->nw)
			continue;
		w = &m->w[i];
		scoreboard_release((unsigned)w->sb);
		w->pid = 0;
		if (stopping)
			continue;
		if (WIFSIGNALED(status))
			log_error("worker %ld killed by signal %d",
			    (long)pid, WTERMSIG(status));
		else if (WEXITSTATUS(status) != WORKER_EXIT_OK)
			log_error("worker %ld exited with status %d",
			    (long)pid, WEXITSTATUS(status));
		/* dying young, or saying it cannot start: back off */
		if ((WIFEXITED(status) &&
		    WEXITSTATUS(status) == WORKER_EXIT_FATAL) ||
		    now - w->started < 1000) {
			m->backoff = m->backoff == 0 ? MASTER_BACKOFF_MIN :
			    m->backoff * 2;
			if (m->backoff > MASTER_BACKOFF_MAX)
				m->backoff = MASTER_BACKOFF_MAX;
			w->respawn_at = now + m->backoff;
			log_warnx("respawning in %d ms", m->backoff);
		} else {
			m->backoff = 0;
			w->respawn_at = now;
		}
	}
	for (i = 0; i < m->nw; i++)
		if (m->w[i].pid != 0)
			alive++;
	return alive;
}

static void
master_signal_workers(struct master *m, int sig)
{
	size_t	 i;

	for (i = 0; i < m->nw; i++)
		if (m->w[i].pid != 0)
			(void)kill(m->w[i].pid, sig);
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

	log_notice("%s stop", graceful ? "graceful" : "fast");
	/* no new connections reach this generation through the master */
	listener_close_all(m->ls, m->nls);
	m->ls = NULL;
	m->nls = 0;
	master_signal_workers(m, graceful ? SIGQUIT : SIGTERM);
	deadline = util_now_ms() + (graceful ? m->cf->shutdown_timeout : 3000);
	resend = util_now_ms() + 1000;
	while (master_reap(m, 1) > 0) {
		if (util_now_ms() >= deadline) {
			log_warnx("workers still running after the shutdown "
			    "timeout: killing them");
			master_signal_workers(m, SIGKILL);
			while (master_reap(m, 1) > 0)
				(void)sigtimedwait(set, &si, &ts);
			break;
		}
		if (graceful && util_now_ms() >= resend) {
			/* a worker may have missed it between checks */
			master_signal_workers(m, SIGQUIT);
			resend = util_now_ms() + 1000;
		}
		(void)sigtimedwait(set, &si, &ts);
	}
}

static void
master_reopen(struct master *m)
{
	log_notice("reopening log files");
	if (log_reopen() == -1 || alog_reopen() == -1)
		log_warnx("could not reopen every log file");
	master_signal_workers(m, SIGUSR1);
}

static int
master_setup(struct master *m, int foreground)
{
	char		 err[512];
	struct timeval	 tv = { 1, 0 };
	size_t		 i;

	if (proc_creds_resolve(m->cf, &m->creds, err, sizeof(err)) == -1) {
		log_error("%s", err);
		return -1;
	}
	if ((m->ls = listener_open_all(m->cf, &m->nls, err,
	    sizeof(err))) == NULL) {
		log_error("%s", err);
		return -1;
	}
	/* accept returns every second: see worker.c */
	for (i = 0; i < m->nls; i++) {
		(void)setsockopt(m->ls[i].fd, SOL_SOCKET, SO_RCVTIMEO, &tv,
		    sizeof(tv));
		log_notice("listening on %s", m->ls[i].addr.str);
	}
	if (alog_open(m->cf->access_log, err, sizeof(err)) == -1) {
		log_error("%s", err);
		return -1;
	}
	m->nw = m->cf->workers;
	if ((m->shm = shm_create((unsigned)m->nw * 2 + 2, err,
	    sizeof(err))) == NULL) {
		log_error("%s", err);
		return -1;
	}
	scoreboard_init(m->shm);
	if ((m->w = calloc(m->nw, sizeof(*m->w))) == NULL) {
		log_error("out of memory");
		return -1;
	}
	if (!foreground && proc_daemonize(err, sizeof(err)) == -1) {
		log_error("%s", err);
		return -1;
	}
	m->pid = getpid();
	return 0;
}

int
master_run(struct config *cf, int foreground)
{
	struct master	 m;
	struct timespec	 tick = { 1, 0 };
	sigset_t	 set;
	siginfo_t	 si;
	char		 err[512];
	size_t		 i;
	int		 sig, pidfile = 0;
	int64_t		 now;

	memset(&m, 0, sizeof(m));
	m.cf = cf;
	log_set_role("master");
	sigemptyset(&set);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGQUIT);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGUSR1);
	sigaddset(&set, SIGUSR2);
	sigaddset(&set, SIGCHLD);
	sigprocmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);
	if (master_setup(&m, foreground) == -1) {
		if (m.ls != NULL)
			listener_close_all(m.ls, m.nls);
		free(m.w);
		return 1;
	}
	for (i = 0; i < m.nw; i++)
		master_spawn(&m, &m.w[i]);
	log_notice("porter started: %zu listening socket%s, %zu workers",
	    m.nls, m.nls == 1 ? "" : "s", m.nw);
	for (;;) {
		if (!pidfile) {
			if (proc_pidfile_write(cf->pid_file, err,
			    sizeof(err)) == -1) {
				log_error("%s", err);
				master_stop(&m, &set, 0);
				free(m.w);
				return 1;
			}
			pidfile = 1;
		}
		sig = sigtimedwait(&set, &si, &tick);
		switch (sig) {
		case SIGTERM:
		case SIGINT:
			master_stop(&m, &set, 0);
			goto done;
		case SIGQUIT:
			master_stop(&m, &set, 1);
			goto done;
		case SIGUSR1:
			master_reopen(&m);
			break;
		case SIGHUP:
			log_notice("reload is not supported yet: ignoring "
			    "SIGHUP");
			break;
		default:
			break;
		}
		(void)master_reap(&m, 0);
		now = util_now_ms();
		for (i = 0; i < m.nw; i++)
			if (m.w[i].pid == 0 && m.w[i].respawn_at <= now)
				master_spawn(&m, &m.w[i]);
	}
done:
	proc_pidfile_remove(cf->pid_file);
	log_notice("porter stopped");
	free(m.w);
	return 0;
}
