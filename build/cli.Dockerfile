# syntax=docker/dockerfile:1.7
# The tandem CLI (`tandem tenant create`, `tandem token`, `tandem dev`) as
# an image, for operators' one-off Jobs: a static binary on distroless
# "static", run as the non-root user 65532.
#   docker build -f build/cli.Dockerfile -t registry.example.net/platform/tandem/tandem:0.1.0 .
ARG GO_IMAGE=docker.io/library/golang:1.26.8-bookworm
ARG BASE_IMAGE=gcr.io/distroless/static-debian12:nonroot

FROM ${GO_IMAGE} AS build
WORKDIR /src
COPY . .
ENV CGO_ENABLED=0 GOFLAGS=-buildvcs=false
RUN --mount=type=cache,target=/root/.cache/go-build \
    --mount=type=cache,target=/go/pkg/mod \
    go build -trimpath -ldflags="-s -w" -o /out/tandem ./cmd/tandem

FROM ${BASE_IMAGE}
LABEL org.opencontainers.image.source="https://github.com/tandem-oss/tandem" \
      org.opencontainers.image.title="tandem"
COPY --from=build /out/tandem /tandem
USER 65532:65532
ENTRYPOINT ["/tandem"]
