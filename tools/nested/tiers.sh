#!/usr/bin/env bash
# Runs test tiers (kvm, vfio, linux) for real inside the nested guest (tools/nested/run.sh), for hosts that
# lack what they need: /dev/kvm, VFIO, or a KVM that can run a stock kernel. Expects `mvn verify` (or test-compile) to have built the tree:
# it reuses the compiled test classes and runs them with the JUnit console launcher in one JVM, which
# is much faster under software emulation than Maven forking one JVM per module.
#
#   tools/nested/tiers.sh [TAG...]      (default: kvm vfio)
#
# The interrupt storm tests (tag storm) run afterwards in a second guest of their own, on one TCG thread.
#
# JVFIO_TIERS_SELECT narrows the run, e.g. "--select-class io.jvfio.platform.PlatformAssignmentKvmTest"
# (any JUnit console-launcher selector options; the default scans every module's test classes).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
cd "$repo"
. tools/java-env.sh
. tools/progress.sh

tags=("$@")
[ ${#tags[@]} -gt 0 ] || tags=(kvm vfio)

launcher_version=1.14.1
launcher="$HOME/.m2/repository/org/junit/platform/junit-platform-console-standalone/$launcher_version/junit-platform-console-standalone-$launcher_version.jar"
if [ ! -f "$launcher" ]; then
    mvn -q -B -ntp dependency:get -Dartifact="org.junit.platform:junit-platform-console-standalone:$launcher_version"
fi

# One classpath for every module's tests: each module's test classes, classes and test-scope deps. It
# goes on java's own -cp (not the launcher's --class-path) so tests that start child JVMs with
# java.class.path give them everything.
# test-compile in the same invocation makes Maven resolve jvfio's own modules to this tree's
# target/ directories instead of looking for them in ~/.m2.
progress "compiling the tests (mvn test-compile)" mvn -q -B -ntp test-compile dependency:build-classpath \
    -Dmdep.outputFile=target/test.classpath -Dmdep.includeScope=test >/dev/null
# The modules' own directories come first and jvfio's artifacts are dropped from the dependency lists:
# a jar left in ~/.m2 by an earlier `mvn install` would otherwise shadow what was just compiled.
classpath=()
scan=()
for module_pom in */pom.xml; do
    module=$(dirname "$module_pom")
    [ -d "$module/target/test-classes" ] || continue
    scan+=("$repo/$module/target/test-classes")
    classpath+=("$repo/$module/target/test-classes" "$repo/$module/target/classes")
done
dependencies=$(cat */target/test.classpath 2>/dev/null | tr ':' '\n' | grep -v '/io/jvfio/' | grep -v "^$repo/" \
    | awk 'NF && !seen[$0]++' | paste -sd: -)
joined=$(IFS=:; echo "${classpath[*]}"):$dependencies
scan_joined=$(IFS=:; echo "${scan[*]}")

"$here/prepare.sh" >&2
# run_tiers TAG_ARGS...: the tests those tags select, in one JVM in one nested guest. A guest boots for
# minutes and a test may run for minutes: a line at least every 30 s counts the tests done so far (the
# console launcher's tree marks each with one of these).
run_tiers() {
    PROGRESS_DONE='✔|✘|↷' progress "nested tiers ($*)" "$here/run.sh" --overlay "$repo" -- \
        "$JAVA_HOME/bin/java" --enable-native-access=ALL-UNNAMED -XX:TieredStopAtLevel=1 \
        -cp "$launcher:$joined" org.junit.platform.console.ConsoleLauncher execute \
        --disable-banner --details=tree --fail-if-no-tests \
        ${JVFIO_TIERS_SELECT:---scan-class-path "$scan_joined"} "$@"
}
# 125: the nested guest's own kernel died before the tests finished (its console is above; under TCG's
# emulation of SVM it has panicked, rarely, in KVM's paths: in two CI runs in a row on 2026-12-04 the
# linux tier's guest did, each time with KVM's own irqchip, and the second boot ran through). That is the
# harness failing, not a test: run them again from a fresh boot, at most twice. A test failure (status
# 1) is never retried.
run_tiers_again_if_the_guest_died() {
    local status=0 boots=1
    run_tiers "$@" || status=$?
    while [ "$status" -eq 125 ] && [ "$boots" -lt 3 ]; do
        echo "[nested] the nested guest died before the tests finished (console above): running them once more" >&2
        status=0
        boots=$((boots + 1))
        run_tiers "$@" || status=$?
    done
    return "$status"
}
echo "[nested] running tiers: ${tags[*]} (inside a QEMU guest whose KVM and VFIO behave as documented)" >&2
status=0
if [ -n "${JVFIO_TIERS_SELECT:-}" ]; then
    # A narrowed run: one guest for whatever the selection holds of the tiers.
    tag_args=()
    for tag in "${tags[@]}"; do tag_args+=(--include-tag "$tag"); done
    run_tiers_again_if_the_guest_died "${tag_args[@]}" --exclude-tag storm || status=$?
else
    # Each tier gets a guest of its own, and so the whole of JVFIO_NESTED_TIMEOUT: on a host without
    # /dev/kvm the kvm, vfio and linux tiers together outlast one guest's 15 minutes. A test with several
    # of the tags runs with the first of them.
    earlier=""
    for tag in "${tags[@]}"; do
        echo "[nested] tier $tag" >&2
        run_tiers_again_if_the_guest_died --include-tag "$tag$earlier" --exclude-tag storm || status=$?
        [ "$status" -eq 0 ] || break
        earlier+=" & !$tag"
    done
fi
# Interrupt storms (Tiers.STORM) have made this guest's kernel panic when QEMU gives each vCPU a host
# thread of its own; on one thread for all of them the full-size storm of bench/run reliability runs
# through, so they get a guest of their own run that way.
# Every storm test is also a kvm test.
if [ "$status" -eq 0 ] && [ -z "${JVFIO_TIERS_SELECT:-}" ] && [[ " ${tags[*]} " == *" kvm "* ]]; then
    echo "[nested] running the storm tests (QEMU -accel tcg,thread=single)" >&2
    JVFIO_NESTED_ACCEL=tcg,thread=single run_tiers_again_if_the_guest_died --include-tag "storm & kvm" \
        || status=$?
fi
exit "$status"
