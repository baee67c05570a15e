package transport

// Link moves opaque payloads between named nodes. *membership.Membership is
// the real one (memberlist UDP and TCP); MemoryLink is its in-memory twin.
// Receiving is the other half: the link hands every payload that arrives to
// a function — membership's Config.OnMessage, MemoryNetwork.Join's receive —
// which the agent points at Transport.Receive.
type Link interface {
	// SendBestEffort sends one datagram: no retries, no ordering, maybe
	// lost. It must not block for long.
	SendBestEffort(to string, payload []byte) error
	// SendReliable delivers payload in full or returns an error. It may
	// block up to the link's own timeout.
	SendReliable(to string, payload []byte) error
	// Peers names the nodes a broadcast goes to: every reachable member but
	// this node.
	Peers() []string
}

// bestEffortLimiter is implemented by links whose datagrams have a size
// limit; the transport sends anything larger reliably.
type bestEffortLimiter interface {
	BestEffortLimit() int
}
