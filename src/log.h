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
/* The descriptor of the log file, -1 for stderr and syslog. */
int	log_file_fd(void);
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
