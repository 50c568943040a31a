package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"
)

type hangupKey struct{}

// notifyHangups returns a channel that receives SIGHUP, for main to pass to run.
func notifyHangups() <-chan os.Signal {
	ch := make(chan os.Signal, 1)
	signal.Notify(ch, syscall.SIGHUP)
	return ch
}

// withHangups returns ctx carrying the hangup signals serve reopens the log files on; main
// passes SIGHUP, tests their own channel.
func withHangups(ctx context.Context, ch <-chan os.Signal) context.Context {
	return context.WithValue(ctx, hangupKey{}, ch)
}

// hangups returns the hangup channel of ctx, or nil.
func hangups(ctx context.Context) <-chan os.Signal {
	ch, _ := ctx.Value(hangupKey{}).(<-chan os.Signal)
	return ch
}
