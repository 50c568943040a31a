package config

import (
	"net"
	"net/url"
	"path/filepath"
	"strconv"
	"strings"
)

// redacted replaces a password, as net/url's URL.Redacted does.
const redacted = "xxxxx"

// span is a byte range [start, end) of a DSN that holds a secret.
type span struct{ start, end int }

// RedactDSN returns dsn with its passwords replaced by xxxxx, for postgres URLs and key=value DSNs and
// for go-sql-driver/mysql DSNs; anything else (such as a sqlite path) comes back unchanged.
//
// For a URL whose password contains an unescaped / ? or #, everything up to the last @ is hidden.
func RedactDSN(dsn string) string {
	spans := secretSpans(dsn)
	var b strings.Builder
	last := 0
	for _, sp := range spans {
		if sp.start < last || sp.end <= sp.start || sp.end > len(dsn) {
			continue
		}
		b.WriteString(dsn[last:sp.start])
		b.WriteString(redacted)
		last = sp.end
	}
	b.WriteString(dsn[last:])
	return b.String()
}

// secretSpans locates the passwords in dsn, in order, guessing its form from its shape.
func secretSpans(dsn string) []span {
	if i := strings.Index(dsn, "://"); i > 0 && isScheme(dsn[:i]) {
		return urlSpans(dsn, i+len("://"))
	}
	if pairs, _ := parseKV(dsn); len(pairs) > 0 && pairs[0].keyStart == skipSpace(dsn, 0) &&
		isVarName(dsn[pairs[0].keyStart:pairs[0].keyEnd]) {
		var out []span
		for _, p := range pairs {
			if isSecretKey(dsn[p.keyStart:p.keyEnd]) {
				out = append(out, span{p.valStart, p.valEnd})
			}
		}
		return out
	}
	return mysqlSpans(dsn)
}

// isScheme reports whether s is a URL scheme.
func isScheme(s string) bool {
	for i, c := range s {
		letter := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
		if !letter && (i == 0 || !(c >= '0' && c <= '9' || c == '+' || c == '-' || c == '.')) {
			return false
		}
	}
	return s != ""
}

// isSecretKey reports whether a DSN parameter holds a password.
func isSecretKey(k string) bool {
	k = strings.ToLower(k)
	return k == "password" || k == "sslpassword"
}

// urlSpans locates the password in a URL's user info (which starts at from) and in its query.
func urlSpans(dsn string, from int) []span {
	rest := dsn[from:]
	authEnd := strings.IndexAny(rest, "/?#")
	if authEnd < 0 {
		authEnd = len(rest)
	}
	auth := rest[:authEnd]
	userEnd := strings.LastIndexByte(auth, '@')
	if userEnd < 0 && hasBadPort(auth) {
		// Not a valid URL; most likely an unescaped / ? or # in the password, so hide up to the last @.
		userEnd = strings.LastIndexByte(rest, '@')
	}
	var out []span
	queryFrom := from
	if userEnd >= 0 {
		if c := strings.IndexByte(rest[:userEnd], ':'); c >= 0 {
			out = append(out, span{from + c + 1, from + userEnd})
		}
		queryFrom = from + userEnd + 1
	}
	if q := strings.IndexByte(dsn[queryFrom:], '?'); q >= 0 {
		out = append(out, querySpans(dsn, queryFrom+q+1)...)
	}
	return out
}

// hasBadPort reports whether a URL authority without user info ends in a colon and a non-numeric port.
func hasBadPort(auth string) bool {
	c := strings.LastIndexByte(auth, ':')
	if c < 0 {
		return false
	}
	_, err := strconv.ParseUint(auth[c+1:], 10, 16)
	return err != nil
}

// querySpans locates password values among the name=value&... parameters starting at from.
func querySpans(dsn string, from int) []span {
	var out []span
	end := strings.IndexByte(dsn[from:], '#')
	if end < 0 {
		end = len(dsn)
	} else {
		end += from
	}
	for i := from; i < end; {
		j := strings.IndexByte(dsn[i:end], '&')
		if j < 0 {
			j = end
		} else {
			j += i
		}
		if eq := strings.IndexByte(dsn[i:j], '='); eq >= 0 && isSecretKey(dsn[i:i+eq]) {
			out = append(out, span{i + eq + 1, j})
		}
		i = j + 1
	}
	return out
}

// mysqlSpans locates the password of a user:password@net(addr)/db DSN, parsed as go-sql-driver does:
// the last / ends the address, the last @ before it ends the user info, the first : splits it.
func mysqlSpans(dsn string) []span {
	end := strings.LastIndexByte(dsn, '/')
	if end < 0 {
		end = len(dsn)
	}
	at := strings.LastIndexByte(dsn[:end], '@')
	if at < 0 {
		return nil
	}
	c := strings.IndexByte(dsn[:at], ':')
	if c < 0 {
		return nil
	}
	return []span{{c + 1, at}}
}

// kvPair is one key=value of a libpq DSN, as byte ranges; a quoted value's range excludes the quotes.
type kvPair struct {
	keyStart, keyEnd int
	valStart, valEnd int
}

func isSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'
}

func skipSpace(s string, i int) int {
	for i < len(s) && isSpace(s[i]) {
		i++
	}
	return i
}

