/*
 * main.c - command line.
 */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "config.h"
#include "log.h"
#include "master.h"

static void
usage(FILE *fp)
{
	fprintf(fp, "usage: porter [-dhtv] [-c file]\n"
	    "  -c file  configuration file (default %s)\n"
	    "  -d       stay in the foreground, log to stderr\n"
	    "  -t       check the configuration and exit\n"
	    "  -v       print the version and exit\n"
	    "  -h       this help\n", PORTER_CONFIG);
}

int
main(int argc, char *argv[])
{
	struct config	*cf;
	const char	*file = PORTER_CONFIG;
	static char	 err[16384];
	int		 ch, test = 0, foreground = 0;

	while ((ch = getopt(argc, argv, "c:dhtv")) != -1) {
		switch (ch) {
		case 'c':
			file = optarg;
			break;
		case 'd':
			foreground = 1;
			break;
		case 't':
			test = 1;
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
	if ((cf = config_load(file, err, sizeof(err))) == NULL) {
		fputs(err, stderr);
		if (!test)
			fprintf(stderr, "porter: configuration has errors, "
			    "not starting\n");
		return 1;
	}
	if (test) {
		printf("porter: configuration file %s is valid\n", file);
		config_free(cf);
		return 0;
	}
	if (log_open(foreground ? "stderr" : cf->error_log, cf->log_level,
	    err, sizeof(err)) == -1) {
		fprintf(stderr, "porter: %s\n", err);
		return 1;
	}
	ch = master_run(cf, foreground);
	config_free(cf);
	return ch;
}
