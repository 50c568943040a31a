package bench

import (
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
)

// ErrMismatch is wrapped by Same when the two handlers do not answer with the same rows.
var ErrMismatch = errors.New("handlers disagree")

// Nodes decodes a response to Query and returns its nodes; it returns an error if the body
// is not JSON, carries GraphQL errors or does not hold exactly Rows nodes.
func Nodes(body []byte) ([]map[string]any, error) {
	var resp struct {
		Errors []json.RawMessage `json:"errors"`
		Data   struct {
			Invoices struct {
				Nodes []map[string]any `json:"nodes"`
			} `json:"invoices"`
		} `json:"data"`
	}
	if err := json.Unmarshal(body, &resp); err != nil {
		return nil, fmt.Errorf("decode response: %w (body %.200q)", err, body)
	}
	if len(resp.Errors) > 0 {
		return nil, fmt.Errorf("response has errors: %s", resp.Errors[0])
	}
	if n := len(resp.Data.Invoices.Nodes); n != Rows {
		return nil, fmt.Errorf("response has %d nodes, want %d (body %.200q)", n, Rows, body)
	}
	return resp.Data.Invoices.Nodes, nil
}

// Same returns nil if both bodies hold the same Rows nodes with the same values, or an error
// wrapping ErrMismatch naming the first difference.
func Same(viewgate, minimal []byte) error {
	a, err := Nodes(viewgate)
	if err != nil {
		return fmt.Errorf("viewgate: %w", err)
	}
	b, err := Nodes(minimal)
	if err != nil {
		return fmt.Errorf("minimal: %w", err)
	}
	for i := range a {
		if !reflect.DeepEqual(a[i], b[i]) {
			return fmt.Errorf("%w: node %d: viewgate %v, minimal %v", ErrMismatch, i, a[i], b[i])
		}
	}
	return nil
}
