#!/bin/sh
# demo.sh BUILDDIR SRCDIR - run porter in front of two demo origins in the
# foreground; Ctrl-C stops all three.  Used by "make demo".
build=$1
src=$2
pids=""

stop() {
	trap - INT TERM EXIT
	[ -n "$porter" ] && kill -QUIT "$porter" 2>/dev/null && wait "$porter"
	for p in $pids; do kill "$p" 2>/dev/null; done
	wait 2>/dev/null
	echo "demo stopped"
	exit 0
}
trap stop INT TERM EXIT

for port in 8081 8082; do
	name=origin-$(( port - 8080 ))
	"$build/t/origin" -p "$port" -n "$name" >/dev/null &
	pids="$pids $!"
done
"$build/porter" -d -c "$src/etc/porter-demo.ini" &
porter=$!
i=0
until curl -s -o /dev/null http://127.0.0.1:8080/ 2>/dev/null; do
	i=$((i + 1))
	if [ $i -gt 100 ] || ! kill -0 "$porter" 2>/dev/null; then
		echo "demo: porter did not start (is port 8080 free?)" >&2
		exit 1
	fi
	sleep 0.1
done
echo
echo "porter is running: open http://127.0.0.1:8080/"
echo "(requests alternate between two origins; try /bytes/100, /headers)"
echo "press Ctrl-C to stop"
echo
wait "$porter"
