# shellcheck shell=bash
# Sourced by jvfio's scripts: finds a JDK 25 (JAVA_HOME if it is one, else Temurin's usual path) and
# quiets Maven's own warning about sun.misc.Unsafe on JDK 25. ./jvfio sources this on every command, so
# it starts no process where it can help it (each fork costs a command about a millisecond): the feature
# version comes from the JDK's release file, and from its JVM only where that file is missing.

# Sets jvfio_feature to the feature version (25) of the JDK at $1, empty when it cannot tell.
jvfio_java_version() {
    local line
    jvfio_feature=
    if [ -r "$1/release" ]; then
        while IFS= read -r line; do
            case $line in
                JAVA_VERSION=*) line=${line#JAVA_VERSION=\"}; jvfio_feature=${line%%[.\"]*}; return 0 ;;
            esac
        done <"$1/release"
    fi
    jvfio_feature=$("$1/bin/java" -XshowSettings:properties -version 2>&1 | sed -n 's/^ *java.specification.version = //p')
}
# Sets jvfio_jdk to the first JDK 25 or later among JAVA_HOME and the usual paths; fails when none is.
jvfio_find_jdk() {
    local candidate
    for candidate in "${JAVA_HOME:-}" /usr/lib/jvm/temurin-25-jdk-amd64 /usr/lib/jvm/java-25-openjdk-amd64; do
        [ -n "$candidate" ] && [ -x "$candidate/bin/java" ] || continue
        jvfio_java_version "$candidate"
        if [ "$jvfio_feature" -ge 25 ] 2>/dev/null; then
            jvfio_jdk=$candidate
            return 0
        fi
    done
    return 1
}
if ! jvfio_find_jdk; then
    echo "jvfio needs a JDK 25: set JAVA_HOME to one (looked at \$JAVA_HOME, /usr/lib/jvm/temurin-25-jdk-amd64 and /usr/lib/jvm/java-25-openjdk-amd64)" >&2
    exit 2
fi
export JAVA_HOME=$jvfio_jdk
export PATH="$JAVA_HOME/bin:$PATH"
export MAVEN_OPTS="${MAVEN_OPTS:-} --sun-misc-unsafe-memory-access=allow"
