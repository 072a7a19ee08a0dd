# Sourced by the checks: how to run the built collector as a user runs `sockflow collect`, without Maven (which
# under emulation takes minutes). Sets COLLECTOR (the command, an array) or exits 2 with the reason.
# With the class-data archive of `kernels/checks/collect --prepare` (newer than the jar) the guest maps the classes
# instead of loading them from the jars: class loading is most of the JVM's start under emulation.
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
JAVA="${JAVA_HOME:-/usr/lib/jvm/temurin-25-jdk-amd64}/bin/java"
JAR="$(ls "$ROOT"/collector/target/sockflow-collector-*.jar 2>/dev/null | grep -v -- '-sources\|-tests' | head -1)"
CPF="$ROOT/collector/target/classpath.txt"
CDS="$ROOT/collector/target/collector.jsa"
[ -x "$JAVA" ] || { echo "checks: no JDK 25 at $JAVA: set JAVA_HOME" >&2; exit 2; }
[ -n "$JAR" ] && [ -f "$CPF" ] \
  || { echo "checks: the collector is not built: run mvn -o -q -B -DskipTests package first" >&2; exit 2; }
CDS_OPT=()
# the JVM reports on stdout that the JDK's base archive was made without --enable-native-access; harmless
[ -s "$CDS" ] && [ "$CDS" -nt "$JAR" ] && [ "$CDS" -nt "$CPF" ] \
  && CDS_OPT=(-XX:SharedArchiveFile="$CDS" -Xlog:cds=off -Xlog:aot=off)
# C1 only: under emulation the C2 compiler's work costs more than it saves in a run this short (the collector's
# start and stop in the guest: 54 s with C2, 41 s without, on 6.12)
# shellcheck disable=SC2206
COLLECTOR=("$JAVA" "${CDS_OPT[@]}" -XX:TieredStopAtLevel=1 ${CHECKS_JAVA_OPTS:-} --enable-native-access=ALL-UNNAMED
  -XX:+UseSerialGC -Xss1m
  -cp "$JAR:$(cat "$CPF")" io.sockflow.collector.cli.Main collect)
