package store

import (
	"fmt"
	"iter"

	bolt "go.etcd.io/bbolt"
)

// Outbox is a durable first-in, first-out queue of messages waiting for a
// peer's acknowledgement: the agent's MQTT reports wait here until the
// broker has them, because paho's own file store does not fsync. Put and Ack
// are each one fsync'd transaction.
type Outbox struct{ s *Store }

// Outbound is one queued message.
type Outbound struct {
	// Seq numbers messages in the order they were put. It grows across
	// restarts and is never reused, so it can serve as an idempotency key.
	Seq     uint64
	Topic   string
	Payload []byte
}

// pendingBatch is how many messages Pending reads per transaction.
const pendingBatch = 64

// Outbox returns the store's outbox.
func (s *Store) Outbox() *Outbox { return &Outbox{s} }

// Put appends a message and returns its sequence number once it is durable.
// It fails with ErrOutboxFull when Options.OutboxLimit messages wait.
func (o *Outbox) Put(topic string, payload []byte) (uint64, error) {
	s := o.s
	s.wmu.Lock()
	defer s.wmu.Unlock()
	if s.outboxLen >= s.opts.OutboxLimit {
		return 0, fmt.Errorf("%w: %d messages wait", ErrOutboxFull, s.outboxLen)
	}
	var seq uint64
	err := s.update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketOutbox)
		var err error
		if seq, err = b.NextSequence(); err != nil {
			return err
		}
		k := u64Key(seq)
		return b.Put(k, seal(bucketOutbox, k, encodeOutbound(topic, payload)))
	})
	if err != nil {
		return 0, err
	}
	s.outboxLen++
	return seq, nil
}

// Ack removes the messages with the given sequence numbers, in one
// transaction. Unknown or already acknowledged numbers are ignored, so a
// repeated acknowledgement after a restart is harmless.
func (o *Outbox) Ack(seqs ...uint64) error {
	if len(seqs) == 0 {
		return o.s.usable()
	}
	s := o.s
	s.wmu.Lock()
	defer s.wmu.Unlock()
	removed := 0
	err := s.update(func(tx *bolt.Tx) error {
		removed = 0
		b := tx.Bucket(bucketOutbox)
		for _, seq := range seqs {
			k := u64Key(seq)
			if b.Get(k) == nil {
				continue
			}
			if err := b.Delete(k); err != nil {
				return err
			}
			removed++
		}
		return nil
	})
	if err != nil {
		return err
	}
	s.outboxLen -= removed
	return nil
}

// Len is how many messages wait.
func (o *Outbox) Len() int {
	o.s.wmu.Lock()
	defer o.s.wmu.Unlock()
	return o.s.outboxLen
}

// Pending yields the waiting messages, oldest first, including any put while
// the loop runs. It reads them in small batches, each in its own
// transaction, and holds none while the loop body runs, so the body may Put
// and Ack. An error ends the sequence.
func (o *Outbox) Pending() iter.Seq2[Outbound, error] {
	return func(yield func(Outbound, error) bool) {
		next := uint64(0)
		for {
			batch, err := o.batch(next)
			if err != nil {
				yield(Outbound{}, err)
				return
			}
			if len(batch) == 0 {
				return
			}
			for _, m := range batch {
				if !yield(m, nil) {
					return
				}
			}
			next = batch[len(batch)-1].Seq + 1
		}
	}
}

// batch reads up to pendingBatch messages from sequence number from on.
func (o *Outbox) batch(from uint64) ([]Outbound, error) {
	var out []Outbound
	err := o.s.view(func(tx *bolt.Tx) error {
		c := tx.Bucket(bucketOutbox).Cursor()
		for k, v := c.Seek(u64Key(from)); k != nil && len(out) < pendingBatch; k, v = c.Next() {
			seq, err := keyU64(k)
			if err != nil {
				return err
			}
			p, err := unseal(bucketOutbox, k, v)
			if err != nil {
				return err
			}
			m, err := decodeOutbound(seq, p)
			if err != nil {
				return err
			}
			out = append(out, m)
		}
		return nil
	})
	return out, err
}
