// Package testbroker starts a mosquitto of a test's own: the real broker the
// fleet runs, so that tests check what it does with retained messages,
// wills, QoS 1 bursts and restarts rather than what a fake would do.
//
// By default the broker runs the shipped configs/mosquitto.conf (its queue
// limits and persistence) with only the listener, the files and the logging
// replaced, so that the tests cannot drift from what operators install. It
// listens on a free port of 127.0.0.1 unless Options say otherwise, keeps its
// port when it is stopped and started again, and is stopped when the test
// ends; the end of its log goes to the test's output when the test failed.
//
// It is meant for tests only: Start takes a testing.TB, fails the test on
// any error, and skips it when mosquitto is not installed
// (scripts/need-mosquitto.sh installs it). A Broker belongs to the test's
// goroutine and is not safe for concurrent use.
//
//	b := testbroker.Start(t, testbroker.Options{})
//	client := dial(b.URL())
//	b.Stop()  // SIGTERM: the broker saves its persistence file
//	b.Start() // back on the same port
package testbroker
