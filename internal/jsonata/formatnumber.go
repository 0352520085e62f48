package jsonata

func fnFormatNumber(c *call, a []any) any {
	throw(&Error{Code: "D3085"})
	return nil
}
