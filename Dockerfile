# Build stage: compiles the crm binary with the dependency versions locked in Cargo.lock.
FROM rust:1.95-bookworm AS builder
WORKDIR /src
COPY . .
RUN cargo build --release --locked -p crm

# Runtime stage: the binary on a slim Debian (the same release as the builder, so glibc matches),
# with CA certificates and curl for the compose healthcheck. It runs as an unprivileged user whose
# home is the working directory, so the default SQLite data folder (./data) is writable too.
FROM debian:bookworm-slim
RUN apt-get update \
    && apt-get install -y --no-install-recommends ca-certificates curl \
    && rm -rf /var/lib/apt/lists/*
RUN useradd --system --user-group --create-home --home-dir /var/lib/crm --shell /usr/sbin/nologin crm
COPY --from=builder /src/target/release/crm /usr/local/bin/crm
USER crm
WORKDIR /var/lib/crm
ENV CRM_BIND=0.0.0.0:8080
# glibc keeps one heap arena per thread; two keep the server's memory low (BENCHMARKS.md, finding 6).
ENV MALLOC_ARENA_MAX=2
EXPOSE 8080
ENTRYPOINT ["crm"]
CMD ["serve"]
