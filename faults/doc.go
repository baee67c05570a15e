// Package faults is pact's fault-injection suite: real `pact agent`
// processes, each in a network namespace of its own, joined by veth pairs to
// a bridge with a private /24, reporting to a real mosquitto on the bridge's
// host side. The tests cut, stall, kill and restart what an operator's fleet
// would lose — links, processes, the broker — and check what must hold
// anyway: no two nodes decide different blocks at one height, no honest node
// is ejected, every request is performed once, every outcome reaches a
// subscriber, and the cluster is live again within seconds of the fault
// ending.
//
// Everything is in _test.go files behind the build tag `faults`, so `go test
// ./...` does not run it; `make test-faults` does (README.md in this
// directory says what it needs: root and `ip netns`). This file exists so
// that the package has a name without the tag.
package faults
