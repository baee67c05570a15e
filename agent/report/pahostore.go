package report

import (
	mqtt "github.com/eclipse/paho.mqtt.golang"
	"github.com/eclipse/paho.mqtt.golang/packets"
)

// copyingStore is paho's ordered memory store, except that it keeps and
// hands out copies of publish packets.
//
// paho keeps every QoS 1 publish in its store until the PUBACK and, after a
// reconnection, resume() sends them again, setting their DUP flag first.
// With paho's own stores the packet in the store is the very one the
// writer goroutine may be sending at that moment — a publish made just
// after the connection came up, while resume() runs — and setting DUP on it
// is a data race (paho#703, open; #657). Copies make the flag resume() sets
// its own. The publish may then go out twice, which the contract allows:
// delivery is at least once, and subscribers deduplicate.
//
// The store is memory only, as before: durability is the outbox's job.
type copyingStore struct{ *mqtt.OrderedMemoryStore }

var _ mqtt.Store = copyingStore{}

func newCopyingStore() copyingStore { return copyingStore{mqtt.NewOrderedMemoryStore()} }

func copyPacket(m packets.ControlPacket) packets.ControlPacket {
	if p, ok := m.(*packets.PublishPacket); ok {
		c := *p
		return &c
	}
	return m
}

// Put stores a copy of a publish packet.
func (s copyingStore) Put(key string, m packets.ControlPacket) {
	s.OrderedMemoryStore.Put(key, copyPacket(m))
}

// Get returns a copy of a stored publish packet, so two resumes after two
// quick reconnections do not share one either.
func (s copyingStore) Get(key string) packets.ControlPacket {
	m := s.OrderedMemoryStore.Get(key)
	if m == nil {
		return nil
	}
	return copyPacket(m)
}
