#!/bin/sh
# chserver.sh — a throwaway clickhouse-server (Debian 18.16) for specs and benchmarks.
#
#   tests/chserver.sh start DIR    -> prints "PID HTTP_PORT" once SELECT 1 answers
#   tests/chserver.sh stop DIR     -> stops exactly that PID (TERM, then KILL), removes DIR
#   tests/chserver.sh kill9 DIR    -> SIGKILL by PID (the crash); restart with start DIR
#
# Free loopback ports are picked at start (and kept in DIR for restarts);
# users: default (no password) and shj / s3cret. The data lives in DIR.
set -eu
# Under the ASan spec run LD_PRELOAD carries the sanitizer runtimes: they are
# for our library, not for the server or curl.
unset LD_PRELOAD
cmd=${1:?usage: chserver.sh start|stop|kill9 DIR}
dir=${2:?usage: chserver.sh start|stop|kill9 DIR}

# Free loopback ports come from our own tool (a fresh Debian has no python).
build_dir=${SHJ_BUILD_DIR:-$(cd "$(dirname "$0")/.." && pwd)/build}
free_ports() {
  "$build_dir/tool_free_ports" "$1"
}

case "$cmd" in
start)
  mkdir -p "$dir"
  if [ ! -f "$dir/ports" ]; then
    free_ports 3 > "$dir/ports"
    cat > "$dir/users.xml" <<'XML'
<?xml version="1.0"?>
<yandex>
<profiles><default><max_memory_usage>4000000000</max_memory_usage></default></profiles>
<users>
<default><password></password><networks><ip>::/0</ip></networks><profile>default</profile><quota>default</quota></default>
<shj><password>s3cret</password><networks><ip>::/0</ip></networks><profile>default</profile><quota>default</quota></shj>
</users>
<quotas><default><interval><duration>3600</duration><queries>0</queries><errors>0</errors><result_rows>0</result_rows><read_rows>0</read_rows><execution_time>0</execution_time></interval></default></quotas>
</yandex>
XML
  fi
  read http tcp inter < "$dir/ports"
  clickhouse-server --config-file=/etc/clickhouse-server/config.xml -- \
    --path="$dir/data/" --tmp_path="$dir/tmp/" --logger.log="$dir/server.log" \
    --logger.errorlog="$dir/server.err" --http_port="$http" --tcp_port="$tcp" \
    --interserver_http_port="$inter" --users_config="$dir/users.xml" --listen_host=127.0.0.1 \
    >>"$dir/stdout" 2>&1 &
  pid=$!
  echo "$pid" > "$dir/pid"
  i=0
  while [ $i -lt 200 ]; do
    if [ "$(curl -s "http://127.0.0.1:$http/?query=SELECT%201" 2>/dev/null)" = "1" ]; then
      echo "$pid $http"
      exit 0
    fi
    if ! kill -0 "$pid" 2>/dev/null; then break; fi
    sleep 0.05
    i=$((i + 1))
  done
  echo "clickhouse-server did not start (see $dir/stdout, $dir/server.err)" >&2
  kill -9 "$pid" 2>/dev/null || true
  exit 1
  ;;
kill9)
  pid=$(cat "$dir/pid")
  kill -9 "$pid" 2>/dev/null || true
  while kill -0 "$pid" 2>/dev/null; do sleep 0.02; done
  ;;
stop)
  if [ -f "$dir/pid" ]; then
    pid=$(cat "$dir/pid")
    kill -CONT "$pid" 2>/dev/null || true
    kill -TERM "$pid" 2>/dev/null || true
    i=0
    while kill -0 "$pid" 2>/dev/null && [ $i -lt 100 ]; do sleep 0.05; i=$((i + 1)); done
    kill -9 "$pid" 2>/dev/null || true
  fi
  case "$dir" in /tmp/*) rm -rf "$dir" ;; esac
  ;;
*)
  echo "usage: chserver.sh start|stop|kill9 DIR" >&2
  exit 2
  ;;
esac
