// Package partiql parses the PartiQL statements DynamoDB runs (ExecuteStatement,
// BatchExecuteStatement, ExecuteTransaction): SELECT, INSERT, UPDATE and DELETE on one table,
// with ? parameters. It only parses; the service evaluates a Statement against its tables.
//
//	SELECT * | path, … FROM "table"[."index"] [WHERE condition]
//	INSERT INTO "table" VALUE {'attr': value, …}
//	UPDATE "table" SET path = value [, …] | REMOVE path [, …] … WHERE condition [RETURNING …]
//	DELETE FROM "table" WHERE condition [RETURNING …]
//
// Values are literals ('text', numbers, TRUE, FALSE, NULL, [list], {'map': …}, <<set>>), ?
// parameters, paths, + and - on them, and the functions list_append, if_not_exists,
// set_add and set_delete. Conditions are comparisons (=, <>, !=, <, <=, >, >=), BETWEEN, IN,
// IS [NOT] MISSING, AND, OR, NOT, parentheses, and the functions begins_with, contains,
// attribute_type, size, exists/missing tests.
package partiql

// Kind is a statement's verb.
type Kind uint8

// The statements.
const (
	Select Kind = iota + 1
	Insert
	Update
	Delete
)

// Statement is one parsed statement.
type Statement struct {
	Kind  Kind
	Table string
	Index string // SELECT … FROM "table"."index"
	// Projection lists SELECT's paths; nil for *.
	Projection []Path
	Where      Expr // nil when there is none
	// Item is INSERT's VALUE.
	Item Expr
	// Sets and Removes are UPDATE's clauses, in order.
	Sets    []Set
	Removes []Path
	// Returning is RETURNING's choice ("ALL OLD", "MODIFIED NEW", …); "" when absent.
	Returning string
	// Params is the number of ? parameters, numbered from 0 in the order written.
	Params int
}

// PathElem is one step of a path: a name, or a list index when Index >= 0.
type PathElem struct {
	Name  string
	Index int
}

// Path is a document path: a top-level attribute, then map keys and list indexes.
type Path []PathElem

// Set is one UPDATE SET assignment.
type Set struct {
	Path  Path
	Value Expr
}

// Expr is a node of a condition or value: *Binary, *Not, *Between, *In, *Missing, *Call,
// *Lit, *Param, *PathRef, *List, *Map, *SetLit.
type Expr interface{ expr() }

// Binary is L Op R: AND, OR, =, <>, <, <=, >, >=, +, -.
type Binary struct {
	Op   string
	L, R Expr
}

// Not is NOT X.
type Not struct{ X Expr }

// Between is X BETWEEN Lo AND Hi.
type Between struct{ X, Lo, Hi Expr }

// In is X IN (List…) or X IN [List…].
type In struct {
	X    Expr
	List []Expr
}

// Missing is X IS MISSING, or X IS NOT MISSING when Not.
type Missing struct {
	X   Expr
	Not bool
}

// Call is a function call.
type Call struct {
	Name string // lower case
	Args []Expr
}

// LitKind is a scalar literal's type.
type LitKind uint8

// The scalar literals.
const (
	LitString LitKind = iota
	LitNumber
	LitBool
	LitNull
)

// Lit is a scalar literal.
type Lit struct {
	Kind LitKind
	Text string // the string, or the number as written
	Bool bool
}

// Param is the Index-th ? parameter.
type Param struct{ Index int }

// PathRef is a path used as a value.
type PathRef struct{ Path Path }

// List is [a, b, …].
type List struct{ Elems []Expr }

// Map is {'k': v, …}.
type Map struct {
	Keys  []string
	Elems []Expr
}

// SetLit is <<a, b, …>>.
type SetLit struct{ Elems []Expr }

func (*Binary) expr()  {}
func (*Not) expr()     {}
func (*Between) expr() {}
func (*In) expr()      {}
func (*Missing) expr() {}
func (*Call) expr()    {}
func (*Lit) expr()     {}
func (*Param) expr()   {}
func (*PathRef) expr() {}
func (*List) expr()    {}
func (*Map) expr()     {}
func (*SetLit) expr()  {}
