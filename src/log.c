/*
 * log.c - the error log.
 *
 * Every line is written with one write(2) on an O_APPEND descriptor so
 * lines from concurrent workers never interleave.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "log.h"

static int		 log_fd = 2;
static int		 log_syslog;
static int		 log_lvl = LOG_L_NOTICE;
static int		 log_fac = LOG_DAEMON;
static char		 log_path[4096];
static int		 log_created;	/* porter made the file at log_path */
static const char	*log_role = "porter";

static const char *const log_names[] = {
	"error", "warn", "notice", "info", "debug"
};

int
log_level_parse(const char *s)
{
	size_t	 i;

	for (i = 0; i < sizeof(log_names) / sizeof(log_names[0]); i++)
		if (strcasecmp(s, log_names[i]) == 0)
			return (int)i;
	return -1;
}

const char *
log_level_name(int level)
{
	if (level < 0 || level > LOG_L_DEBUG)
		return "?";
	return log_names[level];
}

int
log_facility_parse(const char *s)
{
	static const struct { const char *name; int fac; } f[] = {
		{ "daemon", LOG_DAEMON }, { "user", LOG_USER },
		{ "local0", LOG_LOCAL0 }, { "local1", LOG_LOCAL1 },
		{ "local2", LOG_LOCAL2 }, { "local3", LOG_LOCAL3 },
		{ "local4", LOG_LOCAL4 }, { "local5", LOG_LOCAL5 },
		{ "local6", LOG_LOCAL6 }, { "local7", LOG_LOCAL7 },
	};
	size_t	 i;

	for (i = 0; i < sizeof(f) / sizeof(f[0]); i++)
		if (strcasecmp(s, f[i].name) == 0)
			return f[i].fac;
	return -1;
}

void
log_set_facility(int facility)
{
	log_fac = facility;
}

void
log_set_level(int level)
{
	log_lvl = level;
}

void
log_set_role(const char *role)
{
	log_role = role;
}

int
log_file_open(const char *path, int *created, char *err, size_t errlen)
{
	const int	 flags = O_WRONLY | O_APPEND | O_NOFOLLOW | O_NOCTTY |
	    O_CLOEXEC;
	int		 fd;

	*created = 0;
	if (strcmp(path, "/dev/stdout") == 0)
		return 1;
	if (strcmp(path, "/dev/stderr") == 0)
		return 2;
	if ((fd = open(path, flags | O_CREAT | O_EXCL, 0640)) != -1) {
		*created = 1;
		return fd;
	}
	if (errno == EEXIST && (fd = open(path, flags)) != -1)
		return fd;
	snprintf(err, errlen, "%s: %s", path, errno == ELOOP ?
	    "a symbolic link: name the file itself" : strerror(errno));
	return -1;
}

int
log_open(const char *dest, int level, char *err, size_t errlen)
{
	char	 why[4400];
	int	 fd, created;

	log_lvl = level;
	if (strcmp(dest, "stderr") == 0) {
		if (log_fd > 2)
			close(log_fd);
		log_fd = 2;
		log_syslog = 0;
		log_path[0] = '\0';
		log_created = 0;
		return 0;
	}
	if (strcmp(dest, "syslog") == 0) {
		closelog();
		openlog("porter", LOG_PID | LOG_NDELAY, log_fac);
		if (log_fd > 2)
			close(log_fd);
		log_fd = -1;
		log_syslog = 1;
		log_path[0] = '\0';
		log_created = 0;
		return 0;
	}
	if ((fd = log_file_open(dest, &created, why, sizeof(why))) == -1) {
		snprintf(err, errlen, "cannot open log file %s", why);
		return -1;
	}
	if (log_fd > 2 && log_fd != fd)
		close(log_fd);
	log_fd = fd;
	log_syslog = 0;
	log_created = created;
	/* standard output and error are used as they are, never reopened */
	snprintf(log_path, sizeof(log_path), "%s", fd > 2 ? dest : "");
	return 0;
}

int
log_created_fd(void)
{
	return log_path[0] != '\0' && log_created ? log_fd : -1;
}

int
log_reopen(void)
{
	char	 why[4400];
	int	 fd, created;

	if (log_path[0] == '\0')
		return 0;
	if ((fd = log_file_open(log_path, &created, why, sizeof(why))) ==
	    -1) {
		log_warnx("reopen %s", why);
		return -1;
	}
	/* dup2 would clear close-on-exec: an upgrade would inherit it */
	if (dup3(fd, log_fd, O_CLOEXEC) == -1) {
		close(fd);
		return -1;
	}
	close(fd);
	log_created = created;
	return 0;
}

static void
log_vwrite(int level, int with_errno, int saved_errno, const char *fmt,
    va_list ap)
{
	static const int prio[] = {
		LOG_ERR, LOG_WARNING, LOG_NOTICE, LOG_INFO, LOG_DEBUG
	};
	char		 line[2048];
	size_t		 n = 0;
	int		 r;
	time_t		 now;
	struct tm	 tm;

	if (level > log_lvl)
		return;
	if (!log_syslog) {
		now = time(NULL);
		localtime_r(&now, &tm);
		n = strftime(line, sizeof(line), "%Y/%m/%d %H:%M:%S", &tm);
		r = snprintf(line + n, sizeof(line) - n, " [%s] %s %ld: ",
		    log_names[level], log_role, (long)getpid());
		if (r > 0)
			n += (size_t)r;
	}
	r = vsnprintf(line + n, sizeof(line) - n, fmt, ap);
	if (r > 0)
		n += (size_t)r;
	if (n > sizeof(line) - 2)
		n = sizeof(line) - 2;
	if (with_errno) {
		r = snprintf(line + n, sizeof(line) - n, ": %s",
		    strerror(saved_errno));
		if (r > 0)
			n += (size_t)r;
		if (n > sizeof(line) - 2)
			n = sizeof(line) - 2;
	}
	if (log_syslog) {
		syslog(prio[level], "%.*s", (int)n, line);
		return;
	}
	line[n++] = '\n';
	(void)write(log_fd, line, n);
}

#define LOG_FN(fn, level, with_errno)				\
void								\
fn(const char *fmt, ...)					\
{								\
	va_list	 ap;						\
	int	 e = errno;					\
								\
	va_start(ap, fmt);					\
	log_vwrite(level, with_errno, e, fmt, ap);		\
	va_end(ap);						\
	errno = e;						\
}

LOG_FN(log_error, LOG_L_ERROR, 0)
LOG_FN(log_warn, LOG_L_WARN, 1)
LOG_FN(log_warnx, LOG_L_WARN, 0)
LOG_FN(log_notice, LOG_L_NOTICE, 0)
LOG_FN(log_info, LOG_L_INFO, 0)
LOG_FN(log_debug, LOG_L_DEBUG, 0)

void
fatal(const char *fmt, ...)
{
	va_list	 ap;
	int	 e = errno;

	va_start(ap, fmt);
	log_vwrite(LOG_L_ERROR, 1, e, fmt, ap);
	va_end(ap);
	exit(1);
}

void
fatalx(const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	log_vwrite(LOG_L_ERROR, 0, 0, fmt, ap);
	va_end(ap);
	exit(1);
}
