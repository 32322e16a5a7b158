# shellcheck shell=bash
# Shell helpers to run the project's Mosquitto as a child of the calling script.
# Source this file; it defines free_port, start_broker and stop_broker.

# Prints a TCP port on 127.0.0.1 that nothing listens on right now.
free_port() {
    /usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

# start_broker RUN_DIR PORT [LINE...]: writes RUN_DIR/mosquitto.conf from config/mosquitto.conf
# plus the per-run lines (and LINEs, e.g. a bridge), starts Mosquitto, waits until it accepts
# connections; sets BROKER_PID.
start_broker() {
    local run_dir=$1 port=$2 root
    shift 2
    root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
    mkdir -p "$run_dir"
    {
        cat "$root/config/mosquitto.conf"
        echo "listener $port 127.0.0.1"
        echo "persistence_location $run_dir/"
        echo "log_dest file $run_dir/mosquitto.log"
        echo "user $(id -un)"
        for line in "$@"; do echo "$line"; done
    } >"$run_dir/mosquitto.conf"
    mosquitto -c "$run_dir/mosquitto.conf" >>"$run_dir/mosquitto.out" 2>&1 &
    BROKER_PID=$!
    for _ in $(seq 1 100); do
        if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then return 0; fi
        if ! kill -0 "$BROKER_PID" 2>/dev/null; then break; fi
        sleep 0.1
    done
    echo "error: mosquitto did not start on 127.0.0.1:$port; see $run_dir/mosquitto.log" >&2
    return 1
}

# Stops the broker started by start_broker, by PID, and reaps it.
stop_broker() {
    if [ -n "${BROKER_PID:-}" ]; then
        kill "$BROKER_PID" 2>/dev/null || true
        wait "$BROKER_PID" 2>/dev/null || true
        BROKER_PID=
    fi
}
