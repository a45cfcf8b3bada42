/*
 * proc.c - process plumbing shared by the master and workers.
 */
#include <sys/types.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "proc.h"

int
proc_creds_resolve(const struct config *cf, struct proc_creds *pc, char *err,
    size_t errlen)
{
	struct passwd	*pw = NULL;
	struct group	*gr = NULL;
	char		 where[4200];

	memset(pc, 0, sizeof(pc[0]));
	/* names that do not exist are wrong whoever runs porter */
	if (cf->user != NULL && (pw = getpwnam(cf->user)) == NULL) {
		config_where(cf, config_key_line(cf, "user"), where,
		    sizeof(where));
		snprintf(err, errlen, "%s: user \"%s\" does not exist", where,
		    cf->user);
		return -1;
	}
	if (cf->group != NULL && (gr = getgrnam(cf->group)) == NULL) {
		config_where(cf, config_key_line(cf, "group"), where,
		    sizeof(where));
		snprintf(err, errlen, "%s: group \"%s\" does not exist", where,
		    cf->group);
		return -1;
	}
	if (geteuid() != 0)
		return 0;	/* not root: nothing to change; run as we are */
	if (pw == NULL) {
		config_where(cf, cf->porter_line, where, sizeof(where));
		snprintf(err, errlen, "%s: porter runs as root but no user is "
		    "set for the workers (set user = NAME in [porter], or "
		    "user = root to run them as root)", where);
		return -1;
	}
	if (cf->chroot != NULL)
		snprintf(pc->chroot, sizeof(pc->chroot), "%s", cf->chroot);
	pc->change = 1;
	pc->uid = pw->pw_uid;
	pc->gid = gr != NULL ? gr->gr_gid : pw->pw_gid;
	snprintf(pc->user, sizeof(pc->user), "%s", cf->user);
	return 0;
}

/*
 * A log file porter will open for appending: there and writable, or a
 * directory to create it in.  The file is not created here.  (The pid
 * file's directory is left alone: a service manager may make it only
 * when it starts porter.)
 */
static int
proc_check_file(const struct config *cf, const char *key, const char *path,
    char *err, size_t errlen)
{
	struct stat	 st;
	char		 dir[4096], where[4200], *slash;
	int		 fd;

	if (path == NULL || strcmp(path, "stderr") == 0 ||
	    strcmp(path, "syslog") == 0)
		return 0;
	config_where(cf, config_key_line(cf, key), where, sizeof(where));
	if (stat(path, &st) == 0) {
		if (S_ISDIR(st.st_mode)) {
			snprintf(err, errlen, "%s: %s %s is a directory",
			    where, key, path);
			return -1;
		}
		if ((fd = open(path, O_WRONLY | O_APPEND | O_CLOEXEC |
		    O_NOCTTY | O_NONBLOCK)) == -1) {
			snprintf(err, errlen, "%s: %s %s: %s", where, key,
			    path, strerror(errno));
			return -1;
		}
		close(fd);
		return 0;
	}
	snprintf(dir, sizeof(dir), "%s", path);
	if ((slash = strrchr(dir, '/')) == NULL)
		snprintf(dir, sizeof(dir), ".");
	else if (slash == dir)
		dir[1] = '\0';
	else
		*slash = '\0';
	if (stat(dir, &st) == -1) {
		snprintf(err, errlen, "%s: %s %s: directory %s: %s", where,
		    key, path, dir, strerror(errno));
		return -1;
	}
	if (!S_ISDIR(st.st_mode)) {
		snprintf(err, errlen, "%s: %s %s: %s is not a directory",
		    where, key, path, dir);
		return -1;
	}
	if (access(dir, W_OK) == -1) {
		snprintf(err, errlen, "%s: %s %s: cannot create it in %s: %s",
		    where, key, path, dir, strerror(errno));
		return -1;
	}
	return 0;
}

int
proc_preflight(const struct config *cf, int error_log, char *err,
    size_t errlen)
{
	struct proc_creds	 pc;
	struct stat		 st;
	char			 where[4200];
	size_t			 off = 0;
	int			 rc = 0;

	if (errlen > 0)
		err[0] = '\0';
#define PROC_NEXT(call) do {						\
	if (off + 1 < errlen && (call) == -1) {				\
		rc = -1;						\
		off += strlen(err + off);				\
		if (off + 1 < errlen) {					\
			err[off++] = '\n';				\
			err[off] = '\0';				\
		}							\
	}								\
} while (0)
	PROC_NEXT(proc_creds_resolve(cf, &pc, err + off, errlen - off));
	if (error_log)
		PROC_NEXT(proc_check_file(cf, "error_log", cf->error_log,
		    err + off, errlen - off));
	PROC_NEXT(proc_check_file(cf, "access_log", cf->access_log, err + off,
	    errlen - off));
#undef PROC_NEXT
	if (cf->chroot != NULL && geteuid() == 0 && off + 1 < errlen &&
	    (stat(cf->chroot, &st) == -1 || !S_ISDIR(st.st_mode))) {
		config_where(cf, config_key_line(cf, "chroot"), where,
		    sizeof(where));
		snprintf(err + off, errlen - off, "%s: chroot %s is not a "
		    "directory\n", where, cf->chroot);
		rc = -1;
	}
	return rc;
}

