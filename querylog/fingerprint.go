package querylog

import (
	"crypto/md5"
	"encoding/hex"
	"regexp"
	"strings"
)

// Fingerprint and QueryID follow pt-query-digest 3 (Percona Toolkit's QueryRewriter::fingerprint
// and make_checksum) step by step, so that a DBA finds the same query ID in viewgate's digest and
// in pt-query-digest's report of the same slow log. The algorithm is fixed by that tool, not by
// viewgate, which is what keeps IDs stable across restarts and releases. It is MySQL-minded: on
// Postgres it turns "quoted" identifiers into ?, as pt-query-digest does.

var (
	ptMysqldump = regexp.MustCompile("^SELECT /\\*!40001 SQL_NO_CACHE \\*/ \\* FROM `")
	ptToolkit   = regexp.MustCompile(`/\*\w+\.\w+:[0-9]/[0-9]\*/`)
	ptCall      = regexp.MustCompile(`(?i)^\s*(call\s+\S+)\(`)
	ptInsert    = regexp.MustCompile(`(?is)^((?:INSERT|REPLACE)(?: IGNORE)?\s+INTO.+?VALUES\s*\(.*?\))\s*,\s*\(`)
	ptMLC       = regexp.MustCompile(`(?s)/\*[^!].*?\*/`)
	ptUse       = regexp.MustCompile(`(?i)^use \S+\n?$`)
	ptEscQuote  = regexp.MustCompile(`\\["']`)
	ptDQuoted   = regexp.MustCompile(`(?s)".*?"`)
	ptSQuoted   = regexp.MustCompile(`(?s)'.*?'`)
	ptBool      = regexp.MustCompile(`(?i)\bfalse\b|\btrue\b`)
	ptNumber    = regexp.MustCompile(`[0-9+-][0-9a-f.xb+-]*`)
	ptNumTail   = regexp.MustCompile(`[xb.+-]\?`)
	ptLead      = regexp.MustCompile(`^\s+`)
	ptNull      = regexp.MustCompile(`\bnull\b`)
	ptList      = regexp.MustCompile(`\b(in|values?)(?:[\s,]*\([\s?,]*\))+`)
	ptLimit     = regexp.MustCompile(`\blimit \?(?:, ?\?| offset \?)?`)
	ptOrderBy   = regexp.MustCompile(`\border by `)
	ptSelect    = regexp.MustCompile(`\bselect\s`)
)

// QueryID returns pt-query-digest's query ID of sql: "0x" and the upper-case MD5 of its
// Fingerprint, as the profile of pt-query-digest 3 prints it.
func QueryID(sql string) string {
	sum := md5.Sum([]byte(Fingerprint(sql)))
	return "0x" + strings.ToUpper(hex.EncodeToString(sum[:]))
}

// Fingerprint returns pt-query-digest's fingerprint of sql as the slow log holds it (on one
// line, see slowSQL): comments dropped, literals and numbers (also those inside identifiers)
// replaced by ?, lower case, IN and VALUES lists folded to (?+), LIMIT and ASC simplified.
func Fingerprint(sql string) string {
	q := slowSQL(sql)
	switch {
	case ptMysqldump.MatchString(q):
		return "mysqldump"
	case ptToolkit.MatchString(q):
		return "percona-toolkit"
	case strings.HasPrefix(q, "administrator command: "):
		return q
	}
	if m := ptCall.FindStringSubmatch(q); m != nil {
		return asciiLower(m[1])
	}
	if m := ptInsert.FindStringSubmatch(q); m != nil {
		q = m[1]
	}
	q = ptMLC.ReplaceAllString(q, "")
	q = dropLineComments(q)
	if ptUse.MatchString(q) {
		return ptUse.ReplaceAllString(q, "use ?")
	}
	q = ptEscQuote.ReplaceAllString(q, "")
	q = ptDQuoted.ReplaceAllString(q, "?")
	q = ptSQuoted.ReplaceAllString(q, "?")
	q = ptBool.ReplaceAllString(q, "?")
	q = ptNumber.ReplaceAllString(q, "?")
	q = ptNumTail.ReplaceAllString(q, "?")
	q = ptLead.ReplaceAllString(q, "")
	q = strings.TrimSuffix(q, "\n") // Perl's chomp
	q = squeezeSpace(q)
	q = asciiLower(q)
	q = ptNull.ReplaceAllString(q, "?")
	q = ptList.ReplaceAllString(q, "${1}(?+)")
	q = collapseUnion(q)
	if loc := ptLimit.FindStringIndex(q); loc != nil { // the first only, as in Perl without /g
		q = q[:loc[0]] + "limit ?" + q[loc[1]:]
	}
	return dropASC(q)
}

