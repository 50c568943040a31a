package requestid

import (
	"context"
	"log/slog"
	"slices"
)

// Key is the attribute name under which Handler logs the id.
const Key = "requestId"

// TraceKey is the attribute name under which Handler logs the W3C trace id, beside the request id.
const TraceKey = "traceId"

// Handler is a slog.Handler that adds a top-level requestId attribute to every record whose
// context carries an id, unless the record already has one; use it as Handler{Handler: h}.
type Handler struct {
	slog.Handler

	// Once WithGroup has been called, attributes added to a record land inside the group,
	// so Handle rebuilds the chain from the handler as it was before the first group.
	beforeGroups slog.Handler
	steps        []step
}

// step is one WithGroup or WithAttrs call made after the first group was opened.
type step struct {
	group string
	attrs []slog.Attr
}

// Handle passes r to the wrapped handler, with the context's request id added.
func (h Handler) Handle(ctx context.Context, r slog.Record) error {
	id := From(ctx)
	if id == "" || hasKey(r) {
		return h.Handler.Handle(ctx, r)
	}
	attrs := []slog.Attr{slog.String(Key, id)}
	if trace := TraceFrom(ctx); trace != "" {
		attrs = append(attrs, slog.String(TraceKey, trace))
	}
	if h.beforeGroups == nil {
		r = r.Clone()
		r.AddAttrs(attrs...)
		return h.Handler.Handle(ctx, r)
	}
	next := h.beforeGroups.WithAttrs(attrs)
	for _, s := range h.steps {
		if s.group != "" {
			next = next.WithGroup(s.group)
		} else {
			next = next.WithAttrs(s.attrs)
		}
	}
	return next.Handle(ctx, r)
}

// hasKey reports whether the record itself already carries a top-level requestId.
func hasKey(r slog.Record) bool {
	found := false
	r.Attrs(func(a slog.Attr) bool {
		found = a.Key == Key
		return !found
	})
	return found
}

// WithAttrs returns a Handler whose wrapped handler has attrs added.
func (h Handler) WithAttrs(attrs []slog.Attr) slog.Handler {
	if len(attrs) == 0 {
		return h
	}
	out := Handler{Handler: h.Handler.WithAttrs(attrs), beforeGroups: h.beforeGroups}
	if h.beforeGroups != nil {
		out.steps = append(slices.Clip(h.steps), step{attrs: attrs})
	}
	return out
}

// WithGroup returns a Handler whose wrapped handler opens group name, leaving requestId at the top level.
func (h Handler) WithGroup(name string) slog.Handler {
	if name == "" {
		return h
	}
	before := h.beforeGroups
	if before == nil {
		before = h.Handler
	}
	return Handler{
		Handler:      h.Handler.WithGroup(name),
		beforeGroups: before,
		steps:        append(slices.Clip(h.steps), step{group: name}),
	}
}
