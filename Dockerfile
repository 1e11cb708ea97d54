# syntax=docker/dockerfile:1
# Spindle in a container: built with the Maven Wrapper on a JDK, run on a JRE as a non-root user.
# Not built on the development machine (it has no container runtime); see README, Container.

FROM eclipse-temurin:25-jdk AS build
WORKDIR /src
# the wrapper and the pom first, so that a change of the sources alone reuses the downloaded dependencies
COPY mvnw pom.xml ./
COPY .mvn .mvn
RUN ./mvnw -B -q dependency:go-offline
COPY src src
RUN ./mvnw -B -q -Dmaven.test.skip=true package

FROM eclipse-temurin:25-jre
# curl for the health check: the JRE image has no HTTP client of its own
RUN apt-get update \
    && apt-get install -y --no-install-recommends curl \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --system --uid 10001 --home-dir /data --shell /usr/sbin/nologin spindle \
    && mkdir -p /data && chown spindle:spindle /data && chmod 0700 /data
COPY --from=build /src/target/spindle.jar /opt/spindle/spindle.jar
# `spindle COMMAND` inside the container, with the options the launcher script gives: the Vector API for the server only
COPY --chmod=0755 <<'EOF' /usr/local/bin/spindle
#!/bin/sh
vector_api=
[ "${1:-}" = serve ] && vector_api="--add-modules jdk.incubator.vector"
exec java --enable-native-access=ALL-UNNAMED $vector_api $JAVA_OPTS -jar /opt/spindle/spindle.jar "$@"
EOF

USER spindle
# SPINDLE_HOST=0.0.0.0 makes the port reachable from outside the container; Spindle then refuses to start
# without SPINDLE_API_KEYS.
ENV SPINDLE_DATA_DIR=/data \
    SPINDLE_HOST=0.0.0.0 \
    SPINDLE_PORT=8080 \
    JAVA_OPTS="-XX:MaxRAMPercentage=75"
VOLUME /data
EXPOSE 8080
HEALTHCHECK --interval=10s --timeout=3s --start-period=60s --retries=3 \
    CMD curl -fsS "http://127.0.0.1:${SPINDLE_PORT}/readyz" > /dev/null || exit 1
ENTRYPOINT ["spindle"]
CMD ["serve"]