// dropLineComments removes "--" and "#" comments that run to the end of a line without a
// quote: Perl's s/(?:--|#)[^'"\r\n]*(?=[\r\n]|\Z)//g, whose lookahead RE2 lacks.
func dropLineComments(q string) string {
	var b strings.Builder
	for i := 0; i < len(q); {
		n := 0
		if strings.HasPrefix(q[i:], "--") {
			n = 2
		} else if q[i] == '#' {
			n = 1
		}
		if n > 0 {
			k := i + n
			for k < len(q) && !strings.ContainsRune("'\"\r\n", rune(q[k])) {
				k++
			}
			if k == len(q) || q[k] == '\r' || q[k] == '\n' {
				i = k
				continue
			}
		}
		b.WriteByte(q[i])
		i++
	}
	return b.String()
}

// squeezeSpace is Perl's tr[ \n\t\r\f][ ]s: every run of those bytes becomes one space.
func squeezeSpace(q string) string {
	var b strings.Builder
	b.Grow(len(q))
	space := false
	for i := 0; i < len(q); i++ {
		switch c := q[i]; c {
		case ' ', '\n', '\t', '\r', '\f':
			if !space {
				b.WriteByte(' ')
			}
			space = true
		default:
			b.WriteByte(c)
			space = false
		}
	}
	return b.String()
}

// asciiLower is Perl's lc on a byte string: only A-Z change.
func asciiLower(s string) string {
	b := []byte(s)
	for i, c := range b {
		if 'A' <= c && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return string(b)
}

// collapseUnion is s/\b(select\s.*?)(?:(\sunion(?:\sall)?)\s\1)+/$1 \/*repeat$2*\//g: a SELECT
// repeated through UNION [ALL] is kept once. RE2 has no back references, so it is done by hand.
func collapseUnion(q string) string {
	if !strings.Contains(q, "union") {
		return q
	}
	var b strings.Builder
	i := 0
	for i < len(q) {
		loc := ptSelect.FindStringIndex(q[i:])
		if loc == nil {
			break
		}
		start := i + loc[0]
		end, repl, ok := unionAt(q, start)
		if !ok {
			b.WriteString(q[i : start+1])
			i = start + 1
			continue
		}
		b.WriteString(q[i:start])
		b.WriteString(repl)
		i = end
	}
	b.WriteString(q[i:])
	return b.String()
}

// unionAt tries the UNION pattern at start: the shortest "select\s.*?" that is followed by at
// least one "\sunion[\sall]\s" and itself again.
func unionAt(q string, start int) (end int, repl string, ok bool) {
	for e := start + 7; e <= len(q); e++ {
		if e > start+7 && q[e-1] == '\n' {
			break // . does not match a newline
		}
		body := q[start:e]
		pos, last := e, ""
		for {
			u := unionSep(q, pos)
			if u == "" || !strings.HasPrefix(q[pos+len(u)+1:], body) {
				break
			}
			last = u
			pos += len(u) + 1 + len(body)
		}
		if last != "" {
			return pos, body + " /*repeat" + last + "*/", true
		}
	}
	return 0, "", false
}

// unionSep returns "\sunion" or "\sunion\sall" at i when a blank follows it, else "".
func unionSep(q string, i int) string {
	isSpace := func(j int) bool { return j < len(q) && strings.IndexByte(" \t\n\r\f", q[j]) >= 0 }
	if !isSpace(i) || !strings.HasPrefix(q[i+1:], "union") {
		return ""
	}
	n := i + 6
	if isSpace(n) && strings.HasPrefix(q[n+1:], "all") && isSpace(n+4) {
		return q[i : n+4]
	}
	if isSpace(n) {
		return q[i:n]
	}
	return ""
}

// dropASC is pt's ASC removal after the first ORDER BY: from there, each shortest run followed
// by blanks and "asc" loses the blanks and the "asc" (without a word boundary, as in pt).
func dropASC(q string) string {
	loc := ptOrderBy.FindStringIndex(q)
	if loc == nil {
		return q
	}
	p := loc[1]
	for {
		k, m := -1, 0
		for j := p + 1; j < len(q); j++ {
			if q[j] != ' ' && q[j] != '\t' && q[j] != '\r' && q[j] != '\f' && q[j] != '\v' {
				continue
			}
			m = j
			for m < len(q) && strings.IndexByte(" \t\r\f\v\n", q[m]) >= 0 {
				m++
			}
			if strings.HasPrefix(q[m:], "asc") {
				k = j
				break
			}
		}
		if k < 0 {
			return q
		}
		q = q[:k] + q[m+3:]
		p = k
	}
}
