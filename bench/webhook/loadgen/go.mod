module varmor-ts/bench/webhook/loadgen

go 1.22
