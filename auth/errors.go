package auth

import (
	"errors"

	"github.com/viewgate/viewgate/fault"
)

// Errors of authentication; each means 401. Their messages are what a caller sees (in the body
// and in WWW-Authenticate's error_description), so they never contain the credential.
var (
	ErrNoCredentials  = fault.New(fault.Unauthenticated, "no credentials: send an API key in the X-API-Key header or a bearer token in Authorization")
	ErrUnknownKey     = fault.New(fault.Unauthenticated, "unknown API key")
	ErrKeyExpired     = fault.New(fault.Unauthenticated, "the API key has expired")
	ErrKeyRevoked     = fault.New(fault.Unauthenticated, "the API key has been revoked")
	ErrMalformed      = fault.New(fault.Unauthenticated, "the bearer token is malformed")
	ErrAlgorithm      = fault.New(fault.Unauthenticated, "the token's signing algorithm is not allowed")
	ErrUnknownKeyID   = fault.New(fault.Unauthenticated, "the token is signed with a key the issuer does not publish")
	ErrBadSignature   = fault.New(fault.Unauthenticated, "the token's signature is invalid")
	ErrExpired        = fault.New(fault.Unauthenticated, "the token has expired")
	ErrNotYetValid    = fault.New(fault.Unauthenticated, "the token is not valid yet")
	ErrWrongIssuer    = fault.New(fault.Unauthenticated, "the token is from an issuer this server does not trust")
	ErrWrongAudience  = fault.New(fault.Unauthenticated, "the token is not meant for this server (audience)")
	ErrIDToken        = fault.New(fault.Unauthenticated, "an ID token is not an access token: send an access token")
	ErrJWTDisabled    = fault.New(fault.Unauthenticated, "bearer JWTs are not accepted by this server")
	ErrMissingClaims  = fault.New(fault.Unauthenticated, "the token lacks a required claim (exp, iss or aud)")
	ErrBadHeader      = fault.New(fault.Unauthenticated, "unreadable credential: send Authorization: Bearer <token> or a non-empty X-API-Key")
	ErrTwoCredentials = fault.New(fault.Unauthenticated, "more than one credential: send either X-API-Key or Authorization, once")
)

// Unauthenticated lists every error that means 401, for the server's error table.
var Unauthenticated = []error{
	ErrNoCredentials, ErrUnknownKey, ErrKeyExpired, ErrKeyRevoked, ErrMalformed, ErrAlgorithm,
	ErrUnknownKeyID, ErrBadSignature, ErrExpired, ErrNotYetValid, ErrWrongIssuer, ErrWrongAudience,
	ErrIDToken, ErrJWTDisabled, ErrMissingClaims, ErrBadHeader, ErrTwoCredentials,
}

// reasons name each 401 for logs and metrics.
var reasons = map[error]string{
	ErrNoCredentials: "no_credentials", ErrUnknownKey: "unknown_key", ErrKeyExpired: "key_expired",
	ErrKeyRevoked: "key_revoked", ErrMalformed: "malformed", ErrAlgorithm: "algorithm",
	ErrUnknownKeyID: "unknown_kid", ErrBadSignature: "bad_signature", ErrExpired: "expired",
	ErrNotYetValid: "not_yet_valid", ErrWrongIssuer: "wrong_issuer", ErrWrongAudience: "wrong_audience",
	ErrIDToken: "id_token", ErrJWTDisabled: "jwt_disabled",
	ErrMissingClaims: "missing_claims", ErrBadHeader: "bad_header", ErrTwoCredentials: "two_credentials",
}

// Reason returns a short, stable name of an authentication error ("expired", "unknown_key"…), or
// "other" for an error that is not one of this package's.
func Reason(err error) string {
	for _, e := range Unauthenticated {
		if errors.Is(err, e) {
			return reasons[e]
		}
	}
	return "other"
}

// Description returns the caller-safe sentence for an authentication error: the sentinel's own
// message, without any wrapped detail.
func Description(err error) string {
	for _, e := range Unauthenticated {
		if errors.Is(err, e) {
			return e.Error()
		}
	}
	return "authentication failed"
}
