/*
 * notify.c - the master's state, told to a service manager and to
 * "porter -s reload".
 *
 * The service manager: systemd's notify protocol, without libsystemd.
 * $NOTIFY_SOCKET names a unix datagram socket (a path, or with a leading
 * '@' a name in the abstract namespace); each message is a few
 * newline-separated VAR=value lines.  Sends never block and their errors
 * are ignored: a service manager that does not listen must not stop
 * porter.  The variable stays in the environment, so the new binary of
 * an upgrade finds it too.
 *
 * "porter -s reload": a signal carries no answer, so the master writes
 * the outcome of each reload, with the CLOCK_MONOTONIC time it started,
 * into PIDFILE.reload (written whole, then renamed over the old one).
 * The command notes the time, sends HUP, and waits for an outcome that
 * started no earlier: a reload started before the signal read the
 * configuration too early to count.
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "notify.h"

#define NOTIFY_MAGIC	"porter-reload"

static int64_t	 notify_started;	/* of the reload in progress */

int64_t
notify_now_us(void)
{
	struct timespec	 ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static void
notify_send(const char *msg)
{
	struct sockaddr_un	 sa;
	const char		*path = getenv("NOTIFY_SOCKET");
	socklen_t		 len;
	size_t			 n;
	int			 fd;

	if (path == NULL || (path[0] != '/' && path[0] != '@') ||
	    (n = strlen(path)) >= sizeof(sa.sun_path))
		return;
	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	memcpy(sa.sun_path, path, n);
	len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n);
	if (path[0] == '@')
		sa.sun_path[0] = '\0';		/* abstract: no terminator */
	else
		len++;
	if ((fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0)) == -1)
		return;
	if (sendto(fd, msg, strlen(msg), MSG_DONTWAIT | MSG_NOSIGNAL,
	    (struct sockaddr *)&sa, len) == -1)
		log_debug("notify %s: %s", path, strerror(errno));
	close(fd);
}

/* STATUS= is one line: the lines of text joined by "; ". */
static void
notify_status_line(char *buf, size_t len, const char *text)
{
	size_t	 o = 0;

	for (; *text != '\0' && o + 3 < len; text++) {
		if (*text != '\n')
			buf[o++] = *text;
		else if (text[1] != '\0') {
			buf[o++] = ';';
			buf[o++] = ' ';
		}
	}
	buf[o] = '\0';
}

static void
notify_file_write(const char *pidfile, int64_t started, const char *result,
    const char *why)
{
	char	 path[4200], tmp[4300], head[128];
	int	 fd, n;
	size_t	 wl;

	snprintf(path, sizeof(path), "%s.reload", pidfile);
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	n = snprintf(head, sizeof(head), NOTIFY_MAGIC " %lld %s\n",
	    (long long)started, result);
	wl = why != NULL ? strlen(why) : 0;
	if ((fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC,
	    0644)) == -1) {
		log_warn("%s", tmp);
		return;
	}
	if (write(fd, head, (size_t)n) != n ||
	    (wl > 0 && write(fd, why, wl) != (ssize_t)wl)) {
		log_warn("%s", tmp);
		close(fd);
		(void)unlink(tmp);
		return;
	}
	close(fd);
	if (rename(tmp, path) == -1) {
		log_warn("rename %s", tmp);
		(void)unlink(tmp);
	}
}

void
notify_ready(const char *pidfile, unsigned gen, unsigned workers)
{
	char	 msg[256];

	snprintf(msg, sizeof(msg), "READY=1\nMAINPID=%ld\nSTATUS=serving, "
	    "%u workers, generation %u\n", (long)getpid(), workers, gen);
	notify_send(msg);
	notify_file_write(pidfile, 0, "ok", NULL);
}

void
notify_reloading(void)
{
	char	 msg[128];

	notify_started = notify_now_us();
	snprintf(msg, sizeof(msg), "RELOADING=1\nMONOTONIC_USEC=%lld\n"
	    "STATUS=reloading\n", (long long)notify_started);
	notify_send(msg);
}

void
notify_reloaded(const char *pidfile, unsigned gen, unsigned workers)
{
	char	 msg[256];

	snprintf(msg, sizeof(msg), "READY=1\nSTATUS=serving, %u workers, "
	    "generation %u\n", workers, gen);
	notify_send(msg);
	notify_file_write(pidfile, notify_started, "ok", NULL);
}

void
notify_reload_failed(const char *pidfile, const char *why)
{
	char	 line[2048], msg[2200];

	notify_status_line(line, sizeof(line), why);
	snprintf(msg, sizeof(msg), "READY=1\nSTATUS=reload failed: %s\n",
	    line);
	notify_send(msg);
	notify_file_write(pidfile, notify_started, "failed", why);
}

void
notify_stopping(const char *pidfile, pid_t successor)
{
	char	 msg[256], path[4200];

	if (successor != 0)
		snprintf(msg, sizeof(msg), "MAINPID=%ld\nSTATUS=upgraded: the "
		    "new binary (pid %ld) serves\n", (long)successor,
		    (long)successor);
	else
		snprintf(msg, sizeof(msg), "STOPPING=1\nSTATUS=stopping\n");
	notify_send(msg);
	snprintf(path, sizeof(path), "%s.reload", pidfile);
	(void)unlink(path);
}

int
notify_reload_known(const char *pidfile)
{
	char	 path[4200];

	snprintf(path, sizeof(path), "%s.reload", pidfile);
	return access(path, F_OK) == 0;
}

/* 1: the outcome of a reload started at since or later is in err. */
static int
notify_file_read(const char *path, int64_t since, int *ok, char *err,
    size_t errlen)
{
	char		 head[128], result[16];
	long long	 started;
	size_t		 n;
	FILE		*fp;

	if ((fp = fopen(path, "r")) == NULL)
		return 0;
	if (fgets(head, sizeof(head), fp) == NULL ||
	    sscanf(head, NOTIFY_MAGIC " %lld %15s", &started, result) != 2 ||
	    started < since) {
		fclose(fp);
		return 0;
	}
	*ok = strcmp(result, "ok") == 0;
	n = errlen > 0 ? fread(err, 1, errlen - 1, fp) : 0;
	if (errlen > 0)
		err[n] = '\0';
	fclose(fp);
	return 1;
}

int
notify_reload_wait(const char *pidfile, pid_t pid, int64_t since,
    int timeout_ms, char *err, size_t errlen)
{
	struct timespec	 ts = { 0, 20 * 1000 * 1000 };
	char		 path[4200];
	int64_t		 deadline;
	int		 ok;

	deadline = notify_now_us() + (int64_t)timeout_ms * 1000;
	snprintf(path, sizeof(path), "%s.reload", pidfile);
	for (;;) {
		if (notify_file_read(path, since, &ok, err, errlen)) {
			if (ok)
				return 0;
			if (err[0] == '\0')
				snprintf(err, errlen, "reload failed\n");
			return -1;
		}
		if (kill(pid, 0) == -1 && errno == ESRCH) {
			snprintf(err, errlen, "porter (pid %ld) exited during "
			    "the reload\n", (long)pid);
			return -1;
		}
		if (notify_now_us() >= deadline) {
			snprintf(err, errlen, "porter (pid %ld) did not report "
			    "the outcome of the reload within %d s: see its "
			    "error log\n", (long)pid, timeout_ms / 1000);
			return -1;
		}
		nanosleep(&ts, NULL);
	}
}
