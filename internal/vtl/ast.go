package vtl

// node is one element of a template body.
type node interface{}

type textNode struct{ text string }

// refNode is a reference: $name followed by properties, method calls and indexes.
type refNode struct {
	pos     int
	literal string // the reference as written, rendered when it is null
	escapes int    // backslashes written before the $
	quiet   bool   // $!name
	name    string
	parts   []refPart
}

type refPartKind int

const (
	partProperty refPartKind = iota
	partMethod
	partIndex
)

type refPart struct {
	kind refPartKind
	pos  int
	name string
	args []expr // method arguments, or the index expression
}

type setNode struct {
	pos    int
	target *refNode
	value  expr
}

type ifNode struct {
	conds  []expr
	blocks [][]node
	orElse []node
}

type foreachNode struct {
	pos  int
	name string
	list expr
	body []node
}

type defineNode struct {
	name string
	body []node
}

type macroNode struct {
	name   string
	params []string
	body   []node
}

type macroCall struct {
	pos  int
	name string
	args []expr
}

type breakNode struct{}

type stopNode struct{}

// expr is an expression inside a directive or a method call.
type expr interface{}

type literal struct{ value any }

// interpolated is a double-quoted string containing references or directives.
type interpolated struct{ body []node }

type listExpr struct{ items []expr }

type mapExpr struct{ keys, values []expr }

type rangeExpr struct{ from, to expr }

type binaryExpr struct {
	pos   int
	op    string
	left  expr
	right expr
}

type notExpr struct{ operand expr }
