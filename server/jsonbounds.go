package server

import "fmt"

// Bounds on a request's JSON (its variables, mostly), checked on the raw bytes before decoding.
const (
	maxVariableDepth  = 32    // nesting of arrays and objects in variables; filters nest 8 deep at most
	maxVariableValues = 20000 // values in the whole body (an upper bound: separators and containers count)
)

// checkJSON refuses JSON nested deeper than maxDepth or holding more than maxVariableValues
// values, whatever else is wrong with it (the decoder reports that). Strings are skipped.
func checkJSON(b []byte, maxDepth int) error {
	depth, values := 0, 0
	for i := 0; i < len(b); i++ {
		switch b[i] {
		case '"':
			for i++; i < len(b) && b[i] != '"'; i++ {
				if b[i] == '\\' {
					i++
				}
			}
		case '{', '[':
			if depth++; depth > maxDepth {
				return fmt.Errorf("%w: JSON nested deeper than %d levels", errTooComplex, maxDepth)
			}
			values++
		case '}', ']':
			depth--
		case ',':
			values++
		}
		if values > maxVariableValues {
			return fmt.Errorf("%w: the request holds more than %d JSON values", errTooComplex, maxVariableValues)
		}
	}
	return nil
}
