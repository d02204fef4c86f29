#!/usr/bin/env bash
# Builds and runs the etcd raft harness offline in GOPATH mode, on Debian's etcd raft 3.4
# (apt-get install golang-go golang-etcd-server-dev): a temporary GOPATH links bindings/go as "raftns" and
# this folder as "raftns-etcd", beside /usr/share/gocode.
#   integrations/etcd-raft/run.sh failover [flags]   the side-by-side table (see README.md)
#   integrations/etcd-raft/run.sh test [go test flags]
#   integrations/etcd-raft/run.sh check [go test flags]   gofmt -l and go vet clean, then test (npm test runs this)
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
gopath="$(mktemp -d)"
trap 'rm -rf "$gopath"' EXIT
mkdir -p "$gopath/src"
ln -s "$root/bindings/go" "$gopath/src/raftns"
ln -s "$here" "$gopath/src/raftns-etcd"
export GO111MODULE=off GOPATH="$gopath:/usr/share/gocode" GOCACHE="${GOCACHE:-$root/.cache/go-build}" GOFLAGS=
cmd="${1:-failover}"
shift || true
cd "$root"
case "$cmd" in
  failover) go run raftns-etcd/cmd/failover "$@" ;;
  test) RAFT_NS_ROOT="$root" go test raftns-etcd raftns "$@" ;;
  check)
    unformatted="$(gofmt -l "$root/bindings/go" "$here")"
    if [ -n "$unformatted" ]; then echo "run.sh: gofmt -l lists files to format: $unformatted" >&2; exit 1; fi
    go vet raftns raftns-etcd/...
    RAFT_NS_ROOT="$root" go test -count=1 raftns-etcd raftns "$@" ;;
  *) echo "run.sh: unknown command $cmd (failover | test | check)" >&2; exit 2 ;;
esac
