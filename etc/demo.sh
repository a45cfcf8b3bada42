#!/bin/sh
# demo.sh BUILDDIR SRCDIR - what porter does, shown with two demo origins:
# requests balanced over both, the shared cache answering a second request,
# the status page, a graceful reload.  Then porter goes on running in the
# foreground until Ctrl-C, which stops all three.  Used by "make demo";
# exits non-zero, saying why, when porter or an origin does not start.
build=$1
src=$2
conf=$src/etc/porter-demo.ini
porter=""
pids=""

stop() {
	trap - INT TERM EXIT
	[ -n "$porter" ] && kill -QUIT "$porter" 2>/dev/null && wait "$porter"
	for p in $pids; do kill "$p" 2>/dev/null; done
	wait 2>/dev/null
	echo "demo stopped"
	exit "${1:-0}"
}
trap stop INT TERM
trap 'stop 1' EXIT

fail() {
	echo "demo: $*" >&2
	stop 1
}

# up URL WHAT PID: wait (5 s at most) until URL answers, while PID runs
up() {
	i=0
	until curl -s -o /dev/null --max-time 2 "$1" 2>/dev/null; do
		i=$((i + 1))
		kill -0 "$3" 2>/dev/null || fail "$2 exited (port in use?)"
		[ $i -lt 50 ] || fail "$2 does not answer on $1"
		sleep 0.1
	done
}

show() {
	echo
	echo "\$ $*"
	"$@" || fail "failed: $*"
}

command -v curl >/dev/null 2>&1 || fail "the demo needs curl"
for port in 8081 8082; do
	name=origin-$((port - 8080))
	"$build/t/origin" -p "$port" -n "$name" >/dev/null &
	pids="$pids $!"
	up "http://127.0.0.1:$port/" "$name" $!
done
"$build/porter" -d -c "$conf" &
porter=$!
up http://127.0.0.1:8080/ porter "$porter"
up http://127.0.0.1:8090/status porter "$porter"

echo
echo "=== porter on 127.0.0.1:8080 in front of origin-1 (:8081) and" \
    "origin-2 (:8082)"
echo "--- round robin: each request goes to the next origin (X-Origin)"
for i in 1 2 3 4; do
	curl -s -D - -o /dev/null http://127.0.0.1:8080/headers |
	    grep -i '^x-origin' || fail "no answer from porter"
done

echo "--- the shared cache: the origin allows 60 s (Cache-Control), so the"
echo "    second request is a hit, whichever worker serves it"
u='http://127.0.0.1:8080/bytes/64?cc=max-age%3D60'
for i in 1 2; do
	curl -s -D - -o /dev/null "$u" | grep -i '^cache-status' ||
	    fail "no Cache-Status from porter"
done

echo "--- the status page (also /status and /metrics on 127.0.0.1:8090)"
curl -s 'http://127.0.0.1:8090/status?format=text' | head -n 20 ||
    fail "no status page"

echo "--- a graceful reload: new workers read the file again, no" \
    "connection is refused"
show "$build/porter" -s reload -c "$conf"
sleep 1
kill -0 "$porter" 2>/dev/null || fail "porter exited after the reload"
curl -s -D - -o /dev/null http://127.0.0.1:8080/headers |
    grep -i '^x-origin' || fail "no answer after the reload"

echo
echo "porter is running: open http://127.0.0.1:8080/ and"
echo "http://127.0.0.1:8090/status; edit $conf and"
echo "run $build/porter -s reload -c $conf to reload it"
echo "press Ctrl-C to stop"
echo
trap 'stop 0' EXIT
wait "$porter"
