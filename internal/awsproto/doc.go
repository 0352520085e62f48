// Package awsproto is Kiri's model-driven codec for the AWS wire protocols json (1.0/1.1),
// rest-json, rest-xml and query. A Service wraps one embedded botocore model; typed handlers are
// registered with Handle; a Router maps HTTP requests to operations, and Route.Serve decodes,
// validates, calls the handler and encodes the output or error exactly as the protocol demands.
// Codec plans are built once per (shape, Go type) at registration; Go struct fields map to model
// members by their `aws:"Member"` tag (apigen generates such types).
package awsproto
