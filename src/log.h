/*
 * log.h - the error log: stderr, a file, or syslog.
 */
#ifndef LOG_H
#define LOG_H

#include <stdarg.h>

enum log_level {
	LOG_L_ERROR = 0,
	LOG_L_WARN,
	LOG_L_NOTICE,
	LOG_L_INFO,
	LOG_L_DEBUG
};

/*
 * Direct the log to "stderr", "syslog" or a file path (opened O_APPEND).
 * Returns -1 and fills err when the file cannot be opened; the previous
 * destination then stays in use.  Called by the master before forking and
 * again on reopen; workers inherit the descriptor.
 */
int	log_open(const char *dest, int level, char *err, size_t errlen);
/*
 * Open a log file (error or access log) for appending.  "/dev/stdout"
 * and "/dev/stderr" are descriptors 1 and 2 as they are.  Any other path
 * is opened without following a symbolic link (ELOOP: refused) and made
 * 0640 when missing; *created says whether this call made it.  Whatever
 * else the path names (a device, a pipe) is used as it is.  Returns the
 * descriptor (close-on-exec unless 1 or 2), or -1 with err.
 */
int	log_file_open(const char *path, int *created, char *err,
	    size_t errlen);
/*
 * The descriptor of the log file if porter created it (only such a file
 * may be given to the workers' user), -1 otherwise.
 */
int	log_created_fd(void);
/* Reopen the same file (log rotation).  Returns -1 on failure. */
int	log_reopen(void);
void	log_set_level(int level);
/* Name used in every line, e.g. "master" or "worker". */
void	log_set_role(const char *role);
int	log_level_parse(const char *s);
/* syslog facility by name ("daemon", "local0" ...); -1 if unknown. */
int	log_facility_parse(const char *s);
/* Facility for the next log_open("syslog"); default daemon. */
void	log_set_facility(int facility);
const char *log_level_name(int level);

void	log_error(const char *, ...) __attribute__((format(printf, 1, 2)));
void	log_warn(const char *, ...) __attribute__((format(printf, 1, 2)));
void	log_warnx(const char *, ...) __attribute__((format(printf, 1, 2)));
void	log_notice(const char *, ...) __attribute__((format(printf, 1, 2)));
void	log_info(const char *, ...) __attribute__((format(printf, 1, 2)));
void	log_debug(const char *, ...) __attribute__((format(printf, 1, 2)));
/* Log at error level and exit(1); for start-up and impossible states. */
void	fatal(const char *, ...) __attribute__((format(printf, 1, 2), noreturn));
void	fatalx(const char *, ...) __attribute__((format(printf, 1, 2), noreturn));

#endif /* LOG_H */
