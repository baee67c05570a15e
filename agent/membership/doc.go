// Package membership is how a pact agent finds its peers and tells whether
// they are alive: a wrapper around hashicorp/memberlist (SWIM gossip with
// Lifeguard), with optional mDNS discovery on the LAN.
//
// # What it owns
//
//   - The memberlist instance: encrypted with the cluster's gossip keys (a
//     keyring, so keys rotate install → use → remove), labelled with the
//     cluster name so two clusters never merge, bound to one address and
//     optionally advertising another (NAT).
//   - Joining: seeds are retried with exponential backoff and jitter until
//     one answers, and again whenever the node is alone, so a node that boots
//     before its seeds joins when they come up. With MDNS on, nodes on one
//     subnet find each other without seeds.
//   - Failure-detection timings: the Pi profile halves memberlist's LAN
//     defaults (see ApplyPiProfile for the reasoning and the measurements).
//   - Refusal: every alive message and every joining node's member list
//     passes Config.Gate (memberlist's AliveDelegate and MergeDelegate). The
//     agent's gate refuses ejected nodes and nodes that claim a validator's
//     name with another public key in their meta. RecheckGate hides members
//     the gate has come to refuse.
//   - A view of the members with their state (alive, suspect, dead, left)
//     and meta, which memberlist's API does not give: suspicions are taken
//     from memberlist's log, and departures are told apart from failures by
//     a flag in the meta header (so meta holds MaxMetaSize = 511 bytes, not
//     512).
//   - Sending: SendBestEffort (one UDP packet) and SendReliable (a TCP
//     stream) to a member by name, and OnMessage for what arrives. The agent
//     layers package transport on top.
//
// # What it must never do
//
// Gossip is a hint, never truth. memberlist is not Byzantine-tolerant: any
// holder of the gossip key can claim any name or spread lies about liveness
// (hashicorp/memberlist#370). So nothing here decides who may vote or act —
// a member that is not a validator is merely visible, as a candidate, until
// an operator admits it through consensus — and nothing here trusts the
// sender of a message: transport checks signatures. The gate only keeps out
// nodes already known to be bad. Callbacks run on memberlist's goroutines
// and must not block.
//
// Note on refused joins: memberlist's join is a push/pull exchange in which
// the answering side sends its state before it looks at the joiner's. So a
// refused node still learns the member list and may keep probing; every
// alive message about it is refused, so it never becomes a member here.
//
// # Using it
//
//	cfg := membership.DefaultConfig()
//	cfg.Name, cfg.Cluster = "pi-kitchen", "home"
//	cfg.GossipKeys = [][]byte{key}
//	cfg.Seeds = []string{"192.168.1.10:7946"}
//	cfg.Meta = func() []byte { return capabilityDigest }
//	cfg.Gate = agentGate
//	cfg.OnMessage = func(p []byte) { tr.Receive(p) } // set tr before Start
//	cfg.OnEvent = func(e membership.Event) { events <- e }
//	m, err := membership.New(cfg)
//	...
//	err = m.Start(ctx)
//	...
//	defer m.Shutdown()
//	defer m.Leave(2 * time.Second)
package membership
