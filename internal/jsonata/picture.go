package jsonata

import "time"

func formatDateTime(t time.Time, picture string, offset int) any {
	throw(&Error{Code: "D3132", Value: picture})
	return nil
}

func parseDateTime(s, picture string) any {
	throw(&Error{Code: "D3136"})
	return nil
}

func fnFormatNumber(c *call, a []any) any {
	throw(&Error{Code: "D3085"})
	return nil
}

func fnFormatInteger(c *call, a []any) any {
	throw(&Error{Code: "D3130"})
	return nil
}

func fnParseInteger(c *call, a []any) any {
	throw(&Error{Code: "D3130"})
	return nil
}
