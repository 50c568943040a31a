package inspect

// LiteColumn returns the Column inspect reads for a SQLite column declared with type declared.
func LiteColumn(declared string) Column {
	base, scale := liteClass(declared)
	return Column{Type: declared, Base: base, Scale: scale, Nullable: true}
}