int
proc_creds_drop(const struct proc_creds *pc, char *err, size_t errlen)
{
	uid_t	 ru, eu, su;
	gid_t	 rg, eg, sg;

	if (pc->chroot[0] != '\0' &&
	    (chroot(pc->chroot) == -1 || chdir("/") == -1)) {
		snprintf(err, errlen, "chroot %s: %s", pc->chroot,
		    strerror(errno));
		return -1;
	}
	if (!pc->change || pc->uid == 0)
		return 0;
	if (setgroups(1, &pc->gid) == -1 ||
	    setresgid(pc->gid, pc->gid, pc->gid) == -1 ||
	    setresuid(pc->uid, pc->uid, pc->uid) == -1) {
		snprintf(err, errlen, "cannot become %s: %s", pc->user,
		    strerror(errno));
		return -1;
	}
	if (getresuid(&ru, &eu, &su) == -1 || getresgid(&rg, &eg, &sg) == -1 ||
	    ru != pc->uid || eu != pc->uid || su != pc->uid ||
	    rg != pc->gid || eg != pc->gid || sg != pc->gid) {
		snprintf(err, errlen, "privileges not dropped to %s",
		    pc->user);
		return -1;
	}
	return 0;
}

void
proc_signals(void (*handler)(int), const int *caught)
{
	static const int	 ours[] = { SIGQUIT, SIGWINCH, SIGUSR1, SIGTERM,
	    SIGINT, 0 };
	static const int	 ignored[] = { SIGPIPE, SIGHUP, SIGUSR2, 0 };
	struct sigaction	 sa;
	sigset_t		 none;
	int			 i, j, mine;

	memset(&sa, 0, sizeof(sa));
	sigemptyset(&sa.sa_mask);
	for (i = 0; ours[i] != 0; i++) {
		for (mine = 0, j = 0; caught[j] != 0; j++)
			mine |= caught[j] == ours[i];
		sa.sa_handler = mine ? handler : ours[i] == SIGTERM ||
		    ours[i] == SIGINT ? SIG_DFL : SIG_IGN;
		sigaction(ours[i], &sa, NULL);
	}
	sa.sa_handler = SIG_IGN;
	for (i = 0; ignored[i] != 0; i++)
		sigaction(ignored[i], &sa, NULL);
	sa.sa_handler = SIG_DFL;
	sigaction(SIGCHLD, &sa, NULL);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
}

void
proc_harden(void)
{
	struct rlimit	 rl = { 0, 0 };

	(void)setrlimit(RLIMIT_CORE, &rl);
	(void)prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
}

int
proc_daemonize(char *err, size_t errlen)
{
	pid_t	 pid;
	int	 fd;

	if ((pid = fork()) == -1)
		goto fail;
	if (pid > 0)
		_exit(0);
	if (setsid() == -1)
		goto fail;
	if ((pid = fork()) == -1)
		goto fail;
	if (pid > 0)
		_exit(0);
	if (chdir("/") == -1)
		goto fail;
	if ((fd = open("/dev/null", O_RDWR)) == -1)
		goto fail;
	(void)dup2(fd, 0);
	(void)dup2(fd, 1);
	(void)dup2(fd, 2);
	if (fd > 2)
		close(fd);
	return 0;
fail:
	snprintf(err, errlen, "daemonize: %s", strerror(errno));
	return -1;
}

int
proc_pidfile_write(const char *path, char *err, size_t errlen)
{
	char	 buf[32], tmp[4096];
	int	 fd, n;

	/* write then rename: a reader never sees a half-written file */
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd == -1)
		goto fail;
	n = snprintf(buf, sizeof(buf), "%ld\n", (long)getpid());
	if (write(fd, buf, (size_t)n) != n) {
		close(fd);
		goto fail;
	}
	close(fd);
	if (rename(tmp, path) == -1)
		goto fail;
	return 0;
fail:
	snprintf(err, errlen, "pid file %s: %s", path, strerror(errno));
	(void)unlink(tmp);
	return -1;
}

void
proc_pidfile_remove(const char *path)
{
	(void)unlink(path);
}

pid_t
proc_pidfile_read(const char *path, char *err, size_t errlen)
{
	char	 buf[64], exe[64], link[4096];
	FILE	*fp;
	long	 pid;
	ssize_t	 n;

	if ((fp = fopen(path, "r")) == NULL) {
		snprintf(err, errlen, "%s: %s (is porter running?)", path,
		    strerror(errno));
		return -1;
	}
	if (fgets(buf, sizeof(buf), fp) == NULL ||
	    sscanf(buf, "%ld", &pid) != 1 || pid <= 1) {
		fclose(fp);
		snprintf(err, errlen, "%s: no pid in it", path);
		return -1;
	}
	fclose(fp);
	if (kill((pid_t)pid, 0) == -1 && errno == ESRCH) {
		snprintf(err, errlen, "%s: stale pid file: process %ld is not "
		    "running", path, pid);
		return -1;
	}
	/* a recycled pid belongs to something else */
	snprintf(exe, sizeof(exe), "/proc/%ld/exe", pid);
	if ((n = readlink(exe, link, sizeof(link) - 1)) > 0) {
		link[n] = '\0';
		if (strstr(link, "porter") == NULL) {
			snprintf(err, errlen, "%s: stale pid file: process %ld "
			    "is %s, not porter", path, pid, link);
			return -1;
		}
	}
	return (pid_t)pid;
}
