// Package store is a pact node's durable state: one bbolt file in the
// agent's data directory, fsync'd on every commit.
//
// # What it owns
//
//   - The double-sign guard (consensus.SignState): the last proposal or vote
//     this node signed and the lock it held. A message may leave the node
//     only after the guard it was signed under is durable here.
//   - The decided log: every decided block with its commit certificate,
//     stored in consensus's own wire encoding, kept for Options.KeepHeights
//     heights to serve peers that are catching up (Store implements
//     consensus.CommitLog).
//   - The agreed state: one opaque snapshot of the application (validators,
//     capability documents, assignment history) at a decided height. The
//     snapshot plus the commits after it are how the agent rebuilds its
//     state after a restart.
//   - The outbox: messages waiting for the MQTT broker's acknowledgement.
//   - The file's owner: the cluster and node names it was created for, and
//     its schema version.
//
// # How the agent uses it
//
// Open once at start, with the cluster and node names; after any error the
// node must not sign, and ErrCorrupt calls for the operator. Restore the
// consensus node from Guard, LastHeight and Snapshot. Then, for every
// consensus Ready:
//
//	if err := st.SaveReady(rd.SignState, rd.Decided, snap); err != nil {
//		// refuse to sign, alert; do not send rd.Messages
//	}
//	send rd.Messages, then node.Advance()
//
// SaveReady is one transaction: guard, commits and snapshot are all on disk
// after a crash, or none of them is, so a node killed at any moment restarts
// at LastHeight()+1 with Guard() and catches up from there. It never comes
// back having sent a message its guard does not cover.
//
// # What it must never do
//
//   - Start fresh. A file that is missing when it must exist
//     (Options.MustExist), empty, truncated, not bbolt, structurally damaged,
//     or holds a value whose CRC-32C does not match is ErrCorrupt, naming
//     the path. Open does not repair, replace or ignore it: the node refuses
//     to sign and the operator decides. A store that has read corruption once
//     refuses all further work (Store.Err) until it is reopened.
//   - Hand bbolt a file it has not checked. bbolt trusts its pages and
//     panics, faults or loops on damaged ones; Open takes the file's lock,
//     walks every page itself with bounded reads (pages.go), and only then
//     lets bbolt map it. Panics and faults that still reach bbolt are
//     turned into ErrCorrupt.
//   - Delete or move back the guard. It is written ("never signed") when
//     the file is created, so a missing guard reads as ErrCorrupt, never as
//     a fresh node. No method deletes it; SaveGuard and SaveReady refuse one
//     that is earlier than the stored one (ErrRefused).
//   - Report a write as done before it is durable. Every method that writes
//     returns after bbolt's fsync'd commit; a commit that fails makes the
//     store unusable, since after a failed fsync only a reopen tells what the
//     disk holds.
//   - Interpret the snapshot or the outbox's payloads: they are the
//     application's.
//
// # Limits
//
// Killing the process (SIGKILL) at any moment is tested (crash_test.go). A
// power cut rests on bbolt's fdatasync on every commit and the directory
// fsync at creation; powercut_test.go replays what it can leave on the disk
// (any part of an unsynced commit's pages, torn or whole, and its meta page
// only after them) and checks that the file opens at the write before or
// the write in flight, never earlier. It trusts the disk to honour fsync,
// which cheap SD cards may not.
//
// bbolt keeps two meta pages and falls back to the older one when the newer
// fails its checksum. That is right for a meta page torn by a power cut
// during a commit that never returned, but it also means a meta page damaged
// after its commit returned rolls the file back by one transaction without
// an error. The store cannot tell the two apart.
package store
