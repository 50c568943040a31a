package server

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/viewgate/viewgate/auth"
)

// AdminRole is the role admin routes require unless AdminOptions.Role says otherwise.
const AdminRole = "admin"

// AdminOptions configures the admin routes.
type AdminOptions struct {
	Auth       Authenticator
	Role       string                             // required role; "" = AdminRole
	ReloadKeys func(context.Context) (int, error) // reloads the keys file; returns the number of keys
	Failures   *auth.FailureLog                   // nil: a default rate-limited log on Log
	Observer   Observer                           // counts authentication failures; nil: none
	Details    func() any                         // the replicas' full state for GET /admin/replicas; nil: no route
	Log        *slog.Logger
}

// Admin returns the admin routes under /admin/: POST /admin/keys/reload reloads the keys file,
// GET /admin/replicas shows every replica's state, reason and counters (what /readyz hides).
// Every route answers 401 without a valid credential and 403 without the admin role.
func Admin(o AdminOptions) http.Handler {
	if o.Role == "" {
		o.Role = AdminRole
	}
	if o.Failures == nil {
		o.Failures = defaultFailures(o.Log)
	}
	gh := &graphqlHandler{o: GraphQLOptions{Log: o.Log, Failures: o.Failures, Observer: o.Observer}}
	mux := http.NewServeMux()
	mux.HandleFunc("/admin/keys/reload", func(w http.ResponseWriter, r *http.Request) {
		if _, ok := gh.admit(w, r, o.Auth, o.Role); !ok {
			return
		}
		if r.Method != http.MethodPost {
			w.Header().Set("Allow", "POST")
			gh.write(w, r, http.StatusMethodNotAllowed, response{Errors: []errorEntry{gh.entry(r.Context(), fmt.Errorf("%w: use POST", errMethod), classify(errMethod))}})
			return
		}
		if o.ReloadKeys == nil {
			gh.fail(w, r, fmt.Errorf("%w: no keys file is configured", errBadRequest))
			return
		}
		n, err := o.ReloadKeys(r.Context())
		if err != nil {
			o.Log.ErrorContext(r.Context(), "keys file reload failed", "error", err.Error())
			gh.fail(w, r, err)
			return
		}
		o.Log.InfoContext(r.Context(), "keys file reloaded by admin", "keys", n)
		data, _ := json.Marshal(map[string]any{"reloaded": true, "keys": n})
		gh.write(w, r, http.StatusOK, response{Data: [][]byte{data}})
	})
	mux.HandleFunc("/admin/replicas", func(w http.ResponseWriter, r *http.Request) {
		if _, ok := gh.admit(w, r, o.Auth, o.Role); !ok {
			return
		}
		if o.Details == nil {
			gh.fail(w, r, fmt.Errorf("%w: no source reports replicas", errBadRequest))
			return
		}
		writeStatus(w, http.StatusOK, map[string]any{"sources": o.Details()})
	})
	return mux
}

// admit authenticates the request and checks role ("" = any role); it answers 401 or 403 itself
// and reports false when it did.
func (h *graphqlHandler) admit(w http.ResponseWriter, r *http.Request, a Authenticator, role string) (*auth.Principal, bool) {
	ctx := r.Context()
	q, ip := h.o.Quota, clientIP(r)
	if q != nil {
		if blocked, _ := q.AuthBlocked(ctx, ip); blocked != nil {
			SetLogAttrs(ctx, slog.String("authFailure", "client_blocked"))
			h.fail(w, r, blocked)
			return nil, false
		}
	}
	who, err := a.Authenticate(r)
	if err != nil {
		if q != nil {
			q.AuthFailed(ctx, ip)
		}
		h.unauthenticated(w, r, err)
		return nil, false
	}
	SetLogAttrs(ctx, slog.String("tenant", who.Tenant), slog.String("credential", who.CredentialID))
	if role != "" && !who.HasRole(role) {
		h.fail(w, r, errNotAdmin)
		return nil, false
	}
	return who, true
}

// unauthenticated answers 401 with an RFC 6750 challenge: no error attribute when the request
// had no credential, else error="invalid_token" and the failure's caller-safe description.
func (h *graphqlHandler) unauthenticated(w http.ResponseWriter, r *http.Request, err error) {
	SetLogAttrs(r.Context(), slog.String("authFailure", auth.Reason(err)))
	if h.o.Observer != nil {
		h.o.Observer.AuthFailure(auth.Reason(err))
	}
	h.o.Failures.Failed(r.Context(), err, r.RemoteAddr)
	w.Header().Set("WWW-Authenticate", Challenge(err))
	h.fail(w, r, err)
}

// Challenge returns the WWW-Authenticate value for an authentication error.
func Challenge(err error) string {
	if auth.Reason(err) == "no_credentials" {
		return `Bearer realm="viewgate"`
	}
	desc := strings.NewReplacer(`"`, "'", `\`, "/").Replace(auth.Description(err))
	return `Bearer realm="viewgate", error="invalid_token", error_description="` + desc + `"`
}

// defaultFailures is the failure log used when none is injected: 10 lines at once per reason,
// then one per second.
func defaultFailures(log *slog.Logger) *auth.FailureLog {
	return auth.NewFailureLog(log, 10, time.Second, nil)
}
