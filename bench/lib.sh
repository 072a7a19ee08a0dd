# Shared by the bench scripts: the JDK and the collector's class path, as ./sockflow finds them.
JAVA_HOME="${JAVA_HOME:-}"
for c in "$JAVA_HOME" /usr/lib/jvm/temurin-25-jdk-amd64 /usr/lib/jvm/*25*; do
  if [ -n "$c" ] && [ -x "$c/bin/java" ] && "$c/bin/java" -version 2>&1 | head -1 | grep -Eq 'version "(2[5-9]|[3-9][0-9])'; then JAVA_HOME="$c"; break; fi
done
JAVA="$JAVA_HOME/bin/java"
COLLECTOR_CP="$ROOT/collector/target/sockflow-collector-0.1.0-SNAPSHOT.jar:$(cat "$ROOT/collector/target/classpath.txt")"
