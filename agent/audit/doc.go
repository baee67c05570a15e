// Package audit finds the nodes whose sensor readings disagree with those
// of their zone's peers, and writes accusations that any validator can
// re-check from the signed readings they carry.
//
// # What it owns
//
// The judgement of signed readings (agent/wire.Readings) over a short
// sliding window: robust statistics per zone, sensor kind and time bucket,
// the persistence rule that turns outliers into a suspect, the evidence of
// an Accusation, and Check, which re-judges an accusation from that
// evidence alone.
//
// For every bucket (Config.Bucket, cut from the Unix epoch so every node
// cuts time alike) and every kind that a zone's nodes share (Config.Kinds:
// temperature, humidity, pressure; never a SoC temperature, which belongs to
// one board, nor a digital input), each node's value is judged against the
// median and scaled MAD of the OTHER nodes of its zone, so a liar never
// drags its own reference; a zone bucket with fewer than MinPeers other
// values judges nobody. A node becomes a suspect when, within the Window,
// at least MinSamples of its buckets were judged and at least OutlierShare
// of those were outliers. An offset, a stuck value, a random value or a
// drift shows in almost every bucket; honest noise, a slow sensor, a node
// that paused or restarted shows in a few, or none.
//
// # What it must never do
//
//   - Read the clock, do I/O, start goroutines or use randomness: the
//     caller passes the time, and the same payloads with the same times give
//     the same accusations, whatever order they came in.
//   - Accuse on a single sample, or on a zone too small to outvote a liar.
//   - Verify signatures itself: the caller hands Add verified payloads, and
//     Check takes the verifier as a callback. Keys belong to the validator
//     set, which this package does not know.
//   - Hold more than the window: payloads older than it are dropped, and
//     each node's payloads per bucket are capped (MaxPerBucket).
//
// # How the agent uses it
//
// Every node runs an Auditor on its loop goroutine. It Adds every
// validator's signed readings as they arrive (its own too), with the zone
// of that node's committed capability document, and calls Suspects every
// bucket or so. Suspects returns a suspect's accusation again, brought up
// to date, on every call for as long as the node keeps lying; the agent
// signs and gossips one per suspect (an accusation of itself means its
// own sensor is broken: an alert, not gossip). An
// eject entry for reason ReasonSensor is valid when it carries the
// accusations of f+1 distinct validators against the same node, each of
// which passes Check with the cluster's Config; f+1 is what makes one of
// them honest, since Check proves the accused's signed readings lay far
// from those of the peers shown, not that the peers shown were all there
// were. Counting accusers and building the entry are the agreed state's
// business, not this package's. Once a node is ejected, Forget drops what
// the auditor held of it.
package audit