// parseKV splits a libpq key=value DSN; ok is false if some part is not key=value, and the pairs
// found so far are returned either way.
func parseKV(s string) (pairs []kvPair, ok bool) {
	ok = true
	for i := skipSpace(s, 0); i < len(s); i = skipSpace(s, i) {
		p := kvPair{keyStart: i}
		for i < len(s) && s[i] != '=' && !isSpace(s[i]) {
			i++
		}
		p.keyEnd = i
		i = skipSpace(s, i)
		if p.keyEnd == p.keyStart || i >= len(s) || s[i] != '=' {
			ok = false
			for i < len(s) && !isSpace(s[i]) {
				i++
			}
			continue
		}
		i = skipSpace(s, i+1)
		quoted := i < len(s) && s[i] == '\''
		if quoted {
			i++
		}
		p.valStart = i
		for i < len(s) && (quoted && s[i] != '\'' || !quoted && !isSpace(s[i])) {
			if s[i] == '\\' {
				i++
			}
			i++
		}
		i = min(i, len(s))
		p.valEnd = i
		if quoted {
			if i >= len(s) {
				ok = false // unterminated quote
			} else if i++; i < len(s) && !isSpace(s[i]) {
				ok = false
			}
		}
		pairs = append(pairs, p)
	}
	return pairs, ok
}

// checkDSN returns why dsn is not a valid DSN for driver, or ""; the reason never quotes the DSN.
func checkDSN(driver, dsn string) string {
	switch driver {
	case "postgres":
		return checkPostgres(dsn)
	case "mysql":
		return checkMySQL(dsn)
	case "sqlite":
		return checkSQLite(dsn)
	}
	return "" // an unknown driver is reported on its own key
}

func checkPostgres(dsn string) string {
	const want = "want postgres://user:password@host:5432/db?param=value or key=value pairs like host=h user=u dbname=db"
	if strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://") {
		u, err := url.Parse(dsn)
		if err != nil || strings.Contains(u.EscapedPath(), "@") {
			return "not a valid postgres URL: percent-encode @ : / ? # and spaces in the user name and password"
		}
		return ""
	}
	if strings.Contains(dsn, "://") {
		return "not a postgres DSN: a URL must start with postgres:// or postgresql://"
	}
	pairs, ok := parseKV(dsn)
	if !ok || len(pairs) == 0 {
		return "not a valid postgres DSN: " + want + " (quote values with spaces as 'a b')"
	}
	for _, p := range pairs {
		if !isVarName(dsn[p.keyStart:p.keyEnd]) {
			return "not a valid postgres DSN: a key is not a parameter name; " + want
		}
	}
	return ""
}

func checkMySQL(dsn string) string {
	const want = " (want user:password@tcp(host:3306)/dbname?param=value)"
	slash := strings.LastIndexByte(dsn, '/')
	if slash < 0 {
		return "not a valid mysql DSN: missing /dbname" + want
	}
	head, tail := dsn[:slash], dsn[slash+1:]
	at := strings.LastIndexByte(head, '@')
	if at < 0 {
		return "not a valid mysql DSN: missing user@" + want
	}
	if user, _, _ := strings.Cut(head[:at], ":"); user == "" {
		return "not a valid mysql DSN: missing user name" + want
	}
	if reason := checkMySQLAddr(head[at+1:]); reason != "" {
		return "not a valid mysql DSN: " + reason + want
	}
	if _, params, ok := strings.Cut(tail, "?"); ok {
		if _, err := url.ParseQuery(params); err != nil {
			return "not a valid mysql DSN: bad ?params, want name=value&name=value with values percent-encoded" + want
		}
	}
	return ""
}

// checkMySQLAddr checks the net(addr) part of a mysql DSN.
func checkMySQLAddr(netAddr string) string {
	proto, addr, ok := strings.Cut(netAddr, "(")
	if !ok || !strings.HasSuffix(addr, ")") {
		return "want a protocol and address like tcp(host:3306) or unix(/run/mysqld/mysqld.sock)"
	}
	addr = strings.TrimSuffix(addr, ")")
	switch proto {
	case "tcp", "tcp4", "tcp6":
		if addr == "" {
			return "tcp() needs host or host:port"
		}
		if strings.Contains(addr, ":") {
			if _, port, err := net.SplitHostPort(addr); err != nil || !isPort(port) {
				return "tcp(...) address must be host:port with a numeric port"
			}
		}
	case "unix":
		if addr == "" {
			return "unix() needs a socket path"
		}
	default:
		return "unknown protocol (allowed: tcp, tcp4, tcp6, unix)"
	}
	return ""
}

// isPort reports whether s is a TCP port number.
func isPort(s string) bool {
	_, err := strconv.ParseUint(s, 10, 16)
	return err == nil
}

func checkSQLite(dsn string) string {
	if strings.ContainsRune(dsn, 0) {
		return "not a valid sqlite DSN: contains a NUL byte"
	}
	rest, isURI := strings.CutPrefix(dsn, filePrefix)
	if !isURI {
		return ""
	}
	path, params, _ := strings.Cut(rest, "?")
	if path == "" {
		return "not a valid sqlite DSN: file: URI needs a path, like file:data.db?mode=ro"
	}
	if _, err := url.ParseQuery(params); err != nil {
		return "not a valid sqlite DSN: bad ?params, want name=value&name=value"
	}
	return ""
}

// sqlitePath anchors a relative sqlite database path (plain or file: URI) to dir, leaving
// absolute paths, in-memory names and everything after ? alone.
func sqlitePath(dsn, dir string) string {
	if dir == "" {
		return dsn
	}
	rest, isURI := strings.CutPrefix(dsn, filePrefix)
	path, params, hasParams := strings.Cut(rest, "?")
	if path == "" || path[0] == ':' || path[0] == '/' || filepath.IsAbs(path) {
		return dsn
	}
	out := filepath.Join(dir, path)
	if isURI {
		out = filePrefix + filepath.ToSlash(out)
	}
	if hasParams {
		out += "?" + params
	}
	return out
}
