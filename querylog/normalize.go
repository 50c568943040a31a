package querylog

import (
	"crypto/sha256"
	"encoding/hex"
	"regexp"
	"strings"
)

// inList matches an IN list of placeholders once literals have become "?".
var inList = regexp.MustCompile(`(?i)\b(in)\s*\(\s*\?(?:\s*,\s*\?)*\s*\)`)

// Fingerprint returns 16 hex characters of the SHA-256 of Normalize(sql), so
// statements of the same shape share a fingerprint.
func Fingerprint(sql string) string {
	sum := sha256.Sum256([]byte(Normalize(sql)))
	return hex.EncodeToString(sum[:8])
}

// Normalize returns sql with comments dropped, literals and $n parameters replaced by
// "?", IN lists folded to "IN (?+)" and whitespace collapsed; quoted identifiers
// ("x", `x`) and keyword case are kept.
func Normalize(sql string) string {
	var b strings.Builder
	b.Grow(len(sql))
	space := false
	for i := 0; i < len(sql); {
		if next, ok := skipBlank(sql, i); ok {
			i, space = next, true
			continue
		}
		if space && b.Len() > 0 {
			b.WriteByte(' ')
		}
		space = false
		i = copyToken(&b, sql, i)
	}
	return inList.ReplaceAllString(b.String(), "${1} (?+)")
}

// skipBlank skips whitespace or one comment at i.
func skipBlank(s string, i int) (int, bool) {
	switch {
	case isSpace(s[i]):
		for i < len(s) && isSpace(s[i]) {
			i++
		}
		return i, true
	case strings.HasPrefix(s[i:], "--"): // not '#': it is an operator in Postgres
		if end := strings.IndexByte(s[i:], '\n'); end >= 0 {
			return i + end + 1, true
		}
		return len(s), true
	case strings.HasPrefix(s[i:], "/*"):
		if end := strings.Index(s[i+2:], "*/"); end >= 0 {
			return i + 2 + end + 2, true
		}
		return len(s), true
	}
	return i, false
}

// copyToken writes the token at i, or "?" for a literal, and returns its end.
func copyToken(b *strings.Builder, s string, i int) int {
	c := s[i]
	switch {
	case c == '\'':
		b.WriteByte('?')
		return skipQuoted(s, i, '\'')
	case c == '"' || c == '`':
		end := skipQuoted(s, i, c)
		b.WriteString(s[i:end])
		return end
	case c == '$' && i+1 < len(s) && isDigit(s[i+1]):
		b.WriteByte('?')
		return skipWhile(s, i+1, isDigit)
	case isDigit(c) || c == '.' && i+1 < len(s) && isDigit(s[i+1]):
		b.WriteByte('?')
		return skipNumber(s, i)
	case isWord(c):
		end := skipWhile(s, i, isWord)
		if end-i == 1 && end < len(s) && s[end] == '\'' && strings.ContainsRune("EeNnXxBb", rune(c)) {
			b.WriteByte('?') // E'..', N'..', X'..', B'..' literals
			return skipQuoted(s, end, '\'')
		}
		b.WriteString(s[i:end])
		return end
	}
	b.WriteByte(c)
	return i + 1
}

// skipQuoted returns the index after the quoted run starting at i; a doubled quote
// or a backslash escapes the quote.
func skipQuoted(s string, i int, q byte) int {
	for j := i + 1; j < len(s); j++ {
		switch {
		case s[j] == '\\' && q == '\'':
			j++
		case s[j] == q && j+1 < len(s) && s[j+1] == q:
			j++
		case s[j] == q:
			return j + 1
		}
	}
	return len(s)
}

// skipNumber skips a decimal, exponent or 0x hex literal.
func skipNumber(s string, i int) int {
	if strings.HasPrefix(s[i:], "0x") || strings.HasPrefix(s[i:], "0X") {
		return skipWhile(s, i+2, isWord)
	}
	i = skipWhile(s, i, func(c byte) bool { return isDigit(c) || c == '.' })
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		j := i + 1
		if j < len(s) && (s[j] == '+' || s[j] == '-') {
			j++
		}
		if j < len(s) && isDigit(s[j]) {
			i = skipWhile(s, j, isDigit)
		}
	}
	return i
}

func skipWhile(s string, i int, ok func(byte) bool) int {
	for i < len(s) && ok(s[i]) {
		i++
	}
	return i
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' }
func isDigit(c byte) bool { return c >= '0' && c <= '9' }

// isWord reports identifier bytes; bytes >= 0x80 keep UTF-8 identifiers whole.
func isWord(c byte) bool {
	return c == '_' || c == '$' || isDigit(c) || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= 0x80
}
