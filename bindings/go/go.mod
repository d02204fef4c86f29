module raftns

go 1.19
