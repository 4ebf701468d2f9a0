#!/bin/sh
# nats_cluster.sh — a throwaway 3-node nats-server JetStream cluster on 127.0.0.1.
#
#   tests/nats_cluster.sh start DIR      -> prints the client URLs (comma-separated) once
#                                           every node serves and a metadata leader is elected
#   tests/nats_cluster.sh kill9 DIR I    -> SIGKILL node I (1..3) by its PID (the crash)
#   tests/nats_cluster.sh restart DIR I  -> start node I again on its ports and store
#   tests/nats_cluster.sh stop DIR       -> stops exactly the nodes' PIDs (TERM, then KILL), removes DIR
#
# Free loopback ports are picked at start (tests/tool_free_ports) and kept in
# DIR/ports for restarts; node I keeps its JetStream store in DIR/nI/js.
set -eu
unset LD_PRELOAD   # the ASan runtime is for our library, not for the server
cmd=${1:?usage: nats_cluster.sh start|kill9|restart|stop DIR [I]}
dir=${2:?usage: nats_cluster.sh start|kill9|restart|stop DIR [I]}
build_dir=${SHJ_BUILD_DIR:-$(cd "$(dirname "$0")/.." && pwd)/build}

node_start() {
  i=$1
  set -- $(cat "$dir/ports")
  eval client=\${$i}
  eval cport=\${$((i + 3))}
  routes=""
  for j in 4 5 6; do
    eval r=\${$j}
    [ "$r" = "$cport" ] || routes="$routes${routes:+,}nats://127.0.0.1:$r"
  done
  mkdir -p "$dir/n$i"
  nats-server -js -sd "$dir/n$i/js" -a 127.0.0.1 -p "$client" -n "n$i" --cluster_name shj \
    --cluster "nats://127.0.0.1:$cport" --routes "$routes" >>"$dir/n$i/log" 2>&1 &
  echo $! > "$dir/n$i/pid"
}


case "$cmd" in
start)
  mkdir -p "$dir"
  [ -f "$dir/ports" ] || "$build_dir/tool_free_ports" 6 > "$dir/ports"
  for i in 1 2 3; do node_start $i; done
  k=0
  while [ $k -lt 300 ]; do
    # every node serves, and some node has seen a JetStream metadata leader
    # (a node that joins after the election may not log one of its own)
    if [ "$(cat "$dir"/n*/log | grep -c 'Server is ready')" -ge 3 ] &&
       cat "$dir"/n*/log | grep -q 'metadata leader'; then
      set -- $(cat "$dir/ports")
      echo "nats://127.0.0.1:$1,nats://127.0.0.1:$2,nats://127.0.0.1:$3"
      exit 0
    fi
    sleep 0.05
    k=$((k + 1))
  done
  echo "nats cluster did not elect a JetStream leader (see $dir/n*/log)" >&2
  exit 1
  ;;
kill9)
  i=${3:?node}
  pid=$(cat "$dir/n$i/pid")
  kill -9 "$pid" 2>/dev/null || true
  while kill -0 "$pid" 2>/dev/null; do sleep 0.02; done
  ;;
restart)
  i=${3:?node}
  before=$(grep -c "Server is ready" "$dir/n$i/log" || true)
  node_start "$i"
  k=0
  while [ $k -lt 200 ] && [ "$(grep -c "Server is ready" "$dir/n$i/log" || true)" -le "$before" ]; do
    sleep 0.05
    k=$((k + 1))
  done
  ;;
stop)
  for i in 1 2 3; do
    [ -f "$dir/n$i/pid" ] || continue
    pid=$(cat "$dir/n$i/pid")
    kill -TERM "$pid" 2>/dev/null || true
    k=0
    while kill -0 "$pid" 2>/dev/null && [ $k -lt 100 ]; do sleep 0.05; k=$((k + 1)); done
    kill -9 "$pid" 2>/dev/null || true
  done
  case "$dir" in /tmp/*) rm -rf "$dir" ;; esac
  ;;
*)
  echo "usage: nats_cluster.sh start|kill9|restart|stop DIR [I]" >&2
  exit 2
  ;;
esac
