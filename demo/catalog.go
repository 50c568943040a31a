package demo

import _ "embed"

//go:embed catalog.yaml
var catalog []byte

// Catalog returns the demo catalog (source "demo"): views Invoice, Customer and Product.
func Catalog() []byte { return append([]byte(nil), catalog...) }

// SourceName is the source the demo catalog's views read from.
const SourceName = "demo"

// Demo API keys, printed at start-up of the demo server. They are public by design: the demo
// data is fake. KeyAcme is meant for tenant acme with roles reporting, analyst and pii;
// KeyGlobex for tenant globex with role reporting only, so masking shows; KeyPublic for no
// tenant with role public, which reads the shared products and gets 403 on tenant data.
const (
	KeyAcme   = "vgk_demo_acme_5f3b8c21d94e4a7f8e0c6b1d2a9f7e34"
	KeyGlobex = "vgk_demo_globex_b81e4d6c07a3492f9c5e1f8a3d2b6c70"
	KeyPublic = "vgk_demo_public_7c2e9a4f1b8d4e6a9f3c0d5b2e7a1f48"
)
