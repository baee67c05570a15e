// Package transport carries consensus messages (and the agent's other signed
// messages) between pact nodes, over a Link: memberlist in production
// (*membership.Membership), a MemoryNetwork in tests.
//
// # Wire format
//
// A frame is [FrameVersion][Kind][payload]. KindConsensus carries a
// consensus.Message in its own encoding; the agent registers a Vetter for
// every other kind it uses (capability documents, evidence, accusations).
// The frame names no sender: the author is inside the payload, under its
// signature, and memberlist does not authenticate who sent a packet.
//
// # Inbound
//
// The link's goroutine calls Receive, which decodes the frame and the
// message, drops and counts anything malformed, takes a token from the
// sender's bucket (per validator; one shared bucket for everyone else) and
// queues the message for a small pool of verification workers. A worker
// checks the signature of proposals, votes and statuses with the sender's
// current key (Config.Keys) over consensus.SignBytes; it drops proposals and
// votes from non-validators, lets statuses from non-validators through
// (candidates follow the chain with public commits), and passes commits on
// to the core, which verifies their certificates against the validator set
// of their height. What survives goes to the Inbound channel. Every queue is
// bounded and every drop is counted in Stats; nothing blocks the link's
// goroutine and nothing a peer sends can crash the node.
//
// The core verifies signatures again when it steps a message. That costs a
// second Ed25519 verification per message (about 35 µs on this project's
// x86 test machine, more on a Pi) and keeps the core's guarantees
// independent of this package.
//
// # Outbound
//
// Send routes a consensus message: votes and statuses best-effort (one UDP
// datagram; the core re-sends its current round's messages, so losses only
// delay), unless they do not fit a datagram; proposals and commits reliably
// (TCP). Reliable frames go through a bounded queue per peer with its own
// sender goroutine, so a hung peer costs its queue and nothing else; frames
// that wait past SendTimeout, or come due while the peer is known to be
// unreachable, are dropped and counted.
//
// # Using it
//
//	var tr *transport.Transport
//	mcfg.OnMessage = func(p []byte) { tr.Receive(p) }
//	m, _ := membership.New(mcfg)
//	tr, _ = transport.New(tcfg, m)
//	m.Start(ctx) // no message is delivered before Start
//	...
//	for in := range tr.Inbound() { node.Step(in.Msg) } // in the agent's loop
//	...
//	for _, msg := range rd.Messages { tr.Send(msg) }
package transport
