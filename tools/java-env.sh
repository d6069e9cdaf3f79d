# Sourced by jvfio's scripts: finds a JDK 25 (JAVA_HOME if it is one, else Temurin's usual path) and
# quiets Maven's own warning about sun.misc.Unsafe on JDK 25.
# The feature version of the JDK at $1 (25): from its release file, since ./jvfio sources this on every
# command and starting a JVM to ask would cost as much as the command's own JVM; from the JVM where the
# file is missing.
jvfio_java_version() {
    local line
    if [ -r "$1/release" ]; then
        while IFS= read -r line; do
            case $line in
                JAVA_VERSION=*) line=${line#JAVA_VERSION=\"}; echo "${line%%[.\"]*}"; return 0 ;;
            esac
        done <"$1/release"
    fi
    "$1/bin/java" -XshowSettings:properties -version 2>&1 | sed -n 's/^ *java.specification.version = //p'
}
jvfio_find_jdk() {
    local candidate
    for candidate in "${JAVA_HOME:-}" /usr/lib/jvm/temurin-25-jdk-amd64 /usr/lib/jvm/java-25-openjdk-amd64; do
        if [ -n "$candidate" ] && [ -x "$candidate/bin/java" ] && [ "$(jvfio_java_version "$candidate")" -ge 25 ] 2>/dev/null; then
            echo "$candidate"
            return 0
        fi
    done
    return 1
}
if ! JAVA_HOME=$(jvfio_find_jdk); then
    echo "jvfio needs a JDK 25: set JAVA_HOME to one (looked at \$JAVA_HOME and /usr/lib/jvm/temurin-25-jdk-amd64)" >&2
    exit 2
fi
export JAVA_HOME
export PATH="$JAVA_HOME/bin:$PATH"
export MAVEN_OPTS="${MAVEN_OPTS:-} --sun-misc-unsafe-memory-access=allow"
