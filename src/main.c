/*
 * main.c - command line.
 */
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "log.h"
#include "master.h"
#include "notify.h"
#include "proc.h"

static void
usage(FILE *fp)
{
	fprintf(fp, "usage: porter [-dfhtTv] [-c file] [-s signal]\n"
	    "  -c file    configuration file (default %s)\n"
	    "  -d         stay in the foreground, log to stderr\n"
	    "  -f         stay in the foreground, log as configured (for\n"
	    "             a service manager: systemd's Type=notify)\n"
	    "  -s signal  send reload, stop, quit, reopen or upgrade to the\n"
	    "             running master named in the pid file; reload\n"
	    "             waits for the outcome and fails when it failed\n"
	    "  -t         check the configuration and exit\n"
	    "  -T         check it and print it with defaults filled in\n"
	    "  -v         print the version and exit\n"
	    "  -h         this help\n", PORTER_CONFIG);
}

/* How long "porter -s reload" waits for the master's answer. */
#define MAIN_RELOAD_WAIT	30000	/* ms */

/*
 * porter -s NAME: signal the running master.  For reload, wait for its
 * outcome when the master reports it.
 */
static int
main_signal(const struct config *cf, const char *name)
{
	static const struct { const char *name; int sig; } sigs[] = {
		{ "reload", SIGHUP }, { "stop", SIGTERM }, { "quit", SIGQUIT },
		{ "reopen", SIGUSR1 }, { "upgrade", SIGUSR2 },
	};
	static char	 err[16384];
	size_t		 i;
	pid_t		 pid;
	int64_t		 since;
	int		 wait;

	for (i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		if (strcmp(name, sigs[i].name) == 0)
			break;
	if (i == sizeof(sigs) / sizeof(sigs[0])) {
		fprintf(stderr, "porter: unknown signal \"%s\" (reload, stop, "
		    "quit, reopen or upgrade)\n", name);
		return 1;
	}
	if ((pid = proc_pidfile_read(cf->pid_file, err, sizeof(err))) == -1) {
		fprintf(stderr, "porter: %s\n", err);
		return 1;
	}
	wait = sigs[i].sig == SIGHUP && notify_reload_known(cf->pid_file);
	since = notify_now_us();
	if (kill(pid, sigs[i].sig) == -1) {
		fprintf(stderr, "porter: signal %s to %ld: %s\n", name,
		    (long)pid, strerror(errno));
		return 1;
	}
	if (wait && notify_reload_wait(cf->pid_file, pid, since,
	    MAIN_RELOAD_WAIT, err, sizeof(err)) == -1) {
		fputs(err, stderr);
		fprintf(stderr, "porter: reload failed, the old configuration "
		    "serves on\n");
		return 1;
	}
	return 0;
}

int
main(int argc, char *argv[])
{
	struct config	*cf;
	const char	*file = PORTER_CONFIG, *sig = NULL;
	static char	 err[16384], abs[PATH_MAX];
	int		 ch, test = 0, foreground = MASTER_DAEMON;

	while ((ch = getopt(argc, argv, "c:dfhs:tTv")) != -1) {
		switch (ch) {
		case 'c':
			file = optarg;
			break;
		case 'd':
			foreground = MASTER_STDERR;
			break;
		case 'f':
			foreground = MASTER_FOREGROUND;
			break;
		case 's':
			sig = optarg;
			break;
		case 't':
			test = 1;
			break;
		case 'T':
			test = 2;
			break;
		case 'v':
			printf("porter %s\n", PACKAGE_VERSION);
			return 0;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 1;
		}
	}
	if (optind != argc) {
		usage(stderr);
		return 1;
	}
	/* the daemon works from "/": reloads need the absolute path */
	if (realpath(file, abs) != NULL)
		file = abs;
	if ((cf = config_load(file, err, sizeof(err))) == NULL) {
		fputs(err, stderr);
		if (sig != NULL)
			fprintf(stderr, "porter: the configuration has errors, "
			    "so the pid file is unknown\n");
		else if (!test)
			fprintf(stderr, "porter: configuration has errors, "
			    "not starting\n");
		return 1;
	}
	if (sig != NULL) {
		ch = main_signal(cf, sig);
		config_free(cf);
		return ch;
	}
	/* what start-up would refuse, -t refuses: the same checks */
	if (proc_preflight(cf, test || foreground != MASTER_STDERR, err,
	    sizeof(err)) == -1) {
		fputs(err, stderr);
		if (!test)
			fprintf(stderr, "porter: not starting\n");
		config_free(cf);
		return 1;
	}
	if (test) {
		if (test == 2)
			config_dump(cf, stdout);
		else
			printf("porter: configuration file %s is valid\n",
			    file);
		config_free(cf);
		return 0;
	}
	if (cf->syslog_facility != NULL)
		log_set_facility(log_facility_parse(cf->syslog_facility));
	if (log_open(foreground == MASTER_STDERR ? "stderr" : cf->error_log,
	    cf->log_level, err, sizeof(err)) == -1) {
		fprintf(stderr, "porter: %s\n", err);
		config_free(cf);
		return 1;
	}
	return master_run(cf, foreground, argv);
}
