# shellcheck shell=bash
# Sourced by jvfio's long-running scripts (bench/run, tools/nested/tiers.sh).
#
#   progress WHAT COMMAND [ARG...]
#
# runs COMMAND with its stdout and stderr passed through, and whenever 30 s (PROGRESS_EVERY) go by
# without a line from it, prints one on stderr: what runs, for how long, and COMMAND's last line, so a
# run of many minutes never looks hung. With PROGRESS_DONE set to an extended regex, the line also
# counts COMMAND's lines that match it (e.g. finished tests). Returns COMMAND's exit status.
progress() {
    local what=$1
    shift
    local seen started=$SECONDS every=${PROGRESS_EVERY:-30} owner=$BASHPID
    seen=$(mktemp)
    # The ticker stops, and removes the log, once the shell that runs this is gone: a shell killed by a
    # signal returns from nothing here, and the ticker would print about a dead run every 30 s for good.
    (
        while sleep "$every" 2>/dev/null && kill -0 "$owner" 2>/dev/null; do
            local quiet=$(($(date +%s) - $(stat -c %Y "$seen")))
            if [ "$quiet" -ge "$every" ]; then
                local line="[progress] $what: running for $((SECONDS - started)) s"
                if [ -n "${PROGRESS_DONE:-}" ]; then
                    line+=", $(grep -cE "$PROGRESS_DONE" "$seen") done"
                fi
                line+=", last line: $(tail -n 1 "$seen" | cut -c1-160)"
                echo "$line" >&2
            fi
        done
        rm -f "$seen"
    ) </dev/null >/dev/null &
    local ticker=$! status=0
    # COMMAND runs as a job of its own, not on the left of `||`, where bash would ignore `set -e` inside
    # it (a failing step of a function would not stop it); stdin stays the caller's.
    { "$@" 2> >(tee -a "$seen" >&2) | tee -a "$seen"; } <&0 &
    wait $! || status=$?
    kill "$ticker" 2>/dev/null || true
    wait "$ticker" 2>/dev/null || true
    rm -f "$seen"
    return "$status"
}
