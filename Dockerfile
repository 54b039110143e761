# privdns container: a static binary on distroless, as user 65532, with a
# configuration that serves private-address clients on port 53 at once
# (deploy/container/privdns.yaml).
#   docker build -t privdns .
#   docker run -p 53:53/udp -p 53:53/tcp -p 9153:9153 privdns
# Your own configuration and zone files: mount their folder over /etc/privdns
#   docker run ... -v "$PWD/conf:/etc/privdns:ro" privdns
FROM golang:1.26-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG VERSION=dev
RUN CGO_ENABLED=0 go build -trimpath -ldflags "-s -w -X main.version=${VERSION}" -o /out/privdns ./cmd/privdns
# File capabilities survive the COPY below, so the non-root user may bind
# port 53 without any other privilege.
RUN apt-get update -qq && apt-get install -y -qq libcap2-bin >/dev/null && setcap cap_net_bind_service=+ep /out/privdns

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/privdns /usr/local/bin/privdns
COPY --from=build /src/deploy/container/privdns.yaml /etc/privdns/privdns.yaml
COPY --from=build /src/testdata/example/privdns.yaml /etc/privdns/privdns.example.yaml
USER 65532:65532
EXPOSE 53/udp 53/tcp 9153/tcp
ENTRYPOINT ["/usr/local/bin/privdns"]
CMD ["serve", "--config", "/etc/privdns/privdns.yaml"]
