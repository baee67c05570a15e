// Package report is a pact node's MQTT side, and the only importer of
// paho.mqtt.golang: it publishes what the node reports under
// pact/<cluster>/ and hands the agent the action requests operators
// publish there. Topics and payloads are the contract of DESIGN.md §4 and
// live in package wire, with their strict decoders, signature checks and
// Dedup, so that code without an MQTT client can use them too.
//
// # What it owns
//
//   - The connection: TLS, username and password, client certificates
//     (Config, FromAgent). paho reconnects on its own; every connection is
//     set up again in the OnConnect handler, since a clean session keeps no
//     subscriptions (paho#22, #238).
//   - Birth and death, as Sparkplug and Homie do it: every connection gets a
//     bdseq one higher than the last (persisted by Config.NextBDSeq, e.g.
//     FileBDSeq); its will is the retained state "lost" with that bdseq, and
//     its birth, published once connected, the retained state "ready" (or
//     "ejected") with the same bdseq. The will for a reconnection is set in
//     paho's reconnecting handler, before the CONNECT that carries it. Close
//     publishes "disconnected" and disconnects cleanly, so the broker drops
//     the will.
//   - Durable publication: decisions, outcomes and ejections are written to
//     the node's bbolt outbox (fsynced, group-committed between concurrent
//     callers) before the Publish call returns; one sender goroutine
//     publishes the outbox oldest first, a window at a time, and removes a
//     message only once its PUBACK arrived. A broker outage or an agent
//     restart therefore loses nothing; a message may arrive twice, and
//     subscribers deduplicate by (action, instance).
//   - Best-effort publication: states, capabilities, readings and error
//     reports go through a bounded queue and are dropped and counted when
//     the broker is away or slow; the state and the capability document are
//     published again at every birth.
//   - Home Assistant MQTT discovery, when Config.HomeAssistant is set
//     (homeassistant.go): retained entity configurations derived from the
//     capability document, published with it and at every birth, and each
//     outcome the node performed copied to nodes/<node>/last/<action>.
//   - Inbound requests: requests/+ is decoded strictly, checked against the
//     cluster's operator keys, and handed to Requests() with a send that
//     never waits. Whatever is refused — malformed, forged, unsigned, or
//     more than the agent's loop has room for — is answered on errors and
//     counted; nothing a stranger publishes stops the node.
//
// # What it must never do
//
//   - Block the caller on the network. Publish methods enqueue; the only
//     wait is the outbox's fsync. Every token is waited on with a timeout
//     and a context (paho#138, #313).
//   - Block paho's delivery goroutines (paho#453: a blocked handler starves
//     the keepalive and the connection dies silently).
//   - Count a durable message as sent before the broker acknowledged it, or
//     rely on paho's store for durability: it does not fsync (paho#596).
//   - Decide anything: what a request means, who performs it, whether an
//     outcome is true, is the agent's and the cluster's business.
//
// # Workarounds for the broker and the client
//
// paho's resume after a reconnection sets the DUP flag on a stored packet
// that its writer may be sending at that moment (paho#703, a data race);
// the reporter gives paho a store that keeps copies (pahostore.go).
// mosquitto up to 2.0.21 takes a client that hangs up while the broker is
// still writing to it for a lost one and publishes its will (mosquitto#2627,
// #3253); Close therefore unsubscribes, publishes the goodbye and only then
// disconnects, and never while a connection is being set up.
//
// # Using it
//
//	st, _ := store.Open(path, cluster, node, nil)
//	cfg := report.FromAgent(agentFile.MQTT, cluster, node)
//	cfg.Outbox = st.Outbox()
//	cfg.NextBDSeq = report.FileBDSeq(filepath.Join(dataDir, "mqtt.bdseq"))
//	cfg.Operators, cfg.AllowUnsignedRequests = clusterFile.OperatorKeys(), clusterFile.AllowUnsignedRequests
//	cfg.Logger = log
//	rep, err := report.New(cfg) // returns at once; connects in the background
//	...
//	rep.PublishCapabilities(doc)            // retained, again at every birth
//	for in := range rep.Requests() { ... }  // in the agent's loop
//	rep.PublishOutcome(o)                   // o signed with wire.SignOutcome
//	...
//	rep.Close(ctx)                          // at shutdown, within its deadline
//
// The configs/mosquitto.conf shipped with pact is the broker configuration
// this package is tested against; it raises max_queued_messages, whose
// default silently dropped about 12% of a 5,000-message QoS 1 burst.
package report
