package auth

import "errors"

// Errors of authentication; each means 401. Their messages are what a caller sees (in the body
// and in WWW-Authenticate's error_description), so they never contain the credential.
var (
	ErrNoCredentials  = errors.New("no credentials: send an API key in the X-API-Key header or a bearer token in Authorization")
	ErrUnknownKey     = errors.New("unknown API key")
	ErrKeyExpired     = errors.New("the API key has expired")
	ErrKeyRevoked     = errors.New("the API key has been revoked")
	ErrMalformed      = errors.New("the bearer token is malformed")
	ErrAlgorithm      = errors.New("the token's signing algorithm is not allowed")
	ErrUnknownKeyID   = errors.New("the token is signed with a key the issuer does not publish")
	ErrBadSignature   = errors.New("the token's signature is invalid")
	ErrExpired        = errors.New("the token has expired")
	ErrNotYetValid    = errors.New("the token is not valid yet")
	ErrWrongIssuer    = errors.New("the token is from an issuer this server does not trust")
	ErrWrongAudience  = errors.New("the token is not meant for this server (audience)")
	ErrIDToken        = errors.New("an ID token is not an access token: send an access token")
	ErrJWTDisabled    = errors.New("bearer JWTs are not accepted by this server")
	ErrMissingClaims  = errors.New("the token lacks a required claim (exp, iss or aud)")
	ErrBadHeader      = errors.New("unreadable credential: send Authorization: Bearer <token> or a non-empty X-API-Key")
	ErrTwoCredentials = errors.New("more than one credential: send either X-API-Key or Authorization, once")
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
